"""The Beam-free core of repeat audits: settings, what is carried, why a match is new."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys

import pytest

from photosieve import algorithms, incremental, schemas
from photosieve.decode import DecodeOptions
from photosieve.errors import ConfigError
from photosieve.hashing import HashPlan
from photosieve.incremental import CarryPolicy, Listing, MatchClassifier, MatchContext, PreviousRun
from photosieve.robust.expansion import QueryExpansion

PLAN = HashPlan.parse("pdq,md5")
SETTINGS = incremental.hash_settings(PLAN)
T0 = 1_700_000_000_000_000  # a modification time, microseconds


def _run(index=0, *, settings=SETTINGS, lists=None, archives=False, cutoff=50, max_pixels=1000):
    return PreviousRun(
        index=index,
        output=f"out/run{index}",
        run_id=f"r{index}",
        archives=archives,
        settings=settings,
        limits={"max_pixels": max_pixels, "max_bytes": 10},
        lists=lists
        if lists is not None
        else {"known": {"version": "v1", "thresholds": {"pdq": 31.0, "md5": 0.0}}},
        quality_cutoff=cutoff,
        versions={},
    )


def _policy(runs, *, plan=PLAN, rehash=False, archives=False, max_pixels=1000):
    return CarryPolicy(
        runs,
        plan.algorithms,
        incremental.hash_settings(plan),
        max_pixels=max_pixels,
        archives=archives,
        run_id="now",
        rehash=rehash,
    )


def _file(uri="a.jpg", size=100, mtime=T0, state="new", checksum=None):
    return {
        schemas.URI: uri,
        schemas.SIZE: size,
        schemas.MTIME: mtime,
        schemas.STATE: state,
        schemas.CHECKSUM: checksum,
    }


def _hash(uri="a.jpg", algorithm="pdq", run_id="r0"):
    return {
        schemas.URI: uri,
        schemas.ALGORITHM: algorithm,
        schemas.HASH: "00",
        schemas.RUN_ID: run_id,
    }


def _error(uri="a.jpg", error="corrupt", stage="decode", algorithms=("pdq",), run_id="r0"):
    return {
        schemas.URI: uri, schemas.STAGE: stage, schemas.ERROR: error,
        schemas.ALGORITHMS: list(algorithms), schemas.RUN_ID: run_id,
    }  # fmt: skip


LISTED = Listing(100, T0)


# -- hash settings ---------------------------------------------------------------


@pytest.mark.parametrize(
    "other",
    [
        HashPlan.parse("pdq,md5", DecodeOptions(mode="exact")),
        HashPlan.parse("pdq,md5", DecodeOptions(exif_transpose=False)),
        HashPlan.parse("pdq,md5", DecodeOptions(fast_min_side=512)),
        HashPlan.parse("pdq,md5", DecodeOptions(all_frames=True)),
        HashPlan.parse("pdq-dihedral,md5"),
        dataclasses.replace(PLAN, pdq_as_stored=False),
        HashPlan.parse("pdq,phash,md5"),  # PDQ alone decodes luma; with phash, RGB
    ],
    ids=["exact", "no-exif", "min-side", "all-frames", "dihedral", "not-as-stored", "luma"],
)
def test_every_setting_that_moves_pdq_bits_changes_its_settings_but_not_md5s(other):
    theirs = incremental.hash_settings(other)
    assert theirs["pdq"] != SETTINGS["pdq"]
    assert theirs["md5"] == SETTINGS["md5"]  # a digest of the bytes: no decode setting applies
    assert "pdq" in incremental.settings_differences(SETTINGS, theirs)


def test_max_frames_is_a_setting_only_when_all_frames_are_hashed():
    def pdq_settings(**options):
        return incremental.hash_settings(HashPlan.parse("pdq,md5", DecodeOptions(**options)))["pdq"]

    assert pdq_settings(all_frames=True, max_frames=7) != pdq_settings(all_frames=True)
    assert pdq_settings(max_frames=7) == pdq_settings()  # first frame only: the cap never applies
    assert pdq_settings(all_frames=True, max_cpu_seconds=1) == pdq_settings(all_frames=True)
    assert pdq_settings(all_frames=True)["frame_rule"] == 2  # earlier runs stopped differently


def test_query_expansion_changes_the_settings_of_every_pixel_hash():
    plain = HashPlan.parse("pdq,phash")
    expanded = dataclasses.replace(plain, query_expansion=QueryExpansion(dihedral=False))
    before, after = incremental.hash_settings(plain), incremental.hash_settings(expanded)
    assert before["pdq"] != after["pdq"] and before["phash"] != after["phash"]


def test_a_bumped_implementation_version_is_a_difference(monkeypatch):
    spec = algorithms.get("pdq")
    monkeypatch.setitem(
        algorithms._REGISTRY, "pdq", dataclasses.replace(spec, version=spec.version + 1)
    )
    differences = incremental.settings_differences(SETTINGS, incremental.hash_settings(PLAN))
    assert differences == {"pdq": f"version {spec.version} -> {spec.version + 1}"}


def test_settings_survive_a_json_round_trip_unchanged():
    plan = dataclasses.replace(
        HashPlan.parse("pdq"), query_expansion=QueryExpansion(dihedral=False)
    )
    settings = incremental.hash_settings(plan)
    assert json.loads(json.dumps(settings)) == settings
    assert incremental.settings_differences(json.loads(json.dumps(settings)), settings) == {}


def test_a_new_algorithm_was_not_computed_then():
    wider = incremental.hash_settings(HashPlan.parse("pdq,md5,sha256"))
    assert incremental.settings_differences(SETTINGS, wider) == {"sha256": "not computed then"}


# -- previous runs -----------------------------------------------------------------


def test_previous_runs_must_be_audits_with_settings():
    summary = {"command": "audit", "run_id": "r1", "hash_settings": SETTINGS, "options": {"archives": True,
               "quality_cutoff": 40}, "lists": [{"name": "k", "version": "v", "thresholds": {"pdq": 31}}]}  # fmt: skip
    run = PreviousRun.from_summary(0, "out/r1", summary)
    assert (run.run_id, run.archives, run.quality_cutoff) == ("r1", True, 40)
    assert run.lists == {"k": {"version": "v", "role": None, "thresholds": {"pdq": 31.0}, "match_mode": None}}
    with pytest.raises(ConfigError, match="photosieve scan run"):
        PreviousRun.from_summary(0, "out/s", {**summary, "command": "scan"})
    with pytest.raises(ConfigError, match="run one full audit without --previous"):
        PreviousRun.from_summary(
            0, "out/old", {k: v for k, v in summary.items() if k != "hash_settings"}
        )


def test_runs_must_be_indexed_oldest_first():
    with pytest.raises(ValueError, match="indexed"):
        _policy([_run(1)])


# -- what a repeat audit carries ------------------------------------------------------


def test_a_file_no_run_has_is_new_and_read():
    decision = _policy([_run()]).decide("a.jpg", LISTED, files=[])
    assert (decision.state, decision.carried, decision.run) == ("new", False, None)


def test_an_unchanged_file_is_carried_with_its_rows_relabelled():
    policy = _policy([_run()])
    previous = {**_hash(), schemas.CARRIED_FROM: "older"}
    decision = policy.decide(
        "a.jpg",
        LISTED,
        files=[(0, _file())],
        hashes=[(0, previous)],
        errors=[(0, _error(algorithms=("md5",), error="empty"))],
    )
    assert decision.state == "unchanged" and decision.carried
    assert decision.hashes == [{**previous, schemas.RUN_ID: "now", schemas.CARRIED_FROM: "r0"}]
    assert [e[schemas.CARRIED_FROM] for e in decision.errors] == ["r0"]
    row = incremental.file_row("a.jpg", LISTED, decision, "now")
    assert (row[schemas.STATE], row[schemas.CARRIED_FROM], row[schemas.REREAD]) == (
        "unchanged",
        "r0",
        None,
    )


@pytest.mark.parametrize(
    "listing",
    [
        Listing(101, T0),
        Listing(100, T0 + 1),
        Listing(100, T0, "crc-new"),
        Listing(100, None),
        Listing(100, 0),
    ],
    ids=["size", "mtime", "checksum", "no-time", "zero-time"],
)
def test_changed_or_unverifiable_files_are_read(listing):
    decision = _policy([_run()]).decide(
        "a.jpg",
        listing,
        files=[(0, _file(checksum="crc-old"))],
        hashes=[(0, _hash()), (0, _hash(algorithm="md5"))],
    )
    assert decision.state == "changed" and not decision.carried and not decision.hashes


def test_a_checksum_only_one_run_has_does_not_decide():
    files = [(0, _file(checksum=None))]
    hashes = [(0, _hash()), (0, _hash(algorithm="md5"))]
    assert (
        _policy([_run()])
        .decide("a.jpg", Listing(100, T0, "crc"), files=files, hashes=hashes)
        .carried
    )


def test_a_file_no_longer_listed_is_gone_once():
    policy = _policy([_run(0), _run(1)])
    decision = policy.decide("a.jpg", None, files=[(0, _file())])
    assert decision.state == "gone" and decision.run.index == 0
    assert incremental.file_row("a.jpg", None, decision, "now")[schemas.SIZE] == 100
    # Already gone in the latest run that knew it: nothing more to say.
    assert policy.decide("a.jpg", None, files=[(0, _file()), (1, _file(state="gone"))]) is None


def test_in_a_chain_the_latest_run_that_saw_the_file_wins():
    policy = _policy([_run(0), _run(1)])
    hashes = [
        (0, _hash(run_id="r0")),
        (0, _hash(algorithm="md5", run_id="r0")),
        (1, _hash(run_id="r1")),
    ]
    # Run 1 is newer, but saw the file at another size: changed (run 0's rows are not looked at).
    files = [(0, _file()), (1, _file(size=5))]
    assert policy.decide("a.jpg", LISTED, files=files, hashes=hashes).state == "changed"
    # Only run 0 saw it: carried from run 0.
    decision = policy.decide("a.jpg", LISTED, files=[(0, _file())], hashes=hashes)
    assert decision.carried and {r[schemas.CARRIED_FROM] for r in decision.hashes} == {"r0"}
    assert len(decision.hashes) == 2
    # Gone in the latest run that knew it, back now: new.
    assert (
        policy.decide("a.jpg", LISTED, files=[(0, _file()), (1, _file(state="gone"))]).state
        == "new"
    )


def test_hashes_made_with_other_settings_are_not_carried():
    exact = incremental.hash_settings(HashPlan.parse("pdq,md5", DecodeOptions(mode="exact")))
    policy = _policy([_run(0, settings=exact), _run(1)])
    files, hashes = [(0, _file())], [(0, _hash()), (0, _hash(algorithm="md5"))]
    decision = policy.decide("a.jpg", LISTED, files=files, hashes=hashes)
    assert (decision.state, decision.reread, decision.hashes) == ("unchanged", "settings", [])
    # Exact mode has no fast-decode floor and never decodes to luma.
    assert policy.incompatible == {
        0: {"pdq": "fast_min_side None -> 256, luma False -> True, mode exact -> fast"},
        1: {},
    }
    assert incremental.file_row("a.jpg", LISTED, decision, "now")[schemas.REREAD] == "settings"


def test_rehash_reads_everything():
    files, hashes = [(0, _file())], [(0, _hash()), (0, _hash(algorithm="md5"))]
    assert (
        _policy([_run()], rehash=True).decide("a.jpg", LISTED, files=files, hashes=hashes).reread
        == "rehash"
    )


def test_algorithms_no_longer_requested_are_dropped_from_carried_rows():
    settings = incremental.hash_settings(HashPlan.parse("pdq,md5,sha256"))
    policy = _policy([_run(settings=settings)], plan=HashPlan.parse("pdq,md5"))
    # PDQ alone with md5 and sha256 (no other pixel hash): same PDQ settings, so carried.
    hashes = [(0, _hash()), (0, _hash(algorithm="md5")), (0, _hash(algorithm="sha256"))]
    errors = [(0, _error(error="empty", algorithms=("pdq", "sha256")))]
    decision = policy.decide("a.jpg", LISTED, files=[(0, _file())], hashes=hashes, errors=errors)
    assert decision.carried
    assert sorted(r[schemas.ALGORITHM] for r in decision.hashes) == ["md5", "pdq"]
    assert [e[schemas.ALGORITHMS] for e in decision.errors] == [["pdq"]]


@pytest.mark.parametrize(
    "error,stage,max_pixels,carried",
    [
        ("corrupt", "decode", 1000, True),
        ("truncated", "decode", 1000, True),
        ("empty", "decode", 1000, True),
        ("not_an_image", "decode", 1000, True),
        ("too_small", "hash", 1000, True),
        ("decompression_bomb", "decode", 1000, True),
        ("decompression_bomb", "decode", 5000, False),  # another pixel limit: try again
        ("frames_cut_off", "decode", 1000, True),  # the same --max-frames cuts it again
        ("over_budget", "decode", 1000, False),  # the CPU-time guard depends on the machine
        ("unsupported_format", "decode", 1000, False),  # a decoder may be installed now
        ("hash_error", "hash", 1000, False),  # a bug may be fixed now
        ("unreadable", "read", 1000, False),  # storage trouble passes
        ("not_found", "read", 1000, False),
        ("too_large", "read", 1000, False),
        ("encrypted", "read", 1000, True),  # archive members: a property of the bytes
        ("overlapping_entry", "read", 1000, True),
        ("archive_limit", "read", 1000, False),  # depends on --max-archive-bytes
        ("corrupt", "read", 1000, False),  # read damage may be storage trouble
    ],
)
def test_failures_are_carried_only_when_they_would_happen_again(error, stage, max_pixels, carried):
    policy = _policy([_run(max_pixels=1000)], max_pixels=max_pixels)
    algorithms_ = ("pdq", "md5") if stage == "read" else ("pdq",)
    hashes = [] if stage == "read" else [(0, _hash(algorithm="md5"))]
    errors = [(0, _error(error=error, stage=stage, algorithms=algorithms_))]
    decision = policy.decide("a.jpg", LISTED, files=[(0, _file())], hashes=hashes, errors=errors)
    assert decision.carried is carried
    assert decision.reread == (None if carried else "retry")


def test_a_file_without_an_outcome_for_every_algorithm_is_read_again():
    decision = _policy([_run()]).decide(
        "a.jpg", LISTED, files=[(0, _file())], hashes=[(0, _hash())]
    )
    assert decision.reread == "incomplete"


def test_archive_members_are_carried_with_their_archive():
    policy = _policy([_run(archives=True)], archives=True)
    members = ["a.zip!/x.jpg", "a.zip!/y.jpg"]
    hashes = [(0, _hash(uri=m, algorithm=a)) for m in members for a in ("pdq", "md5")]
    decision = policy.decide("a.zip", LISTED, files=[(0, _file("a.zip"))], hashes=hashes)
    assert decision.carried and len(decision.hashes) == 4
    assert set(incremental.covered(decision.hashes, decision.errors)) == set(members)
    # One member without an outcome: the whole archive is read again.
    decision = policy.decide("a.zip", LISTED, files=[(0, _file("a.zip"))], hashes=hashes[:3])
    assert decision.reread == "incomplete"
    # The previous run hashed the archive file itself: read its members now.
    flat = _policy([_run(archives=False)], archives=True)
    file_hashes = [(0, _hash(uri="a.zip", algorithm="md5")), (0, _hash(uri="a.zip"))]
    assert (
        flat.decide("a.zip", LISTED, files=[(0, _file("a.zip"))], hashes=file_hashes).reread
        == "settings"
    )


# -- why a match is new -------------------------------------------------------------


def _match(**changes):
    row = {
        schemas.URI: "a.jpg", schemas.FRAME: 0, schemas.ALGORITHM: "pdq", schemas.LIST_NAME: "known",
        schemas.MATCHED_HASH: "ff", schemas.DISTANCE: 20.0, schemas.THRESHOLD: 31.0,
        schemas.STATUS: "match", schemas.QUALITY: 90,
    }  # fmt: skip
    return {**row, **changes}


CURRENT_LISTS = {
    "known": {"version": "v1", "thresholds": {"pdq": 31.0}},
    "extra": {"version": "x1"},
}


def _classifier(**run_changes):
    return MatchClassifier(
        [_run(**run_changes)], CURRENT_LISTS, quality_cutoff=50, settings=SETTINGS
    )


def test_a_match_the_previous_run_had_is_not_new():
    row = _match()
    assert (
        _classifier().reason(row, MatchContext(), {incremental.match_key(row): {"match"}}) is None
    )


@pytest.mark.parametrize(
    "row,context,previous_status,run_changes,reason",
    [
        (_match(), MatchContext(state="new"), None, {}, "new object"),
        (_match(), MatchContext(state="changed", run_index=0), None, {}, "changed object"),
        (_match(), MatchContext(reread="retry"), None, {}, "previously failed"),
        (_match(), MatchContext(reread="incomplete"), None, {}, "previously failed"),
        (_match(), MatchContext(), "suppressed", {}, "suppression changed"),
        (_match(**{schemas.LIST_NAME: "extra"}), MatchContext(), None, {}, "new list"),
        (_match(**{schemas.DISTANCE: 28.0}), MatchContext(), None,
         {"lists": {"known": {"version": "v1", "thresholds": {"pdq": 24.0}}}}, "threshold changed"),
        (_match(), MatchContext(), None,
         {"lists": {"known": {"version": "v0", "thresholds": {"pdq": 31.0}}}}, "new list entry"),
        (_match(), MatchContext(), None,
         {"lists": {"known": {"version": "v0", "thresholds": {"md5": 0.0}}}}, "new list entry"),
        (_match(), MatchContext(reread="settings"), None,
         {"settings": incremental.hash_settings(HashPlan.parse("pdq-dihedral,md5"))}, "new hash settings"),
        (_match(), MatchContext(), None,
         {"lists": {"known": {"version": "v1", "thresholds": {"pdq": 31.0}, "match_mode": {"config": "robust"}}}},
         "match mode changed"),
        (_match(**{schemas.QUALITY: 45}), MatchContext(), None, {"cutoff": 50}, "quality cutoff changed"),
        (_match(), MatchContext(), None, {}, "unexplained"),
    ],
    ids=["new-object", "changed-object", "retried", "incomplete", "suppression", "new-list", "threshold",
         "new-entry", "new-algorithm-in-list", "settings", "mode", "cutoff", "unexplained"],
)  # fmt: skip
def test_each_reason_a_match_is_new(row, context, previous_status, run_changes, reason):
    classifier = MatchClassifier(
        [_run(**run_changes)], CURRENT_LISTS, quality_cutoff=40, settings=SETTINGS
    )
    previous = {incremental.match_key(row): {previous_status}} if previous_status else {}
    assert classifier.reason(row, context, previous) == reason
    assert reason in incremental.NEW_REASONS


def test_the_classifier_needs_a_previous_run():
    with pytest.raises(ValueError, match="at least one previous run"):
        MatchClassifier([], CURRENT_LISTS, quality_cutoff=50, settings=SETTINGS)


# -- summary -------------------------------------------------------------------------------


def test_listed_files_must_each_be_read_or_carried():
    ledger = {"files": {"state": {"new": 2, "unchanged": 3, "gone": 4}, "listed": 5}}
    assert incremental.check_files(ledger) == []
    ledger["files"]["listed"] = 6
    assert incremental.check_files(ledger) == [
        "5 files in the files table (not gone) but 6 read or carried"
    ]


def test_the_summary_section_adds_up():
    policy = _policy([_run()])
    ledger = {
        "files": {"state": {"new": 1, "changed": 1, "unchanged": 5, "gone": 2}, "listed": 7,
                  "carried": {"r0": 4}, "reread": {"retry": 1}},
        "hashes": {"algorithm": {"pdq": 7, "md5": 7}, "carried": {"r0": 8}},
        "errors": {"class": {"corrupt": 1}, "carried": {"r0": 1}},
        "matches": {"new": {"match": {"new object": 1}}, "matched_before": {"match": 3}},
    }  # fmt: skip
    section = incremental.summary_section(ledger, policy, {}, ["gone/a.jpg"])
    assert section["files"] == {"new": 1, "changed": 1, "unchanged": 5, "gone": 2}
    assert (section["read"], section["carried"]) == (3, 4)
    assert section["hashes"] == {"carried": 8, "computed": 6}
    assert section["errors"] == {"carried": 1, "new": 0}
    assert section["previous"][0]["carried"] == {"files": 4, "hashes": 8, "errors": 1}
    assert section["gone"] == {"count": 2, "examples": ["gone/a.jpg"]}
    line = incremental.describe(section)
    assert (
        "4 files carried, 3 read (1 new, 1 changed, 1 unchanged re-read: 1 retry), 2 gone" in line
    )
    assert "1 new matches (1 new object), 3 rows matched before" in line


def test_the_core_does_not_import_apache_beam():
    code = "import sys, photosieve.incremental; sys.exit('apache_beam' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


# -- videos ------------------------------------------------------------------------


def _without_video_setting(settings: dict) -> dict:
    """Settings as a run made before videos were hashed recorded them."""
    return {
        name: {k: v for k, v in entry.items() if k != incremental.VIDEO_SETTING}
        for name, entry in settings.items()
    }


def test_the_video_interval_is_a_pixel_setting_compared_apart():
    no_videos = incremental.hash_settings(dataclasses.replace(PLAN, video_interval_s=None))
    assert SETTINGS["pdq"][incremental.VIDEO_SETTING] == 1.0
    assert no_videos["pdq"][incremental.VIDEO_SETTING] is None
    assert incremental.VIDEO_SETTING not in SETTINGS["md5"]
    # Images do not depend on it: no difference that would re-read them...
    assert incremental.settings_differences(no_videos, SETTINGS) == {}
    assert incremental.settings_differences(_without_video_setting(SETTINGS), SETTINGS) == {}
    # ...but the video outcomes do.
    assert incremental.video_differences(no_videos, SETTINGS) == {"pdq"}
    assert incremental.video_differences(_without_video_setting(SETTINGS), SETTINGS) == {"pdq"}
    assert incremental.video_differences(SETTINGS, SETTINGS) == set()


@pytest.mark.parametrize("error", ["not_an_image", "no_video_stream"])
def test_not_an_image_is_read_again_when_the_previous_run_did_not_hash_videos(error):
    old = _run(settings=_without_video_setting(SETTINGS))
    errors = [(0, _error(uri="v.mp4", error=error))]
    hashes = [(0, _hash(uri="v.mp4", algorithm="md5"))]
    decision = _policy([old]).decide("v.mp4", LISTED, files=[(0, _file("v.mp4"))], hashes=hashes, errors=errors)
    assert decision.reread == "settings"
    # Under the same video setting the failure would happen again: carried.
    same = _policy([_run()]).decide("v.mp4", LISTED, files=[(0, _file("v.mp4"))], hashes=hashes, errors=errors)
    assert same.carried and [r[schemas.ERROR] for r in same.errors] == [error]


def test_images_are_carried_across_a_change_of_video_setting():
    old = _run(settings=_without_video_setting(SETTINGS))
    hashes = [(0, _hash()), (0, _hash(algorithm="md5"))]  # no timestamp key: an old table's rows
    decision = _policy([old]).decide("a.jpg", LISTED, files=[(0, _file())], hashes=hashes)
    assert decision.carried and len(decision.hashes) == 2


def test_video_hashes_are_read_again_when_the_interval_changed():
    hashes = [(0, {**_hash(uri="v.mp4"), schemas.FRAME: 25, schemas.FRAME_TIMESTAMP: 1.0}),
              (0, _hash(uri="v.mp4", algorithm="md5"))]
    files = [(0, _file("v.mp4"))]
    other = _policy([_run()], plan=dataclasses.replace(PLAN, video_interval_s=2.0))
    assert other.decide("v.mp4", LISTED, files=files, hashes=hashes).reread == "settings"
    assert _policy([_run()]).decide("v.mp4", LISTED, files=files, hashes=hashes).carried


def test_the_video_frame_cap_is_a_video_setting_and_the_segment_length_is_none():
    capped = incremental.hash_settings(dataclasses.replace(PLAN, video_max_frames=50))
    assert SETTINGS["pdq"]["video_max_frames"] == PLAN.video_max_frames
    assert incremental.settings_differences(capped, SETTINGS) == {}  # images are carried
    assert incremental.video_differences(capped, SETTINGS) == {"pdq"}  # videos are read again
    # Segments change no row: another length is the same settings (recorded with the limits).
    assert incremental.hash_settings(dataclasses.replace(PLAN, video_segment_frames=7)) == SETTINGS
    assert incremental.hash_limits(dataclasses.replace(PLAN, video_segment_frames=7), 10)["video_segment_frames"] == 7
    # Without video hashing the cap decides nothing: not recorded, no re-read for it.
    off = dataclasses.replace(PLAN, video_interval_s=None)
    assert incremental.hash_settings(off) == incremental.hash_settings(dataclasses.replace(off, video_max_frames=5))


def test_video_hashes_are_read_again_when_the_frame_cap_changed():
    hashes = [(0, {**_hash(uri="v.mp4"), schemas.FRAME: 25, schemas.FRAME_TIMESTAMP: 1.0}),
              (0, _hash(uri="v.mp4", algorithm="md5"))]
    files = [(0, _file("v.mp4"))]
    other = _policy([_run()], plan=dataclasses.replace(PLAN, video_max_frames=100))
    assert other.decide("v.mp4", LISTED, files=files, hashes=hashes).reread == "settings"


def test_hashing_video_frames_inside_their_borders_is_a_video_setting():
    from photosieve.hashing import HashPlan
    from photosieve.incremental import hash_settings, settings_differences, video_differences

    on, off = HashPlan.parse("pdq,md5"), HashPlan.parse("pdq,md5", video_borders=False)
    then, now = hash_settings(off), hash_settings(on)
    assert video_differences(then, now) == {"pdq"}  # videos are read again...
    assert settings_differences(then, now) == {}  # ...images are not
