"""One run, every output: the same counts everywhere, and `links = healthy + failing + not judged + skipped`.

The seed list is run against loopback fakes of arXiv, CVF and GitHub, once with every source answering and
once with the arXiv API down (and a few more links, so that every class has members). Then every output the
run makes is rendered and read back the way a reader would read it: health.json, health.md, the page, the
badge's title, the job summary, the tracking issue, the action's outputs, the line the CLI prints, the exit
code. Each must give the same four numbers, and they must add up.
"""

import json
import re

import pytest

from crawler.cli.commands import _summary_line
from crawler.listfile.exclusions import rules
from crawler.report import badge, export, html, markdown
from crawler.report import json as health_json
from crawler.report.model import RunReport
from crawler.report.summary import counts, issue_body, job_summary
from tests.fakes.sites import install
from tests.fakes.web import Reply
from tests.support.runs import SEED, run

FOUR = ("links", "healthy", "failing", "not_judged", "skipped")
# More links for the run with a source down: a bot wall, a dead page, a user exclusion, a non-web link.
EXTRA = """
## More
### A Paper Behind A Wall Of Robots ICML 2021 [[paper]](https://walled.example/paper/1)
### A Paper Whose Page Is Gone ICML 2021 [[paper]](https://gone.example/paper/2)
### A Paper Excluded By The User ICML 2021 [[paper]](https://twitter.com/someone/status/3)
### A Paper With A Mail Link ICML 2021 [[mail]](mailto:someone@example.org)
"""


@pytest.fixture(params=["seed", "source down"])
def outcome(request, make_settings, web, tmp_path):
    api = install(web)
    settings = make_settings(fail_on="any")
    path = SEED
    if request.param == "source down":
        api.down = Reply(503, b"busy")
        web.host("walled.example", Reply(403, b"<title>Just a moment...</title>"))
        web.host("gone.example", Reply(404))
        settings = settings.replace(exclusions=rules(["^https://twitter\\.com/"], "--exclude"))
        path = tmp_path / "list.md"
        path.write_text(SEED.read_text() + EXTRA)
    return request.param, settings, run(settings, web, path)


def numbers(text: str, pattern: str) -> tuple[int, ...]:
    m = re.search(pattern, text)
    assert m, f"{pattern!r} not in:\n{text[:2000]}"
    return tuple(int(g) for g in m.groups())


TALLY = r"(\d+) links: (\d+) healthy, (\d+) failing, (\d+) not judged, (\d+) skipped"


def table_row(md: str) -> tuple[int, ...]:
    """The first five numbers of health.md's summary table (the job summary is that file)."""
    lines = md.splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("| links | healthy | failing | not judged"))
    return tuple(int(cell) for cell in lines[head + 2].strip("| ").split(" | ")[:5])


def page_numbers(page: str) -> tuple[int, ...]:
    found = dict(re.findall(r"<dt>([a-z ]+)</dt><dd>(\d+)</dd>", page))
    return tuple(int(found[k]) for k in ("links", "healthy", "failing", "not judged", "skipped"))


def test_every_output_gives_the_same_counts_and_they_add_up(outcome, tmp_path):
    case, settings, out = outcome
    report = out.report
    s = report.summary
    expected = (s.distinct_urls, s.healthy, s.failing, s.not_judged, s.skipped)
    links, healthy, failing, not_judged, skipped = expected
    assert links == healthy + failing + not_judged + skipped
    by_status = {st: n for st, n in s.counts.items() if st.value != "empty"}
    assert sum(by_status.values()) == links  # "By status" adds up to the same links

    papers = export.records(report, out.parsed, out.enrichment, out.repos)
    data = json.loads(health_json.render(report))
    md = markdown.render(report)
    page = html.render(report, papers)
    svg = badge.render(report)
    title = re.search(r"<title>(.*?)</title>", svg).group(1)
    summary = job_summary(md)
    issue = issue_body(report, md, run_url="https://github.com/o/r/actions/runs/1")
    action = counts(report, tmp_path)
    line = _summary_line(out, settings, "run")

    seen = {
        "health.json": tuple(data["summary"][k] for k in ("distinct_urls", "healthy", "failing", "not_judged",
                                                          "skipped")),
        "health.json read back": tuple(getattr(RunReport.from_json(data).summary, k) for k in
                                       ("distinct_urls", "healthy", "failing", "not_judged", "skipped")),
        "health.md": table_row(md),
        "index.html": page_numbers(page),
        "badge": numbers(title, TALLY),
        "job summary": table_row(summary),
        "tracking issue": numbers(issue, TALLY),
        "action outputs": tuple(int(action[k]) for k in ("links", "healthy", "failing", "not-judged", "skipped")),
        "cli": numbers(line, TALLY),
    }
    assert {name: got for name, got in seen.items() if got != expected} == {}, expected
    headline = f"{failing} of {links} links failing" if failing else "all links healthy"
    assert headline in md.split("\n")[2] and headline in page

    # Only a command that fills talks about fills.
    assert f"{s.fills}/{s.empty_links} empty filled" in line
    checked = _summary_line(out, settings, "check")
    assert "fill" not in checked and f"; {s.empty_links} empty;" in checked and numbers(checked, TALLY) == expected

    # The exit code fails on the same failures (--fail-on any here).
    assert out.exit_code == (1 if failing else 0) == report.exit_code("any")
    # The badge's share is of the same judged links.
    assert badge.share(report) == (healthy, healthy + failing)

    if case == "source down":
        assert (failing, not_judged, skipped) >= (1, 1, 2)
        groups = {str(g) for g in s.not_judged_by}
        assert sum(g.links for g in s.not_judged_by) == not_judged
        arxiv = next(g for g in s.not_judged_by if g.source == "arxiv")
        assert arxiv.reason == "unavailable this run" and arxiv.links >= 5
        assert "walled.example: walls robots (HTTP 403) (1 link)" in groups
        for text in (md, summary, page):
            for group in s.not_judged_by:
                assert group.label in text  # the not judged by reason, in every place a reader looks
        assert data["summary"]["not_judged_by"][0] == {"source": "arxiv", "reason": "unavailable this run",
                                                       "links": arxiv.links}
        # No source that was down is "skipped": skipped is the user's exclusion and the mail link, nothing else.
        skipped_errors = sorted(lo["error"] for lo in data["links"] if lo["status"] == "skipped")
        assert skipped_errors == ["excluded by --exclude '^https://twitter\\.com/'", "not a web link (mailto:)"]
    else:
        assert s.not_judged_by == () and "Not judged" not in md
