"""Mutated list files of every format: a list problem or a list, never a crash, every line counted.

Each case is a valid list with a few random edits (bytes flipped to quotes,
newlines, NULs, invalid UTF-8; runs deleted, duplicated or inserted), some
gzipped. Seeds are fixed, so a failure names a case that can be replayed.
"""

from __future__ import annotations

import gzip
import io
import random

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from photosieve.errors import PhotosieveError
from photosieve.lists import read_list

CASES_PER_FORMAT = 300
# Bytes that mean something to one of the readers.
_SPECIAL = b'"\n\r,\t{}[]\x00\xff\x1f #'
_INSERTS = [b'"', b"\n", b",,", b"\xc3", b"[[[[", b"1" * 40, b"\r\n", b"\x1f"]


def _hashes() -> list[str]:
    return [random.Random(f"hash {i}").randbytes(32).hex() for i in range(20)]


def _seed_files() -> dict[str, bytes]:
    """One valid list per format, 20 entries each."""
    hashes = _hashes()
    sink = io.BytesIO()
    pq.write_table(
        pa.table({"hash": hashes, "id": [f"id{i}" for i in range(20)], "labels": [["a"]] * 20}),
        sink,
    )
    rows = list(enumerate(hashes))
    return {
        "list.txt": "".join(f"pdq {h}\n" if i % 2 else f"{h}\n" for i, h in rows).encode(),
        "list.csv": ("hash,id,labels\n" + "".join(f'{h},id{i},"a b"\n' for i, h in rows)).encode(),
        "list.tsv": ("hash\tid\n" + "".join(f"{h}\tid{i}\n" for i, h in rows)).encode(),
        "te.csv": (
            "signal_type,signal_str,collab,category,tags\n"
            + "".join(f"pdq,{h},c,k,t1 t2\n" for _, h in rows)
        ).encode(),
        "hma.csv": "".join(f"{h},{i},2021,t\n" for i, h in rows).encode(),
        "list.jsonl": "".join(
            f'{{"hash": "{h}", "id": {i}, "tags": ["x"]}}\n' for i, h in rows
        ).encode(),
        "list.parquet": sink.getvalue(),
    }


def _mutate(rng: random.Random, data: bytes) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.random()
        if op < 0.4 and data:
            at = rng.randrange(len(data))
            data[at] = rng.choice(_SPECIAL) if rng.random() < 0.7 else rng.randrange(256)
        elif op < 0.6 and data:
            at = rng.randrange(len(data))
            del data[at : at + rng.randint(1, 50)]
        elif op < 0.8:
            at = rng.randrange(len(data) + 1)
            data[at:at] = rng.choice(_INSERTS)
        else:
            a, b = sorted(rng.randrange(len(data) + 1) for _ in range(2))
            data[a:a] = data[a:b][:200]
    return bytes(data)


SEEDS = _seed_files()


@pytest.mark.parametrize("name", sorted(SEEDS))
def test_mutated_lists_are_read_or_refused_and_every_line_is_counted(tmp_path, name):
    crashes, unbalanced = [], []
    for case in range(CASES_PER_FORMAT):
        rng = random.Random(f"{name} {case}")
        data = _mutate(rng, SEEDS[name])
        path = tmp_path / (name + ".gz" if rng.random() < 0.2 else name)
        path.write_bytes(gzip.compress(data) if path.suffix == ".gz" else data)
        try:
            hash_list = read_list(str(path), strict=False)
        except PhotosieveError as exc:
            # A refusal names the file and is specific: not the catch-all of read_list.
            assert str(path) in str(exc) and "not readable as a " not in str(exc), (case, exc)
            continue
        except Exception as exc:  # what the test is looking for
            crashes.append((case, f"{type(exc).__name__}: {exc}"))
            continue
        # Every data line is a valid entry or a problem (one hash column per seed).
        if hash_list.rows != hash_list.entries + len(hash_list.problems):
            unbalanced.append((case, hash_list.rows, hash_list.entries, len(hash_list.problems)))
    assert crashes == [] and unbalanced == []
