"""Formatters: untrusted text stays inert in Markdown; BibTeX is balanced; progress in CI is plain lines."""

import io

from crawler.checking.progress import Progress
from crawler.listfile.parse import parse_list
from crawler.models import LinkStatus
from crawler.report import bibtex, markdown
from crawler.report.model import LinkRow, Place, RunReport, Summary


def report_with(error: str, title: str) -> RunReport:
    summary = Summary(lists=("l.md",), failing=1, distinct_urls=1, counts={LinkStatus.WRONG_PAPER: 1})
    link = LinkRow(url="https://x.org/a", key="https://x.org/a", status=LinkStatus.WRONG_PAPER, http_status=200,
                   error=error, places=(Place("l.md", 3),), entries=(title,), new=True,
                   suggestion="https://x.org/b) [evil](https://evil.example")
    return RunReport(summary, links=(link,))


def test_remote_text_in_the_markdown_report_cannot_become_markup():
    evil = "</td><script>alert(1)</script> [click](https://evil.example) | broken | ![img](https://evil.example/x.png)"
    md = markdown.render(report_with(f"this is {evil!r}", "A [title](https://evil.example/t) <b>bold</b>"))
    parsed = parse_list(md)
    assert {lk.url for lk in parsed.links} <= set()  # not a single link made it through
    assert "<script>" not in md and "<b>" not in md
    table_rows = [ln for ln in md.splitlines() if ln.startswith("| 3 |")]
    assert len(table_rows) == 1 and table_rows[0].count(" | ") == 4  # the cell did not break the table


def test_bibtex_entries_are_balanced_and_keyed():
    records = [
        {"title": "Born Again Neural Networks", "matched_title": "Born Again Neural Networks", "year": 2018,
         "venue": "ICML", "authors": ["Tommaso Furlanello", "Zachary C. Lipton"], "arxiv_id": "1805.04770",
         "paper_url": "https://arxiv.org/abs/1805.04770"},
        {"title": "Born again {networks} 100% & more_", "matched_title": None, "year": 2018, "venue": "arXiv",
         "authors": ["Tommaso Furlanello"], "arxiv_id": "1805.00001", "paper_url": None},
        {"title": "Not found anywhere", "matched_title": None, "year": 2020, "venue": None, "authors": [],
         "arxiv_id": None, "paper_url": None},
    ]
    bib = bibtex.render(records)
    assert bib.count("@") == 2  # nothing is invented for the entry nobody found
    assert "@inproceedings{furlanello2018born," in bib and "@misc{furlanello2018borna," in bib
    assert r"\{networks\} 100\% \& more\_" in bib
    depth = 0
    for ch in bib.replace("\\{", "").replace("\\}", ""):
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0


def test_progress_prints_plain_lines_off_a_terminal_and_nothing_when_disabled():
    out = io.StringIO()
    p = Progress(enabled=True, stream=out)
    p.start("checking links", 3)
    for _ in range(3):
        p.advance()
    p.finish()
    assert out.getvalue().splitlines() == ["checking links: 0/3", "checking links: 3/3 done"]
    quiet = io.StringIO()
    q = Progress(enabled=False, stream=quiet)
    q.start("checking links", 3)
    q.advance()
    q.finish()
    assert quiet.getvalue() == ""


def test_a_sources_long_or_binary_reason_is_one_short_line_everywhere():
    """A source's failure may quote what it was sent: reports show one line of at most 200 characters."""
    from crawler.listfile.parse import parse_list
    from crawler.models import Availability, Enrichment, SourceState, Unresolved
    from crawler.report import html, json
    from crawler.report.model import build_report

    garbled = "RemoteProtocolError: illegal status line: bytearray(b'%PDF-1.5 \\x00\\x01" + "x" * 400 + "')"
    enrichment = Enrichment(
        sources=[SourceState("wayback", "", Availability.UNAVAILABLE, garbled)],
        unresolved=[Unresolved(line=1, entry="A paper", reason="waiting: " + "y" * 500, file="l.md")])
    parsed = parse_list("- [A paper title here]()\n").in_file("l.md")
    report = build_report("run", ("l.md",), parsed, {}, {}, {}, enrichment, 0.0)
    (state,) = report.summary.sources
    assert len(state.reason) <= 200 and "bytearray" not in state.reason and "%PDF" not in state.reason
    assert len(report.unresolved[0].reason) <= 200
    for text in (markdown.render(report), json.render(report), html.render(report, [])):
        assert "%PDF" not in text and "y" * 201 not in text
    assert all(len(line) < 400 for line in markdown.render(report).splitlines())


# -- health.md reads as text, and the sources that were down come after the tables ------------------------------
def test_markdown_escapes_only_what_markdown_would_read():
    plain = ["README.md:20", "papers/2020.md:4", "HTTP 404 (not found)", "wrong_paper", "arXiv 1503.02531",
             "Born-Again Networks: a study, 2018!", "x = a + b - c", "score 0.93 @ 1e-3", "a -> b", "#1 paper"]
    for text in plain:
        assert markdown.escape(text) == text, text
    assert markdown.escape("a *b* _c_ [d] `e` | f ~g~ <b> &amp; \\") == \
        "a \\*b\\* \\_c\\_ \\[d\\] \\`e\\` \\| f \\~g\\~ &lt;b> &amp;amp; \\\\"
    # What GitHub would turn into a link stays text: the scheme's colon, www's dot.
    cell = markdown.escape("see https://evil.example/x or www.evil.example")
    assert parse_list(f"| a |\n|---|\n| {cell} |\n").links == ()


def test_where_names_places_as_they_are_written():
    several = markdown.where((Place("README.md", 20), Place("papers/a_b.md", 3)), True)
    assert several == "README.md:20, papers/a_b.md:3"


def test_sources_that_were_down_are_one_short_section_after_the_tables():
    from crawler.models import Availability, SourceState

    down = (SourceState("arxiv", "", Availability.UNAVAILABLE, "NameNotResolved: export.arxiv.org"),
            SourceState("cvf", "ICCV 2019", Availability.UNAVAILABLE, "HTTP 503"),
            SourceState("github", "", Availability.OK))
    report = report_with("HTTP 404", "A paper")
    report = RunReport(Summary(**{**report.summary.__dict__, "sources": down}), links=report.links)
    md = markdown.render(report)
    lines = md.splitlines()
    start = lines.index("## Sources that could not answer (2)")
    assert start > max(i for i, line in enumerate(lines) if line.startswith("|"))  # after every table
    assert lines[start + 1:] == ["", "Nothing that depends on them was judged or filled this run.", "",
                                 "- arxiv: NameNotResolved: export.arxiv.org", "- cvf ICCV 2019: HTTP 503"]
    assert "was unavailable" not in md
