"""crawler.checking.checker: one URL in, one CheckResult out, against respx-mocked answers.

respx mocks at the httpx client (`using="httpx"`), whatever the pool's transport, so no request leaves the
process; the pool is also given a resolver that fails the test if anything ever tries to resolve a name.
Time is fake: the Checker's `sleep` records the waits instead of waiting, its clock is frozen, and its
random source records the jitter bounds it was asked for.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass

import httpx
import pytest
import respx

from crawler.checking.checker import Checker
from crawler.config import Settings
from crawler.models import CheckResult, Hop, LinkStatus
from crawler.net.pool import ClientPool

URL = "https://papers.example.org/paper/1"
NOW = 1_700_000_000.0  # the checker's frozen clock
BASE = 1.0  # backoff_base: first wait in [0.5, 1], second in [1, 2]


# --- fixtures and helpers -------------------------------------------------------------------------


@pytest.fixture
def mock():
    """respx router; an unmocked request is an error, never a real connection."""
    with respx.mock(using="httpx", assert_all_called=False, assert_all_mocked=True) as router:
        yield router


async def _no_dns(host: str, port: int) -> list[str]:
    raise AssertionError(f"test_check must never resolve a name (asked for {host}:{port})")


class Waits(list):
    """The Checker's sleep: records each wait and moves a fake monotonic clock by it, takes no time."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        self.now += seconds

    def monotonic(self) -> float:
        return self.now


class RecordingRandom(random.Random):
    """Records the (low, high) bounds of every jitter draw."""

    def __init__(self, seed: int = 0):
        super().__init__(seed)
        self.bounds: list[tuple[float, float]] = []

    def uniform(self, a: float, b: float) -> float:
        self.bounds.append((a, b))
        return super().uniform(a, b)


def make_settings(**changes) -> Settings:
    # soft404=False: HEAD first, GET when HEAD is refused or unreliable (the mode most tests here pin down);
    # the default GET-first mode has its own tests below.
    values = dict(retries=2, backoff_base=BASE, timeout=5.0, connect_timeout=5.0, retry_after_ceiling=30.0,
                  soft404=False)
    values.update(changes)
    return Settings(**values)


@dataclass
class Run:
    result: CheckResult
    waits: list[float]
    bounds: list[tuple[float, float]]
    requests_sent: int
    network_failures: int
    answers: int


def check(url: str = URL, *, settings: Settings | None = None, seed: int = 0, **kwargs) -> Run:
    settings = settings or make_settings()

    async def main() -> Run:
        waits, rng = Waits(), RecordingRandom(seed)
        async with ClientPool(settings, resolver=_no_dns, monotonic=waits.monotonic, sleep=waits) as pool:
            checker = Checker(pool, settings, sleep=waits, clock=lambda: NOW, rng=rng)
            result = await checker.check(url, **kwargs)
        return Run(result, list(waits), rng.bounds, pool.requests_sent, checker.network_failures, checker.answers)

    return asyncio.run(main())


def assert_backoff(run: Run, sleeps: int) -> None:
    """`sleeps` waits, the i-th drawn from [base * 2**i / 2, base * 2**i].

    tenacity computes a wait after the last attempt too, before its stop rule ends the loop; that draw is never
    slept, so only the first `sleeps` draws are compared.
    """
    expected = [(BASE * 2**i / 2, BASE * 2**i) for i in range(sleeps)]
    assert run.bounds[:sleeps] == expected
    assert len(run.waits) == sleeps
    for wait, (low, high) in zip(run.waits, expected, strict=True):
        assert low <= wait <= high


def responses(*codes: int, headers: dict[str, str] | None = None) -> list[httpx.Response]:
    return [httpx.Response(code, headers=headers) for code in codes]


# --- plain answers --------------------------------------------------------------------------------


def test_200_is_ok_with_one_head(mock):
    head = mock.head(URL).respond(200)
    get = mock.get(URL).respond(200)
    run = check()
    r = run.result
    assert (r.status, r.http_status, r.final_url, r.error) == (LinkStatus.OK, 200, URL, None)
    assert r.redirects == () and r.suggestion is None
    assert r.url == URL and r.checked_at == NOW and not r.from_cache
    assert (head.call_count, get.call_count, run.requests_sent) == (1, 0, 1)
    assert run.waits == [] and run.answers == 1 and run.network_failures == 0


def test_request_names_the_tool(mock):
    head = mock.head(URL).respond(200)
    settings = make_settings(contact="mailto:lists@example.org")
    check(settings=settings)
    agent = head.calls.last.request.headers["user-agent"]
    assert agent == settings.agent
    assert agent.startswith("paper-list-crawler/") and "mailto:lists@example.org" in agent


@pytest.mark.parametrize("code", [404, 410])
def test_gone_is_broken_after_get_confirms(mock, code):
    head = mock.head(URL).respond(code)
    get = mock.get(URL).respond(code)
    r = check().result
    assert (r.status, r.http_status, r.error, r.final_url) == (LinkStatus.BROKEN, code, f"HTTP {code}", URL)
    assert r.suggestion is None and r.redirects == ()
    assert (head.call_count, get.call_count) == (1, 1)  # HEAD, then GET to confirm; no retry


@pytest.mark.parametrize("code", [405, 501])
def test_head_not_supported_falls_back_to_get(mock, code):
    head = mock.head(URL).respond(code)
    get = mock.get(URL).respond(200, text="<title>A paper</title>")
    run = check()
    assert (run.result.status, run.result.http_status, run.result.error) == (LinkStatus.OK, 200, None)
    assert (head.call_count, get.call_count, run.requests_sent) == (1, 1, 2)
    assert run.waits == []


def test_lying_head_is_overruled_by_get(mock):
    head = mock.head(URL).respond(404)
    get = mock.get(URL).respond(200)
    r = check().result
    assert (r.status, r.http_status, r.error, r.final_url) == (LinkStatus.OK, 200, None, URL)
    assert (head.call_count, get.call_count) == (1, 1)


# --- redirects ------------------------------------------------------------------------------------

A = "https://old.example.org/a"
B = "https://new.example.org/b"
C = "https://cdn.example.org/c"


def test_permanent_redirect_suggests_final_url(mock):
    hop = mock.head(A).respond(301, headers={"Location": B})
    end = mock.head(B).respond(200)
    r = check(A).result
    assert (r.status, r.http_status, r.final_url, r.suggestion, r.error) == (LinkStatus.REDIRECTED, 200, B, B, None)
    assert r.redirects == (Hop(A, 301),)
    assert (hop.call_count, end.call_count) == (1, 1)


def test_308_is_permanent_too(mock):
    mock.head(A).respond(308, headers={"Location": B})
    mock.head(B).respond(200)
    r = check(A).result
    assert (r.status, r.suggestion, r.final_url, r.redirects) == (LinkStatus.REDIRECTED, B, B, (Hop(A, 308),))


@pytest.mark.parametrize("code", [302, 303, 307])
def test_temporary_redirect_is_ok(mock, code):
    mock.head(A).respond(code, headers={"Location": B})
    end = mock.head(B).respond(200)
    r = check(A).result
    assert (r.status, r.http_status, r.final_url, r.suggestion) == (LinkStatus.OK, 200, B, None)
    assert r.redirects == (Hop(A, code),)
    assert end.call_count == 1


def test_suggestion_is_target_of_the_permanent_hop(mock):
    # 301 -> 302 -> 200: the list should point where the 301 says, not at the temporary final URL.
    mock.head(A).respond(301, headers={"Location": B})
    mock.head(B).respond(302, headers={"Location": C})
    mock.head(C).respond(200)
    r = check(A).result
    assert (r.status, r.final_url, r.suggestion) == (LinkStatus.REDIRECTED, C, B)
    assert r.redirects == (Hop(A, 301), Hop(B, 302))


def test_suggestion_after_temporary_then_permanent_is_final(mock):
    mock.head(A).respond(302, headers={"Location": B})
    mock.head(B).respond(301, headers={"Location": C})
    mock.head(C).respond(200)
    r = check(A).result
    assert (r.status, r.final_url, r.suggestion) == (LinkStatus.REDIRECTED, C, C)
    assert r.redirects == (Hop(A, 302), Hop(B, 301))


@pytest.mark.parametrize(
    ("location", "target"),
    [
        ("../new/page?x=1", "https://papers.example.org/new/page?x=1"),
        ("/moved", "https://papers.example.org/moved"),
        ("//mirror.example.org/p", "https://mirror.example.org/p"),
        ("  next  ", "https://papers.example.org/paper/next"),
    ],
)
def test_relative_location_is_resolved_against_current_url(mock, location, target):
    mock.head(URL).respond(301, headers={"Location": location})
    end = mock.head(target).respond(200)
    r = check().result
    assert (r.status, r.final_url, r.suggestion) == (LinkStatus.REDIRECTED, target, target)
    assert r.redirects == (Hop(URL, 301),)
    assert end.call_count == 1


def test_redirect_after_head_fallback_keeps_get(mock):
    # HEAD 405 at A: GET A answers 301, so B is fetched with GET as well.
    mock.head(A).respond(405)
    mock.get(A).respond(301, headers={"Location": B})
    head_b = mock.head(B).respond(200)
    get_b = mock.get(B).respond(200)
    r = check(A).result
    assert (r.status, r.final_url, r.redirects) == (LinkStatus.REDIRECTED, B, (Hop(A, 301),))
    assert (head_b.call_count, get_b.call_count) == (0, 1)


def test_redirect_loop_is_unreachable(mock):
    a = mock.head(A).respond(301, headers={"Location": B})
    b = mock.head(B).respond(302, headers={"Location": A})
    run = check(A)
    r = run.result
    assert (r.status, r.error, r.http_status, r.final_url) == (LinkStatus.UNREACHABLE, "redirect loop", 302, A)
    assert r.redirects == (Hop(A, 301), Hop(B, 302))
    assert r.suggestion is None
    assert (a.call_count, b.call_count) == (1, 1) and run.waits == []  # a loop is not retried


def test_self_redirect_is_a_loop(mock):
    route = mock.head(A).respond(302, headers={"Location": A})
    r = check(A).result
    assert (r.status, r.error, r.redirects) == (LinkStatus.UNREACHABLE, "redirect loop", (Hop(A, 302),))
    assert route.call_count == 1


def _chain(mock, length: int) -> list[respx.Route]:
    """/r0 -> /r1 -> ... -> /r{length}, which answers 200."""
    routes = []
    for i in range(length):
        routes.append(mock.head(f"https://hops.example.org/r{i}").respond(301, headers={"Location": f"/r{i + 1}"}))
    routes.append(mock.head(f"https://hops.example.org/r{length}").respond(200))
    return routes


def test_redirects_up_to_the_limit_are_followed(mock):
    routes = _chain(mock, 3)
    r = check("https://hops.example.org/r0", settings=make_settings(max_redirects=3)).result
    assert (r.status, r.final_url) == (LinkStatus.REDIRECTED, "https://hops.example.org/r3")
    assert len(r.redirects) == 3
    assert [route.call_count for route in routes] == [1, 1, 1, 1]


def test_too_many_redirects_is_unreachable(mock):
    routes = _chain(mock, 10)
    run = check("https://hops.example.org/r0", settings=make_settings(max_redirects=3))
    r = run.result
    assert (r.status, r.error, r.http_status) == (LinkStatus.UNREACHABLE, "too many redirects", 301)
    assert r.final_url == "https://hops.example.org/r4"
    assert r.redirects == tuple(Hop(f"https://hops.example.org/r{i}", 301) for i in range(4))
    # r0..r3 were asked; the 4th redirect's target r4 was not.
    assert [route.call_count for route in routes] == [1, 1, 1, 1] + [0] * 7
    assert run.waits == []


@pytest.mark.parametrize("location", ["ftp://ftp.example.org/paper.pdf", "file:///etc/passwd"])
def test_redirect_to_non_web_scheme_is_unreachable(mock, location):
    mock.head(A).respond(302, headers={"Location": location})
    run = check(A)
    r = run.result
    assert (r.status, r.error, r.final_url, r.http_status) == (
        LinkStatus.UNREACHABLE,
        "redirect to a non-web URL",
        location,
        302,
    )
    assert r.redirects == (Hop(A, 302),)
    assert run.requests_sent == 1 and run.waits == []


@pytest.mark.parametrize("location", ["javascript:alert(1)", "mailto:a@example.org"])
def test_redirect_to_scheme_httpx_rejects_is_unreachable_not_invalid(mock, location):
    mock.head(A).respond(302, headers={"Location": location})
    run = check(A)
    r = run.result
    assert r.status is LinkStatus.UNREACHABLE
    assert "redirect" in (r.error or "")
    assert run.requests_sent == 1 and run.waits == []


def test_redirect_without_location_is_unreachable(mock):
    mock.head(A).respond(301)
    r = check(A).result
    assert (r.status, r.error, r.http_status, r.redirects) == (
        LinkStatus.UNREACHABLE,
        "HTTP 301 without Location",
        301,
        (),
    )


def test_malformed_location_is_a_result_not_an_exception(mock):
    mock.head(A).respond(302, headers={"Location": "http://[bad"})
    r = check(A).result
    assert r.status is LinkStatus.UNREACHABLE
    assert r.redirects == (Hop(A, 302),)


def test_malformed_url_is_a_result_not_an_exception(mock):
    r = check("http://[::1/x").result
    assert r.status is LinkStatus.INVALID
    assert len(mock.calls) == 0


# --- blocked --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "code",
    [
        401,
        999,
    ],
)
def test_login_and_bot_walls_are_blocked(mock, code):
    head = mock.head(URL).respond(code)
    get = mock.get(URL).respond(code)
    run = check()
    r = run.result
    assert (r.status, r.http_status, r.error) == (LinkStatus.BLOCKED, code, f"HTTP {code} (login or bot wall)")
    # 401 and 999 are not among the HEAD answers re-asked with GET: HEAD's answer stands.
    assert (head.call_count, get.call_count) == (1, 0)
    assert run.waits == []


def test_403_on_head_is_confirmed_with_get(mock):
    head = mock.head(URL).respond(403)
    get = mock.get(URL).respond(403)
    r = check().result
    assert (r.status, r.http_status, r.error) == (LinkStatus.BLOCKED, 403, "HTTP 403 (login or bot wall)")
    assert (head.call_count, get.call_count) == (1, 1)


def test_403_on_head_only_is_ok(mock):
    mock.head(URL).respond(403)
    mock.get(URL).respond(200)
    assert check().result.status is LinkStatus.OK


@pytest.mark.parametrize("code", [400, 405, 406, 418])
def test_other_4xx_after_get_is_blocked_as_refused(mock, code):
    mock.head(URL).respond(code)
    get = mock.get(URL).respond(code)
    run = check()
    r = run.result
    assert (r.status, r.http_status, r.error) == (LinkStatus.BLOCKED, code, f"HTTP {code} (request refused)")
    assert run.requests_sent == (2 if code != 418 else 1)  # 418 is not a HEAD answer re-asked with GET
    assert get.call_count == (1 if code != 418 else 0)
    assert run.waits == []


# --- retries and backoff --------------------------------------------------------------------------


def test_500_then_200_is_ok_after_one_backoff(mock):
    head = mock.head(URL).mock(side_effect=responses(500, 200))
    run = check()
    assert (run.result.status, run.result.http_status, run.result.error) == (LinkStatus.OK, 200, None)
    assert head.call_count == 2
    assert run.bounds == [(BASE / 2, BASE)]
    assert len(run.waits) == 1 and BASE / 2 <= run.waits[0] <= BASE


def test_backoff_is_exponential_with_jitter(mock):
    head = mock.head(URL).mock(side_effect=responses(500, 502, 200))
    run = check()
    assert run.result.status is LinkStatus.OK and head.call_count == 3
    assert run.bounds == [(BASE / 2, BASE), (BASE, 2 * BASE)]
    (w1, w2) = run.waits
    assert BASE / 2 <= w1 <= BASE <= w2 <= 2 * BASE


def test_jitter_differs_between_checks(mock):
    mock.head(URL).mock(side_effect=lambda request: httpx.Response(500))
    firsts = {check(seed=seed).waits[0] for seed in range(5)}
    assert len(firsts) == 5  # full jitter: no two checks back off in lockstep
    assert all(BASE / 2 <= w <= BASE for w in firsts)


def test_server_error_after_all_attempts(mock):
    head = mock.head(URL).mock(side_effect=responses(503, 503, 503))
    get = mock.get(URL).respond(200)
    run = check()
    r = run.result
    assert (r.status, r.http_status, r.error, r.final_url) == (LinkStatus.SERVER_ERROR, 503, "HTTP 503", URL)
    assert (head.call_count, get.call_count) == (3, 0)  # retries + 1 attempts
    assert len(run.waits) == 2


def test_retries_setting_bounds_attempts(mock):
    head = mock.head(URL).mock(side_effect=lambda request: httpx.Response(500))
    run = check(settings=make_settings(retries=0))
    assert run.result.status is LinkStatus.SERVER_ERROR
    assert head.call_count == 1 and run.waits == []


def test_503_retry_after_is_honoured(mock):
    mock.head(URL).mock(side_effect=[httpx.Response(503, headers={"Retry-After": "3"}), httpx.Response(200)])
    run = check()
    assert run.result.status is LinkStatus.OK and run.waits == [3.0] and run.bounds == []


def test_503_retry_after_above_ceiling_gives_up_at_once(mock):
    head = mock.head(URL).respond(503, headers={"Retry-After": "3600"})
    run = check()
    assert (run.result.status, run.result.http_status) == (LinkStatus.SERVER_ERROR, 503)
    assert head.call_count == 1 and run.waits == []


def test_408_is_retried(mock):
    head = mock.head(URL).mock(side_effect=responses(408, 200))
    run = check()
    assert (run.result.status, run.result.http_status) == (LinkStatus.OK, 200)
    assert head.call_count == 2 and len(run.waits) == 1


def test_408_forever_is_timeout(mock):
    head = mock.head(URL).mock(side_effect=lambda request: httpx.Response(408))
    run = check()
    assert (run.result.status, run.result.http_status, run.result.error) == (LinkStatus.TIMEOUT, 408, "HTTP 408")
    assert head.call_count == 3 and len(run.waits) == 2


def test_429_retry_after_seconds_is_waited_exactly(mock):
    head = mock.head(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "2"}), httpx.Response(200)])
    run = check()
    assert (run.result.status, run.result.http_status) == (LinkStatus.OK, 200)
    assert head.call_count == 2
    assert run.waits == [2.0] and run.bounds == []  # Retry-After replaces the backoff, no jitter


def test_429_retry_after_above_ceiling_is_not_retried(mock):
    head = mock.head(URL).respond(429, headers={"Retry-After": "120"})
    run = check(settings=make_settings(retry_after_ceiling=60.0))
    r = run.result
    assert (r.status, r.http_status, r.error) == (LinkStatus.RATE_LIMITED, 429, "HTTP 429")
    assert head.call_count == 1 and run.waits == []


def test_429_retry_after_at_ceiling_is_waited(mock):
    mock.head(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "60"}), httpx.Response(200)])
    run = check(settings=make_settings(retry_after_ceiling=60.0))
    assert run.result.status is LinkStatus.OK and run.waits == [60.0]


def test_429_retry_after_http_date(mock):
    when = email.utils.formatdate(NOW + 7, usegmt=True)  # e.g. "Tue, 14 Nov 2023 22:13:27 GMT"
    head = mock.head(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200)])
    run = check()
    assert run.result.status is LinkStatus.OK and head.call_count == 2
    assert run.waits == [7.0]


def test_429_retry_after_date_in_the_past_waits_nothing(mock):
    when = email.utils.formatdate(NOW - 100, usegmt=True)
    mock.head(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": when}), httpx.Response(200)])
    run = check()
    assert run.result.status is LinkStatus.OK and run.waits == []


def test_429_unparseable_retry_after_falls_back_to_backoff(mock):
    mock.head(URL).mock(side_effect=[httpx.Response(429, headers={"Retry-After": "soon"}), httpx.Response(200)])
    run = check()
    assert run.result.status is LinkStatus.OK
    assert run.bounds == [(BASE / 2, BASE)] and BASE / 2 <= run.waits[0] <= BASE


def test_429_forever_is_rate_limited(mock):
    head = mock.head(URL).mock(side_effect=lambda request: httpx.Response(429, headers={"Retry-After": "1"}))
    get = mock.get(URL).respond(200)
    run = check()
    r = run.result
    assert (r.status, r.http_status, r.error) == (LinkStatus.RATE_LIMITED, 429, "HTTP 429")
    assert (head.call_count, get.call_count) == (3, 0)
    assert run.waits == [1.0, 1.0]


def test_429_without_retry_after_backs_off(mock):
    head = mock.head(URL).mock(side_effect=lambda request: httpx.Response(429))
    run = check()
    assert run.result.status is LinkStatus.RATE_LIMITED and head.call_count == 3
    assert_backoff(run, 2)


def test_backoff_releases_the_host_and_global_slots():
    """A check waiting to retry holds no slot: other links of that host go ahead meanwhile."""
    settings = make_settings(host_concurrency=1, concurrency=1)
    seen: list[tuple[float, bool, bool]] = []

    async def main():
        async with ClientPool(settings, resolver=_no_dns) as pool:

            async def sleep(seconds: float) -> None:
                seen.append((seconds, pool.host_gate("papers.example.org").locked(), pool.gate.all.locked()))

            checker = Checker(pool, settings, sleep=sleep, clock=lambda: NOW, rng=random.Random(1))
            return await checker.check(URL)

    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.head(URL).mock(side_effect=responses(500, 500, 200))
        result = asyncio.run(main())
    assert result.status is LinkStatus.OK
    assert [(locked_host, locked_all) for _, locked_host, locked_all in seen] == [(False, False), (False, False)]


# --- transport failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("exc", [httpx.ConnectTimeout, httpx.ReadTimeout, httpx.PoolTimeout])
def test_timeouts_are_retried_then_timeout(mock, exc):
    head = mock.head(URL).mock(side_effect=exc)
    run = check()
    r = run.result
    assert (r.status, r.http_status, r.error) == (LinkStatus.TIMEOUT, None, "timed out: Mock Error")
    assert head.call_count == 3
    assert_backoff(run, 2)


def test_timeout_then_answer_is_ok(mock):
    head = mock.head(URL).mock(side_effect=[httpx.ReadTimeout("slow"), httpx.Response(200)])
    run = check()
    assert run.result.status is LinkStatus.OK and head.call_count == 2 and len(run.waits) == 1


def test_connect_error_is_unreachable(mock):
    head = mock.head(URL).mock(side_effect=httpx.ConnectError("Connection refused"))
    run = check()
    r = run.result
    assert (r.status, r.http_status, r.error) == (LinkStatus.UNREACHABLE, None, "connection failed: Connection refused")
    assert r.final_url == URL
    assert head.call_count == 3 and len(run.waits) == 2
    assert (run.network_failures, run.answers) == (3, 0)  # counted for outage detection


@pytest.mark.parametrize(
    ("exc", "error"),
    [
        (httpx.ReadError("reset by peer"), "connection broken: reset by peer"),
        (httpx.RemoteProtocolError("Server disconnected"), "connection broken: Server disconnected"),
    ],
)
def test_broken_connection_is_unreachable(mock, exc, error):
    head = mock.head(URL).mock(side_effect=exc)
    get = mock.get(URL).mock(side_effect=exc)
    run = check()
    assert (run.result.status, run.result.error) == (LinkStatus.UNREACHABLE, error)
    # Each attempt is tried once more at once on a new connection, as GET: 3 attempts, 6 requests.
    assert (head.call_count, get.call_count, run.requests_sent) == (3, 3, 6)
    assert len(run.waits) == 2  # the backoff comes between attempts, not before the immediate retry
    assert run.network_failures == 0  # a server was reached


def test_hang_is_cut_by_the_total_timeout(mock):
    calls = 0

    async def hang(request):
        nonlocal calls
        calls += 1
        await asyncio.sleep(30)
        return httpx.Response(200)

    mock.head(URL).mock(side_effect=hang)
    started = time.monotonic()
    run = check(settings=make_settings(timeout=0.2, connect_timeout=0.2))
    elapsed = time.monotonic() - started
    r = run.result
    assert (r.status, r.http_status, r.error) == (LinkStatus.TIMEOUT, None, "no answer within 0.2 s")
    assert calls == 3 and len(run.waits) == 2
    assert 0.55 <= elapsed < 2.0  # three attempts of 0.2 s each, the backoff itself is fake


@pytest.mark.parametrize("url", ["http://0177.0.0.1/", "https://papers.example.org:abc/", "https://\u2603\u2603..org/"])
def test_url_httpx_cannot_use_is_invalid(mock, url):
    run = check(url)
    assert run.result.status is LinkStatus.INVALID
    assert run.result.error.startswith("invalid URL")
    assert len(mock.calls) == 0 and run.waits == []


# --- bodies ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("ctype", "most"), [("text/html", 4096 + 512), ("application/pdf", 512)])
def test_get_body_is_read_at_most_max_body(mock, ctype, most):
    """An HTML page is read up to the cap (for soft 404s); a PDF's body is not read at all."""
    chunk, total, cap = 512, 4 * 1024 * 1024, 4096
    produced = 0

    async def chunks():
        nonlocal produced
        for _ in range(total // chunk):
            produced += chunk
            yield b"%" * chunk

    mock.head(URL).respond(405)
    get = mock.get(URL).mock(
        side_effect=lambda request: httpx.Response(200, headers={"Content-Type": ctype}, content=chunks())
    )
    run = check(settings=make_settings(max_body=cap))
    assert (run.result.status, run.result.http_status) == (LinkStatus.OK, 200)
    assert get.call_count == 1
    assert produced <= most  # never downloaded whole
    assert produced < total


def test_error_body_is_not_read(mock):
    produced = 0

    async def chunks():
        nonlocal produced
        for _ in range(1000):
            produced += 1024
            yield b"x" * 1024

    mock.head(URL).respond(404)
    mock.get(URL).mock(side_effect=lambda request: httpx.Response(404, content=chunks()))
    assert check().result.status is LinkStatus.BROKEN
    assert produced <= 1024


# --- concurrency ----------------------------------------------------------------------------------


class InFlight:
    def __init__(self) -> None:
        self.now = 0
        self.peak = 0
        self.by_host: dict[str, int] = {}
        self.peak_by_host: dict[str, int] = {}

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        host = request.url.host
        self.now += 1
        self.by_host[host] = self.by_host.get(host, 0) + 1
        self.peak = max(self.peak, self.now)
        self.peak_by_host[host] = max(self.peak_by_host.get(host, 0), self.by_host[host])
        try:
            await asyncio.sleep(0.01)
        finally:
            self.now -= 1
            self.by_host[host] -= 1
        return httpx.Response(200)


def _check_all(settings: Settings, urls: list[str]) -> list[CheckResult]:
    async def main():
        waits = Waits()
        async with ClientPool(settings, resolver=_no_dns, monotonic=waits.monotonic, sleep=waits) as pool:
            checker = Checker(pool, settings, sleep=waits, clock=lambda: NOW)
            return await asyncio.gather(*(checker.check(u) for u in urls))

    return asyncio.run(main())


def test_host_concurrency_caps_requests_in_flight(mock):
    tracker = InFlight()
    route = mock.route(method="HEAD", host="papers.example.org").mock(side_effect=tracker)
    urls = [f"https://papers.example.org/p{i}" for i in range(10)]
    results = _check_all(make_settings(host_concurrency=2), urls)
    assert [r.status for r in results] == [LinkStatus.OK] * 10
    assert route.call_count == 10
    assert tracker.peak == 2  # never more than 2, and the cap is actually used


def test_host_rule_concurrency_overrides_default(mock):
    from crawler.config import HostRule

    tracker = InFlight()
    mock.route(method="HEAD").mock(side_effect=tracker)
    urls = [f"https://slow.example.org/p{i}" for i in range(6)] + [f"https://fast.example.org/p{i}" for i in range(6)]
    settings = make_settings(host_concurrency=3, hosts={"slow.example.org": HostRule(concurrency=1)})
    _check_all(settings, urls)
    assert tracker.peak_by_host == {"slow.example.org": 1, "fast.example.org": 3}


def test_global_concurrency_caps_across_hosts(mock):
    tracker = InFlight()
    route = mock.route(method="HEAD").mock(side_effect=tracker)
    urls = [f"https://h{i % 6}.example.org/p{i}" for i in range(18)]
    _check_all(make_settings(concurrency=3, host_concurrency=8), urls)
    assert route.call_count == 18
    assert tracker.peak == 3
    assert max(tracker.peak_by_host.values()) <= 3


def test_retries_go_through_the_gate_again(mock):
    """Each attempt, retries included, takes a host slot: with a cap of 1 no two requests overlap."""
    tracker = InFlight()
    attempts: dict[str, int] = {}

    async def flaky(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        attempts[path] = attempts.get(path, 0) + 1
        response = await tracker(request)
        return httpx.Response(500) if attempts[path] == 1 else response

    mock.route(method="HEAD").mock(side_effect=flaky)
    urls = [f"https://papers.example.org/p{i}" for i in range(5)]
    results = _check_all(make_settings(host_concurrency=1), urls)
    assert [r.status for r in results] == [LinkStatus.OK] * 5
    assert sorted(attempts.values()) == [2] * 5
    assert tracker.peak == 1


# --- conditional requests -------------------------------------------------------------------------

ETAG = '"v1-abc"'
LAST_MODIFIED = "Wed, 21 Oct 2015 07:28:00 GMT"


def test_validators_are_sent_and_304_is_ok(mock):
    head = mock.head(URL).respond(304, headers={"ETag": ETAG})
    run = check(etag=ETAG, last_modified=LAST_MODIFIED)
    sent = head.calls.last.request.headers
    assert sent["if-none-match"] == ETAG
    assert sent["if-modified-since"] == LAST_MODIFIED
    r = run.result
    assert (r.status, r.http_status, r.error, r.etag) == (LinkStatus.OK, 304, None, ETAG)
    assert run.requests_sent == 1


def test_validators_are_not_sent_unless_given(mock):
    head = mock.head(URL).respond(200, headers={"ETag": ETAG, "Last-Modified": LAST_MODIFIED})
    r = check().result
    sent = head.calls.last.request.headers
    assert "if-none-match" not in sent and "if-modified-since" not in sent
    assert (r.etag, r.last_modified) == (ETAG, LAST_MODIFIED)  # kept for next time


def test_validators_go_with_the_get_fallback_but_not_to_other_hops(mock):
    mock.head(A).respond(405)
    get_a = mock.get(A).respond(301, headers={"Location": B})
    get_b = mock.get(B).respond(200)
    check(A, etag=ETAG, last_modified=LAST_MODIFIED)
    assert get_a.calls.last.request.headers["if-none-match"] == ETAG
    assert "if-none-match" not in get_b.calls.last.request.headers
    assert "if-modified-since" not in get_b.calls.last.request.headers


# --- the default mode: soft-404 detection on, pages fetched with GET ------------------------------------


def test_default_mode_fetches_a_page_with_one_get(mock):
    head = mock.head(URL).respond(200, headers={"Content-Type": "text/html"})
    get = mock.get(URL).respond(200, headers={"Content-Type": "text/html"}, content=b"<title>A paper</title>")
    run = check(settings=make_settings(soft404=True))
    assert run.result.status is LinkStatus.OK
    assert (head.call_count, get.call_count) == (0, 1)


def test_default_mode_heads_a_pdf_and_never_reads_it(mock):
    pdf = "https://example.org/paper.pdf"
    head = mock.head(pdf).respond(200, headers={"Content-Type": "application/pdf"})
    get = mock.get(pdf).respond(200)
    run = check(pdf, settings=make_settings(soft404=True))
    assert run.result.status is LinkStatus.OK
    assert (head.call_count, get.call_count) == (1, 0)


def test_default_mode_catches_a_soft_404(mock):
    mock.get(URL).respond(200, headers={"Content-Type": "text/html; charset=utf-8"},
                          content=b"<html><head><title>Page not found - Example University</title></head></html>")
    run = check(settings=make_settings(soft404=True))
    assert run.result.status is LinkStatus.BROKEN
    assert "soft 404" in run.result.error


def test_a_page_that_merely_mentions_404_is_fine(mock):
    mock.get(URL).respond(200, headers={"Content-Type": "text/html"},
                          content=b"<title>HTTP status codes explained</title><!-- <title>404</title> -->"
                                  b"<script>var t='<h1>Not Found</h1>'</script><p>404 means not found.</p>")
    assert check(settings=make_settings(soft404=True)).result.status is LinkStatus.OK
