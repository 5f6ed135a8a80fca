"""The report page, parsed: how each match was found in columns and words, counts that add up, a page that fits."""

from __future__ import annotations

import re

from photosieve import schemas
from photosieve.report.html import render_html
from photosieve.report.model import build_report
from tests.photosieve.report.samples import error, match, parse_html, write_run

EDITED = [
    match("up/plain.jpg", 0, orientation="original"),
    match("up/letterbox.png", 0, orientation="original", variant="borders 0.100,0.143,0.800,0.717",
          match_mode="robust", score=0.0),
    match("up/cropped.jpg", 12, variant="uncrop 0.125,0.125,0.750,0.750", match_mode="robust", score=12.0),
    match("up/part.jpg", 4, list_variant="window 0,0,0.75,0.75", match_mode="robust-windows", score=4.0),
    match("up/shot.png", 9, variant="region 0.2,0.1,0.5,0.6", match_mode="robust", score=9.0),
    match("up/mirror.jpg", 2, orientation="flipy"),
    match("up/benign-too.jpg", 1, status="suppressed", suppressed_by=["benign"]),
    match("up/benign.jpg", 1, lst="benign", status="suppress"),
    match("up/copy.jpg", 0, algorithm="md5"),
]


def _cells(page, name="matches") -> list[dict[str, str]]:
    """Each row of the matches tables as {header: text}."""
    return [dict(zip(t["headers"], row)) for t in page.tables_of(name) for row in t["rows"]]


def test_matches_table_shows_variant_listed_part_mode_and_status_in_words(tmp_path):
    page = parse_html(render_html(build_report(str(write_run(tmp_path / "run", EDITED)))))
    headers = page.table("matches")["headers"]
    for column in ("object", "how it matched", "variant", "listed part", "mode", "status", "distance"):
        assert column in headers, column
    rows = {r["object"]: r for r in _cells(page)}
    assert set(rows) == {m[schemas.URI] for m in EDITED}  # every row listed, whatever its status
    assert rows["up/plain.jpg"]["how it matched"] == "same picture"
    border = rows["up/letterbox.png"]
    assert border["how it matched"].startswith("border removed") and border["distance"] == "0 of 31"
    assert border["variant"] == "original, borders 0.100,0.143,0.800,0.717" and border["mode"] == "robust"
    assert rows["up/cropped.jpg"]["how it matched"].startswith("crop of the listed image")
    part = rows["up/part.jpg"]
    assert part["how it matched"].startswith("crop of the listed image") and part["listed part"].startswith("part: 75%")
    assert part["mode"] == "robust-windows"
    assert rows["up/shot.png"]["how it matched"] == "inside a screenshot (the inner 50% × 60%)"
    assert rows["up/mirror.jpg"]["how it matched"] == "mirrored copy" and rows["up/mirror.jpg"]["mode"] == "plain"
    assert rows["up/benign-too.jpg"]["status"] == "suppressed by benign"
    assert rows["up/benign.jpg"]["status"] == "benign (suppress list hit)"
    assert rows["up/copy.jpg"]["how it matched"] == "exact copy (same bytes)"
    # Grouped per list, the list with matches first; matches before suppressed and benign rows.
    groups = [text for tag, text in page.headings if tag == "h3"]
    assert groups == ["list known: 8 rows", "list benign: 1 rows"]
    assert [r["status"] for r in _cells(page)][-2:] == ["suppressed by benign", "benign (suppress list hit)"]


def test_the_page_fits_a_laptop_and_reads_on_a_phone(tmp_path):
    long = "up/" + "very-long-folder-name-" * 12 + "x.jpg"
    run = write_run(tmp_path / "run", [*EDITED, match(long, 3)], [error(long)])
    html = render_html(build_report(str(run)))
    page = parse_html(html)
    assert ("meta", {"name": "viewport", "content": "width=device-width, initial-scale=1"}) in page.tags
    css = re.sub(r"\s+", "", page.style)
    assert "max-width:1200px" in css  # inside a 1280 px window
    assert ".scroll{overflow-x:auto;max-width:100%}" in css  # a wide table scrolls in its box...
    # ...and every table is in such a box.
    opened = [t for t, a in page.tags if t == "table" or (t == "div" and a.get("class") == "scroll")]
    assert opened == ["div", "table"] * (len(opened) // 2) and opened
    assert "td.path" in css and "overflow-wrap:anywhere" in css  # long paths wrap
    assert "td.ids{min-width:7em;overflow-wrap:anywhere}" in css  # so do long entry ids
    assert re.search(r'<td data-label="entries" class="ids">', html)  # the entries cells are such cells
    assert "width:100%" in css and "height:auto" in css  # plots scale down
    phone = re.search(r"@media\(max-width:(\d+)px\)\{(.*)\}", css)
    assert phone and 390 < int(phone.group(1)) < 1280
    assert "table.cardsthead{display:none}" in phone.group(2)
    assert "content:attr(data-label)" in phone.group(2)
    for table in page.tables_of("cards"):  # on a phone each cell shows its column's name
        for labels in table["labels"]:
            assert labels == table["headers"], table["class"]


def test_counts_add_up_when_most_objects_are_error_rows(tmp_path):
    """10 objects read, 6 of them with error rows (one with two, one also hashed by md5), 1 carried error."""
    errors = [error(f"bad{i}.jpg") for i in range(6)]
    errors += [error("bad0.jpg", reason="frames_cut_off"), error("bad1.jpg", algorithms=("md5",)),
               error("old.jpg", carried_from="r0")]
    counts = {"files": {"listed": 10}, "objects": {"read": 10, "hashed": 10, "carried": 1},
              "units": {"pdq": {"hashed": 4, "failed": 6}, "md5": {"hashed": 9, "failed": 1}}}
    run = write_run(tmp_path / "run", [match("a.jpg", 1)], errors, counts=counts)
    page = parse_html(render_html(build_report(str(run))))
    rows = {r[0]: (int(r[1]), r[2]) for r in page.table("counts")["rows"]}
    assert rows["objects read"][0] == 10
    assert rows["hashed, no error"][0] == 4 and rows["with an error row"][0] == 6
    assert rows["hashed, no error"][0] + rows["with an error row"][0] == rows["objects read"][0]
    assert "5 of them still have some hashes" in rows["with an error row"][1]  # bad1 failed both
    assert rows["carried, unread"][0] == 1
    text = "".join(page.text)
    assert "10 / 10" not in text and "listed / hashed" not in text


def test_runs_are_labelled_by_id_and_date_and_captions_say_what_numbers_mean(tmp_path):
    first = write_run(tmp_path / "r1", [match("a.jpg", 1)], run_id="20261101T000000Z-aaaaaa",
                      started="2026-11-01T00:00:00+00:00")
    run = write_run(tmp_path / "r2", [match("a.jpg", 1), match("b.jpg", 29)], previous=first,
                    run_id="20261108T000000Z-bbbbbb", started="2026-11-08T09:30:00+00:00")
    html = render_html(build_report(str(run)))
    page = parse_html(html)
    assert ("h1", "photosieve audit report: run 20261108T000000Z-bbbbbb") in page.headings
    text = "".join(page.text)
    assert "Started 2026-11-08 09:30 UTC" in text
    overview = dict(page.table("overview")["rows"])
    assert overview["compared with"] == "20261101T000000Z-aaaaaa, started 2026-11-01 00:00 UTC"
    runs = page.table("runs")["rows"]
    assert runs == [["20261101T000000Z-aaaaaa", "2026-11-01 00:00 UTC", "1", "1"],
                    ["20261108T000000Z-bbbbbb", "2026-11-08 09:30 UTC", "2", "1"]]
    # The plot labels each bar with its date and the end of its id.
    assert re.findall(r'<text class="run-id"[^>]*>([^<]*)</text>', html) == ["Z-aaaaaa", "Z-bbbbbb"]
    assert "top fifth" not in text
    assert "1 of 2 are close to the threshold (above 24.8)" in text
    assert "is the most that still counts as a match" in text


def test_plots_of_a_second_opinion_mode_are_captioned_as_scores(tmp_path):
    rows = [match("a.jpg", 20, score=12.5, match_mode="robust-gradient"), match("b.jpg", 3, score=3.0)]
    report = build_report(str(write_run(tmp_path / "run", rows)))
    assert report.scored == {"pdq"} and sorted(report.distances["pdq"][0]) == [3.0, 12.5]
    assert "the match mode's score" in "".join(parse_html(render_html(report)).text)
