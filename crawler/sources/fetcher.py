"""One polite GET per URL per run, for the venue sites whose pages the crawler reads (ECVA, ACL Anthology).

`PageFetcher.get(url, scope)` answers a 200 page, or a 404/410 page for "no such page"; anything else
raises `SourceUnavailable`, never evidence that a page or a paper is missing:

- a challenge page, a 403 or a 429 stops the whole source (scope ""): the site refuses this client, so
  every later `get` of the same fetcher raises at once, without asking (SPEC "Manners");
- a timeout, a transport error or another status stops only the caller's `scope` (a venue-year such as
  "ECCV 2020", or "" for a paper page): one broken listing must not block the others.

Every URL is fetched at most once per fetcher, failures included; at most `concurrency` requests are in
flight whatever callers gather. Redirects are followed (old hosts move to new ones).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from crawler.errors import SourceUnavailable
from crawler.sources.base import WHOLE
from crawler.sources.cvf import looks_like_challenge

DEFAULT_CONCURRENCY = 2  # sites run by volunteers; listings are few and large
_REFUSING = frozenset({403, 429})


@dataclass(frozen=True)
class Page:
    url: str
    status: int  # 200, or 404/410 for "no such page"
    text: str
    fetched_at: float

    @property
    def found(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class _Failure:
    reason: str
    whole: bool  # the site refuses this client (challenge, 403, 429): nothing more is asked


class PageFetcher:
    """GETs through an injected client (None: offline, every `get` raises), remembering every answer.

    `has_content(text)` tells a page of the site from a bot wall served with 200: a page that carries the
    site's own content is never taken for a challenge, even when a paper's title mentions CAPTCHAs.
    """

    def __init__(
        self,
        source: str,
        client: httpx.AsyncClient | None,
        *,
        has_content: Callable[[str], bool] = lambda text: False,
        concurrency: int = DEFAULT_CONCURRENCY,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.source = source
        self.client = client
        self.requests_sent = 0
        self._has_content = has_content
        self._clock = clock
        self._answers: dict[str, Page | _Failure] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._refused: _Failure | None = None

    async def get(self, url: str, scope: str = WHOLE) -> Page:
        """The page at `url` (status 200, 404 or 410); raises SourceUnavailable for anything else."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            if url not in self._answers:
                if self._refused is not None:
                    raise SourceUnavailable(self.source, self._refused.reason)
                async with self._slots:
                    answer = self._answers[url] = await self._fetch(url)
                if isinstance(answer, _Failure) and answer.whole:
                    self._refused = self._refused or answer
        answer = self._answers[url]
        if isinstance(answer, _Failure):
            raise SourceUnavailable(self.source, answer.reason, scope=WHOLE if answer.whole else scope)
        return answer

    async def _fetch(self, url: str) -> Page | _Failure:
        if self.client is None:
            return _Failure("offline: no network client", whole=True)
        self.requests_sent += 1
        try:
            response = await self.client.get(url, follow_redirects=True)
        except httpx.TimeoutException:
            return _Failure(f"timeout at {url}", whole=False)
        except httpx.RequestError as exc:  # connect/read errors, too many redirects, a refused address
            return _Failure(f"{type(exc).__name__} at {url}: {exc}", whole=False)
        status = response.status_code
        if status in _REFUSING:
            what = "rate limited" if status == 429 else "blocked"
            return _Failure(f"{what} (HTTP {status}) at {url}", whole=True)
        if status in (404, 410):
            return Page(url, status, "", self._clock())
        text = response.text
        if not self._has_content(text) and looks_like_challenge(text, 200):
            return _Failure(f"challenge page (HTTP {status}) at {url}", whole=True)
        if status != 200:
            return _Failure(f"HTTP {status} at {url}", whole=False)
        return Page(url, status, text, self._clock())
