"""A batch of frames against every list in a matching mode: the ``matches`` rows, Beam-free.

What the mode's pipeline step (``transforms.mode_matching``'s ``MatchFrames``)
and ``photosieve match-files`` both do with a batch of frames, so a local
match and an audit cannot differ: each list's
:class:`~photosieve.robust.matcher.ModeMatcher` finds the best pair per
(frame, listed image); then, per frame, any match on a ``suppress`` list
makes the frame's matches on the other lists ``suppressed``
(:func:`photosieve.matches.match_status`, as in plain matching), and the rows
come in a stable order (list name, listed image).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence

from photosieve.lists import ListRole
from photosieve.matches import match_status
from photosieve.robust.matcher import FrameQuery, ModeList, ModeMatch, match_row

__all__ = ["frame_rows", "match_frames"]


def match_frames(
    lists: Sequence[ModeList],
    keys: Sequence[tuple[str, int | None]],
    frames: Sequence[FrameQuery],
    *,
    run_id: str,
    matched_at_us: int,
) -> Iterator[dict]:
    """The ``matches`` rows of ``frames`` (keyed ``(uri, frame)`` by ``keys``) on every list.

    ``lists`` in name order (their matchers built); lists without PDQ hashes
    (``matcher`` None) are skipped: plain matching covers them.
    """
    found: dict[int, list[tuple[ModeList, ModeMatch]]] = defaultdict(list)
    for listed in lists:
        if listed.matcher is None:
            continue
        for f, matches in enumerate(listed.matcher.match(frames)):
            found[f] += [(listed, m) for m in matches]
    for f, pairs in sorted(found.items()):
        yield from frame_rows(
            keys[f], pairs, run_id=run_id, matched_at_us=matched_at_us,
            timestamp=frames[f].timestamp,
        )  # fmt: skip


def frame_rows(
    key: tuple[str, int | None],
    pairs: Sequence[tuple[ModeList, ModeMatch]],
    *,
    run_id: str,
    matched_at_us: int,
    timestamp: float | None = None,
) -> Iterator[dict]:
    """One frame's match rows: suppression across its lists, ordered by list and listed image.

    ``timestamp``: the frame's time in a video (None for images), on every row.
    """
    uri, frame = key
    suppressors = sorted(
        {listed.name for listed, _ in pairs if listed.role == ListRole.SUPPRESS.value}
    )
    for listed, found in sorted(pairs, key=lambda p: (p[0].name, p[1].key)):
        status, suppressed_by = match_status(listed.role, suppressors)
        yield match_row(
            listed,
            found,
            uri=uri,
            frame=frame,
            status=status,
            suppressed_by=suppressed_by,
            run_id=run_id,
            matched_at_us=matched_at_us,
            timestamp=timestamp,
        )
