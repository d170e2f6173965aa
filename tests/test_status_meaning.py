"""One meaning per status (issue 13): the summary, badge, Markdown, page, chart, exit code and history agree.

Each status is put through the same path a real run takes (history over two nights, build_report) and
every output is asked what it made of it. `blocked` and `rate_limited` say nothing about the link: they
are never failures, never dead, shown apart from failures everywhere.
"""

import pytest

from crawler.history import update_history
from crawler.links import url_key
from crawler.models import CheckResult, Enrichment, LinkStatus
from crawler.parse import parse_list
from crawler.report import badge, html, markdown
from crawler.report.model import RunRow, build_report

URL = "https://example.org/paper"
STATUSES = [s for s in LinkStatus if s is not LinkStatus.EMPTY]
HOUR = 3600.0


def two_nights(status: LinkStatus):
    parsed = parse_list(f"- [A paper with a long enough title]({URL})\n").in_file("list.md")
    by_key = {url_key(URL): list(parsed.links)}
    history: dict[str, dict] = {}
    for night in (1, 2):
        now = night * 24 * HOUR
        results = {url_key(URL): CheckResult(url=url_key(URL), status=status, checked_at=now)}
        rows, states = update_history(history, results, now, dead_after=2, dead_span=20 * HOUR)
        history = {r["url"]: r for r in rows}
    return build_report("check", ("list.md",), parsed, by_key, results, states, Enrichment(), now)


@pytest.mark.parametrize("status", STATUSES, ids=[s.value for s in STATUSES])
def test_every_output_agrees_on_what_a_status_means(status):
    report = two_nights(status)
    s = report.summary
    (link,) = report.links
    failure = status.is_failure
    unjudged = not status.is_judged and status is not LinkStatus.SKIPPED

    assert (s.failing, s.not_judged, s.healthy) == (int(failure), int(unjudged), int(status.is_healthy))
    assert link.dead is failure and (s.dead == (URL,)) is failure  # only a failure can die
    assert report.exit_code("any") == int(failure)
    assert report.exit_code("dead") == int(failure)

    healthy, judged, not_judged = badge.share(report)
    assert (healthy, judged, not_judged) == (int(status.is_healthy), int(status.is_judged),
                                             int(not status.is_judged))

    headline = markdown.render(report).split("\n")[2]
    assert ("need attention" in headline) is failure

    row = html.rows(report, [{"line": 1, "links": [{"label": "x", "url": URL, "status": "unknown"}]}])[0]
    assert ("attention" in row["tags"]) is (failure or status is LinkStatus.REDIRECTED)

    run = RunRow(id=1, started_at=0, command="check", total=1, ok=s.healthy, failing=s.failing, new=0,
                 dead=len(s.dead), fixed=0, filled=0)
    parts = html.chart([run])
    coloured = "failing" if failure and not link.dead else "dead" if link.dead else "ok" if status.is_healthy \
        else "other"
    assert f'data-part="{coloured}"' in parts


def test_a_rate_limited_night_neither_ends_nor_extends_a_run_of_failures():
    key = url_key(URL)
    history: dict[str, dict] = {}
    nights = [LinkStatus.BROKEN, LinkStatus.RATE_LIMITED, LinkStatus.BLOCKED, LinkStatus.BROKEN]
    states = {}
    for night, status in enumerate(nights, 1):
        results = {key: CheckResult(url=key, status=status, checked_at=night * 24 * HOUR)}
        rows, states = update_history(history, results, night * 24 * HOUR, dead_after=2, dead_span=20 * HOUR)
        history = {r["url"]: r for r in rows}
        if status is LinkStatus.RATE_LIMITED:
            assert not states[key].dead and not states[key].fixed and history[key]["consecutive_failures"] == 1
    assert states[key].consecutive_failures == 2 and states[key].dead  # the two judged nights count
