"""Index files: a mapped index answers exactly as the in-memory one; damaged files are refused."""

from __future__ import annotations

import doctest
import functools
import io
import json
import struct
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from photosieve import algorithms
from photosieve.errors import ConfigError
from photosieve.index import EuclideanIndex, ExactIndex, MultiIndex, build_index, mapped
from photosieve.lists.known import KnownList


def _entries(n: int) -> pa.Table:
    return pa.table(
        {
            "ids": [[f"id{i}", f"alt{i}"] if i % 3 == 0 else [f"id{i}"] for i in range(n)],
            "labels": [[f"case-{i % 5}"] if i % 2 else [] for i in range(n)],
        }
    )


def _random(rng, n: int, nbytes: int) -> np.ndarray:
    return rng.integers(0, 256, size=(n, nbytes), dtype=np.uint8)


def _duplicate_heavy(rng, n: int, nbytes: int) -> np.ndarray:
    """Few distinct base hashes, each with many copies a few bits (or bytes) away: full buckets."""
    bases = _random(rng, 64, nbytes)
    rows = bases[rng.integers(0, 64, size=n)].copy()
    flips = rng.integers(0, nbytes, size=(n, 2))
    for column in range(2):
        rows[np.arange(n), flips[:, column]] ^= (1 << rng.integers(0, 8, size=n)).astype(np.uint8)
    rows[: n // 4] = bases[0]  # exact duplicates too
    return rows


def _near(rng, rows: np.ndarray, q: int, k: int, flips: int = 6) -> np.ndarray:
    """``[q, k, nbytes]`` queries: list hashes with a few bits flipped, and some random ones."""
    n, nbytes = rows.shape
    picked = rows[rng.integers(0, n, size=(q, k))].copy()
    for _ in range(flips):
        byte = rng.integers(0, nbytes, size=(q, k))
        bit = (1 << rng.integers(0, 8, size=(q, k))).astype(np.uint8)
        flip = rng.random((q, k)) < 0.7
        qi, ki = np.nonzero(flip)
        picked[qi, ki, byte[qi, ki]] ^= bit[qi, ki]
    picked[: q // 5] = _random(rng, q // 5 * k, nbytes).reshape(-1, k, nbytes)
    return picked


def _gradient_near(rng, rows: np.ndarray, q: int) -> np.ndarray:
    """Gradient queries: list hashes with small byte changes (within and beyond the threshold)."""
    picked = rows[rng.integers(0, rows.shape[0], size=q)].astype(np.int64)
    picked += rng.integers(-25, 26, size=picked.shape)
    return np.clip(picked, 0, 255).astype(np.uint8)[:, None, :]


def _write(tmp_path, groups: dict, thresholds: dict, name: str = "known") -> str:
    known = KnownList(name, "v1", "match", thresholds, groups)
    path = str(tmp_path / f"{name}.psidx")
    mapped.write_index_file(known, path)
    return path


def _same(a, b) -> None:
    for field in ("query", "variant", "item", "distance"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    assert a.distance.dtype == b.distance.dtype


CASES = [
    # (algorithm, list size, maker, expected kind): every index kind the lists hold
    ("pdq", 12_000, _random, MultiIndex),
    ("pdq", 3_000, _duplicate_heavy, MultiIndex),
    ("pdq", 40, _random, MultiIndex),  # tiny: no tables, every query is a scan
    ("phash", 2_000, _duplicate_heavy, MultiIndex),  # no tables either (a scan is cheaper)
    ("dhash", 60_000, _random, MultiIndex),  # 64-bit with tables
    ("md5", 3_000, _duplicate_heavy, ExactIndex),
    ("sha256", 3_000, _random, ExactIndex),
    ("gradient", 1_500, _random, EuclideanIndex),
    ("gradient", 1_500, _duplicate_heavy, EuclideanIndex),
]


@pytest.mark.parametrize(("algorithm", "n", "maker", "kind"), CASES)
def test_a_mapped_index_answers_exactly_as_the_built_one(tmp_path, algorithm, n, maker, kind):
    rng = np.random.default_rng(n + len(algorithm))
    spec = algorithms.get(algorithm)
    rows = maker(rng, n, spec.nbytes)
    threshold = float(spec.default_threshold)
    path = _write(tmp_path, {algorithm: (rows, _entries(n))}, {algorithm: threshold})
    listed = mapped.open_index_file(path, expected_version="v1", verify=True)
    index, entries = listed.groups[algorithm]
    built = build_index(algorithm, rows, threshold=threshold)
    assert isinstance(index, kind) and len(index) == n
    if kind is MultiIndex:
        assert index.geometry == built.geometry
        assert (index.geometry is None) == (n <= 2_000)
    if kind is EuclideanIndex:
        queries = _gradient_near(rng, rows, 200)
    else:
        flips = 0 if kind is ExactIndex else 6
        count = 40 if maker is _duplicate_heavy else 200  # each matches ~1/64 of the list
        queries = _near(rng, rows, count, 8 if algorithm == "pdq" else 1, flips)
    found = index.query_batch(queries, threshold=threshold)
    _same(found, built.query_batch(queries, threshold=threshold))
    assert len(found) >= queries.shape[0] // 2  # the comparison covered many matches
    # at other thresholds too: the geometry is a hint, queries stay exact
    for t in (0.0, threshold / 2, threshold * 1.5):
        _same(index.query_batch(queries, threshold=t), built.query_batch(queries, threshold=t))
    np.testing.assert_array_equal(index.hashes_of(found.item), rows[found.item])
    assert entries.equals(_entries(n))


def test_the_arrays_are_read_only_views_of_the_file_not_copies(tmp_path):
    rows = _random(np.random.default_rng(1), 5_000, 32)
    listed = mapped.open_index_file(_write(tmp_path, {"pdq": (rows, _entries(5_000))}, {"pdq": 31}))
    state = listed.groups["pdq"][0].__getstate__()
    arrays = [value for value in state.values() if isinstance(value, np.ndarray)]
    assert len(arrays) == 4
    for array in arrays:
        assert not array.flags.writeable and not array.flags.owndata


def test_several_algorithms_and_an_empty_group_in_one_file(tmp_path):
    rng = np.random.default_rng(2)
    pdq, md5 = _random(rng, 500, 32), _random(rng, 300, 16)
    groups = {
        "pdq": (pdq, _entries(500)),
        "md5": (md5, _entries(300)),
        "phash": (np.zeros((0, 8), np.uint8), _entries(0)),
    }
    listed = mapped.open_index_file(
        _write(tmp_path, groups, {"pdq": 31.0, "md5": 0.0, "phash": 15.0})
    )
    assert sorted(listed.groups) == ["md5", "pdq", "phash"]
    assert (listed.name, listed.version, listed.role) == ("known", "v1", "match")
    assert listed.thresholds == {"pdq": 31.0, "md5": 0.0, "phash": 15.0}
    assert len(listed.groups["phash"][0]) == 0
    assert len(listed.groups["phash"][0].query_batch(pdq[:3, :8], threshold=15)) == 0
    found = listed.groups["md5"][0].query_batch(md5[[5, 7]], threshold=0)
    assert found.item.tolist() == [5, 7]


def test_the_same_list_writes_the_same_bytes(tmp_path):
    rows = _random(np.random.default_rng(3), 2_000, 32)
    groups = {"pdq": (rows, _entries(2_000))}
    first = _write(tmp_path, groups, {"pdq": 31.0}, name="a")
    known = KnownList("a", "v1", "match", {"pdq": 31.0}, groups)
    out = io.BytesIO()
    out.close = lambda: None  # keep the bytes readable after the writer's `with`
    summary = mapped.write_index_file(known, "memory", create=lambda _: out)
    assert out.getvalue() == Path(first).read_bytes()
    assert summary.size == len(out.getvalue()) and summary.counts == {"pdq": 2_000}


@pytest.fixture
def index_file(tmp_path):
    rows = _random(np.random.default_rng(4), 3_000, 32)
    return _write(tmp_path, {"pdq": (rows, _entries(3_000))}, {"pdq": 31.0})


def test_a_truncated_file_is_refused(index_file, tmp_path):
    data = Path(index_file).read_bytes()
    for keep in (len(data) - 1, len(data) // 2, 40, 10):
        cut = tmp_path / f"cut{keep}.psidx"
        cut.write_bytes(data[:keep])
        with pytest.raises(ConfigError, match="truncated|not a photosieve index"):
            mapped.open_index_file(str(cut))


def test_a_file_that_is_not_an_index_is_refused(tmp_path):
    for content in (b"hash,algorithm\n" + b"ab" * 40, b"", b"PSIDX"):
        other = tmp_path / "other.psidx"
        other.write_bytes(content)
        with pytest.raises(ConfigError, match="not a photosieve index file"):
            mapped.open_index_file(str(other))
    with pytest.raises(ConfigError, match="cannot read"):
        mapped.open_index_file(str(tmp_path / "missing.psidx"))


def _patched_header(path: str, change) -> bytes:
    data = Path(path).read_bytes()
    (length,) = struct.unpack("<Q", data[8:16])
    header = json.loads(data[16 : 16 + length])
    change(header)
    text = json.dumps(header, sort_keys=True).encode()
    assert len(text) <= length
    return data[:8] + struct.pack("<Q", length) + text.ljust(length) + data[16 + length :]


def test_another_format_version_is_refused_with_how_to_fix(index_file, tmp_path):
    other = tmp_path / "v9.psidx"
    other.write_bytes(_patched_header(index_file, lambda h: h.update(format=9)))
    with pytest.raises(
        ConfigError, match="index format 9; this photosieve reads format 1.*lists index"
    ):
        mapped.open_index_file(str(other))


def test_a_damaged_header_is_refused(index_file, tmp_path):
    data = bytearray(Path(index_file).read_bytes())
    data[20] = ord("}")
    bad = tmp_path / "bad.psidx"
    bad.write_bytes(bytes(data))
    with pytest.raises(ConfigError, match="damaged"):
        mapped.open_index_file(str(bad))

    def outside(header):
        header["groups"]["pdq"]["arrays"]["items"]["offset"] = header["data_size"]

    bad.write_bytes(_patched_header(index_file, outside))
    with pytest.raises(ConfigError, match="does not fit"):
        mapped.open_index_file(str(bad))


def test_another_list_version_or_digest_is_refused(index_file):
    with pytest.raises(ConfigError, match="rebuild it"):
        mapped.open_index_file(index_file, expected_version="v2")
    with pytest.raises(ConfigError, match="another digest"):
        mapped.open_index_file(index_file, expected_digest="0" * 64)
    digest = mapped.open_index_file(index_file).digest
    assert mapped.open_index_file(index_file, expected_digest=digest).digest == digest


def test_verify_finds_a_changed_byte(index_file, tmp_path):
    data = bytearray(Path(index_file).read_bytes())
    header, base = mapped.read_header(bytes(data[: 1 << 16]))
    data[base + header["groups"]["pdq"]["arrays"]["words"]["offset"] + 5] ^= 1
    changed = tmp_path / "changed.psidx"
    changed.write_bytes(bytes(data))
    mapped.open_index_file(str(changed))  # sizes and header still fine
    with pytest.raises(ConfigError, match="does not match its digest"):
        mapped.open_index_file(str(changed), verify=True)


def test_copy_verified_checks_size_and_digest_and_leaves_no_partial_file(index_file, tmp_path):
    listed = mapped.open_index_file(index_file)
    read = functools.partial(open, index_file, "rb")
    cache = tmp_path / "cache"
    target = str(cache / "x.psidx")
    mapped.copy_verified(read, target, size=listed.size, digest=listed.digest)
    assert Path(target).read_bytes() == Path(index_file).read_bytes()
    with pytest.raises(ConfigError, match="bytes, expected"):
        mapped.copy_verified(read, str(cache / "y.psidx"), size=5, digest=listed.digest)
    with pytest.raises(ConfigError, match="does not match its digest"):
        mapped.copy_verified(read, str(cache / "z.psidx"), size=listed.size, digest="0" * 64)
    assert sorted(p.name for p in cache.iterdir()) == ["x.psidx"]


def test_module_examples_run():
    assert doctest.testmod(mapped).failed == 0
