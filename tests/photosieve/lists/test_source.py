"""Fetching a list's bytes from hostile files: non-regular paths, size limits, long lines."""

from __future__ import annotations

import gzip
import hashlib
import os
import resource
import socket
import subprocess
import sys

import pytest

from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists import ProblemKind, read_list
from photosieve.lists.source import MAX_LINE_BYTES, parse_byte_size, read_source

# A child that reads a list may use this much address space (a reader that
# does not stop at the end of memory fails there, not on the machine).
_CHILD_ADDRESS_SPACE = 2 << 30
# Seconds a child may take before it counts as hung (it needs well under one).
_HANG_GUARD_SECONDS = 120
_CHILD = """
import sys
from photosieve.errors import PhotosieveError
from photosieve.lists import read_list
try:
    read_list(sys.argv[1])
except PhotosieveError as exc:
    print(exc)
    sys.exit(3)
print("read as a list")
"""


def _read_in_child(path: str) -> subprocess.CompletedProcess:
    """read_list(path) in a child process with bounded memory; a hang is a failed test."""

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (_CHILD_ADDRESS_SPACE, _CHILD_ADDRESS_SPACE))

    try:
        return subprocess.run(
            [sys.executable, "-c", _CHILD, path],
            capture_output=True,
            text=True,
            timeout=_HANG_GUARD_SECONDS,
            preexec_fn=limit,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"reading {path} as a list hung")


def _refused(result: subprocess.CompletedProcess, path: str, what: str) -> None:
    assert result.returncode == 3, result.stdout + result.stderr
    assert f"{path}: is {what}, not a regular file" in result.stdout
    assert "Traceback" not in result.stderr


def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    fifo = tmp_path / "list.txt"
    os.mkfifo(fifo)
    _refused(_read_in_child(str(fifo)), str(fifo), "a FIFO (named pipe)")


def test_dev_zero_is_refused_without_reading(tmp_path):
    _refused(_read_in_child("/dev/zero"), "/dev/zero", "a character device")


def test_a_symlink_to_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "list.txt"
    link.symlink_to(fifo)
    _refused(_read_in_child(str(link)), str(link), "a FIFO (named pipe)")


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(ListFormatError) as error:
        read_list(str(tmp_path))
    reason = "is a directory, not a regular file: a list must be a file"
    assert error.value.problems[0].reason == reason
    assert error.value.path == str(tmp_path) and error.value.line is None


def test_a_socket_is_refused(tmp_path):
    path = tmp_path / "s"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        server.bind(str(path))
        with pytest.raises(ListFormatError, match="is a socket, not a regular file"):
            read_list(str(path))
    finally:
        server.close()


def test_a_handle_on_a_fifo_from_an_open_fn_is_refused(tmp_path):
    # An open_fn that opened the path without checking (the swap after a stat):
    # the handle is checked again before any byte is read.
    fifo = tmp_path / "list.txt"
    os.mkfifo(fifo)

    def open_fn(path, mode):
        return os.fdopen(os.open(path, os.O_RDONLY | os.O_NONBLOCK), "rb")

    with pytest.raises(ListFormatError, match="is a FIFO"):
        read_list(str(fifo), open_fn=open_fn)


def test_a_gzip_bomb_stops_at_the_limit(tmp_path):
    # 64 MiB of zeros compress to about 64 KB; the limit is 1 MiB.
    path = tmp_path / "bomb.txt.gz"
    with gzip.open(path, "wb", compresslevel=9) as handle:
        for _ in range(64):
            handle.write(bytes(1 << 20))
    with pytest.raises(ListFormatError) as error:
        read_list(str(path), max_bytes=1 << 20)
    (problem,) = error.value.problems
    assert problem.kind is ProblemKind.TOO_LARGE and problem.path == str(path)
    assert problem.reason.startswith("inflates to more than 1048576 bytes")
    assert "--max-list-bytes" in problem.reason


def test_a_plain_file_over_the_limit_is_refused(write, pdq_hashes):
    path = write("list.txt", "\n".join(pdq_hashes[:100]))
    with pytest.raises(ListFormatError, match="holds more than 1000 bytes"):
        read_list(path, max_bytes=1000)
    assert read_list(path, max_bytes=100 * 65).distinct == 100


def test_a_stream_over_the_limit_stops_without_a_size(pdq_hashes):
    # A remote handle gives no size: the limit counts what it gives.
    class Endless:
        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, size=-1):
            return (pdq_hashes[0] + "\n").encode() * 1000

    with pytest.raises(ListFormatError, match="holds more than 5000000 bytes"):
        read_list(
            "gs://bucket/endless.txt", open_fn=lambda path, mode: Endless(), max_bytes=5_000_000
        )


def test_a_handle_that_gives_more_than_asked_loses_nothing(pdq_hashes):
    stored = gzip.compress("\n".join(pdq_hashes).encode())

    class Generous:
        def __init__(self):
            self.left = stored

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, size=-1):
            given, self.left = self.left[: 3 * size + 7], self.left[3 * size + 7 :]
            return given

    source = read_source("gs://b/l.gz", lambda path, mode: Generous())
    assert source.data == "\n".join(pdq_hashes).encode()
    assert source.version == hashlib.sha256(stored).hexdigest()


def test_gzip_members_are_all_inflated_and_the_version_is_of_the_stored_bytes(tmp_path, pdq_hashes):
    stored = gzip.compress(f"{pdq_hashes[0]}\n".encode()) + gzip.compress(pdq_hashes[1].encode())
    path = tmp_path / "two.txt.gz"
    path.write_bytes(stored)
    source = read_source(str(path))
    assert source.compressed and source.data == f"{pdq_hashes[0]}\n{pdq_hashes[1]}".encode()
    assert source.version == hashlib.sha256(stored).hexdigest()


def test_truncated_gzip_is_a_problem_of_the_file(tmp_path, pdq_hashes):
    path = tmp_path / "cut.txt.gz"
    path.write_bytes(gzip.compress("\n".join(pdq_hashes).encode())[:-20])
    with pytest.raises(ListFormatError, match="broken gzip data"):
        read_list(str(path))


def test_storage_errors_stay_config_errors_even_inside_gzip(pdq_hashes):
    stored = gzip.compress("\n".join(pdq_hashes).encode())

    class Failing:
        def __init__(self):
            self.given = False

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def read(self, size=-1):
            if self.given:
                raise OSError("connection reset")
            self.given = True
            return stored[:100]

    with pytest.raises(ConfigError, match="cannot read list file gs://b/l.gz: connection reset"):
        read_list("gs://b/l.gz", open_fn=lambda path, mode: Failing())


def test_a_5_mb_line_is_a_problem_at_its_line(write, pdq_hashes):
    path = write("list.txt", f"{pdq_hashes[0]}\n{'a' * (5 << 20)}\n{pdq_hashes[1]}\n")
    with pytest.raises(ListFormatError) as error:
        read_list(path)
    assert [(p.line, p.kind) for p in error.value.problems] == [(2, ProblemKind.LINE_TOO_LONG)]
    assert f"line of {5 << 20} bytes, over the limit of {MAX_LINE_BYTES}" in str(error.value)
    lenient = read_list(path, strict=False)
    assert lenient.distinct == 2 and lenient.rows == 3 and len(lenient.problems) == 1


def test_a_long_last_line_without_a_newline(write, pdq_hashes):
    path = write("list.txt", f"{pdq_hashes[0]}\n{'b' * (MAX_LINE_BYTES + 1)}")
    lenient = read_list(path, strict=False)
    assert [p.line for p in lenient.problems] == [2] and lenient.distinct == 1


@pytest.mark.parametrize(
    "name,content",
    [
        ("list.csv", "hash,id\n{h0},a\n{long},b\n{h1},c\n"),
        ("list.jsonl", '{{"hash": "{h0}"}}\n{{"hash": "{long}"}}\n{{"hash": "{h1}"}}\n'),
        ("list.tsv.gz", "hash\tid\n{h0}\ta\n{long}\tb\n{h1}\tc\n"),
    ],
)
def test_long_lines_in_every_text_format(write, pdq_hashes, name, content):
    path = write(name, content.format(h0=pdq_hashes[0], h1=pdq_hashes[1], long="c" * (5 << 20)))
    lenient = read_list(path, strict=False)
    lines = 3 if name.endswith((".csv", ".tsv.gz")) else 2
    assert [(p.line, p.kind) for p in lenient.problems] == [(lines, ProblemKind.LINE_TOO_LONG)]
    assert lenient.distinct == 2 and lenient.rows == 3


def test_a_long_header_is_the_problem_reported(write):
    path = write("list.csv", "hash," + "x" * (MAX_LINE_BYTES * 2) + "\n")
    with pytest.raises(ListFormatError) as error:
        read_list(path, format="csv")
    assert [(p.line, p.kind) for p in error.value.problems] == [(1, ProblemKind.LINE_TOO_LONG)]


def test_long_and_undecodable_lines_are_both_reported_in_order(write, pdq_hashes):
    data = b"\n".join(
        [pdq_hashes[0].encode(), b"\xff" * (MAX_LINE_BYTES + 5), b"\xfe", pdq_hashes[1].encode()]
    )
    lenient = read_list(write("list.txt", data), strict=False)
    assert [(p.line, p.kind) for p in lenient.problems] == [
        (2, ProblemKind.LINE_TOO_LONG),
        (3, ProblemKind.BAD_ENCODING),
    ]
    assert lenient.distinct == 2 and lenient.rows == 4


@pytest.mark.parametrize(
    "text,expected",
    [
        ("1000", 1000),
        ("512M", 512 << 20),
        ("4G", 4 << 30),
        ("4GiB", 4 << 30),
        ("2kb", 2048),
        (7, 7),
    ],
)
def test_byte_sizes(text, expected):
    assert parse_byte_size(text) == expected


@pytest.mark.parametrize("text", ["0", "-1", "4X", "", "1.5G", True])
def test_bad_byte_sizes(text):
    with pytest.raises(ConfigError):
        parse_byte_size(text)

