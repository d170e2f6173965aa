"""Checker: one URL in, one CheckResult out. A dead link is a result, never an exception.

The checker follows a URL's redirect chain and says what it found (crawler.findings): gone, moved,
walled, throttled, timed out... crawler.checking.verdicts turns that into the result. Retries, pacing
and the per-host pause after a 429 are the checker's; whether a 200 page is really "not found" is
crawler.checking.soft404's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import random
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import httpx
from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt

from crawler.checking import verdicts
from crawler.checking.fragments import page_ids
from crawler.checking.soft404 import soft_404
from crawler.config import Settings
from crawler.errors import HostPaused, NameNotResolved, PrivateAddressRefused, error_text
from crawler.findings import (
    Excluded,
    Finding,
    Gone,
    Invalid,
    ServerError,
    Throttled,
    TimedOut,
    Unreachable,
    Walled,
    loaded,
)
from crawler.listfile.links import WEB_SCHEMES, host_of
from crawler.models import CheckResult, Hop, PageIds
from crawler.net.body import read_capped
from crawler.net.pacing import retry_after
from crawler.net.pool import ADMITTED, ClientPool

log = logging.getLogger("crawler")

REDIRECT = frozenset({301, 302, 303, 307, 308})
# HEAD answers some servers get wrong: confirm with GET before believing them.
HEAD_UNRELIABLE = frozenset({400, 403, 404, 405, 406, 410, 501})
BLOCKED_STATUS = frozenset({401, 403, 407, 451, 999})


@dataclass
class _Attempt:
    """The outcome of one attempt (a whole redirect chain)."""

    finding: Finding
    http_status: int | None = None
    final_url: str | None = None
    hops: tuple[Hop, ...] = ()
    retry: bool = False
    retry_after: float | None = None
    etag: str | None = None
    last_modified: str | None = None
    page_ids: PageIds | None = None  # with --check-fragments: the ids of the page that loaded
    network_level: bool = False  # DNS or connect failure: no server answered at all
    reconnect: bool = False  # the connection broke mid-answer: worth one more try on a new one, at once
    paused: bool = False  # a 429 paused the host: the retry waits in the host's pause, not on its own


class Checker:
    def __init__(
        self,
        pool: ClientPool,
        settings: Settings,
        *,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ):
        """`clock` dates results and reads Retry-After dates; `sleep` waits between retries. Each host is
        paced by the pool's gate (crawler.net.pacing), shared with every other request of the run: tests give
        the pool a fake clock so that minutes of pauses take no time."""
        self.pool = pool
        self.settings = settings
        self._sleep = sleep
        self._clock = clock
        self._rng = rng or random.Random()
        self.pacer = pool.gate.pacer
        self.network_failures = 0  # attempts that reached no server (for outage detection)
        self.answers = 0  # attempts that got any HTTP answer

    async def check_many(self, urls: Iterable[str] | AsyncIterable[str],
                         validators: Mapping[str, tuple[str | None, str | None]] | None = None,
                         ) -> AsyncIterator[CheckResult]:
        """Every URL checked, each result as it is found; URLs may still be arriving (an async iterable).

        One queue per host and as many tasks on it as the host may have requests in flight: a few hundred
        tasks instead of one per URL parked on the host's semaphore. A crawler bug checking one
        URL becomes that URL's result, never the end of the night's run. Closing the iterator early
        (Ctrl-C, the run's time limit) cancels what is in flight.
        """
        validators = validators if validators is not None else {}
        queues: dict[str, deque[str]] = defaultdict(deque)
        running: dict[str, int] = defaultdict(int)
        found: asyncio.Queue[CheckResult] = asyncio.Queue()
        tasks: set[asyncio.Task] = set()
        added = 0

        async def host_worker(host: str) -> None:
            queue = queues[host]
            try:
                while queue:
                    url = queue.popleft()
                    etag, modified = validators.get(url, (None, None))
                    try:
                        result = await self.check(url, etag=etag, last_modified=modified)
                    except Exception as exc:  # a crawler bug must not sink the whole night's run
                        log.exception("checking %s failed", url)
                        result = verdicts.crawler_error(url, error_text(exc, verdicts.CRAWLER_ERROR), self._clock())
                    found.put_nowait(result)
            finally:
                running[host] -= 1

        def add(url: str) -> None:
            nonlocal added
            added += 1
            host = host_of(url)
            queues[host].append(url)
            if running[host] < self.pool.host_limit(host):
                running[host] += 1
                task = asyncio.ensure_future(host_worker(host))
                tasks.add(task)
                task.add_done_callback(tasks.discard)

        async def feed() -> None:
            if isinstance(urls, AsyncIterable):
                async for url in urls:
                    add(url)
            else:
                for url in urls:
                    add(url)

        feeder = asyncio.ensure_future(feed())
        given = 0
        try:
            while not (feeder.done() and given == added):
                if not found.empty():  # most results: no waiting, no task to wait with
                    given += 1
                    yield found.get_nowait()
                    continue
                getter = asyncio.ensure_future(found.get())
                await asyncio.wait({getter, feeder} if not feeder.done() else {getter},
                                   return_when=asyncio.FIRST_COMPLETED)
                if getter.done():
                    given += 1
                    yield getter.result()
                else:
                    getter.cancel()
            feeder.result()  # the URLs' source failed: say so
        finally:
            for task in (feeder, *tasks):
                task.cancel()
            await asyncio.gather(feeder, *tasks, return_exceptions=True)

    async def check(self, url: str, *, etag: str | None = None, last_modified: str | None = None) -> CheckResult:
        first = await self._attempt(url, etag, last_modified)
        if not first.retry or self.settings.retries == 0:
            return self._result(url, first)
        # Only a link that needs a retry pays for tenacity's machinery: built for every URL it cost
        # more CPU than the request itself.
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.settings.retries),
            wait=self._wait,
            retry=retry_if_result(lambda a: a.retry),
            sleep=self._nap,
            # Out of retries: the last answer is the verdict, not an exception.
            retry_error_callback=lambda state: state.outcome.result(),
        )
        await self._nap(self._delay(first, 1))
        last = await retrying(self._attempt, url, etag, last_modified)
        return self._result(url, last)

    async def _nap(self, seconds: float) -> None:
        if seconds > 0:  # a 429's wait is taken in the host's pause (crawler.net.pacing), not here
            await self._sleep(seconds)

    def _wait(self, state) -> float:
        # tenacity numbers the retries' attempts from 1; the first attempt came before it.
        return self._delay(state.outcome.result(), state.attempt_number + 1)

    def _delay(self, outcome: _Attempt, attempt_number: int) -> float:
        if outcome.paused:
            return 0.0
        if outcome.retry_after is not None:
            return min(outcome.retry_after, self.settings.retry_after_ceiling)
        return self._backoff(attempt_number)

    def _backoff(self, attempt_number: int) -> float:
        # Exponential backoff with full jitter: spread retries so a flaky host is not hit in lockstep.
        base = self.settings.backoff_base * (2 ** (attempt_number - 1))
        return self._rng.uniform(base / 2, base)

    async def _attempt(self, url: str, etag: str | None, last_modified: str | None) -> _Attempt:
        try:
            host = (urlsplit(url).hostname or "").lower()
            httpx.URL(url)
        except (ValueError, httpx.InvalidURL) as exc:
            return _Attempt(Invalid(error_text(exc, "invalid URL")))
        # The host's slot first, then its pause and spacing, then a global slot (the pool's gate, which
        # every other request of the run passes too), all outside the time limit of the request itself.
        try:
            await self.pool.gate.enter(host)
        except HostPaused as exc:
            return _not_sent(host, exc.seconds, url)
        try:
            async with asyncio.timeout(self.settings.timeout):
                outcome = await self._follow(url, etag, last_modified)
        except TimeoutError:
            outcome = _Attempt(TimedOut(f"no answer within {self.settings.timeout:g} s"), retry=True)
        finally:
            self.pool.gate.leave(host)
        if outcome.network_level:
            self.network_failures += 1
        elif outcome.http_status is not None:
            self.answers += 1
            if outcome.http_status == 429 and isinstance(outcome.finding, Throttled):
                self._pause_host(outcome)
            elif outcome.final_url:
                self.pacer.answered(host_of(outcome.final_url))
        return outcome

    def _pause_host(self, a: _Attempt) -> None:
        """A 429 stops every request to its host, not only this one: for its Retry-After,
        at least the host rule's pause, or else a backoff that grows with the host's 429s in a row.
        Longer than we wait for anyone (`retry_after_ceiling`): this link is rate_limited now, and
        the host's other links are not sent until the pause is over."""
        seconds = self.pool.gate.pause_for(host_of(a.final_url or ""), a.retry_after, backoff=self._backoff)
        a.paused = True
        a.retry = seconds <= self.settings.retry_after_ceiling

    async def _follow(self, url: str, etag: str | None, last_modified: str | None) -> _Attempt:
        hops: list[Hop] = []
        seen: set[str] = set()
        current = url
        # HEAD is enough when a page's content is not judged, and for files whose body is never wanted.
        # With soft-404 detection on, a page is read anyway: one GET instead of HEAD then GET.
        method = "GET" if self.settings.soft404 and not names_file(url) else "HEAD"
        paced = True  # _attempt paced the first request; redirects and retries are paced here
        fresh = False
        while True:
            first = not hops  # validators belong to the URL as listed, not to a redirect target
            if not paced and (held := await self._pace(current, hops)) is not None:
                return held
            paced = False
            outcome = await self._request(method, current, etag if first else None, last_modified if first else None,
                                          fresh=fresh)
            if isinstance(outcome, _Attempt):
                if outcome.reconnect and not fresh:
                    # Broken mid-answer, maybe on a kept-alive connection another answer poisoned:
                    # once more at once, on a new connection. A server that sends a body with its
                    # HEAD answer breaks HEAD itself, so the new try is a GET.
                    fresh = True
                    method = "GET"
                    continue
                outcome.hops = tuple(hops)
                outcome.final_url = current
                return outcome
            fresh = False
            response, body = outcome
            if method == "HEAD" and self._head_says_too_little(response):
                method = "GET"
                continue
            if response.status_code in REDIRECT and response.headers.get("location"):
                hops.append(Hop(current, response.status_code))
                target = self._hop(current, response, hops, seen)
                if isinstance(target, _Attempt):
                    return target
                seen.add(current)
                current = target
                continue
            return self._classify(response, body, current, tuple(hops), origin=url)

    async def _pace(self, current: str, hops: list[Hop]) -> _Attempt | None:
        """A redirect's or a retry's turn at its host; an attempt that ends here when the host is paused."""
        where = host_of(current)
        if (wait := self.pacer.paused_for(where)) > 0:
            # A 429 paused this request's host meanwhile: wait outside the slots and the
            # timeout, then start the chain again.
            return _Attempt(Throttled(f"{where} paused after HTTP 429"), final_url=current, hops=tuple(hops),
                            retry=wait <= self.settings.retry_after_ceiling, retry_after=wait)
        away = await self.pacer.turn(where)
        return _not_sent(where, away, current, tuple(hops)) if away is not None else None

    def _head_says_too_little(self, response: httpx.Response) -> bool:
        """A HEAD answer some servers get wrong, or a 2xx HTML page with soft-404 detection on: a HEAD cannot
        show a "not found" page served with 200, nor a HEAD that lies. The page itself is read (capped)."""
        return response.status_code in HEAD_UNRELIABLE or (self.settings.soft404 and _is_html_ok(response))

    def _hop(self, current: str, response: httpx.Response, hops: list[Hop], seen: set[str]) -> str | _Attempt:
        """Where a redirect leads, or the attempt's end when it leads nowhere a check may go."""
        code = response.status_code
        try:
            target = urljoin(current, response.headers["location"].strip())
            scheme = urlsplit(target).scheme.lower()
        except ValueError:  # a server's malformed Location is its problem, reported as a result
            return _Attempt(Unreachable("redirect to an invalid URL"), code, current, tuple(hops))
        if scheme not in WEB_SCHEMES:
            why = "redirect to a non-web URL"
        elif target in seen or target == current:
            why = "redirect loop"
        elif len(hops) > self.settings.max_redirects:
            why = "too many redirects"
        else:
            return target
        return _Attempt(Unreachable(why), code, target, tuple(hops))

    async def _request(self, method: str, url: str, etag: str | None, last_modified: str | None, *,
                       fresh: bool = False):
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        if not fresh:
            return await self._send(self.pool.client(url), method, url, headers)
        client = self.pool.fresh_client(url)
        try:
            return await self._send(client, method, url, headers)
        finally:
            await client.aclose()

    async def _send(self, client: httpx.AsyncClient, method: str, url: str, headers: dict[str, str]):
        try:
            await self.pool.precheck_proxy_target(url)
            self.pool.requests_sent += 1
            # Its turn at the gate is taken already (_attempt, _follow): the transport lets it by.
            async with client.stream(method, url, headers=headers, extensions={ADMITTED: True}) as response:
                log.debug("%s %s -> %s", method, url, response.status_code)
                body = b""
                if method == "GET" and response.status_code < 300 and self.settings.soft404 and _is_html_ok(response):
                    body = await read_capped(response, self.settings.max_body)  # an HTML page is judged by its content
                elif _is_short(response, self.settings.max_body):
                    # Read out (HEAD: nothing) so the connection goes back to the pool: a response
                    # closed with its body unread closes its connection.
                    await read_capped(response, self.settings.max_body)
                return response, body
        except PrivateAddressRefused as exc:
            return _Attempt(Excluded(f"private address refused ({exc.address}); see --allow-private"))
        except NameNotResolved as exc:
            if exc.transient:
                return _Attempt(Unreachable(f"DNS failure: {exc}"), retry=True, network_level=True)
            return _Attempt(Gone(f"name does not resolve: {exc.host}"), network_level=True)
        except httpx.TimeoutException as exc:
            return _Attempt(TimedOut(error_text(exc, "timed out")), retry=True)
        except httpx.ConnectError as exc:
            return _Attempt(Unreachable(error_text(exc, "connection failed")), retry=True, network_level=True)
        except (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError, httpx.CloseError) as exc:
            return _Attempt(Unreachable(error_text(exc, "connection broken")), retry=True, reconnect=True)
        except (httpx.InvalidURL, httpx.UnsupportedProtocol, UnicodeError, ValueError) as exc:
            # The URL itself was validated in _attempt; httpx also parses a redirect's Location
            # (even when not following), so this is the server sending us somewhere unusable.
            return _Attempt(Unreachable(error_text(exc, "redirect to an invalid URL")))
        except httpx.HTTPError as exc:
            return _Attempt(Unreachable(error_text(exc, "request failed")), retry=True)
        except OSError as exc:  # e.g. TLS errors surfacing as ssl.SSLError
            return _Attempt(Unreachable(error_text(exc, "connection failed")), retry=True)

    def _classify(self, response: httpx.Response, body: bytes, final: str, hops: tuple[Hop, ...],
                  origin: str = "") -> _Attempt:
        code = response.status_code
        base = dict(http_status=code, final_url=final, hops=hops,
                    etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"))
        if 200 <= code < 300 and self.settings.soft404:
            why = soft_404(origin or final, final, hops, body, response.headers.get("content-type", ""))
            if why:
                return _Attempt(Gone(f"soft 404: {why}"), **base)
        if 200 <= code < 300 or code == 304 or self._accepts(final, code):
            ids = page_ids(body, self.settings.max_body) if self.settings.check_fragments and body else None
            return _Attempt(loaded(hops, final), page_ids=ids, **base)
        return self._refused(response, base)

    def _accepts(self, final: str, code: int) -> bool:
        """A status the settings (or the host's rule) take for success."""
        rule = self.settings.hosts.get((urlsplit(final).hostname or "").lower())
        return code in self.settings.accept or bool(rule and code in rule.accept)

    def _refused(self, response: httpx.Response, base: dict) -> _Attempt:
        """What an answer that is neither a success nor a redirect says."""
        code = response.status_code
        if code in (404, 410):
            return _Attempt(Gone(f"HTTP {code}"), **base)
        if code == 429:  # _attempt pauses the host and decides whether waiting is worth it
            ra = retry_after(response.headers.get("retry-after"), self._clock())
            return _Attempt(Throttled("HTTP 429"), retry=True, retry_after=ra, **base)
        if code == 408:
            return _Attempt(TimedOut("HTTP 408"), retry=True, **base)
        if code in BLOCKED_STATUS:  # before the 5xx test: LinkedIn's 999 is a bot wall, not a server error
            return _Attempt(Walled(f"HTTP {code} (login or bot wall)"), **base)
        if 500 <= code <= 599:
            ra = retry_after(response.headers.get("retry-after"), self._clock()) if code == 503 else None
            if ra is not None and ra > self.settings.retry_after_ceiling:
                return _Attempt(ServerError(f"HTTP {code}"), **base)
            return _Attempt(ServerError(f"HTTP {code}"), retry=True, retry_after=ra, **base)
        if code in REDIRECT:
            return _Attempt(Unreachable(f"HTTP {code} without Location"), **base)
        # Other 4xx (400, 405, 406, ...) after a GET: the server refuses our client. We cannot judge.
        return _Attempt(Walled(f"HTTP {code} (request refused)"), **base)

    def _result(self, url: str, a: _Attempt) -> CheckResult:
        finding = a.finding
        why = getattr(finding, "why", None)
        if why:
            finding = dataclasses.replace(finding, why=error_text(why, "request failed"))
        return verdicts.result(url, finding, self._clock(), http_status=a.http_status, final_url=a.final_url,
                      redirects=a.hops, etag=a.etag, last_modified=a.last_modified, page_ids=a.page_ids)


def _is_short(response: httpx.Response, limit: int) -> bool:
    """A body known to be empty or small: cheaper to read out than to reconnect for the next request."""
    if response.request.method == "HEAD" or response.status_code in (204, 304):
        return True
    length = response.headers.get("content-length", "")
    return length.isdigit() and int(length) <= limit


_FILE_SUFFIXES = (".pdf", ".ps", ".gz", ".tgz", ".zip", ".tar", ".bz2", ".xz", ".7z", ".rar", ".ppt", ".pptx",
                  ".doc", ".docx", ".mp4", ".mov", ".avi", ".mkv", ".webm", ".mp3", ".wav", ".png", ".jpg",
                  ".jpeg", ".gif", ".bin", ".pt", ".pth", ".ckpt", ".h5", ".npz", ".onnx")


def names_file(url: str) -> bool:
    """A URL whose path names a download (a PDF, an archive, a model): HEAD first, its body is never read."""
    return urlsplit(url).path.lower().endswith(_FILE_SUFFIXES)


def _is_html_ok(response: httpx.Response) -> bool:
    ctype = response.headers.get("content-type", "").lower()
    return 200 <= response.status_code < 300 and ("html" in ctype)


def _not_sent(host: str, away: float, url: str, hops: tuple[Hop, ...] = ()) -> _Attempt:
    return _Attempt(Throttled(f"not sent: {host} asked for a pause of {away:.0f} s more (HTTP 429)"), final_url=url,
                    hops=hops)
