"""local_match: an object's hashes rows against lists in one process, by the audit's rules."""

from __future__ import annotations

from photosieve import schemas
from photosieve.lists import ListRole, ListSpec
from photosieve.local_match import LocalMatcher

PDQ = "f0" * 32
MD5 = "ab" * 16


def _rows(quality: int, pdq: str = "f1" + "f0" * 31) -> list[dict]:
    return [
        {"uri": "a.jpg", "algorithm": "md5", "hash": MD5},
        {"uri": "a.jpg", "frame": 0, "algorithm": "pdq", "hash": pdq, "quality": quality, "orientation": "original"},
    ]


def _spec(tmp_path, name="known", role=ListRole.MATCH, **thresholds) -> ListSpec:
    path = tmp_path / f"{name}.csv"
    path.write_text(f"hash,algorithm,id\n{PDQ},pdq,img7\n{MD5},md5,file7\n")
    return ListSpec(str(path), name=name, role=role, thresholds=thresholds)


def _found(rows) -> list[tuple]:
    return [(r[schemas.ALGORITHM], r[schemas.LIST_NAME], r[schemas.ENTRY_IDS], r[schemas.DISTANCE],
             r[schemas.THRESHOLD], r[schemas.STATUS], r.get(schemas.MATCH_MODE)) for r in rows]


def test_plain_matching_keeps_thresholds_and_the_quality_cutoff(tmp_path):
    matcher = LocalMatcher([_spec(tmp_path)])
    assert _found(matcher.match(_rows(90), run_id="r", matched_at_us=0)) == [
        ("md5", "known", ["file7"], 0.0, 0.0, "match", None),
        ("pdq", "known", ["img7"], 1.0, 31.0, "match", None),
    ]
    low = matcher.match(_rows(10), run_id="r", matched_at_us=0)  # below 50: stored, not matched
    assert [r[schemas.ALGORITHM] for r in low] == ["md5"]
    strict = LocalMatcher([_spec(tmp_path, pdq=0)])  # a list's own threshold
    assert [r[schemas.ALGORITHM] for r in strict.match(_rows(90), run_id="r", matched_at_us=0)] == ["md5"]


def test_a_suppress_list_marks_the_other_lists_matches_suppressed(tmp_path):
    specs = [_spec(tmp_path), _spec(tmp_path, "benign", ListRole.SUPPRESS)]
    rows = LocalMatcher(specs).match(_rows(90), run_id="r", matched_at_us=0)
    statuses = {(r[schemas.LIST_NAME], r[schemas.ALGORITHM]): r[schemas.STATUS] for r in rows}
    assert statuses == {("benign", "md5"): "suppress", ("benign", "pdq"): "suppress",
                        ("known", "md5"): "suppressed", ("known", "pdq"): "suppressed"}


def test_a_mode_matches_pdq_at_its_threshold_and_the_rest_as_usual(tmp_path):
    far = "0f" * 4 + "f0" * 28  # 32 bits from the listed hash: beyond 31, within robust's 85
    matcher = LocalMatcher([_spec(tmp_path)], mode="robust")
    assert _found(LocalMatcher([_spec(tmp_path)]).match(_rows(90, far), run_id="r", matched_at_us=0)) == [
        ("md5", "known", ["file7"], 0.0, 0.0, "match", None)
    ]
    assert _found(matcher.match(_rows(90, far), run_id="r", matched_at_us=0)) == [
        ("md5", "known", ["file7"], 0.0, 0.0, "match", None),
        ("pdq", "known", ["img7"], 32.0, 85.0, "match", "robust"),
    ]
