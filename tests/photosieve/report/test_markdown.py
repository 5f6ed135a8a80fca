"""report.md, rendered as a viewer would and parsed: matches listed per list, new ones under their own reason."""

from __future__ import annotations

from markdown_it import MarkdownIt

from photosieve.report.markdown import render_markdown
from photosieve.report.model import build_report
from tests.photosieve.report.samples import markdown_html, match, parse_html, write_run


def _list_items(markdown: str) -> list[tuple[str, list[str]]]:
    """Each top-level bullet of the "New since" section with the bullets nested under it."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    section, depth, out = False, 0, []
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            section = tokens[i + 1].content.startswith("New since")
        if not section:
            continue
        if token.type == "bullet_list_open":
            depth += 1
        elif token.type == "bullet_list_close":
            depth -= 1
        elif token.type == "inline" and tokens[i - 1].type == "paragraph_open":
            if depth == 1:
                out.append((token.content, []))
            elif depth == 2:
                out[-1][1].append(token.content)
    return out


def test_new_matches_are_grouped_under_their_own_reason(tmp_path):
    previous = write_run(tmp_path / "r1", [match("old.jpg", 1)], run_id="r1")
    run = write_run(tmp_path / "r2", [
        match("old.jpg", 1, new_reason=None),
        match("a-new-object.jpg", 2, new_reason="new object"),
        match("b-new-entry.jpg", 3, new_reason="new list entry"),
        match("c-new-object.jpg", 4, new_reason="new object"),
        match("d-threshold.jpg", 29, new_reason="threshold changed"),
    ], previous=previous, run_id="r2")
    groups = _list_items(render_markdown(build_report(str(run))))
    under = {item.split(":")[0].split()[0]: reason for reason, items in groups for item in items}
    assert under.keys() == {"a-new-object.jpg", "b-new-entry.jpg", "c-new-object.jpg", "d-threshold.jpg"}
    for uri, reason in [("a-new-object.jpg", "new object"), ("b-new-entry.jpg", "new list entry"),
                        ("c-new-object.jpg", "new object"), ("d-threshold.jpg", "threshold changed")]:
        assert reason in under[uri], uri
    assert [reason for reason, _ in groups] == ["1 new list entry", "2 new object", "1 threshold changed"]


def test_matches_are_listed_per_list_with_how_they_matched(tmp_path):
    run = write_run(tmp_path / "run", [
        match("up/letterbox.png", 0, variant="borders 0.1,0.1,0.8,0.8", match_mode="robust"),
        match("up/mirror.jpg", 2, orientation="flipy"),
        match("up/silenced.jpg", 1, status="suppressed", suppressed_by=["benign"]),
        match("up/benign.jpg", 1, lst="benign", status="suppress", label="logo"),
        match("up/other.jpg", 5, lst="extra"),
    ])
    page = parse_html(markdown_html(render_markdown(build_report(str(run)))))
    assert [text for tag, text in page.headings if tag == "h3"] == [
        "list extra: 1 rows", "list known: 3 rows", "list benign: 1 rows"]
    tables = [t for t in page.tables if "how it matched" in t["headers"]]
    assert len(tables) == 3
    for table in tables:
        for column in ("object", "how it matched", "variant", "listed part", "match mode", "status"):
            assert column in table["headers"]
    rows = {row[0]: dict(zip(t["headers"], row)) for t in tables for row in t["rows"]}
    assert rows["up/letterbox.png"]["how it matched"] == "border removed (the inner 80% × 80%)"
    assert rows["up/letterbox.png"]["variant"] == "borders 0.1,0.1,0.8,0.8"
    assert rows["up/letterbox.png"]["match mode"] == "robust"
    assert rows["up/mirror.jpg"]["how it matched"] == "mirrored copy"
    assert rows["up/silenced.jpg"]["status"] == "suppressed by benign"
    assert rows["up/benign.jpg"]["status"] == "benign (suppress list hit)"
    assert rows["up/other.jpg"]["distance"] == "5 of 31"


def test_counts_and_captions_in_words(tmp_path):
    counts = {"files": {"listed": 4, "archives": 1, "archive_objects": 3}, "objects": {"read": 6, "hashed": 6},
              "skipped": {"listing": {"not_a_file": 2}}, "units": {"pdq": {"hashed": 6}}}
    run = write_run(tmp_path / "run", [match("a.jpg", 1), match("b.jpg", 30)], counts=counts)
    markdown = render_markdown(build_report(str(run)))
    page = parse_html(markdown_html(markdown))
    table = next(t for t in page.tables if t["headers"][-1:] == ["what it counts"])
    rows = {r[0]: int(r[1]) for r in table["rows"]}
    assert rows == {"files listed": 4, "— archives opened": 1, "skipped": 2, "objects read": 6,
                    "— hashed, no error": 6, "— with an error row": 0}
    assert rows["— hashed, no error"] + rows["— with an error row"] == rows["objects read"]
    text = "".join(page.text)
    assert "top fifth" not in text
    assert "1 of 2 are close to the threshold (above 24.8)" in text
