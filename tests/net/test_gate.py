"""One gate for every request of a run (crawler.net.pacing.HostGate inside crawler.net.pool.ClientPool's transports).

One loopback host receives, at the same time, the link checks (crawler.checking.checker), a venue site's page fetcher
(crawler.sources.pages), arXiv's synchronous client in its worker thread (crawler.sources.arxiv) and the
Wayback Machine's question (crawler.sources.wayback). The host counts what arrives: together they keep to
its concurrency and spacing, and a 429 that a source gets pauses the link checks too.
"""

from __future__ import annotations

import asyncio
import threading
import time

import pytest

from crawler.checking.checker import Checker
from crawler.config import HostRule, Settings
from crawler.errors import HostPaused, SourceUnavailable
from crawler.models import LinkStatus
from crawler.net.pool import ClientPool
from crawler.sources import wayback
from crawler.sources.arxiv import ArxivSource
from crawler.sources.pages import PageFetcher
from tests.fakes.sites import FakeArxiv, make_entry
from tests.fakes.web import FakeWeb, Reply, Request, RoutingTransport

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


def run(web: FakeWeb, settings: Settings, body):
    async def go():
        routed = lambda limits: RoutingTransport(web.port, limits)  # noqa: E731
        async with ClientPool(settings, transport_factory=routed) as pool:
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
