"""One meaning per status: the summary, badge, Markdown, page, chart, exit code and history agree.

Each status is put through the same path a real run takes (history over two nights, build_report) and
every output is asked what it made of it. `blocked` and `rate_limited` say nothing about the link: they
are never failures, never dead, shown apart from failures everywhere.
"""

import asyncio

import httpx
import pytest

from crawler.listfile.links import url_key
from crawler.listfile.parse import parse_list
from crawler.models import CheckResult, Enrichment, LinkStatus
from crawler.report import badge, html, markdown
from crawler.report.model import RunRow, build_report
from crawler.store.history import update_history

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
    assert s.skipped == int(status is LinkStatus.SKIPPED)
    assert s.distinct_urls == s.healthy + s.failing + s.not_judged + s.skipped
    assert link.dead is failure and (s.dead == (URL,)) is failure  # only a failure can die
    assert report.exit_code("any") == int(failure)
    assert report.exit_code("dead") == int(failure)

    assert badge.share(report) == (int(status.is_healthy), int(status.is_judged))

    headline = markdown.render(report).split("\n")[2]
    assert ("failing" in headline and "no link failing" not in headline) is failure

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


# -- what a run that could not ask says: not judged, with its reason; never skipped -----------------------------
def _run(settings, path, *, pool=None, sources=None, command="check"):
    from crawler.pipeline import Job, Pipeline
    from crawler.store.cache import Store

    async def go():
        with Store(settings.db) as store:
            return await Pipeline(settings, store, pool=pool, sources=sources).execute(Job(command, path))

    return asyncio.run(go())


def test_offline_and_not_in_the_cache_is_not_judged(make_settings, tmp_path):
    path = tmp_path / "list.md"
    path.write_text("- [A paper with a long enough title](https://example.org/paper)\n- [m](mailto:a@b.org)\n")
    report = _run(make_settings(offline=True), path).report
    got = {lo.url: (lo.status, lo.error) for lo in report.links}
    assert got["https://example.org/paper"] == (LinkStatus.BLOCKED, "offline: not in the cache")
    assert got["mailto:a@b.org"][0] is LinkStatus.SKIPPED
    s = report.summary
    assert (s.not_judged, s.skipped) == (1, 1)
    assert [str(g) for g in s.not_judged_by] == ["offline: not in the cache (1 link)"]


class _Broken(httpx.AsyncBaseTransport):
    """A transport with a bug in it: every request raises what no HTTP client would."""

    async def handle_async_request(self, request):
        raise RuntimeError("a bug in the crawler")


def test_a_link_the_crawler_failed_to_check_keeps_its_last_verdict_or_is_not_judged(make_settings, tmp_path):
    from crawler.net.pool import ClientPool
    from crawler.store.cache import Store

    settings = make_settings(max_age=0.0)
    path = tmp_path / "list.md"
    path.write_text("- [A paper with a long enough title](https://example.org/paper)\n"
                    "- [Another paper with a long title](https://example.org/other)\n")
    with Store(settings.db) as store:
        store.save_results([CheckResult(url="https://example.org/other", status=LinkStatus.OK, http_status=200,
                                        checked_at=1.0)])

    async def pool_run():
        async with ClientPool(settings, transport_factory=lambda limits: _Broken()) as pool:
            from crawler.pipeline import Job, Pipeline

            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool, sources=None).execute(Job("check", path))

    report = asyncio.run(pool_run()).report
    got = {lo.url: lo for lo in report.links}
    fresh, known = got["https://example.org/paper"], got["https://example.org/other"]
    assert fresh.status is LinkStatus.BLOCKED and fresh.error.startswith("crawler error")
    assert known.status is LinkStatus.OK  # the last verdict stands
    s = report.summary
    assert (s.skipped, s.not_judged, s.healthy) == (0, 1, 1)
    assert [g.label for g in s.not_judged_by] == ["crawler: failed to check (its own error; see --verbose)"]


@pytest.mark.parametrize(("answer", "status"), [(429, LinkStatus.RATE_LIMITED), (503, LinkStatus.BLOCKED)])
def test_an_arxiv_api_that_cannot_answer_leaves_its_links_not_judged(make_settings, web, tmp_path, answer, status):
    from crawler.net.pool import ClientPool
    from crawler.sources.arxiv import ArxivSource
    from tests.fakes.sites import install
    from tests.fakes.web import Reply, RoutingTransport

    install(web).down = Reply(answer, b"busy")
    path = tmp_path / "list.md"
    path.write_text("## 2015\n### Distilling the Knowledge in a Neural Network NIPSW 2014 "
                    "[[paper]](https://arxiv.org/abs/1503.02531)\n")
    settings = make_settings()

    async def go():
        async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits)) as pool:
            from crawler.pipeline import Job, Pipeline
            from crawler.store.cache import Store

            arxiv = ArxivSource(url_format=f"http://127.0.0.1:{web.port}/api/query?{{}}", delay=0, timeout=5)
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool, sources=[arxiv]).execute(Job("check", path))

    report = asyncio.run(go()).report
    (link,) = report.links
    assert link.status is status
    assert link.error.startswith("arxiv: unavailable this run (") and f"HTTP {answer}" in link.error
    assert [str(g) for g in report.summary.not_judged_by] == ["arxiv: unavailable this run (1 link)"]
    assert report.summary.skipped == 0 and web.requests_to("arxiv.org") == []
