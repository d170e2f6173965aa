"""One gate for every request of a run (crawler.net.pacing.HostGate inside crawler.net.pool.ClientPool's transports).

One loopback host receives, at the same time, the link checks (crawler.checking.checker), a venue site's page fetcher
(crawler.sources.pages), arXiv's synchronous client in its worker thread (crawler.sources.arxiv) and the
Wayback Machine's question (crawler.sources.wayback). The host counts what arrives: together they keep to
its concurrency and spacing, and a 429 that a source gets pauses the link checks too. The same holds when the
checks run in worker processes (crawler.checking.workers) while the sources ask from the main process: the
run's gate lends the host to the worker that checks it (crawler.net.loans).

The pools run on the transport users run (aiohttp under httpx), every name resolved to the fake web's loopback
address.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from crawler.checking.checker import Checker
from crawler.checking.workers import CheckWorkers
from crawler.config import HostRule, Settings
from crawler.errors import HostPaused, SourceUnavailable
from crawler.models import LinkStatus
from crawler.net.pacing import HostGate
from crawler.net.pool import ClientPool
from crawler.sources import wayback
from crawler.sources.arxiv import ArxivSource
from crawler.sources.pages import PageFetcher
from tests.fakes.sites import FakeArxiv, make_entry
from tests.fakes.web import FakeWeb, Reply, Request

HOST = "localhost"  # a name the `requests` package under arXiv's client may resolve in tests (to loopback)
PAGE = b"<html><head><title>A paper</title></head><body>text</body></html>"
SPACING = 0.1


class Host:
    """The one host every caller asks: answers after `hold` seconds, records starts and the peak in flight."""

    def __init__(self, hold: float = 0.25):  # longer than the spacing: requests overlap unless held apart
        self.hold = hold
        self.arxiv = FakeArxiv([make_entry("1503.02531", "Distilling the Knowledge in a Neural Network", 2015)])
        self.starts: list[tuple[float, str]] = []
        self.refuse: dict[str, str] = {}  # path prefix -> Retry-After of a 429 it answers once
        self.refused_at: list[float] = []
        self.peak = 0
        self._in_flight = 0
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self._in_flight += 1
            self.peak = max(self.peak, self._in_flight)
            self.starts.append((time.monotonic(), request.path))
            refusal = next((p for p in self.refuse if request.path.startswith(p)), None)
            retry_after = self.refuse.pop(refusal) if refusal else None
        try:
            time.sleep(self.hold)
            if retry_after is not None:
                self.refused_at.append(time.monotonic())
                return Reply(429, b"Too Many Requests", {"Retry-After": retry_after, "Content-Type": "text/plain"})
            if request.path.startswith("/api/query"):
                return self.arxiv("GET", request.host, request.path, request.headers)
            if request.path.startswith("/wayback/"):
                return Reply(200, b'{"url": "x", "archived_snapshots": {}}', {"Content-Type": "application/json"})
            return Reply(200, PAGE, {"Content-Type": "text/html; charset=utf-8"})
        finally:
            with self._lock:
                self._in_flight -= 1

    def arrivals(self, prefix: str = "") -> list[float]:
        return sorted(t for t, path in self.starts if path.startswith(prefix))


@pytest.fixture
def host(web: FakeWeb) -> Host:
    fake = Host()
    web.host(HOST, fake)
    return fake


def settings_for(**changes) -> Settings:
    values = dict(allow_private=True, retries=1, backoff_base=0.01, timeout=10.0, progress=False, arxiv_delay=0.0,
                  hosts={HOST: HostRule(concurrency=2, spacing=SPACING)})
    values.update(changes)
    return Settings(**values)


async def everyone(pool: ClientPool, settings: Settings, port: int, checks: int = 12, pages: int = 6):
    """Link checks, a venue's pages, arXiv's API and the Wayback Machine, all at once, on one host."""
    base = f"http://{HOST}:{port}"
    checker = Checker(pool, settings)
    fetcher = PageFetcher("venue", pool.client(base), concurrency=4)
    arxiv = ArxivSource(url_format=f"{base}/api/query?{{}}", delay=0.0, timeout=10.0, gate=pool.gate)

    async def check() -> list:
        return [r async for r in checker.check_many([f"{base}/check/{i}" for i in range(checks)])]

    async def venue() -> list:
        return await asyncio.gather(*(fetcher.get(f"{base}/venue/{i}") for i in range(pages)))

    async def archive() -> str | None:
        return await wayback.closest_snapshot(pool.client(base), "https://gone.example/", 10.0,
                                              api_url=f"{base}/wayback/available")

    try:
        return await asyncio.gather(check(), venue(), arxiv.lookup_ids_async(["1503.02531"]), archive(),
                                    return_exceptions=True)
    finally:
        arxiv.close()


async def _loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]  # the fake web answers for every name


def pool_for(settings: Settings) -> ClientPool:
    return ClientPool(settings, resolver=_loopback)


def run(web: FakeWeb, settings: Settings, body):
    async def go():
        async with pool_for(settings) as pool:
            return await body(pool)

    return asyncio.run(go())


def test_checks_and_sources_together_keep_to_the_hosts_concurrency_and_spacing(web, host):
    settings = settings_for()
    checked, pages, found, snapshot = run(web, settings, lambda pool: everyone(pool, settings, web.port))
    assert [r.status for r in checked] == [LinkStatus.OK] * 12
    assert [p.status for p in pages] == [200] * 6 and "1503.02531" in found and snapshot is None
    kinds = {prefix: len(host.arrivals(prefix)) for prefix in ("/check/", "/venue/", "/api/query", "/wayback/")}
    assert kinds == {"/check/": 12, "/venue/": 6, "/api/query": 1, "/wayback/": 1}  # every caller went there
    assert host.peak == 2  # the host's concurrency, shared by all of them (the page fetcher alone allows 4)
    times = host.arrivals()
    # The host's spacing between request starts, over all 20 (measured where they arrive: a busy machine
    # delays single arrivals, so the whole run is measured, with a tenth to spare).
    assert times[-1] - times[0] >= 0.9 * SPACING * (len(times) - 1)


@pytest.mark.parametrize("source", ["arxiv", "pages"])
def test_a_429_a_source_gets_pauses_the_link_checks_too(web, host, source):
    settings = settings_for(hosts={HOST: HostRule(concurrency=2)})
    prefix = "/api/query" if source == "arxiv" else "/venue/"
    host.refuse[prefix] = "1"

    async def body(pool: ClientPool):
        base = f"http://{HOST}:{web.port}"
        if source == "arxiv":
            arxiv = ArxivSource(url_format=f"{base}/api/query?{{}}", delay=0.0, timeout=10.0, gate=pool.gate)
            with pytest.raises(SourceUnavailable, match="429"):
                await arxiv.lookup_ids_async(["1503.02531"])
            arxiv.close()
        else:
            with pytest.raises(SourceUnavailable, match="429"):
                await PageFetcher("venue", pool.client(base)).get(f"{base}/venue/1")
        checker = Checker(pool, settings)
        return [r async for r in checker.check_many([f"{base}/check/{i}" for i in range(4)])]

    checked = run(web, settings, body)
    assert [r.status for r in checked] == [LinkStatus.OK] * 4
    (refused,) = host.refused_at
    first_check = host.arrivals("/check/")[0]
    assert first_check - refused >= 0.9  # the host's Retry-After held the checks back too


def test_a_pause_longer_than_the_ceiling_stops_sources_and_checks_without_a_request(web, host):
    settings = settings_for(hosts={HOST: HostRule(concurrency=2)}, retry_after_ceiling=5.0)
    host.refuse["/venue/"] = "3600"

    async def body(pool: ClientPool):
        base = f"http://{HOST}:{web.port}"
        fetcher = PageFetcher("venue", pool.client(base))
        with pytest.raises(SourceUnavailable, match="429"):
            await fetcher.get(f"{base}/venue/1")
        with pytest.raises(HostPaused):
            await pool.client(base).get(f"{base}/api/query?id_list=1503.02531")
        return [r async for r in Checker(pool, settings).check_many([f"{base}/check/{i}" for i in range(3)])]

    checked = run(web, settings, body)
    assert all(r.status is LinkStatus.RATE_LIMITED and r.error.startswith("not sent") for r in checked)
    assert [path for _, path in host.starts] == ["/venue/1"]  # nothing else was sent


def test_a_response_holds_its_slots_until_it_is_closed(web, host):
    settings = settings_for(hosts={HOST: HostRule(concurrency=1)})

    async def body(pool: ClientPool):
        client = pool.client(f"http://{HOST}:{web.port}")
        async with client.stream("GET", f"http://{HOST}:{web.port}/a") as response:
            assert pool.host_gate(HOST).locked() and response.status_code == 200
            await response.aread()
        assert not pool.host_gate(HOST).locked()
        return True

    assert run(web, settings, body)


# --- checks in worker processes, sources in the main one -------------------------------------------------

ELSEWHERE = "elsewhere.example"  # a second host, so that both workers have work


async def in_workers(pool: ClientPool, settings: Settings, urls: list[str], meanwhile=None):
    """`urls` checked in two forked worker processes that borrow from `pool`'s gate; `meanwhile()` runs in this
    process once the first check has gone out. Returns (the checks' results, what `meanwhile` returned)."""
    async with CheckWorkers(settings, processes=2, pool_factory=pool_for, method="fork", gate=pool.gate) as workers:
        await workers.submit(urls, {})
        results = asyncio.ensure_future(_collect(workers.results()))
        done = None
        if meanwhile is not None:
            while not results.done() and not workers.stats.requests_sent:
                await asyncio.sleep(0.01)
            done = await meanwhile()
        return await results, done


async def _collect(stream) -> dict:
    return {r.url: r async for r in stream}


def test_checks_in_worker_processes_and_sources_here_keep_to_the_hosts_limits_together(web, host):
    spacing = 0.15  # binds: the host answers in 0.25 s, two at a time, so it could take one every 0.125 s
    settings = settings_for(hosts={HOST: HostRule(concurrency=2, spacing=spacing)})
    web.host(ELSEWHERE, Reply(200, PAGE, {"Content-Type": "text/html"}))
    base = f"http://{HOST}:{web.port}"
    urls = [f"{base}/check/{i}" for i in range(6)] + [f"http://{ELSEWHERE}:{web.port}/{i}" for i in range(6)]

    async def body(pool: ClientPool):
        fetcher = PageFetcher("venue", pool.client(base), concurrency=4)
        arxiv = ArxivSource(url_format=f"{base}/api/query?{{}}", delay=0.0, timeout=10.0, gate=pool.gate)

        async def sources():
            try:
                return await asyncio.gather(
                    *(fetcher.get(f"{base}/venue/{i}") for i in range(3)), arxiv.lookup_ids_async(["1503.02531"]),
                    wayback.closest_snapshot(pool.client(base), "https://gone.example/", 10.0,
                                             api_url=f"{base}/wayback/available"))
            finally:
                arxiv.close()

        return await in_workers(pool, settings, urls, sources)

    checked, (*pages, found, snapshot) = run(web, settings, body)
    assert {r.status for r in checked.values()} == {LinkStatus.OK} and len(checked) == 12
    assert [p.status for p in pages] == [200] * 3 and "1503.02531" in found and snapshot is None
    kinds = {prefix: len(host.arrivals(prefix)) for prefix in ("/check/", "/venue/", "/api/query", "/wayback/")}
    assert kinds == {"/check/": 6, "/venue/": 3, "/api/query": 1, "/wayback/": 1}  # from both processes
    assert host.peak == 2  # the host's concurrency held over the worker's checks and the sources together
    times = host.arrivals()
    assert times[-1] - times[0] >= 0.9 * spacing * (len(times) - 1)  # and its spacing


@pytest.mark.parametrize("first", ["source", "check"])
def test_a_429_answered_in_one_process_pauses_the_host_in_the_other(web, host, first):
    """The worker's gate starts from what the run's gate knew of the host, and hands back what it learned."""
    settings = settings_for(hosts={HOST: HostRule(concurrency=2)}, retries=0)
    web.host(ELSEWHERE, Reply(200, PAGE, {"Content-Type": "text/html"}))
    base = f"http://{HOST}:{web.port}"
    host.refuse["/venue/" if first == "source" else "/check/"] = "0.5"

    async def body(pool: ClientPool):
        fetcher = PageFetcher("venue", pool.client(base))
        if first == "source":
            with pytest.raises(SourceUnavailable, match="429"):
                await fetcher.get(f"{base}/venue/1")
        checked, _ = await in_workers(pool, settings, [f"{base}/check/0"] + [f"http://{ELSEWHERE}:{web.port}/a"])
        if first == "check":
            assert (await fetcher.get(f"{base}/venue/1")).status == 200
        return checked

    checked = run(web, settings, body)
    (refused,) = host.refused_at
    after = host.arrivals("/check/" if first == "source" else "/venue/")[-1]
    assert after - refused >= 0.45  # the Retry-After (half a second) held in the other process too
    assert checked[f"{base}/check/0"].status is (LinkStatus.OK if first == "source" else LinkStatus.RATE_LIMITED)


def test_a_lent_host_waits_for_its_return_and_comes_back_with_what_the_borrower_learned():
    settings = settings_for(hosts={HOST: HostRule(concurrency=2)}, retry_after_ceiling=5.0, concurrency=4)

    async def main():
        lender, borrower = HostGate(settings), HostGate(settings)
        await lender.enter(HOST)  # a request in flight
        lending = asyncio.ensure_future(lender.lend(HOST))
        await asyncio.sleep(0.02)
        assert not lending.done()  # a host is lent once its requests in flight have ended
        lender.leave(HOST)
        borrower.adopt(HOST, await lending)
        waiting = asyncio.ensure_future(lender.enter(HOST))
        borrower.heard(HOST, 429, {"retry-after": "30"})
        await asyncio.sleep(0.02)
        assert not waiting.done() and lender.lent() == {HOST}  # nothing of this process goes to a lent host
        lender.take_back(HOST, borrower.state(HOST))
        with pytest.raises(HostPaused):  # back with the borrower's 429: 30 s, more than the lender waits for
            await waiting
        assert await lender.lend_slots(10) == 4  # the slots of all hosts, all of them at most
        elsewhere = asyncio.ensure_future(lender.enter("elsewhere.example"))
        await asyncio.sleep(0.02)
        assert not elsewhere.done()
        lender.take_back_slots(4)
        await elsewhere
        lender.leave("elsewhere.example")

    asyncio.run(main())


def test_the_check_stage_lends_the_runs_gate_to_its_workers(web, host, make_settings, tmp_path):
    """The pipeline's own path: from `processes_from` URLs the checks run in workers, which borrow each host from
    the gate of the pool the run was given (the sources'), and give everything back at the end."""
    from crawler.pipeline import Job, Pipeline
    from crawler.store.cache import Store

    base = f"http://{HOST}:{web.port}"
    lst = tmp_path / "list.md"
    lst.write_text("".join(f"- [Paper number {i} of this list]({base}/check/{i})\n" for i in range(4)))
    settings = make_settings(allow_private=True, processes=2, processes_from=2, hosts={HOST: HostRule(concurrency=2)})

    async def go():
        async with pool_for(settings) as pool:
            pool.gate.pause_for(HOST, 0.5)  # a 429 a source was answered before the checks
            paused = time.monotonic()
            with Store(settings.db) as store:
                outcome = await Pipeline(settings, store, pool=pool).execute(Job("check", lst))
            return outcome, paused, pool.gate.lent()

    outcome, paused, lent = asyncio.run(go())
    assert {lo.status for lo in outcome.report.links} == {LinkStatus.OK}
    assert host.arrivals("/check/")[0] - paused >= 0.45 and lent == frozenset()
