"""reports/index.html: the seed list's page, hostile text kept as text, and the page in a real browser."""

import base64
import dataclasses
import hashlib
import json
import os
import re
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from crawler.config import Settings
from crawler.models import Availability, LinkStatus, SourceState
from crawler.report import export, html
from crawler.report.model import LinkRow, Place, RunReport, RunRow, Summary
from tests.fakes.sites import install
from tests.fakes.web import FakeWeb
from tests.support.browser.chromium import CHROMIUM, Chromium
from tests.support.runs import SEED, papers_of, run

REQUIRE_BROWSER = os.environ.get("CRAWLER_REQUIRE_BROWSER") == "1"  # set by .ci/run, which installs chromium
READY = "document.documentElement.dataset.ready === '1'"
VISIBLE = "document.querySelectorAll('#papers tbody tr[data-line]:not([hidden])')"


@pytest.fixture(scope="module")
def seed(tmp_path_factory):
    """The seed list run twice (a history of two runs), then re-reported from the cache alone."""
    tmp = tmp_path_factory.mktemp("seed")
    settings = Settings(db=tmp / "cache.db", reports=tmp / "reports", export=tmp / "papers.json", retries=1,
                        backoff_base=0.01, timeout=5.0, progress=False, arxiv_delay=0.0, arxiv_timeout=5.0,
                        max_age=0.0)
    web = FakeWeb().start()
    try:
        install(web)
        run(settings, web, SEED)
        outcome = run(settings, web, SEED)
        settings.export.write_text(export.render(papers_of(outcome)))
        asked = len(web.log)
        from_cache = run(settings, web, SEED, command="report")
        assert len(web.log) == asked  # `crawler report` asks the network nothing
    finally:
        web.stop()
    return {"run": outcome, "report": from_cache, "papers": papers_of(outcome),
            "export": json.loads(settings.export.read_text()), "dir": tmp}


def embedded(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="crawler-data">(.*?)</script>', page, re.S)
    return json.loads(m.group(1))


class Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags_of(page: str) -> list[tuple[str, dict]]:
    parser = Tags()
    parser.feed(page)
    return parser.tags


# -- the page's content ------------------------------------------------------------------------------
def test_one_row_per_seed_entry_with_links_fills_and_abstracts(seed):
    page = html.render(seed["run"].report, seed["papers"])
    rows = embedded(page)["rows"]
    assert [r["line"] for r in rows] == [4, 8, 11, 14, 15, 18, 19, 22, 23, 24, 25, 28, 29, 30]
    assert all(r["abstract"] for r in rows)
    by_line = {r["line"]: r for r in rows}
    (jacobian,) = by_line[19]["links"]
    assert jacobian == {**jacobian, "status": "filled", "filled": True, "url": "https://arxiv.org/abs/1803.00443",
                        "href": "https://arxiv.org/abs/1803.00443"}
    (gift,) = by_line[14]["links"]
    assert gift["status"] == "redirected" and gift["suggestion_href"].startswith("https://openaccess.thecvf.com/")
    assert {lk["status"] for lk in by_line[24]["links"]} == {"ok"}
    assert 'option value="filled">filled (4 entries)' in page
    assert 'option value="redirected">redirected (2 entries)' in page


def test_crawler_report_renders_the_same_page_from_the_cache_and_the_export(seed):
    live = embedded(html.render(seed["run"].report, seed["papers"]))["rows"]
    cached = embedded(html.render(seed["report"].report, seed["export"]))["rows"]
    assert cached == live
    assert len(seed["report"].report.runs) == 2  # the history chart, too
    assert html.render(seed["report"].report, seed["export"]).count('<g class="run">') == 2


def test_the_report_verdict_wins_over_the_export(seed):
    stale = json.loads(json.dumps(seed["export"]))
    report = seed["run"].report
    links = tuple(dataclasses.replace(lo, status=LinkStatus.BROKEN, http_status=404, error="HTTP 404", dead=True)
                  if lo.url == "https://arxiv.org/abs/1805.04770" else lo for lo in report.links)
    rows = {r["line"]: r for r in html.rows(dataclasses.replace(report, links=links), stale)}
    assert rows[18]["links"][0]["status"] == "broken" and rows[18]["worst"] == "dead"
    assert "attention" in rows[18]["tags"] and "dead" in rows[18]["tags"]


HOSTILE = "</script><script>window.pwned=1</script><!-- <img src=x onerror=window.pwned=2>"


def hostile_page() -> tuple[str, RunReport]:
    summary = Summary(lists=("<b>list</b>.md",), generated_at=1.0, version="<i>", distinct_urls=3, failing=3,
                      abstracts=1, counts={LinkStatus.BROKEN: 3},
                      sources=(SourceState("<s>arxiv</s>", "<i>2019</i>", Availability.UNAVAILABLE,
                                           "<script>x</script>"),))
    report = RunReport(summary, links=(
        LinkRow(url="javascript:window.pwned=3", key="javascript:window.pwned=3", status=LinkStatus.INVALID,
                error=HOSTILE, places=(Place("<b>list</b>.md", 3),), entries=(HOSTILE,), new=True,
                suggestion="javascript:alert(1)"),
        LinkRow(url="https://example.org/a\"onmouseover=\"x", key="https://example.org/a\"onmouseover=\"x",
                status=LinkStatus.BROKEN, http_status=404, error=HOSTILE, places=(Place("<b>list</b>.md", 3),),
                entries=(HOSTILE,), dead=True),
        LinkRow(url="https://example.org/b\"onmouseover=\"x", key="https://example.org/b\"onmouseover=\"x",
                status=LinkStatus.BROKEN, http_status=404, error=HOSTILE, places=(Place("<b>list</b>.md", 7),),
                new=True, suggestion="https://example.org/c'onclick='x"),
        LinkRow(url="data:text/html,<script>x</script>", key="data:text/html,<script>x</script>",
                status=LinkStatus.BROKEN, error="x", places=(Place("<b>list</b>.md", 9),),
                suggestion="data:text/html,<b>"),
    ), runs=(RunRow(id=1, started_at=1.0, command="<script>", total=3, ok=0, failing=3, new=0, dead=1, fixed=0,
                    filled=0),))
    papers = [{"line": 3, "section": HOSTILE, "title": HOSTILE, "venue": "<u>", "year": 2020,
               "authors": [HOSTILE], "abstract": HOSTILE, "abstract_source": "<x>", "arxiv_id": "<y>",
               "links": [{"label": HOSTILE, "url": "javascript:window.pwned=3", "status": "invalid"},
                         {"label": "[x]", "url": "https://example.org/a\"onmouseover=\"x", "status": "broken"}]}]
    return html.render(report, papers), report


def test_remote_text_cannot_become_markup():
    page, _ = hostile_page()
    tags = tags_of(page)
    assert [t for t, _ in tags].count("script") == 2  # the data block and the page's own script
    assert not [t for t, _ in tags if t in ("img", "b", "i", "u", "s", "x", "y")]
    assert not [a for _, attrs in tags for a in attrs if a.startswith("on")]
    hrefs = [attrs["href"] for t, attrs in tags if t == "a"]
    assert len(hrefs) == 2 and all(h.startswith("https://") for h in hrefs)  # no javascript: or data: link
    # Links outside the entries are rendered on the server: attribute-escaped, or text when not http(s).
    assert 'href="https://example.org/b&quot;onmouseover=&quot;x"' in page
    assert 'href="https://example.org/c&#x27;onclick=&#x27;x"' in page
    assert "<code>data:text/html,&lt;script&gt;x&lt;/script&gt;</code>" in page
    # The data survives the trip exactly, however hostile.
    (row,) = embedded(page)["rows"]
    assert row["title"] == row["abstract"] == row["section"] == HOSTILE
    assert [lk["href"] for lk in row["links"]] == [None, "https://example.org/a\"onmouseover=\"x"]


def test_the_content_security_policy_allows_only_the_page_itself():
    page, _ = hostile_page()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1)
    assert csp.startswith("default-src 'none';")

    def digest(text):
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"

    script = re.search(r"<script>(.*?)</script>", page, re.S).group(1)
    style = re.search(r"<style>(.*?)</style>", page, re.S).group(1)
    assert f"script-src {digest(script)};" in csp and f"style-src {digest(style)};" in csp


def test_the_page_loads_nothing_from_elsewhere(seed):
    page = html.render(seed["run"].report, seed["papers"])
    tags = tags_of(page)
    assert not [t for t, a in tags if "src" in a or t in ("link", "iframe", "object", "embed", "img")]
    assert "@import" not in page and "url(http" not in page


def test_the_sort_glyph_is_a_character_not_an_escape():
    # In the CSS file one backslash starts the escape; `\\25B2` would show the text `\25B2` itself.
    assert 'content:" \\25B2"' in html.STYLE and 'content:" \\25BC"' in html.STYLE
    assert "\\\\25B" not in html.STYLE


def test_the_filter_counts_entries_and_says_so(seed):
    page = html.render(seed["run"].report, seed["papers"])
    options = re.findall(r"<option [^>]*>([^<]*)</option>", page)
    assert options[0] == "all (14 entries)"
    assert all(re.search(r"\(\d+ entr(y|ies)\)$", o) for o in options), options


def test_the_not_judged_by_reason_and_the_sources_down_are_on_the_page():
    from crawler.report.model import NotJudged

    summary = Summary(lists=("l.md",), distinct_urls=240, healthy=4, not_judged=236, counts={},
                      not_judged_by=(NotJudged("arxiv", "unavailable this run", 233),
                                     NotJudged("ieeexplore.ieee.org", "walls robots (HTTP 403)", 3)),
                      sources=(SourceState("arxiv", "", Availability.UNAVAILABLE, "NameNotResolved: x"),))
    page = html.render(RunReport(summary, links=()), [])
    assert "<h2>Not judged: 236 links</h2>" in page
    assert "<li>arxiv: unavailable this run (233 links)</li>" in page
    assert "<li>ieeexplore.ieee.org: walls robots (HTTP 403) (3 links)</li>" in page
    assert "no link failing, 236 not judged" in page  # not "all links healthy"
    down = page.index("Sources that could not answer (1)")
    assert down > page.index('<table id="papers">') and "was unavailable" not in page
    assert "<li><strong>arxiv</strong>: NameNotResolved: x</li>" in page


def run_row(**kw) -> RunRow:
    return RunRow(**{"id": 1, "command": "run", "new": 0, "fixed": 0, "filled": 0, **kw})


def test_the_history_chart_with_no_one_or_many_runs():
    assert "No run history yet" in html.chart([])
    one = html.chart([run_row(started_at=1.7e9, total=10, ok=8, failing=2, dead=1)])
    assert one.count('<g class="run">') == 1
    assert re.findall(r'data-part="(\w+)"', one) == ["ok", "failing", "dead"]
    runs = [run_row(started_at=1.7e9 + i * 86400, total=10, ok=10 - i, failing=i, dead=0) for i in range(90)]
    many = html.chart(runs)
    assert many.count('<g class="run">') == html.CHART_RUNS  # the last ones
    heights = [float(h) for h in re.findall(r'height="([\d.]+)" fill="#2da44e"', many)]
    assert heights == sorted(heights, reverse=True)  # fewer healthy links, shorter green bars


def test_an_empty_export_says_what_to_do(seed):
    page = html.render(seed["report"].report, [])
    assert embedded(page)["rows"] == [] and "crawler run" in embedded(page)["empty_note"]


# -- the page in a browser ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser():
    if not Chromium.available():
        if REQUIRE_BROWSER:
            pytest.fail("chromium is not installed, and CRAWLER_REQUIRE_BROWSER=1")
        pytest.skip(f"chromium is not installed ({CHROMIUM}; .ci/run installs it)")
    with Chromium() as b:
        yield b


def load(browser, path: Path, fragment: str = ""):
    page = browser.new_page()
    page.goto(path.as_uri() + fragment, READY)
    return page


def test_the_page_in_a_browser(browser, seed, tmp_path, capsys):
    path = tmp_path / "index.html"
    path.write_text(html.render(seed["report"].report, seed["export"]), encoding="utf-8")
    page = load(browser, path)
    assert page.eval(f"{VISIBLE}.length") == 14
    assert page.eval("document.getElementById('count').textContent") == "14 of 14 entries"
    assert page.eval("document.querySelectorAll('#history g.run').length") == 2
    shot = page.screenshot(tmp_path / "index.png")
    assert shot.stat().st_size > 10_000
    if os.environ.get("CRAWLER_SCREENSHOT_DIR"):
        shutil.copy(shot, Path(os.environ["CRAWLER_SCREENSHOT_DIR"]) / "index.png")
    with capsys.disabled():
        print(f"\nscreenshot of reports/index.html: {shot}")

    page.type_into("#q", "Jacobian")
    titles = page.eval(f"Array.from({VISIBLE}, tr => tr.cells[2].firstChild.textContent)")
    assert titles == ["Knowledge Transfer with Jacobian Matching"]
    assert page.eval("location.hash") == "#q=Jacobian"  # the filter is a link to share

    page.click("th[data-key=year] button")
    page.click("th[data-key=year] button")
    page.type_into("#q", "distill")
    years = page.eval(f"Array.from({VISIBLE}, tr => +tr.cells[4].textContent)")
    assert len(years) > 5 and years == sorted(years, reverse=True)
    assert page.eval("document.querySelector('th[data-key=year]').getAttribute('aria-sort')") == "descending"
    glyph = "getComputedStyle(document.querySelector('th[data-key=year] button'), '::after').content"
    assert page.eval(glyph) == '" \u25bc"'  # the character, not the text of its escape

    page.select("#status", "redirected")
    assert page.eval(f"{VISIBLE}.length") == 2  # both the text and the status filter apply

    assert page.problems() == []
    assert page.requests() == [path.as_uri()]  # nothing from the network: it works offline


def test_a_filter_in_the_address_opens_filtered(browser, seed, tmp_path):
    path = tmp_path / "index.html"
    path.write_text(html.render(seed["run"].report, seed["papers"]), encoding="utf-8")
    page = load(browser, path, "#q=Jacobian")
    assert page.eval(f"{VISIBLE}.length") == 1
    page = load(browser, path, "#status=filled")
    assert page.eval(f"Array.from({VISIBLE}, tr => +tr.dataset.line)") == [15, 19, 23, 30]
    assert page.eval("document.getElementById('status').value") == "filled"
    assert page.problems() == []


def test_hostile_text_stays_text_in_the_browser(browser, tmp_path):
    path = tmp_path / "index.html"
    path.write_text(hostile_page()[0], encoding="utf-8")
    page = load(browser, path)
    assert page.eval("window.pwned === undefined")
    assert page.eval("document.querySelectorAll('img, b, i, u, s').length") == 0
    assert page.eval(f"{VISIBLE}[0].cells[2].firstChild.textContent") == HOSTILE
    hrefs = page.eval("Array.from(document.querySelectorAll('a'), a => a.href)")
    assert hrefs and all(h.startswith("https://example.org/") for h in hrefs)
    assert page.problems() == []


def test_an_empty_page_in_the_browser(browser, seed, tmp_path):
    report = seed["report"].report.with_runs(())
    path = tmp_path / "index.html"
    path.write_text(html.render(report, []), encoding="utf-8")
    page = load(browser, path)
    assert page.eval(f"{VISIBLE}.length") == 0
    assert "crawler run" in page.eval("document.querySelector('#papers tbody').textContent")
    assert page.problems() == []


def test_the_browser_check_sees_errors_and_fetches(browser, tmp_path):
    """The checks above would fail on a broken page: errors, refused scripts and fetches are all seen."""
    path = tmp_path / "broken.html"
    path.write_text("<!doctype html><meta http-equiv='Content-Security-Policy' content=\"default-src 'none'\">"
                    "<script>window.x = 1</script><img src='http://127.0.0.1:9/x.png'>"
                    "<script>console.error('boom')</script>", encoding="utf-8")
    page = browser.new_page()
    page.goto(path.as_uri())
    browser.pump(0.3)
    problems = " | ".join(page.problems())
    assert "Executing inline script violates the following Content Security Policy" in problems
    assert "Loading the image 'http://127.0.0.1:9/x.png' violates" in problems
    assert "http://127.0.0.1:9/x.png" in page.requests()
    loose = tmp_path / "loose.html"
    loose.write_text("<script>console.error('boom'); undefinedFunction()</script>", encoding="utf-8")
    page = browser.new_page()
    page.goto(loose.as_uri())
    browser.pump(0.3)
    problems = " | ".join(page.problems())
    assert "console.error: boom" in problems and "undefinedFunction is not defined" in problems
