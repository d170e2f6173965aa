"""crawler.net.pacing and the Checker's manners toward hosts that rate-limit, without waiting real minutes.

Unit tests drive HostPacer with a manual clock: a sleep returns only when the test moves time past it.
The end-to-end tests run the Checker over a real ClientPool (both transports) against a loopback fake of
github.com that behaves as the real site does toward a crawler without a token: it allows a few HTML
requests per minute from one address and answers the rest with `429` and `Retry-After: 60`. There, time
is scaled: the crawler and the fake share a clock on which a virtual second passes in a few milliseconds.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from crawler.checking.checker import Checker
from crawler.config import HostRule, Settings
from crawler.models import LinkStatus
from crawler.net.pacing import MAX_LEARNED_SPACING, SLACK, HostPacer
from crawler.net.pool import ClientPool
from tests.fakes.limited import LimitedGitHub
from tests.fakes.web import Loopback, Reply

# --- HostPacer, on a manual clock ------------------------------------------------------------------


class ManualTime:
    """A clock that moves only when the test says; `sleep` returns once the clock has passed its end."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, asyncio.Future]] = []

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future = asyncio.get_running_loop().create_future()
        self._sleepers.append((self.t + seconds, future))
        await future

    async def advance(self, seconds: float) -> None:
        self.t += seconds
        for entry in list(self._sleepers):
            if entry[0] <= self.t + 1e-9:
                self._sleepers.remove(entry)
                entry[1].set_result(None)
        for _ in range(10):  # let the woken tasks run up to their next wait
            await asyncio.sleep(0)


def pacer_for(clock: ManualTime, **settings) -> HostPacer:
    return HostPacer(Settings(**settings), now=clock.now, sleep=clock.sleep)


def test_a_host_without_rules_is_never_held_up():
    async def main():
        clock = ManualTime()
        pacer = pacer_for(clock)
        assert [await pacer.turn("papers.example") for _ in range(50)] == [None] * 50
        assert clock.sleeps == []

    asyncio.run(main())


def test_spacing_separates_the_starts_of_requests_to_a_host():
    async def main():
        clock = ManualTime()
        pacer = pacer_for(clock, hosts={"slow.example": HostRule(spacing=2.0)})
        started: list[tuple[str, float]] = []

        async def one(host: str):
            await pacer.turn(host)
            started.append((host, clock.now()))

        tasks = [asyncio.ensure_future(one("slow.example")) for _ in range(4)]
        tasks.append(asyncio.ensure_future(one("other.example")))
        await asyncio.sleep(0)
        for _ in range(4):
            await clock.advance(2.0)
        await asyncio.gather(*tasks)
        assert sorted(t for h, t in started if h == "slow.example") == [0.0, 2.0, 4.0, 6.0]
        assert ("other.example", 0.0) in started  # another host is not held up by this one's spacing

    asyncio.run(main())


def test_a_pause_holds_every_request_to_the_host_also_those_already_waiting():
    async def main():
        clock = ManualTime()
        pacer = pacer_for(clock, hosts={"busy.example": HostRule(spacing=10.0)})
        started: list[float] = []

        async def one():
            await pacer.turn("busy.example")
            started.append(clock.now())

        first = asyncio.ensure_future(one())
        queued = asyncio.ensure_future(one())  # reserved the slot at 10 s and sleeps until then
        await asyncio.sleep(0)
        assert started == [0.0]
        await clock.advance(5.0)
        pacer.pause("busy.example", 60.0)  # the first request got a 429 at 5 s
        later = asyncio.ensure_future(one())
        await clock.advance(5.0)  # 10 s: the queued request's slot, but the host is paused
        assert started == [0.0]
        await clock.advance(54.0)  # 64 s
        assert started == [0.0]
        await clock.advance(1.0)  # 65 s: the pause is over; one starts now, the next a spacing later
        await clock.advance(10.0)
        await clock.advance(10.0)
        await asyncio.gather(first, queued, later)
        assert started[1:] == [65.0, 65.0 + pacer.spacing("busy.example")]
        assert pacer.paused_for("busy.example") == 0.0

    asyncio.run(main())


def test_a_429_teaches_the_rate_the_host_allowed():
    async def main():
        clock = ManualTime()
        pacer = pacer_for(clock, hosts={"github.com": HostRule(spacing=1.0)})
        for _ in range(11):  # 11 starts a second apart; the 11th is answered 429
            turn = asyncio.ensure_future(pacer.turn("github.com"))
            await clock.advance(0.0)
            assert await turn is None
            await clock.advance(1.0)
        pacer.pause("github.com", 60.0)
        # 10 requests were allowed in the minute before: one every 6 s, with slack to spare.
        assert pacer.spacing("github.com") == pytest.approx(SLACK * 60.0 / 10)
        assert pacer.strikes("github.com") == 1
        pacer.answered("github.com")
        assert pacer.strikes("github.com") == 0 and pacer.spacing("github.com") == pytest.approx(SLACK * 6.0)

    asyncio.run(main())


def test_a_429_on_the_first_request_teaches_only_the_pause():
    async def main():
        clock = ManualTime()
        pacer = pacer_for(clock, hosts={"github.com": HostRule(spacing=1.0)})
        assert await pacer.turn("github.com") is None
        pacer.pause("github.com", 60.0)
        assert pacer.spacing("github.com") == 1.0 and pacer.paused_for("github.com") == 60.0
        # Two requests allowed in the window: the estimate would be 36 s apart; it stops at the cap.
        await clock.advance(60.0)
        for _ in range(2):
            turn = asyncio.ensure_future(pacer.turn("github.com"))
            await clock.advance(1.0)
            await turn
        await clock.advance(0.5)
        pacer.pause("github.com", 60.0)
        assert pacer.spacing("github.com") == MAX_LEARNED_SPACING

    asyncio.run(main())


def test_a_pause_beyond_the_ceiling_sends_nothing_and_waits_for_nothing():
    async def main():
        clock = ManualTime()
        pacer = pacer_for(clock, retry_after_ceiling=60.0)
        pacer.pause("github.com", 3600.0)
        assert await pacer.turn("github.com") == 3600.0
        await clock.advance(3000.0)
        assert await pacer.turn("github.com") == 600.0
        assert clock.sleeps == []
        await clock.advance(590.0)  # 10 s left: within the ceiling, so it is waited for
        turn = asyncio.ensure_future(pacer.turn("github.com"))
        await asyncio.sleep(0)
        await clock.advance(10.0)
        assert await turn is None and clock.sleeps == [pytest.approx(10.0)]

    asyncio.run(main())


# --- a loopback github.com that rate-limits, on a scaled clock ---------------------------------------


class ScaledTime:
    """Virtual seconds passing `speed` times faster than real ones; the crawler and the fake share them."""

    def __init__(self, speed: float):
        self.speed = speed
        self._origin = time.monotonic()

    def now(self) -> float:
        return (time.monotonic() - self._origin) * self.speed

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds / self.speed)


@pytest.fixture
def serve():
    """serve(fake) -> port of a loopback server answering as `fake` (any host name resolves to it)."""
    servers: list[Loopback] = []

    def start(fake) -> int:
        servers.append(Loopback(fake).start())
        return servers[-1].port

    yield start
    for server in servers:
        server.stop()


async def _loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def check_all(urls: list[str], clock: ScaledTime, transport: str, **changes):
    """Every URL at once, as a list's links are queued: the host's slots and manners decide who goes."""
    values = dict(allow_private=True, transport=transport, timeout=600.0, retries=2)
    values.update(changes)
    settings = Settings(**values)

    async def main():
        async with ClientPool(settings, resolver=_loopback, transport=transport, monotonic=clock.now,
                              sleep=clock.sleep) as pool:
            checker = Checker(pool, settings, sleep=clock.sleep)
            results = await asyncio.gather(*(checker.check(u) for u in urls))
            return results, checker

    return asyncio.run(main())


@pytest.mark.parametrize("transport", ["aiohttp", "httpcore"])
def test_github_without_a_token_gets_few_429s_and_no_false_alarm(serve, transport):
    clock = ScaledTime(speed=150)
    repos = [f"/owner{i}/repo{i}" for i in range(40)]
    gone = frozenset({repos[7], repos[31]})
    github = LimitedGitHub(clock.now, allowed=10, missing=gone)
    port = serve(github)
    urls = [f"http://github.com:{port}{path}" for path in repos]
    results, checker = check_all(urls, clock, transport)

    by_path = {path: r for path, r in zip(repos, results, strict=True)}
    assert {p for p, r in by_path.items() if r.status is LinkStatus.BROKEN} == gone  # and nothing else
    assert all(r.status is LinkStatus.OK for p, r in by_path.items() if p not in gone)
    refusals = github.times_of(429)
    assert 1 <= len(refusals) <= len(urls) // 10  # github.com allows 10 a minute: one burst meets it
    # A 429 stops every request to the host for its Retry-After: only one already under way may
    # still arrive (the host has two slots), none starts until the minute is over.
    for t in refusals:  # (margins of 15 virtual seconds, 0.1 s of real time, for a busy machine)
        during = [a for a, _ in github.answers if t + 15 < a < t + 45]
        assert during == [], (t, during)
    assert checker.pacer.spacing("github.com") > 1.0  # it learned the rate github.com allows


def test_github_defaults_can_be_overridden_by_config(serve):
    """A user's rule for github.com replaces the built-in fields it names and keeps the others."""
    clock = ScaledTime(speed=60)  # slower: the gaps are measured where the server sees the requests arrive
    github = LimitedGitHub(clock.now, allowed=1000)
    port = serve(github)
    urls = [f"http://github.com:{port}/o/r{i}" for i in range(6)]
    rule = HostRule(spacing=5.0)
    results, checker = check_all(urls, clock, "aiohttp", hosts={"github.com": rule})
    assert [r.status for r in results] == [LinkStatus.OK] * 6
    arrivals = sorted(github.times_of(200))
    # 5 s apart, not the built-in 1 s (measured over the whole run: a busy machine delays single arrivals).
    assert arrivals[-1] - arrivals[0] >= 0.9 * 5.0 * (len(arrivals) - 1)
    assert checker.pool.host_limit("github.com") == 2  # the built-in concurrency still holds
    assert checker.settings.host_rule("github.com").pause == 60.0


def test_a_429_that_never_lifts_stays_rate_limited_and_never_broken(serve):
    clock = ScaledTime(speed=1000)
    github = LimitedGitHub(clock.now, allowed=0)  # this machine has used up its minute, every minute
    port = serve(github)
    urls = [f"http://github.com:{port}/o/r{i}" for i in range(4)]
    results, _ = check_all(urls, clock, "aiohttp")
    assert [(r.status, r.http_status) for r in results] == [(LinkStatus.RATE_LIMITED, 429)] * 4
    refusals = github.times_of(429)
    assert len(refusals) <= 4 * 3  # at most every attempt, and all of them spaced by the pauses
    gaps = [b - a for a, b in zip(refusals, refusals[1:], strict=False)]
    assert sum(1 for g in gaps if g >= 55) >= len(refusals) // 2 - 1


def test_a_retry_after_beyond_the_ceiling_closes_the_host_for_the_run(serve):
    clock = ScaledTime(speed=300)
    github = LimitedGitHub(clock.now, allowed=0, retry_after="3600")
    port = serve(github)
    paper_port = serve(Reply(200, b"<title>A paper</title>", {"Content-Type": "text/html"}))
    urls = [f"http://github.com:{port}/o/r{i}" for i in range(20)]
    other = f"http://papers.example:{paper_port}/paper"
    results, _ = check_all(urls + [other], clock, "aiohttp", retry_after_ceiling=60.0)
    *gh, paper = results
    assert paper.status is LinkStatus.OK  # other hosts carry on
    assert all(r.status is LinkStatus.RATE_LIMITED for r in gh)
    assert len(github.answers) <= 2  # the requests under way when the first 429 came; no more were sent
    unsent = [r for r in gh if r.http_status is None]
    assert len(unsent) >= 18
    assert all(r.error.startswith("not sent: github.com asked for a pause of") for r in unsent)
