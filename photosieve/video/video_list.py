"""Lists of known videos as vPDQ hashes: reading them, strictly, from the formats in use.

A video list holds, per known video, an id, labels and its vPDQ features
(one PDQ hash, quality and timestamp per sampled frame). Three formats are
read, told apart by their content (:func:`sniff`):

* ``vpdq``: Meta's C++ hash file (``frame_number,quality,hash,timestamp``
  per line, see :mod:`photosieve.video.vpdq`), **one video per file**; the
  video's id is the file name without its extension. A list is then a set
  of such files, given as a glob (``known/*.txt``).
* ``threatexchange``: python-threatexchange's dataset CSV (``signal_type,
  signal_str,collab,category,tags``); rows whose ``signal_type`` is
  ``vpdq`` are videos (``signal_str`` is the VPDQ signal, a JSON list of
  ``"hash,quality,timestamp"``), their ``tags`` the labels, their id
  ``line N``. Rows of other types (``pdq``, ``video_md5``...) belong in an
  image list (``--list``) and are counted, not read, here.
* ``jsonl``: one JSON object per line, ``{"id": ..., "labels": [...],
  "vpdq": ...}``, ``vpdq`` a signal string or a list of its items.

Lists come from other organisations: every line is checked (hash length
and hex, quality 0..100, finite timestamps), the bytes go through
:func:`photosieve.lists.source.read_source` (size limits, gzip, no FIFOs),
and any problem fails the read with a :class:`~photosieve.errors.ListFormatError`
naming file and line, unless ``strict=False`` (the bad video is skipped and
counted). A video with no feature at all is a problem too: it could never
match.

>>> import io, json
>>> signal = json.dumps([f"{'0f' * 32},90,0.0", f"{'f0' * 32},80,1.0"])
>>> data = ('{"id": "v1", "labels": ["case-7"], "vpdq": %s}\\n' % json.dumps(signal)).encode()
>>> listed = read_video_list(VideoListSpec("known.jsonl"), open_fn=lambda p, m: io.BytesIO(data))
>>> listed.name, listed.ids, listed.labels, [len(f) for f in listed.features]
('known', ('v1',), (('case-7',),), [2])
"""

from __future__ import annotations

import csv
import glob
import hashlib
import io
import json
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from photosieve.errors import ConfigError, ListFormatError
from photosieve.lists.hash_list import ListProblem, ProblemKind
from photosieve.lists.read import default_name
from photosieve.lists.source import OpenFn, read_source
from photosieve.video.vpdq import (
    VPDQ_DISTANCE_THRESHOLD,
    VpdqFeature,
    VpdqFormatError,
    from_signal,
    parse_hash_file,
)

__all__ = [
    "FORMATS",
    "VideoList",
    "VideoListSpec",
    "expand_paths",
    "read_video_list",
    "sniff",
]

FORMATS = ("vpdq", "threatexchange", "jsonl")
# python-threatexchange's signal type name for vPDQ.
_TE_SIGNAL_TYPE = "vpdq"
_TE_HEADER = ("signal_type", "signal_str", "collab", "category", "tags")
# A glob matching more files than this is a mistake (a whole bucket), not a list.
MAX_FILES = 1_000_000
# A signal line of a 4-hour video at one frame a second is ~1 MB; CSV fields are capped here.
MAX_FIELD_BYTES = 64 << 20
_GLOB_CHARS = "*?["

# path -> the concrete files it names (a glob expanded; a plain path as it is).
ExpandFn = Callable[[str], Sequence[str]]


@dataclass(frozen=True)
class VideoListSpec:
    """One video list of a run.

    Attributes:
        path: a list file, or a glob of vPDQ hash files (one per video); any
            filesystem the run's ``open_fn`` reads.
        name: unique among the run's lists; default: the file (or the glob's
            folder) name without extensions.
        distance: vPDQ's per-frame Hamming tolerance (a listed frame counts as
            matched within it, inclusive, as python-threatexchange counts).
        max_bytes: the most content one file may hold; None: the lists' default.
    """

    path: str
    name: str = ""
    distance: int = VPDQ_DISTANCE_THRESHOLD
    max_bytes: int | None = None

    def __post_init__(self) -> None:
        if not self.path:
            raise ConfigError("a video list needs a path")
        if not self.name:
            object.__setattr__(self, "name", _default_name(self.path))
        if isinstance(self.distance, bool) or not isinstance(self.distance, int) or not 0 <= self.distance <= 256:
            raise ConfigError(f"video list {self.name}: the vPDQ distance must be an integer 0..256, got "
                              f"{self.distance!r}")

    @classmethod
    def parse(cls, text: str) -> VideoListSpec:
        """``[NAME=]PATH``, as the ``--video-list`` flag takes it."""
        name, sep, path = text.partition("=")
        if sep and name and not any(c in name for c in "/\\:*?"):
            return cls(path, name)
        return cls(text)


def _default_name(path: str) -> str:
    if any(c in path for c in _GLOB_CHARS):
        folder = PurePosixPath(path.replace("\\", "/")).parent
        return folder.name or "videos"
    return default_name(path)


@dataclass(frozen=True)
class VideoList:
    """A video list as read: parallel tuples, one item per listed video. Picklable.

    Attributes:
        name: the spec's name.
        version: sha256 over the files' contents (and names, for globs).
        distance: the spec's per-frame tolerance.
        ids, labels, features: per video.
        sources: the files read.
        problems: what was skipped (``strict=False`` only); first few kept.
        skipped: how many videos were skipped for problems.
        other_signals: rows of a ThreatExchange CSV of other signal types (not read here).
    """

    name: str
    version: str
    distance: int
    ids: tuple[str, ...]
    labels: tuple[tuple[str, ...], ...]
    features: tuple[tuple[VpdqFeature, ...], ...]
    sources: tuple[str, ...] = ()
    problems: tuple[ListProblem, ...] = ()
    skipped: int = 0
    other_signals: int = 0
    format: str = field(default="")

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def frames(self) -> int:
        """Features in all (before de-duplication and the quality filter)."""
        return sum(len(f) for f in self.features)

    def summary(self) -> dict:
        """What summary.json says of the list."""
        return {
            "name": self.name,
            "kind": "video",
            "format": self.format,
            "version": self.version,
            "videos": len(self),
            "frames": self.frames,
            "thresholds": {"vpdq": float(self.distance)},
            "files": len(self.sources),
            "skipped_videos": self.skipped,
            "other_signals": self.other_signals,
        }


def expand_paths(path: str, expand_fn: ExpandFn | None = None) -> list[str]:
    """The files ``path`` names, sorted: a glob expanded (locally, or with ``expand_fn``)."""
    if not any(c in path for c in _GLOB_CHARS):
        return [path]
    if expand_fn is not None:
        found = sorted(expand_fn(path))
    else:
        found = sorted(p for p in glob.glob(path, recursive=True) if not os.path.isdir(p))
    if not found:
        raise ConfigError(f"video list {path}: the pattern matches no file")
    if len(found) > MAX_FILES:
        raise ConfigError(f"video list {path}: the pattern matches {len(found):,} files, over {MAX_FILES:,}")
    return found


def sniff(text: str, path: str = "") -> str:
    """The format of one file's text: ``vpdq``, ``threatexchange`` or ``jsonl`` (ListFormatError if none)."""
    first = next((line.strip() for line in text.splitlines() if line.strip()), "")
    if first.startswith("{"):
        return "jsonl"
    header = [c.strip().lower() for c in first.split(",")]
    if sorted(header) == sorted(_TE_HEADER):
        return "threatexchange"
    if len(header) == 4 and len(header[2]) == 64:
        return "vpdq"
    raise ListFormatError([ListProblem.make(
        path, 1, ProblemKind.UNREADABLE,
        "not a video list: expected vPDQ hash file lines (frame,quality,hash,timestamp), a "
        "ThreatExchange CSV header (signal_type,signal_str,...) or JSON Lines", first)])


class _Collector:
    """Videos read so far, and the problems (a strict read raises them at the end)."""

    def __init__(self) -> None:
        self.ids: list[str] = []
        self.labels: list[tuple[str, ...]] = []
        self.features: list[tuple[VpdqFeature, ...]] = []
        self.problems: list[ListProblem] = []
        self.skipped = 0
        self.other = 0

    def add(self, video_id: str, labels: Iterable[str], features: Sequence[VpdqFeature],
            path: str, line: int | None) -> None:
        if not features:
            self.problem(path, line, ProblemKind.MISSING_FIELD, "a video with no vPDQ feature", video_id)
            return
        self.ids.append(video_id)
        self.labels.append(tuple(sorted({str(label) for label in labels if str(label)})))
        self.features.append(tuple(features))

    def problem(self, path: str, line: int | None, kind: ProblemKind, reason: str, text: object = "") -> None:
        self.skipped += 1
        self.problems.append(ListProblem.make(path, line, kind, reason, text))


def read_video_list(
    spec: VideoListSpec,
    *,
    strict: bool = True,
    open_fn: OpenFn | None = None,
    expand_fn: ExpandFn | None = None,
) -> VideoList:
    """Read every file of ``spec`` into one :class:`VideoList`.

    Raises:
        ConfigError: a file cannot be read, or a glob matches nothing.
        ListFormatError: a file is no video list; with ``strict``, any bad
            line or video (all collected first, the first named).
    """
    paths = expand_paths(spec.path, expand_fn)
    versions = hashlib.sha256()
    collector = _Collector()
    formats = set()
    for path in paths:
        source = read_source(path, open_fn, max_bytes=spec.max_bytes)
        versions.update(f"{path if len(paths) > 1 else ''}\0{source.version}\n".encode())
        try:
            text = source.data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ListFormatError([ListProblem.make(path, None, ProblemKind.BAD_ENCODING, f"not UTF-8: {exc}")]) \
                from exc
        kind = sniff(text, path)
        if len(paths) > 1 and kind != "vpdq":
            raise ListFormatError([ListProblem.make(
                path, None, ProblemKind.UNREADABLE,
                f"a glob of video files must name vPDQ hash files (one video each); this is {kind}")])
        formats.add(kind)
        _READERS[kind](text, path, collector)
    if collector.problems and strict:
        raise ListFormatError(collector.problems)
    return VideoList(
        name=spec.name,
        version=versions.hexdigest() if len(paths) > 1 else source.version,
        distance=spec.distance,
        ids=tuple(collector.ids),
        labels=tuple(collector.labels),
        features=tuple(collector.features),
        sources=tuple(paths),
        problems=tuple(collector.problems[:20]),
        skipped=collector.skipped,
        other_signals=collector.other,
        format=",".join(sorted(formats)),
    )


def _read_cpp(text: str, path: str, out: _Collector) -> None:
    try:
        features = parse_hash_file(text)
    except VpdqFormatError as exc:
        out.problem(path, exc.line, _kind(exc), str(exc), exc.text)
        return
    out.add(PurePosixPath(path.replace("\\", "/")).stem, (), features, path, None)


def _read_threatexchange(text: str, path: str, out: _Collector) -> None:
    csv.field_size_limit(MAX_FIELD_BYTES)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [c.strip().lower() for c in next(reader)]
    except (StopIteration, csv.Error) as exc:
        raise ListFormatError([ListProblem.make(path, 1, ProblemKind.UNREADABLE, f"no CSV header ({exc})")]) from exc
    col = {name: header.index(name) for name in _TE_HEADER}
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            out.problem(path, reader.line_num, ProblemKind.BAD_QUOTING, f"bad CSV: {exc}")
            continue
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            out.problem(path, line, ProblemKind.MISSING_FIELD if len(row) < len(header) else ProblemKind.EXTRA_FIELDS,
                        f"expected {len(header)} fields, found {len(row)}", ",".join(row)[:200])
            continue
        if row[col["signal_type"]].strip().lower() != _TE_SIGNAL_TYPE:
            out.other += 1
            continue
        try:
            features = from_signal(row[col["signal_str"]])
        except VpdqFormatError as exc:
            out.problem(path, line, _kind(exc), f"signal_str: {exc}", exc.text)
            continue
        out.add(f"line {line}", row[col["tags"]].split(), features, path, line)


def _read_jsonl(text: str, path: str, out: _Collector) -> None:
    for line, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            out.problem(path, line, ProblemKind.BAD_JSON, f"not JSON: {exc}", raw[:200])
            continue
        if not isinstance(obj, dict):
            out.problem(path, line, ProblemKind.BAD_JSON, "expected a JSON object", raw[:200])
            continue
        video_id, signal = obj.get("id"), obj.get("vpdq")
        if not isinstance(video_id, (str, int)) or isinstance(video_id, bool) or str(video_id) == "":
            out.problem(path, line, ProblemKind.MISSING_FIELD, "no id (a string or an integer)", raw[:200])
            continue
        labels = obj.get("labels", obj.get("label", []))
        labels = [labels] if isinstance(labels, str) else labels
        if not isinstance(labels, list) or not all(isinstance(x, (str, int)) for x in labels):
            out.problem(path, line, ProblemKind.BAD_JSON, "labels must be a string or a list of strings", raw[:200])
            continue
        if isinstance(signal, list):
            signal = json.dumps(signal)
        if not isinstance(signal, str):
            out.problem(path, line, ProblemKind.MISSING_FIELD, "no vpdq signal (a string or a list)", raw[:200])
            continue
        try:
            features = from_signal(signal)
        except VpdqFormatError as exc:
            out.problem(path, line, _kind(exc), f"vpdq: {exc}", exc.text)
            continue
        out.add(str(video_id), (str(x) for x in labels), features, path, line)


def _kind(exc: VpdqFormatError) -> ProblemKind:
    message = str(exc)
    if "hex" in message and "digits" not in message:
        return ProblemKind.NOT_HEX
    if "digits" in message:
        return ProblemKind.WRONG_LENGTH
    if "quality" in message:
        return ProblemKind.BAD_QUALITY
    if "JSON" in message:
        return ProblemKind.BAD_JSON
    return ProblemKind.MISSING_FIELD


_READERS = {"vpdq": _read_cpp, "threatexchange": _read_threatexchange, "jsonl": _read_jsonl}
