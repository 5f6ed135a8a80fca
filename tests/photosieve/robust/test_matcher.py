"""ModeMatcher applies modes.match's rule through an index: same pairs, variants, distances."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import numpy as np
import pytest

from photosieve.errors import ConfigError
from photosieve.hashes.value import HashResult, HashValue
from photosieve.hashing import ImageHasher
from photosieve.index import Geometry, MultiIndex, build_index
from photosieve.lists.entries import read_list_entries
from photosieve.lists.from_images import has_windows
from photosieve.robust import modes
from photosieve.robust.matcher import FrameQuery, ModeMatcher, QueryHash
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


@pytest.mark.parametrize(("mode", "list_name", "resolved"), CASES)
def test_matcher_reports_what_the_reference_rule_reports(lists, files, mode, list_name, resolved):
    hash_list, entries = read_list_entries(str(lists / list_name))
    variants = [v for v in entries["pdq"].variants]
    config = config_for_list(
        mode,
        has_windows=has_windows(variants),
        second_algorithms=[a for a in hash_list.algorithms if a != "pdq"],
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
        files, edited_copies.read_entries(lists / list_name), config.name, quality_cutoff=0
    )
    assert {name: [m.match for m in found] for name, found in got.items()} == expected
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
