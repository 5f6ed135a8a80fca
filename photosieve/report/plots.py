"""The report's two plots as inline SVG: match distances against the threshold, matches per run.

Inline so the page loads nothing; every value read from the run is text
(:func:`svg_text`). The SVGs keep a fixed ``viewBox`` and the page's CSS
scales them to its width, so they read on a phone as on a laptop.
"""

from __future__ import annotations

import html
from typing import Any

from photosieve.text import printable

__all__ = ["distance_histogram_svg", "history_svg", "svg_text"]

_W, _H, _PAD = 520, 200, 36


def svg_text(value: Any) -> str:
    """A value read from the run as HTML/SVG text (attribute-safe: quotes escaped too)."""
    return html.escape(printable(value))


def _svg(body: list[str], title: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{_W}" height="{_H}" viewBox="0 0 {_W} {_H}" '
        f'role="img" aria-label="{svg_text(title)}"><title>{svg_text(title)}</title>'
        + "".join(body) + "</svg>"
    )


def distance_histogram_svg(algorithm: str, distances: list[float], threshold: float) -> str:
    """Bars of match counts per distance bin, with the threshold as a red line."""
    top = max(threshold, max(distances, default=0.0)) or 1.0
    bins = int(min(top, 40)) + 1 if float(top).is_integer() else 20
    width = top / (bins - 1) if bins > 1 else 1.0
    counts = [0] * bins
    for d in distances:
        counts[min(bins - 1, int(round(d / width)))] += 1
    peak = max(counts) or 1
    plot_w, plot_h = _W - 2 * _PAD, _H - 2 * _PAD
    bar_w = plot_w / bins
    body = [f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#333"/>']
    for i, n in enumerate(counts):
        h = plot_h * n / peak
        body.append(
            f'<rect class="bar" x="{_PAD + i * bar_w + 1:.1f}" y="{_H - _PAD - h:.1f}" width="{max(bar_w - 2, 1):.1f}" '
            f'height="{h:.1f}" fill="#4a7ab5"><title>distance {i * width:g}: {n}</title></rect>'
        )
    x = _PAD + (threshold / width + 0.5) * bar_w if width else _PAD
    body.append(f'<line class="threshold" x1="{x:.1f}" y1="{_PAD - 8}" x2="{x:.1f}" y2="{_H - _PAD}" stroke="#c0392b" stroke-width="2" stroke-dasharray="4 3"/>')
    anchor, dx = ("end", -4) if x > _W / 2 else ("start", 4)
    body.append(f'<text x="{x + dx:.1f}" y="{_PAD}" font-size="11" fill="#c0392b" text-anchor="{anchor}">threshold {threshold:g}</text>')
    body.append(f'<text x="{_PAD}" y="{_H - 18}" font-size="11">0</text>')
    body.append(f'<text x="{_W - _PAD}" y="{_H - 18}" font-size="11" text-anchor="end">{top:g}</text>')
    body.append(f'<text x="{_W / 2:.0f}" y="{_H - 4}" font-size="11" text-anchor="middle">distance to the listed hash (bars: matches; red line: the list threshold)</text>')
    body.append(f'<text x="{_PAD}" y="16" font-size="12" font-weight="bold">{svg_text(algorithm)}: {len(distances)} matches by distance</text>')
    return _svg(body, f"{algorithm} match distances against threshold {threshold:g}")


def history_svg(history: list[tuple[str, str, int, int]]) -> str:
    """Matches per run (grey) with the new ones (orange), oldest run first."""
    peak = max((h[2] for h in history), default=0) or 1
    plot_w, plot_h = _W - 2 * _PAD, _H - 2 * _PAD
    step = plot_w / max(len(history), 1)
    body = [f'<line x1="{_PAD}" y1="{_H - _PAD}" x2="{_W - _PAD}" y2="{_H - _PAD}" stroke="#333"/>']
    for i, (run_id, started, total, new) in enumerate(history):
        x = _PAD + i * step + step * 0.15
        w = step * 0.7
        h_total, h_new = plot_h * total / peak, plot_h * new / peak
        body.append(f'<rect class="run" x="{x:.1f}" y="{_H - _PAD - h_total:.1f}" width="{w:.1f}" height="{h_total:.1f}" fill="#b8c4d0"><title>run {svg_text(run_id)}, {svg_text(started[:16])}: {total} matches</title></rect>')
        body.append(f'<rect class="new" x="{x:.1f}" y="{_H - _PAD - h_new:.1f}" width="{w:.1f}" height="{h_new:.1f}" fill="#e67e22"><title>{svg_text(run_id)}: {new} new</title></rect>')
        # Each run by its date and the end of its id (the full id in the bar's title and the runs table).
        body.append(f'<text x="{x + w / 2:.1f}" y="{_H - _PAD + 13}" font-size="10" text-anchor="middle">{svg_text(started[:10])}</text>')
        body.append(f'<text class="run-id" x="{x + w / 2:.1f}" y="{_H - _PAD + 25}" font-size="9" fill="#555" text-anchor="middle">{svg_text(run_id[-8:])}</text>')
        body.append(f'<text x="{x + w / 2:.1f}" y="{_H - _PAD - h_total - 3:.1f}" font-size="10" text-anchor="middle">{total}</text>')
    body.append(f'<text x="{_PAD}" y="16" font-size="12" font-weight="bold">matches per run, oldest first (orange: new in that run)</text>')
    return _svg(body, "matches over runs")
