"""MatchHashes: both strategies exact and identical; quality cutoff, suppression, orientation."""

from __future__ import annotations

import doctest
import json
import os

import apache_beam as beam
import numpy as np
import pytest
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline
from apache_beam.pvalue import TaggedOutput
from apache_beam.testing.util import assert_that, equal_to
from apache_beam.utils import shared
from PIL import Image

from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.lists import ListSpec
from tests.transforms import samples
from photosieve.transforms import matching
from photosieve.transforms.hashing import HashImages
from photosieve.transforms.known_lists import build_index_file, read_known_list
from photosieve.transforms.matching import SHUFFLE, SIDE_INPUT, STRATEGIES, MatchHashes
from photosieve.transforms.reading import ReadImages

RUNNER = "FnApiRunner"  # see tests/transforms/test_reading.py


def _write_csv(path, entries: list[tuple[str, str, str, str]]) -> None:
    """A list file as users bring them: CSV with hash, algorithm, id and labels columns."""
    lines = ["hash,algorithm,id,labels"] + [",".join(entry) for entry in entries]
    path.write_text("\n".join(lines) + "\n")


def _hashes(data: bytes, plan: str = "pdq,md5") -> dict[str, str]:
    result = ImageHasher(HashPlan.parse(plan)).hash_bytes("x", data)
    out = {d.hash.algorithm: d.hash.to_hex() for d in result.digests}
    out.update(
        {r.hash.algorithm: r.hash.to_hex() for r in result.frames[0].results if not r.orientation}
    )
    return out


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    """An archive with copies of listed images, a known-benign list and decoys."""
    root = tmp_path_factory.mktemp("scene")
    known = {i: samples.encode(samples.picture(i, (320, 240)), "PNG") for i in (10, 11, 12)}
    flat = samples.encode(Image.new("RGB", (200, 150), (128, 128, 128)), "PNG")
    archive = root / "archive"
    archive.mkdir()
    files = {
        "copy10.png": known[10],  # byte-identical: md5 and pdq
        "jpeg10.jpg": samples.encode(samples.picture(10, (320, 240)), "JPEG", quality=40),
        "small11.png": samples.encode(
            samples.picture(11, (320, 240)).resize((240, 180), Image.Resampling.LANCZOS), "PNG"
        ),
        "rotated11.png": samples.encode(
            samples.picture(11, (320, 240)).transpose(Image.Transpose.ROTATE_90), "PNG"
        ),
        "copy12.png": known[12],  # on the known list and on the benign list
        "flat.png": flat,  # PDQ quality 0: stored, never matched
        "unrelated.png": samples.encode(samples.picture(77, (320, 240)), "PNG"),
    }
    for name, data in files.items():
        (archive / name).write_bytes(data)
    h10, h11, h12, hflat = (_hashes(d) for d in (known[10], known[11], known[12], flat))
    _write_csv(
        root / "known.csv",
        [
            (h10["pdq"], "pdq", "k10a", "case-1"),
            (h10["pdq"], "pdq", "k10b", "case-2"),  # a duplicate: merged, both ids kept
            (h10["md5"], "md5", "k10m", "case-1"),
            (h11["pdq"], "pdq", "k11", "case-3"),
            (h12["pdq"], "pdq", "k12", "case-4"),
            (hflat["pdq"], "pdq", "kflat", "case-5"),
        ],
    )
    (root / "benign.txt").write_text(f"pdq {h12['pdq']}\n")
    lists = [ListSpec(str(root / "known.csv")), ListSpec(str(root / "benign.txt"), role="suppress")]
    return archive, lists


def _key(row: dict) -> tuple:
    return (
        row[schemas.URI].rsplit("/", 1)[-1],
        row[schemas.ALGORITHM],
        row[schemas.LIST_NAME],
        row[schemas.STATUS],
    )


def _run_scene(scene, strategy: str, plan: str, check) -> None:
    archive, lists = scene
    with BeamTestPipeline(runner=RUNNER) as p:
        hashed = (p | ReadImages([str(archive / "*")])).objects | HashImages(
            HashPlan.parse(plan), run_id="r"
        )
        matched = hashed.hashes | MatchHashes(lists, run_id="r", matched_at_us=7, strategy=strategy)
        check(matched[schemas.MATCHES])


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_listed_images_and_their_copies_match(scene, strategy):
    expected = [
        ("copy10.png", "md5", "known", "match"),
        ("copy10.png", "pdq", "known", "match"),
        ("jpeg10.jpg", "pdq", "known", "match"),
        ("small11.png", "pdq", "known", "match"),
        ("copy12.png", "pdq", "known", "suppressed"),
        ("copy12.png", "pdq", "benign", "suppress"),
    ]

    def check(matches):
        assert_that(matches | beam.Map(_key), equal_to(expected))

    _run_scene(scene, strategy, "pdq,md5", check)


def test_rows_cite_the_list_entries_and_suppressors(scene):
    def check(matches):
        copy10 = matches | beam.Filter(lambda r: r[schemas.URI].endswith("copy10.png"))
        cited = copy10 | beam.Map(
            lambda r: (
                r[schemas.ALGORITHM],
                tuple(r[schemas.ENTRY_IDS]),
                tuple(r[schemas.LABELS]),
                r[schemas.DISTANCE],
                r[schemas.THRESHOLD],
                r[schemas.MATCHED_AT],
            )
        )
        expected = [
            ("md5", ("k10m",), ("case-1",), 0.0, 0.0, 7),
            ("pdq", ("k10a", "k10b"), ("case-1", "case-2"), 0.0, 31.0, 7),
        ]
        assert_that(cited, equal_to(expected), label="Cited")
        suppressed = matches | beam.Filter(lambda r: r[schemas.STATUS] == schemas.STATUS_SUPPRESSED)
        assert_that(
            suppressed | beam.Map(lambda r: r[schemas.SUPPRESSED_BY]),
            equal_to([["benign"]]),
            label="By",
        )

    _run_scene(scene, SIDE_INPUT, "pdq,md5", check)


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_dihedral_hashes_match_rotated_copies_with_their_orientation(scene, strategy):
    def check(matches):
        rotated = matches | beam.Filter(lambda r: r[schemas.URI].endswith("rotated11.png"))
        assert_that(
            rotated
            | beam.Map(
                lambda r: (r[schemas.LIST_NAME], r[schemas.ORIENTATION], r[schemas.DISTANCE] <= 31)
            ),
            equal_to([("known", "rotate270", True)]),
        )

    _run_scene(scene, strategy, "pdq-dihedral", check)


def _normalised(row: dict) -> str:
    # JSON with sorted keys: a stable form to compare whole rows.
    return json.dumps(row, sort_keys=True)


def test_both_strategies_write_identical_match_tables(scene, tmp_path):
    outputs = {}
    for strategy in STRATEGIES:
        path = tmp_path / strategy
        _run_scene(
            scene,
            strategy,
            "pdq-dihedral,md5",
            lambda matches, path=path: (
                matches
                | beam.Map(_normalised)
                | beam.io.WriteToText(str(path), shard_name_template="")
            ),
        )
        outputs[strategy] = sorted(path.read_text().splitlines())
    assert len(outputs[SIDE_INPUT]) >= 6
    assert outputs[SIDE_INPUT] == outputs[SHUFFLE]


def _brute_distance(a: bytes, b: bytes) -> int:
    # The oracle counts bits another way than the code under test (int.bit_count).
    return bin(int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).count("1")  # noqa: FURB161


def _flip(bits: bytes, n: int, rng: np.random.Generator) -> bytes:
    array = np.unpackbits(np.frombuffer(bits, dtype=np.uint8))
    array[rng.choice(array.size, size=n, replace=False)] ^= 1
    return np.packbits(array).tobytes()


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_exactly_the_pairs_within_the_threshold_are_found(tmp_path, strategy):
    """Random lists with planted neighbours at t-1, t and t+1 bits, checked against brute force."""
    rng = np.random.default_rng(3)
    threshold = 20
    listed = [rng.bytes(32) for _ in range(150)]
    listed[1] = _flip(listed[0], 5, rng)  # two list hashes close to each other
    queries = []
    for i in range(60):
        distance = (threshold - 1, threshold, threshold + 1, 0)[i % 4]
        queries.append(_flip(listed[i % len(listed)], distance, rng))
    queries += [rng.bytes(32) for _ in range(40)]
    _write_csv(tmp_path / "l.csv", [(h.hex(), "pdq", f"id{i}", "") for i, h in enumerate(listed)])
    rows = [
        {
            schemas.URI: f"q{i}",
            schemas.FRAME: 0,
            schemas.ALGORITHM: "pdq",
            schemas.HASH: q.hex(),
            schemas.QUALITY: 100,
        }
        for i, q in enumerate(queries)
    ]
    expected = [
        (
            f"q{i}",
            f"id{j}",
            float(_brute_distance(q, h)),
        )
        for i, q in enumerate(queries)
        for j, h in enumerate(listed)
        if _brute_distance(q, h) <= threshold
    ]
    assert len(expected) >= 45  # the planted pairs (and a few neighbours of listed[0])
    spec = ListSpec(str(tmp_path / "l.csv"), thresholds={"pdq": threshold})
    with BeamTestPipeline(runner=RUNNER) as p:
        matched = (
            p
            | beam.Create(rows)
            | MatchHashes([spec], run_id="r", matched_at_us=0, strategy=strategy)
        )
        found = matched[schemas.MATCHES] | beam.Map(
            lambda r: (r[schemas.URI], r[schemas.ENTRY_IDS][0], r[schemas.DISTANCE])
        )
        assert_that(found, equal_to(expected))


def test_module_examples_run():
    assert doctest.testmod(matching).failed == 0


def _match_rows(rows: list[dict], specs: list[ListSpec], strategy: str, path) -> list[str]:
    with BeamTestPipeline(runner=RUNNER) as p:
        matched = (
            p
            | beam.Create(rows)
            | MatchHashes(specs, run_id="r", matched_at_us=0, strategy=strategy)
        )
        _ = (
            matched[schemas.MATCHES]
            | beam.Map(_normalised)
            | beam.io.WriteToText(str(path), shard_name_template="")
        )
    return sorted(path.read_text().splitlines())


def test_both_strategies_match_a_generated_list_identically(tmp_path):
    """64-bit pHash and 256-bit PDQ lists at several thresholds, a suppress list among them."""
    rng = np.random.default_rng(11)
    phash = [rng.bytes(8) for _ in range(300)]
    pdq = [rng.bytes(32) for _ in range(300)]
    _write_csv(
        tmp_path / "known.csv",
        [(h.hex(), "phash", f"p{i}", "x") for i, h in enumerate(phash)]
        + [(h.hex(), "pdq", f"q{i}", "y") for i, h in enumerate(pdq)],
    )
    _write_csv(
        tmp_path / "benign.csv", [(h.hex(), "phash", f"b{i}", "") for i, h in enumerate(phash[:40])]
    )
    specs = [
        ListSpec(str(tmp_path / "known.csv"), thresholds={"phash": 12, "pdq": 40}),
        ListSpec(str(tmp_path / "benign.csv"), role="suppress", thresholds={"phash": 4}),
    ]
    rows = []
    for i in range(120):
        listed = (phash, pdq)[i % 2]
        algorithm = ("phash", "pdq")[i % 2]
        query = _flip(listed[i % 300], int(rng.integers(0, 16 if i % 2 == 0 else 44)), rng)
        for orientation in (None, "rotate90"):
            rows.append(
                {
                    schemas.URI: f"o{i}",
                    schemas.FRAME: 0,
                    schemas.ALGORITHM: algorithm,
                    schemas.HASH: _flip(query, 3, rng).hex() if orientation else query.hex(),
                    schemas.ORIENTATION: orientation,
                    schemas.QUALITY: 100,
                }
            )
    outputs = {s: _match_rows(rows, specs, s, tmp_path / s) for s in STRATEGIES}
    statuses = {json.loads(line)[schemas.STATUS] for line in outputs[SIDE_INPUT]}
    assert len(outputs[SIDE_INPUT]) >= 80
    assert statuses == {schemas.STATUS_MATCH, schemas.STATUS_SUPPRESSED, schemas.STATUS_SUPPRESS}
    assert outputs[SIDE_INPUT] == outputs[SHUFFLE]


def test_digests_match_only_when_equal(tmp_path):
    _write_csv(tmp_path / "d.csv", [("ab" * 16, "md5", "m1", "x")])
    rows = [
        {schemas.URI: "same", schemas.ALGORITHM: "md5", schemas.HASH: "ab" * 16},
        {schemas.URI: "other", schemas.ALGORITHM: "md5", schemas.HASH: "ab" * 15 + "aa"},
    ]
    for strategy in STRATEGIES:
        with BeamTestPipeline(runner=RUNNER) as p:
            matched = (
                p
                | beam.Create(rows)
                | MatchHashes(
                    [ListSpec(str(tmp_path / "d.csv"))],
                    run_id="r",
                    matched_at_us=0,
                    strategy=strategy,
                )
            )
            rows_out = matched[schemas.MATCHES] | beam.Map(
                lambda r: (r[schemas.URI], r[schemas.FRAME], r[schemas.DISTANCE])
            )
            assert_that(rows_out, equal_to([("same", None, 0.0)]))


def test_query_ledger_counts_every_hash(scene):
    archive, lists = scene
    with BeamTestPipeline(runner=RUNNER) as p:
        hashed = (p | ReadImages([str(archive / "*")])).objects | HashImages(
            HashPlan.parse("pdq,phash,md5"), run_id="r"
        )
        matched = hashed.hashes | MatchHashes(lists, run_id="r", matched_at_us=0)
        queries = (
            matched["ledger"]
            | beam.FlatMap(
                lambda counts: [(k[1:], n) for k, n in counts.items() if k[0] == "queries"]
            )
            | beam.CombinePerKey(sum)
        )
        # 7 images: 6 PDQ hashes above the quality cutoff, the flat one below;
        # pHash has no list; every md5 is probed.
        expected = [
            (("probed", "pdq"), 6),
            (("low_quality", "pdq"), 1),
            (("no_list", "phash"), 7),
            (("probed", "md5"), 7),
        ]
        assert_that(queries, equal_to(expected))


def test_bad_configuration_fails_at_construction(tmp_path):
    spec = ListSpec(str(tmp_path / "a.txt"))
    with pytest.raises(ValueError, match="strategy"):
        MatchHashes([spec], run_id="r", matched_at_us=0, strategy="broadcast")
    with pytest.raises(ValueError, match="unique"):
        MatchHashes([spec, spec], run_id="r", matched_at_us=0)
    with pytest.raises(ValueError, match="quality_cutoff"):
        MatchHashes([spec], run_id="r", matched_at_us=0, quality_cutoff=101)


def test_display_data_reports_the_configuration(tmp_path):
    specs = [ListSpec(str(tmp_path / "a.txt")), ListSpec(str(tmp_path / "b.txt"), role="suppress")]
    data = MatchHashes(
        specs, run_id="r", matched_at_us=0, strategy=SHUFFLE, quality_cutoff=40
    ).display_data()
    assert data == {"lists": "a (match), b (suppress)", "strategy": SHUFFLE, "quality_cutoff": 40}


def test_the_side_input_join_writes_one_index_file_per_list_where_told(tmp_path):
    path = tmp_path / "known.txt"
    path.write_text("md5 " + "ab" * 16 + "\npdq " + "0f" * 32 + "\n")
    rows = [
        {"uri": "a.jpg", "algorithm": "md5", "hash": "ab" * 16},
        {"uri": "b.jpg", "frame": 0, "algorithm": "pdq", "hash": "0f" * 31 + "0e", "quality": 90},
    ]
    index_dir = tmp_path / "indexes"
    with BeamTestPipeline(runner=RUNNER) as p:
        matched = (
            p
            | beam.Create(rows)
            | MatchHashes(
                [ListSpec(str(path))], run_id="r", matched_at_us=0, index_dir=str(index_dir)
            )
        )
        assert_that(
            matched["matches"] | beam.Map(lambda r: (r["uri"], r["distance"])),
            equal_to([("a.jpg", 0.0), ("b.jpg", 1.0)]),
        )
    (written,) = os.listdir(index_dir)
    assert written.startswith("known-") and written.endswith(".psidx")


def test_workers_probe_through_handles_alone_without_the_list(tmp_path):
    """The side input is a handle (path, size, digest): the probe needs no list, ids come from the file."""
    path = tmp_path / "known.csv"
    path.write_text("hash,algorithm,id,labels\n" + "0f" * 32 + ",pdq,k1,case-1\n")
    known = read_known_list(ListSpec(str(path)), strict=True)
    handle = build_index_file(known, str(tmp_path / "indexes"))
    path.unlink()
    probe = matching._ProbeIndexesFn(shared.Shared(), quality_cutoff=50)
    probe.setup()
    row = {"uri": "a.jpg", "frame": 0, "algorithm": "pdq", "hash": "0f" * 31 + "0e", "quality": 90}
    low = {**row, "uri": "low.jpg", "quality": 10}
    hits = [kv for kv in probe.process([row, low], [handle]) if not isinstance(kv, TaggedOutput)]
    assert [(key, hit.entry_ids, hit.labels, hit.matched_hash) for key, hit in hits] == [
        (("a.jpg", 0, "pdq"), ["k1"], ["case-1"], "0f" * 32)
    ]
