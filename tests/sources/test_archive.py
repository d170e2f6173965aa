"""Archived copies for dead links (issue 15), end to end: whole nights of the pipeline over a loopback web, with
a fake Wayback Machine on `archive.org` (tests/sources/test_wayback.py's FakeWayback, the availability API's real
format) and arXiv for the paper suggestions.

What a maintainer is promised: a dead project page gets the archive's copy from when the page last worked; the
archive is asked only once a link is dead (never on its first failure, never for a healthy link, never for a
link the entry's paper replaces), once per link a week; `--no-archive` asks nothing; an archive that cannot
answer changes no verdict.
"""

import asyncio

import pytest

from crawler.cli.commands import build_settings
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Pipeline
from crawler.report import markdown
from crawler.sources.arxiv import ArxivSource
from crawler.sources.wayback import wayback_timestamp
from crawler.store.cache import Store
from tests.fakes.sites import FakeArxiv
from tests.fakes.web import Reply, RoutingTransport
from tests.sources.test_wayback import FakeWayback

HOUR, DAY = 3600.0, 86400.0
T0 = 1_800_000_000.0  # night 0: the project page still works
PROJECT = "https://lab.example.edu/project"
OTHER = "https://lab.example.edu/other-gone"  # dead from night 0, never archived
FINE = "https://lab.example.edu/fine"
PDF = "https://old.example.org/ban.pdf"  # the entry's paper is found on arXiv: that is its suggestion
PAPER = "https://arxiv.org/abs/1805.04770"
LIST = f"""# Things

- [A Lab Project Page]({PROJECT})
- [Another Tool Page]({OTHER})
- [A Tool That Works]({FINE})
- Born Again Neural Networks, ICLR 2018 [[pdf]]({PDF})
"""


class Clock:
    def __init__(self, t: float):
        self.t = t

    def __call__(self) -> float:
        return self.t


class Site:
    """The list's hosts: the project page answers 200 until `project_dies`, then 404 like the others."""

    def __init__(self):
        self.project = 200

    def __call__(self, method, host, path, headers) -> Reply:
        url = f"https://{host}{path}"
        if url == PROJECT:
            return Reply(self.project, b"<html><title>The project</title></html>", {"Content-Type": "text/html"})
        if url == FINE:
            return Reply(200, b"<html><title>A tool</title></html>", {"Content-Type": "text/html"})
        return Reply(404, b"<html><title>Not Found</title></html>", {"Content-Type": "text/html"})


@pytest.fixture
def site(web):
    s = Site()
    web.host("lab.example.edu", s)
    web.host("old.example.org", s)
    web.host("127.0.0.1", FakeArxiv())  # the arXiv API: the title search finds Born Again Neural Networks
    return s


@pytest.fixture
def archive(web):
    # One good capture a day before night 0, and the archive's own 404 capture after the page died: asked for
    # the newest capture it would give the 404, which is no copy; asked near night 0 it gives the good one.
    fake = FakeWayback({PROJECT: [(wayback_timestamp(T0 - DAY), "200"), (wayback_timestamp(T0 + 40 * HOUR), "404")]})
    web.host("archive.org", fake)
    return fake


@pytest.fixture
def listing(tmp_path):
    path = tmp_path / "README.md"
    path.write_text(LIST)
    return path


def night(settings, web, clock, lists, command="run"):
    async def go():
        async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits)) as pool:
            arxiv = ArxivSource(url_format=f"http://127.0.0.1:{web.port}/api/query?{{}}", delay=0, timeout=5)
            with Store(settings.db) as store:
                pipeline = Pipeline(settings, store, pool=pool, sources=[arxiv], clock=clock)
                try:
                    return await pipeline.execute(Job(command, lists))
                finally:
                    await pipeline.aclose()

    return asyncio.run(go())


def links(outcome) -> dict[str, dict]:
    return {lo["url"]: lo for lo in outcome.report.to_json()["links"]}


def verdicts(outcome) -> dict[str, tuple]:
    """What the archive must never change: each link's status, error, history and the exit code."""
    return {url: (lo["status"], lo["error"], lo["new"], lo["dead"], lo["consecutive_failures"])
            for url, lo in links(outcome).items()} | {"exit": outcome.exit_code}


def snapshot_of(url: str, when: float) -> str:
    return f"https://web.archive.org/web/{wayback_timestamp(when)}/{url}"


def test_a_dead_project_page_gets_the_copy_from_when_it_last_worked(make_settings, web, site, archive, listing):
    settings = make_settings()  # the defaults: dead after 2 failures over 20 h, max age 20 h
    clock = Clock(T0)

    night0 = night(settings, web, clock, listing)
    assert links(night0)[OTHER]["new"] and not links(night0)[OTHER]["dead"]
    assert archive.asked == []  # a first failure is no reason to ask

    clock.t, site.project = T0 + 24 * HOUR, 404
    night1 = night(settings, web, clock, listing)
    row = links(night1)
    assert (row[PROJECT]["status"], row[PROJECT]["new"], row[PROJECT]["dead"]) == ("broken", True, False)
    assert row[OTHER]["dead"] and row[PDF]["dead"]
    assert row[PDF]["suggestion"] == PAPER  # the entry's paper: the archive is not asked about it
    # Only the dead link with nothing to suggest, asked for the newest capture (it never worked for us).
    assert archive.asked == [{"url": OTHER}]
    assert row[OTHER]["suggestion"] is None  # never archived
    assert row[FINE]["status"] == "ok" and row[FINE]["suggestion"] is None

    clock.t = T0 + 48 * HOUR
    night2 = night(settings, web, clock, listing)
    row = links(night2)
    assert row[PROJECT]["dead"] and row[PROJECT]["status"] == "broken"
    assert archive.asked[1:] == [{"url": PROJECT, "timestamp": wayback_timestamp(T0)}]  # when it last worked
    assert row[PROJECT]["suggestion"] == snapshot_of(PROJECT, T0 - DAY)
    assert row[OTHER]["suggestion"] is None and row[PDF]["suggestion"] == PAPER
    assert set(night2.report.to_json()["summary"]["dead"]) == {PROJECT, OTHER, PDF}
    (line,) = [ln for ln in markdown.render(night2.report).splitlines() if ln.startswith("|") and PROJECT in ln]
    assert "**dead**" in line and line.endswith(f"| `{snapshot_of(PROJECT, T0 - DAY)}` |")
    states = {s["source"]: s["state"] for s in night2.report.to_json()["summary"]["sources"]}
    assert states.get("wayback") == "ok"

    # A week of answers from the cache: the next nights ask nothing and keep the suggestion.
    asked = len(archive.asked)
    for hours in (72, 96, 24 * 7 + 23):
        clock.t = T0 + hours * HOUR
        row = links(night(settings, web, clock, listing))
        assert row[PROJECT]["suggestion"] == snapshot_of(PROJECT, T0 - DAY), hours
        assert len(archive.asked) == asked, hours

    # Older than a week, each answer ("no copy" included) is asked for again, once.
    clock.t = T0 + 48 * HOUR + 7 * DAY + HOUR
    row = links(night(settings, web, clock, listing))
    assert sorted(q["url"] for q in archive.asked[asked:]) == [OTHER, PROJECT]
    assert row[PROJECT]["suggestion"] == snapshot_of(PROJECT, T0 - DAY)


def test_a_page_that_works_again_loses_its_archived_copy(make_settings, web, site, archive, listing):
    settings = make_settings()
    clock = Clock(T0)
    for hours, status in ((0, 200), (24, 404), (48, 404)):
        clock.t, site.project = T0 + hours * HOUR, status
        night(settings, web, clock, listing)
    clock.t, site.project = T0 + 72 * HOUR, 200
    row = links(night(settings, web, clock, listing))[PROJECT]
    assert (row["status"], row["fixed"], row["suggestion"]) == ("ok", True, None)
    assert [q["url"] for q in archive.asked].count(PROJECT) == 1


def nights(settings, web, site, listing, until: int = 48) -> list:
    clock = Clock(T0)
    out = []
    for hours, status in ((0, 200), (24, 404), (48, 404)):
        if hours > until:
            break
        clock.t, site.project = T0 + hours * HOUR, status
        out.append(night(settings, web, clock, listing))
    return out


def test_no_archive_asks_nothing_and_changes_nothing_else(make_settings, web, site, archive, listing, tmp_path):
    on = nights(make_settings(db=tmp_path / "on.db"), web, site, listing)
    assert len(archive.asked) == 2 and links(on[-1])[PROJECT]["suggestion"]
    archive.asked.clear()
    off = nights(make_settings(db=tmp_path / "off.db", archive=False), web, site, listing)
    assert archive.asked == []
    assert [verdicts(o) for o in off] == [verdicts(o) for o in on]
    assert all(lo["suggestion"] is None for url, lo in links(off[-1]).items() if url != PDF)
    assert "wayback" not in {s["source"] for s in off[-1].report.to_json()["summary"]["sources"]}


@pytest.mark.parametrize("flags, config, expected", [
    ({}, "", True),
    ({"archive": False}, "", False),  # --no-archive
    ({}, "archive = false\n", False),
    ({"archive": False}, "archive = true\n", False),  # the flag wins over the config
])
def test_no_archive_from_the_flag_or_the_config(tmp_path, flags, config, expected):
    cfg = tmp_path / "crawler.toml"
    cfg.write_text(config)
    assert build_settings({**flags, "config_path": cfg}).archive is expected


def test_an_archive_answering_503_changes_no_verdict_and_is_asked_again_next_night(
        make_settings, web, site, archive, listing, tmp_path):
    calm = nights(make_settings(db=tmp_path / "calm.db", archive=False), web, site, listing)
    archive.mode = "down"  # 503 with an HTML page, as archive.org answers when it is overloaded
    down = nights(make_settings(db=tmp_path / "down.db"), web, site, listing)
    assert [verdicts(o) for o in down] == [verdicts(o) for o in calm]
    assert all(lo["suggestion"] is None for url, lo in links(down[-1]).items() if url != PDF)
    # One failure stops the asking for the night: night 1 asked about OTHER, night 2 about the first of the two.
    assert len(archive.asked) == 2
    (state,) = [s for s in down[-1].report.to_json()["summary"]["sources"] if s["source"] == "wayback"]
    assert state["state"] == "unavailable" and "HTTP 503" in state["reason"]

    # Nothing was cached from a failure: the archive back up, the next night asks about both dead links.
    archive.mode = "normal"
    archive.asked.clear()
    clock = Clock(T0 + 72 * HOUR)
    row = links(night(make_settings(db=tmp_path / "down.db"), web, clock, listing))
    assert sorted(q["url"] for q in archive.asked) == [OTHER, PROJECT]
    assert row[PROJECT]["suggestion"] == snapshot_of(PROJECT, T0 - DAY)


def test_a_dead_link_in_two_lists_is_asked_about_once(make_settings, web, site, archive, tmp_path):
    a, b = tmp_path / "README.md", tmp_path / "more.md"
    a.write_text(f"# A\n\n- [A Lab Project Page]({PROJECT})\n")
    b.write_text(f"# B\n\n- [The same page again]({PROJECT})\n- [Written another way](https://LAB.example.edu/project)\n")
    settings = make_settings()
    clock = Clock(T0)
    for hours, status in ((0, 200), (24, 404), (48, 404)):
        clock.t, site.project = T0 + hours * HOUR, status
        outcome = night(settings, web, clock, [a, b])
    assert archive.asked == [{"url": PROJECT, "timestamp": wayback_timestamp(T0)}]
    (row,) = outcome.report.to_json()["links"]
    assert row["suggestion"] == snapshot_of(PROJECT, T0 - DAY)
    assert [(p["file"], p["line"]) for p in row["lines"]] == [(str(a), 3), (str(b), 3), (str(b), 4)]


def test_a_report_from_the_cache_asks_nothing_and_shows_the_copy(make_settings, web, site, archive, listing):
    settings = make_settings()
    ran = nights(settings, web, site, listing)[-1]
    asked, seen = len(archive.asked), len(web.log)
    again = night(settings, web, Clock(T0 + 50 * HOUR), listing, command="report")
    assert len(archive.asked) == asked and len(web.log) == seen
    assert links(again)[PROJECT]["suggestion"] == links(ran)[PROJECT]["suggestion"] == snapshot_of(PROJECT, T0 - DAY)


def test_a_dead_project_page_of_a_paper_entry_gets_its_copy_not_the_paper(make_settings, web, site, archive,
                                                                         tmp_path):
    listing = tmp_path / "README.md"
    listing.write_text(f"# Papers\n\n- Born Again Neural Networks, ICLR 2018 [[paper]]({PAPER}) "
                       f"[[project]]({PROJECT})\n")
    web.host("arxiv.org", lambda *a: Reply(200, b"<html><title>arXiv</title></html>", {"Content-Type": "text/html"}))
    outcome = nights(make_settings(), web, site, listing)[-1]
    row = links(outcome)[PROJECT]
    assert row["dead"]
    assert row["suggestion"] == snapshot_of(PROJECT, T0 - DAY)  # today: the arXiv paper, and the archive unasked


def test_a_night_asks_the_archive_at_most_max_per_run_questions_and_keeps_each_answer(monkeypatch):
    """A list that lost many pages in one night spends bounded time on copies; the rest wait for later nights."""
    import httpx
    import respx

    from crawler.sources import wayback
    from crawler.sources.base import SourceStates

    monkeypatch.setattr(wayback, "MAX_PER_RUN", 2)
    wanted = {f"https://gone.example/{i}": None for i in range(5)}
    with Store(":memory:") as store, respx.mock(assert_all_called=False) as mock:
        route = mock.get(url__startswith="https://archive.org/wayback/available").mock(
            return_value=httpx.Response(200, json={"archived_snapshots": {}}))

        async def night():
            async with httpx.AsyncClient() as client:
                return await wayback.archived_copies(wanted, store, lambda url: client, now=T0, timeout=5,
                                                     states=SourceStates())

        for asked in (2, 4, 5, 5):  # two more a night, each answer kept for the week
            asyncio.run(night())
            assert route.call_count == asked
