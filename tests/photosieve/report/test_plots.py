"""The report's plots (photosieve.report.plots): counts per bin, the threshold drawn, values as text."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from photosieve.report.plots import distance_histogram_svg, history_svg, svg_text

SVG = "{http://www.w3.org/2000/svg}"


def _bars(svg: str, cls: str) -> list[ET.Element]:
    return [e for e in ET.fromstring(svg).iter(f"{SVG}rect") if e.get("class") == cls]


def test_every_match_is_in_one_bar_and_the_threshold_is_drawn():
    svg = distance_histogram_svg("pdq", [0, 0, 3, 31], 31)
    bars = _bars(svg, "bar")
    counts = [int(re.search(r": (\d+)$", b.find(f"{SVG}title").text).group(1)) for b in bars]
    assert sum(counts) == 4 and counts[0] == 2 and len(bars) == 32  # one bin per bit up to 31
    line = next(e for e in ET.fromstring(svg).iter(f"{SVG}line") if e.get("class") == "threshold")
    assert float(line.get("x1")) > float(bars[-2].get("x"))  # at the right end, by the last bin
    assert "threshold 31" in svg and "4 matches by distance" in svg


def test_a_score_threshold_bins_in_twenty():
    assert len(_bars(distance_histogram_svg("pdq", [12.5, 80.25], 93.5), "bar")) == 20


def test_runs_are_drawn_oldest_first_with_their_new_matches():
    svg = history_svg([("r1-aaaaaaaa", "2026-11-17T00:00", 5, 5), ("r2-bbbbbbbb", "2026-11-24T00:00", 7, 2)])
    totals, new = _bars(svg, "run"), _bars(svg, "new")
    assert len(totals) == len(new) == 2
    assert float(totals[0].get("x")) < float(totals[1].get("x"))
    assert float(new[1].get("height")) < float(totals[1].get("height"))
    assert "2026-11-24" in svg and "bbbbbbbb" in svg


def test_values_from_the_run_are_text_not_markup():
    assert svg_text('<script>"x"</script>') == "&lt;script&gt;&quot;x&quot;&lt;/script&gt;"
    svg = history_svg([('<b onload="x">', "2026-11-17", 1, 0)])
    ET.fromstring(svg)  # still well-formed
    assert "<b onload" not in svg
