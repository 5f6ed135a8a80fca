"""The front door (sniffing, names, open_fn) and writers (round trips)."""

from __future__ import annotations

import gzip
import io

import pytest

from photosieve.errors import ConfigError
from photosieve.lists import WRITE_FORMATS, read_list, write_list
from photosieve.lists.read import default_name

MD5 = "d41d8cd98f00b204e9800998ecf8427e"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{hash}\n", "text"),
        ("pdq {hash}\n", "text"),
        ("pdq\t{hash}\n", "text"),
        ("# comment\n{hash}\n", "text"),
        ("hash,id\n{hash},1\n", "csv"),
        ("id\tsignal\n1\t{hash}\n", "tsv"),
        ("signal_type,signal_str,collab,category,tags\npdq,{hash},c,k,\n", "threatexchange"),
        ("{hash},1,2021,tag\n", "hma"),
        ('{{"hash": "{hash}"}}\n', "jsonl"),
    ],
)
def test_format_is_sniffed_from_content(write, pdq_hashes, content, expected):
    hash_list = read_list(write("list.dat", content.format(hash=pdq_hashes[0])))
    assert hash_list.format == expected
    assert hash_list.group("pdq").hex_of(0) == pdq_hashes[0]


def test_remote_paths_go_through_open_fn(pdq_hashes):
    stored = gzip.compress("\n".join(pdq_hashes[:3]).encode())
    opened = []

    def open_fn(path: str, mode: str):
        opened.append((path, mode))
        return io.BytesIO(stored)

    hash_list = read_list("gs://bucket/lists/ncmec.txt.gz", open_fn=open_fn)
    assert opened == [("gs://bucket/lists/ncmec.txt.gz", "rb")]
    assert (hash_list.name, len(hash_list.group("pdq"))) == ("ncmec", 3)
    with pytest.raises(ConfigError, match="pass open_fn"):
        read_list("gs://bucket/lists/ncmec.txt.gz")


def test_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read list file"):
        read_list(str(tmp_path / "nope.txt"))


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("a/b/ncmec-2024.csv.gz", "ncmec-2024"),
        ("gs://x/y/list.txt", "list"),
        ("plain", "plain"),
        (".hidden", ".hidden"),
    ],
)
def test_default_name(path, name):
    assert default_name(path) == name


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
