"""write: every format reads back to the same hashes and metadata; bytes are reproducible."""

from __future__ import annotations

import gzip
import io
import json

import pyarrow.parquet as pq
import pytest

from photosieve.errors import ConfigError
from photosieve.lists import WRITE_FORMATS, read_list, write_list

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize("format", WRITE_FORMATS)
@pytest.mark.parametrize("compressed", [False, True])
def test_write_then_read_gives_the_same_hashes_and_metadata(
    write, tmp_path, pdq_hashes, format, compressed
):
    source = write(
        "source.csv",
        "hash,id,tags,bank,quality\n"
        f"{pdq_hashes[0]},a,x y,b1,90\n"
        f"{pdq_hashes[1]},b,,b2,\n"
        f"{pdq_hashes[0]},c,z,b1,80\n"
        f"{MD5},d,,,\n",
    )
    original = read_list(source)
    out = str(
        tmp_path / f"out.{ {'text': 'txt'}.get(format, format) }{'.gz' if compressed else ''}"
    )
    write_list(original, out)
    again = read_list(out)
    assert again.algorithms == original.algorithms
    for algorithm in original.algorithms:
        a, b = original.group(algorithm), again.group(algorithm)
        assert (a.hashes == b.hashes).all()
        if format != "text":  # plain text keeps hashes only
            for column in ("ids", "labels", "banks", "quality"):
                assert (
                    b.metadata.column(column).to_pylist() == a.metadata.column(column).to_pylist()
                )


def test_gzip_output_is_reproducible(tmp_path, hash_lists_dir):
    hash_list = read_list(str(hash_lists_dir / "needles.txt"))
    write_list(hash_list, str(tmp_path / "a.txt.gz"))
    write_list(hash_list, str(tmp_path / "b.txt.gz"))
    assert (tmp_path / "a.txt.gz").read_bytes() == (tmp_path / "b.txt.gz").read_bytes()


def test_an_unknown_write_format_is_refused(tmp_path, hash_lists_dir):
    hash_list = read_list(str(hash_lists_dir / "needles.txt"))
    with pytest.raises(ConfigError, match=r"cannot write list format 'xml'; known: text, csv"):
        write_list(hash_list, str(tmp_path / "out.xml"), format="xml")
    assert not (tmp_path / "out.xml").exists()


def test_csv_repeats_a_hash_once_per_id_and_joins_labels(write, tmp_path, pdq_hashes):
    source = write("s.csv", f"hash,id,tags\n{pdq_hashes[0]},a,x y\n{pdq_hashes[0]},b,z\n")
    out = tmp_path / "out.csv.gz"
    write_list(read_list(source), str(out))  # format from the extension under .gz
    lines = gzip.decompress(out.read_bytes()).decode().splitlines()
    assert lines == [
        "algorithm,hash,id,labels,bank,quality",
        f"pdq,{pdq_hashes[0]},a,x;y;z,,",
        f"pdq,{pdq_hashes[0]},b,x;y;z,,",
    ]


def test_text_names_its_source_and_an_unknown_extension_writes_text(tmp_path, hash_lists_dir):
    hash_list = read_list(str(hash_lists_dir / "needles.txt"))
    out = tmp_path / "out.dat"
    write_list(hash_list, str(out))
    first, *rest = out.read_text().splitlines()
    assert first == f"# needles: written by photosieve from {hash_list.path} ({hash_list.version})"
    assert rest == [f"pdq {hash_list.group('pdq').hex_of(i)}" for i in range(len(rest))]
    assert len(rest) == hash_list.distinct


def test_json_lines_and_parquet_keep_lists_and_drop_empty_extras(write, tmp_path, pdq_hashes):
    source = write("s.csv", f"hash,id,quality,note\n{pdq_hashes[0]},a,90,\n{pdq_hashes[1]},,,n\n")
    hash_list = read_list(source)
    write_list(hash_list, str(tmp_path / "out.jsonl"))
    records = [json.loads(line) for line in (tmp_path / "out.jsonl").read_text().splitlines()]
    assert records == [
        {"algorithm": "pdq", "hash": pdq_hashes[0], "ids": ["a"], "labels": [], "banks": [],
         "quality": 90},
        {"algorithm": "pdq", "hash": pdq_hashes[1], "ids": [], "labels": [], "banks": [],
         "note": ["n"]},
    ]  # fmt: skip
    buffer = io.BytesIO()
    write_list(hash_list, "mem.parquet", open_fn=lambda path, mode: _Keep(buffer))
    table = pq.read_table(io.BytesIO(buffer.getvalue()))
    assert table.column_names[:2] == ["algorithm", "hash"] and "lines" not in table.column_names


class _Keep(io.BytesIO):
    """A sink whose bytes outlive its ``with`` block."""

    def __init__(self, target: io.BytesIO):
        super().__init__()
        self._target = target

    def close(self) -> None:
        self._target.write(self.getvalue())
        super().close()
