"""ModeMatcher applies modes.match's rule through an index: same pairs, variants, distances."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from photosieve import schemas
from photosieve.errors import ConfigError
from photosieve.hashes.value import HashResult, HashValue
from photosieve.hashing import ImageHasher
from photosieve.index import Geometry, MultiIndex, build_index
from photosieve.lists.entries import read_list_entries
from photosieve.lists.from_images import has_windows
from photosieve.robust import frame_matches, modes
from photosieve.robust.matcher import (
    TAKE_PART,
    FrameQuery,
    ModeList,
    ModeMatcher,
    QueryHash,
    list_config,
    match_row,
    query_reason,
    query_row,
)
from photosieve.robust.modes import CONFIGS, config_for_list
from tests import edited_copies


@pytest.fixture(scope="module")
def lists(tmp_path_factory):
    root = tmp_path_factory.mktemp("lists")
    edited_copies.write_hash_list(root / "hashes.csv")
    edited_copies.write_window_list(root / "windows.csv", second_opinions=("gradient", "phash"))
    return root


@pytest.fixture(scope="module")
def files():
    return edited_copies.edited_copies()


def _frames(files, plan, second_algorithm):
    hasher = ImageHasher(plan)
    frames = {}
    for name, data in files.items():
        results = hasher.hash_bytes(name, data).frames[0].results
        frames[name] = FrameQuery(
            tuple(
                QueryHash(r.hash.bits, r.variant, r.orientation, r.quality)
                for r in results
                if r.hash.algorithm == "pdq"
            ),
            {
                (r.variant, r.orientation): r.hash.bits
                for r in results
                if r.hash.algorithm == second_algorithm
            },
        )
    return frames


CASES = [
    ("pdq", "hashes.csv", "pdq"),
    ("pdq-dihedral", "hashes.csv", "pdq-dihedral"),
    ("robust", "hashes.csv", "robust"),
    ("robust", "windows.csv", "robust-windows"),
    ("robust-windows", "hashes.csv", "robust-windows"),
    ("robust-windows-gradient", "windows.csv", "robust-windows-gradient"),
    ("robust-windows-phash", "windows.csv", "robust-windows-phash"),
]


# A lower PDQ threshold, as a false-match budget sets it: a combined score keeps its own
# threshold and caps the PDQ distance (max_pdq); the others lower theirs.
CASES += [
    ("robust-windows-gradient", "windows.csv", "robust-windows-gradient", 12),
    ("robust-windows-phash", "windows.csv", "robust-windows-phash", 12),
]
CASES = [case if len(case) == 4 else (*case, None) for case in CASES]


@pytest.mark.parametrize(("mode", "list_name", "resolved", "threshold"), CASES)
def test_matcher_reports_what_the_reference_rule_reports(
    lists, files, mode, list_name, resolved, threshold
):
    hash_list, entries = read_list_entries(str(lists / list_name))
    variants = [v for v in entries["pdq"].variants]
    config = config_for_list(
        mode,
        has_windows=has_windows(variants),
        second_algorithms=[a for a in hash_list.algorithms if a != "pdq"],
        threshold=threshold,
    )
    assert config.name == resolved
    matcher = ModeMatcher.from_list(config, hash_list, entries)
    opinion = config.second_opinion
    frames = _frames(
        files, edited_copies.plan_for(config.name), opinion.algorithm if opinion else None
    )
    # All frames in one batch, as the pipeline sends them.
    got = dict(zip(frames, matcher.match(list(frames.values()))))
    expected = edited_copies.reference(
        files, edited_copies.read_entries(lists / list_name), config, quality_cutoff=0
    )
    assert {name: [m.match for m in found] for name, found in got.items()} == expected
    if threshold is not None:
        unlimited = edited_copies.reference(
            files, edited_copies.read_entries(lists / list_name), config.name, quality_cutoff=0
        )
        # The lower threshold removed pairs the calibrated one keeps, and no pair is beyond it.
        assert sum(map(len, unlimited.values())) > sum(map(len, expected.values()))
        assert all(m.match.distance <= threshold for ms in got.values() for m in ms)
    # The planted copies are found, with the part of the image that matched.
    found = {name: {m.match.id for m in matches} for name, matches in got.items()}
    suffix = ".png" if list_name == "windows.csv" else ""
    assert f"img0{suffix}" in found["copy-0.png"]
    if config.name in ("robust", "robust-windows"):
        for name in ("letterbox-1.png", "pad-2.png", "screenshot-2.png", "rotate90-3.png"):
            seed = name.split("-")[-1].split(".")[0]
            assert f"img{seed}{suffix}" in found[name], name


def test_crops_match_windows_and_say_which(lists, files):
    hash_list, entries = read_list_entries(str(lists / "windows.csv"))
    config = CONFIGS["robust-windows"]
    matcher = ModeMatcher.from_list(config, hash_list, entries)
    frames = _frames({"c": files["crop-corner-1.png"]}, edited_copies.plan_for(config.name), None)
    (found,) = matcher.match(list(frames.values()))
    best = next(m for m in found if m.entry_id == "img1.png")
    assert best.match.list_variant.startswith("window 0.000,0.000,")
    assert best.match.query_variant == "" and best.match.query_orientation == "original"


def test_labels_and_ids_come_from_the_matched_line(lists, files):
    hash_list, entries = read_list_entries(str(lists / "hashes.csv"))
    matcher = ModeMatcher.from_list(CONFIGS["robust"], hash_list, entries)
    frames = _frames({"l": files["letterbox-1.png"]}, edited_copies.plan_for("robust"), None)
    (found,) = matcher.match(list(frames.values()))
    cited = {(m.entry_id, m.labels) for m in found if m.entry_id.startswith("img1")}
    assert cited == {("img1", ("case-1", "seed")), ("img1-again", ("case-dup",))}


def test_windows_need_upright_queries_that_are_not_uncrop_guesses(lists):
    """Hashes planted at distance 0 from a window: only the eligible query hashes may pair with it."""
    hash_list, entries = read_list_entries(str(lists / "windows.csv"))
    pdq = entries["pdq"]
    item = next(
        i
        for i in range(pdq.items)
        if [v for _, v, _ in pdq.of(i)] == [v for _, v, _ in pdq.of(i) if v.startswith("window")]
    )
    bits = hash_list.group("pdq").hashes[item].tobytes()
    config = CONFIGS["robust-windows"]
    matcher = ModeMatcher.from_list(config, hash_list, entries)
    queries = {
        ("", "original"): True,
        ("borders 0.000,0.100,1.000,0.800", "original"): True,
        ("", "rotate90"): False,
        ("uncrop 0.050,0.050,0.900,0.900", ""): False,
    }
    for (variant, orientation), allowed in queries.items():
        (found,) = matcher.match([FrameQuery((QueryHash(bits, variant, orientation, 100),))])
        assert any(m.match.distance == 0 for m in found) == allowed, (variant, orientation)
    dihedral = dataclasses.replace(config, windows_dihedral=True)
    (found,) = ModeMatcher.from_list(dihedral, hash_list, entries).match(
        [FrameQuery((QueryHash(bits, "", "rotate90", 100),))]
    )
    assert any(m.match.distance == 0 for m in found)


def test_second_opinion_missing_on_either_side_confirms_nothing(lists, files):
    hash_list, entries = read_list_entries(str(lists / "windows.csv"))
    config = CONFIGS["robust-windows-gradient"]
    matcher = ModeMatcher.from_list(config, hash_list, entries)
    frames = _frames({"c": files["copy-0.png"]}, edited_copies.plan_for(config.name), "gradient")
    frame = frames["c"]
    (found,) = matcher.match([frame])
    assert found and all(m.match.second_distance is not None for m in found)
    (none,) = matcher.match([FrameQuery(frame.pdq, {})])
    assert none == []
    # "crop-of-img0.png" was listed without a gradient hash: never confirmed.
    assert matcher.seconds == len(matcher) - 1


def test_list_resolution_refuses_what_was_not_calibrated():
    assert config_for_list("robust", has_windows=False).name == "robust"
    assert config_for_list("robust", has_windows=True).name == "robust-windows"
    assert config_for_list("robust-windows", has_windows=False).name == "robust-windows"
    with pytest.raises(ConfigError, match="without windows"):
        config_for_list("pdq-dihedral", has_windows=True)
    with pytest.raises(ConfigError, match="--second-opinions gradient"):
        config_for_list("robust-windows-gradient", has_windows=True, second_algorithms=["phash"])
    with pytest.raises(ConfigError, match="unknown matching mode"):
        config_for_list("fuzzy", has_windows=False)
    stricter = config_for_list("robust", has_windows=True, threshold=69)
    assert (stricter.name, stricter.threshold) == ("robust-windows", 69)
    assert config_for_list("robust", has_windows=False, threshold=85).threshold == 85
    with pytest.raises(ConfigError, match="may only be lowered"):
        config_for_list("robust", has_windows=True, threshold=85)


def _brute(hashes: np.ndarray, queries: np.ndarray, t: int) -> set[tuple[int, int, int]]:
    # Unpacked bits, summed: shares no code with the index.
    dist = np.unpackbits(queries[:, None, :] ^ hashes[None, :, :], axis=2).sum(axis=2)
    return {(int(q), int(i), int(dist[q, i])) for q, i in zip(*np.nonzero(dist <= t))}


@pytest.mark.parametrize("threshold", sorted({c.threshold for c in CONFIGS.values()}))
def test_the_index_stays_exact_at_the_modes_thresholds(threshold):
    """Pairs planted at t-1, t and t+1 bits, on lists big enough for the cost model to weigh both plans."""
    rng = np.random.default_rng(int(threshold))
    t = int(threshold)
    hashes = rng.integers(0, 256, size=(3000, 32), dtype=np.uint8)
    queries = []
    for i, d in enumerate([t - 1, t, t + 1] * 10):
        bits = np.unpackbits(hashes[i * 7])
        bits[rng.choice(256, size=d, replace=False)] ^= 1
        queries.append(np.packbits(bits))
    queries = np.array(queries)
    expected = _brute(hashes, queries, t)
    runs = [(build_index("pdq", hashes, threshold=t), method) for method in ("auto", "scan")]
    # The multi-index itself, forced, though a scan is cheaper at these thresholds.
    runs += [
        (MultiIndex.build(hashes, threshold=t, geometry=Geometry(m, b)), "index")
        for m, b in ((16, 16), (32, 8))
    ]
    for index, method in runs:
        found = index.query_batch(queries, threshold=t, method=method)
        got = {(int(q), int(i), int(d)) for q, i, d in zip(found.query, found.item, found.distance)}
        assert got == expected, (index, method)
    assert len(expected) >= 20


def test_ties_are_broken_alike_whatever_order_the_hashes_come_in(lists):
    """Equal scores: the pair with the least rank, as the reference reports, not the first seen."""
    hash_list, entries = read_list_entries(str(lists / "hashes.csv"))
    config = CONFIGS["robust"]
    matcher = ModeMatcher.from_list(config, hash_list, entries)
    listed = hash_list.group("pdq").hashes[0].tobytes()
    near = bytes([listed[0] ^ 0x0F]) + listed[1:]  # 4 bits away
    hashes = [
        (near, "region 0.100,0.100,0.800,0.800", "original"),
        (near, "", "rotate90"),
        (near, "borders 0.000,0.100,1.000,0.800", "original"),
        (near, "", "original"),
    ]
    results = [HashResult(HashValue("pdq", b), 90, o, v) for b, v, o in hashes]
    expected = modes.match(results, edited_copies.read_entries(lists / "hashes.csv"), config)
    assert [(m.distance, m.query_variant, m.query_orientation) for m in expected] == [
        (4, "", "original")
    ]
    for order in (hashes, hashes[::-1]):
        frame = FrameQuery(tuple(QueryHash(b, v, o, 90) for b, v, o in order))
        (found,) = matcher.match([frame])
        assert [m.match for m in found] == expected


def test_the_matcher_is_core_and_does_not_import_apache_beam():
    code = (
        "import sys, photosieve.robust.matcher, photosieve.lists.entries; "
        "sys.exit(1 if any(m.split('.')[0] == 'apache_beam' for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def _hashes_row(algorithm="pdq", hex_hash="ab" * 32, variant=None, orientation=None, quality=90):
    return {
        schemas.URI: "a.zip!/b.jpg",
        schemas.FRAME: 0,
        schemas.ALGORITHM: algorithm,
        schemas.HASH: hex_hash,
        schemas.VARIANT: variant,
        schemas.ORIENTATION: orientation,
        schemas.QUALITY: quality,
    }


@pytest.mark.parametrize(
    ("row", "any_list", "reason"),
    [
        (_hashes_row(algorithm="gradient", quality=None), False, "second_opinion"),
        (_hashes_row(quality=49), True, "low_quality"),
        (_hashes_row(quality=None), True, "low_quality"),
        (_hashes_row(quality=10, orientation="rotate90"), True, "low_quality"),
        (_hashes_row(orientation="rotate90"), True, "not_in_mode"),
        (_hashes_row(variant="uncrop 0.05,0.05,0.9,0.9"), True, "probed"),
        (_hashes_row(orientation="original"), False, "no_list"),
        (_hashes_row(orientation="original"), True, "probed"),
    ],
)
def test_every_hashes_row_gets_one_reason_in_the_ledgers_order(row, any_list, reason):
    """Quality first, then the mode's variants and orientations, then whether any list has PDQ."""
    config = CONFIGS["robust"] if row[schemas.VARIANT] else CONFIGS["pdq"]
    got = query_reason(config, row, quality_cutoff=50, any_list=any_list)
    assert got == reason
    assert (got in TAKE_PART) == (reason in ("probed", "second_opinion"))


def test_a_frames_rows_travel_compact_and_come_back_as_its_query():
    rows = [
        _hashes_row(variant="borders 1,2,30,40", orientation="original", quality=77),
        _hashes_row(hex_hash="cd" * 32),
        _hashes_row(algorithm="gradient", hex_hash="0f" * 8, orientation="original", quality=None),
    ]
    compact = [query_row(r) for r in rows]
    assert compact[1] == ("pdq", "cd" * 32, "", "", 90, None)
    assert FrameQuery.from_rows(compact) == FrameQuery(
        (
            QueryHash(bytes.fromhex("ab" * 32), "borders 1,2,30,40", "original", 77),
            QueryHash(bytes.fromhex("cd" * 32), "", "", 90),
        ),
        {("", "original"): bytes.fromhex("0f" * 8)},
    )
    # A video frame's time travels with its rows and reaches its match rows.
    timed = [query_row({**r, schemas.FRAME_TIMESTAMP: 2.5}) for r in rows]
    assert FrameQuery.from_rows(timed).timestamp == 2.5


def test_list_config_resolves_the_mode_per_list_and_names_a_list_it_refuses(lists, tmp_path):
    hash_list, entries = read_list_entries(str(lists / "windows.csv"), name="images")
    assert list_config("robust", hash_list, entries) == CONFIGS["robust-windows"]
    stricter = list_config("robust", hash_list, entries, threshold=40)
    assert stricter == dataclasses.replace(CONFIGS["robust-windows"], threshold=40)
    with pytest.raises(ConfigError, match="^list images: mode 'pdq' is calibrated for lists"):
        list_config("pdq", hash_list, entries)
    md5 = tmp_path / "md5.csv"
    md5.write_text("hash,algorithm\n" + "0" * 32 + ",md5\n")
    assert list_config("robust", *read_list_entries(str(md5))) is None


def test_a_match_row_cites_the_listed_image_the_query_hash_and_the_mode(lists, files):
    hash_list, entries = read_list_entries(str(lists / "hashes.csv"))
    config = list_config("pdq-dihedral", hash_list, entries)
    matcher = ModeMatcher.from_list(config, hash_list, entries)
    plan = edited_copies.plan_for("pdq-dihedral")
    ((found, *_),) = matcher.match(list(_frames({"c": files["copy-0.png"]}, plan, None).values()))
    listed = ModeList("hashes", hash_list.version, "match", matcher)
    row = match_row(
        listed,
        found,
        uri="x.zip!/copy-0.png",
        frame=0,
        status=schemas.STATUS_SUPPRESSED,
        suppressed_by=["benign"],
        run_id="r1",
        matched_at_us=7,
    )
    # Every column of the table but the one a repeat audit fills in later, and the video lists' own.
    assert set(schemas.MATCHES_SCHEMA.names) - set(row) == {schemas.NEW_REASON, *schemas.VIDEO_MATCH_COLUMNS}
    m = found.match
    assert row == {
        **row,
        schemas.URI: "x.zip!/copy-0.png",
        schemas.ALGORITHM: "pdq",
        schemas.ENTRY_IDS: ["img0"],
        schemas.LABELS: list(found.labels),
        schemas.QUERY_HASH: m.query_hash,
        schemas.MATCHED_HASH: m.list_hash,
        schemas.ORIENTATION: m.query_orientation,
        schemas.VARIANT: None,
        schemas.LIST_VARIANT: None,
        schemas.LIST_VERSION: hash_list.version,
        schemas.THRESHOLD: float(CONFIGS["pdq-dihedral"].threshold),
        schemas.MATCH_MODE: "pdq-dihedral",
        schemas.STATUS: schemas.STATUS_SUPPRESSED,
        schemas.SUPPRESSED_BY: ["benign"],
        schemas.RUN_ID: "r1",
        schemas.MATCHED_AT: 7,
    }
    assert row[schemas.FRAME_TIMESTAMP] is None  # an image
    # A video frame: its time is on every row the batch gives it.
    (frame,) = _frames({"c": files["copy-0.png"]}, plan, None).values()
    video_frame = dataclasses.replace(frame, timestamp=3.0)
    rows = list(
        frame_matches.match_frames([listed], [("v.mp4", 90)], [video_frame], run_id="r", matched_at_us=0)
    )
    assert rows and {(r[schemas.FRAME], r[schemas.FRAME_TIMESTAMP]) for r in rows} == {(90, 3.0)}
    assert isinstance(row[schemas.DISTANCE], float) and row[schemas.DISTANCE] == m.distance
