"""What every venue site's source needs to fetch its pages: a polite, memoising page fetcher, and the source on it.

`PageFetcher` fetches each URL at most once per instance through an injected `httpx.AsyncClient`, tells
the site's own pages from bot walls and truncated pages, and turns every way a site can fail to answer
into `SourceUnavailable`:

- a challenge page, 403 or 429 stops the whole source for the run (scope ""): the site refuses this
  client, so every later `get`, of any URL, raises at once without asking: a refused robot that keeps
  asking is what gets a runner's address blocked;
- a 5xx, a timeout, a connection error or a truncated page stops only the scope the caller names
  ("ICML 2023"; "" for a page that belongs to no listing): one listing that cannot be read blocks
  nothing else.

A 404/410 is an answer ("no such page"), returned as a `Page` with that status. Redirects are followed
(old hosts move to new ones). `SiteSource` is the paper source built on one such fetcher (CVF, ECVA,
NeurIPS, PMLR, ACL Anthology); reading their HTML is crawler.sources.markup's.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self, TypeVar, cast
from urllib.parse import urlsplit

import httpx
import lxml.etree

from crawler.errors import (
    BodyTooLarge,
    HostPaused,
    NameNotResolved,
    PrivateAddressRefused,
    SourceUnavailable,
    error_text,
)
from crawler.listfile.links import web_parts
from crawler.models import PaperMeta
from crawler.net.body import read_capped
from crawler.sources.base import WHOLE, PaperSource
from crawler.sources.markup import doc, text

if TYPE_CHECKING:
    from crawler.config import Settings
    from crawler.net.pool import ClientPool

DEFAULT_CONCURRENCY = 2  # sites run by volunteers: listings are few and large
MAX_PAGE = 64 * 1024 * 1024  # bounds a server that never stops sending; a venue's listing is far smaller
T = TypeVar("T")

# Bot walls seen in front of academic hosts: Cloudflare's managed challenge and "Attention Required",
# DDoS-Guard, captcha interstitials. A page with the site's own content is never one (a paper may well
# be about CAPTCHAs, and its title is the page's).
_CHALLENGE_TITLES = (
    "just a moment",
    "attention required",
    "checking your browser",
    "access denied",
    "security check",
    "ddos-guard",
    "captcha",
    "are you a robot",
    "verify you are human",
)
_CHALLENGE_ATTRS = ("cf-chl", "cf_chl", "challenge-platform", "cf-turnstile", "g-recaptcha", "h-captcha")
_CHALLENGE_SCRIPT = ("_cf_chl_opt", "challenge-platform", "cf-chl")
_CHALLENGE_TEXT = (
    "checking your browser",
    "verify you are human",
    "enable javascript and cookies to continue",
    "captcha",
    "ddos protection",
)
_HTML_END = re.compile(r"</html\s*>", re.IGNORECASE)
_END_WINDOW = 4096  # a page's closing tag sits in its last bytes; scripts after it are rare and short


# --- what a page is --------------------------------------------------------------------------------------


def looks_like_challenge(html: str, own_content: str | None = None) -> bool:
    """A bot wall or interstitial instead of the page asked for.

    `own_content` is an XPath that finds the site's own markup (a paper list, a paper title): a page
    that has it is the site's page whatever its title, widgets or text say.
    """
    page = doc(html)
    if page is None:
        return False
    if own_content and page.xpath(own_content):
        return False
    title = text(next(iter(page.xpath("//title")), None)).lower()
    if any(marker in title for marker in _CHALLENGE_TITLES):
        return True
    for el in page.iter(lxml.etree.Element):
        for attr in ("id", "class", "src", "action"):
            value = (el.get(attr) or "").lower()
            if value and any(marker in value for marker in _CHALLENGE_ATTRS):
                return True
    for script in page.xpath("//script"):
        body = script.text_content()
        if any(marker in body for marker in _CHALLENGE_SCRIPT):
            return True
    body_text = text(page).lower()
    return any(marker in body_text for marker in _CHALLENGE_TEXT)


def is_truncated(html: str) -> bool:
    """A page cut short: real pages of these sites end with `</html>`; a dropped connection does not."""
    return not _HTML_END.search(html[-_END_WINDOW:])


def stamped(papers: Iterable[PaperMeta], fetched_at: float) -> list[PaperMeta]:
    """The papers of a listing read from several pages: each URL once (the first), with when it was asked for."""
    seen: set[str] = set()
    unique: list[PaperMeta] = []
    for paper in papers:
        if paper.url not in seen:
            seen.add(paper.url)
            unique.append(dataclasses.replace(paper, fetched_at=fetched_at))
    return unique


def checked_listing(source: str, url: str, scope: str, found: list[T], *, what: str = "papers") -> list[T]:
    """What a listing page that answered 200 gave, when it looks like the site's listing.

    The markup canary: a page that parses to no papers, or to papers most of which lack a title or authors,
    is not an empty listing but a site whose markup may have changed. It raises SourceUnavailable for
    `scope`, with one line naming the page, so that nothing is judged, filled or cached against it.
    """
    if not found:
        raise SourceUnavailable(source, f"the markup of {url} may have changed: no {what} on it",
                                scope=scope)
    papers = [p for p in found if isinstance(p, PaperMeta)]
    incomplete = sum(1 for p in papers if not p.title.strip() or not p.authors)
    if incomplete * 2 > len(papers):
        raise SourceUnavailable(source, f"the markup of {url} may have changed: {incomplete} of {len(papers)} "
                                "papers lack a title or authors", scope=scope)
    return found


def completed(meta: PaperMeta, page: PaperMeta) -> PaperMeta:
    """A listed paper with what its own page adds: the abstract, and authors, pdf or arXiv id the listing lacked."""
    return dataclasses.replace(meta, abstract=page.abstract or meta.abstract, authors=meta.authors or page.authors,
                               pdf_url=meta.pdf_url or page.pdf_url, arxiv_id=meta.arxiv_id or page.arxiv_id)


# --- fetching -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    url: str  # where the answer came from, after redirects
    status: int  # 200, or 404/410 for "no such page"
    text: str
    fetched_at: float

    @property
    def found(self) -> bool:
        return self.status == 200


@dataclass(frozen=True)
class _Failure:
    reason: str
    whole: bool  # True: the site refuses this client (challenge, 403, 429); False: only the caller's scope


class PageFetcher:
    """GETs pages for one source through an injected client (None: offline, every `get` raises).

    Each URL is fetched at most once per instance, failures included, so a listing costs one visit per
    run; once the site refused this client, nothing more is asked. At most `concurrency` requests are in
    flight, whatever callers gather. `own_content` is the XPath `looks_like_challenge` uses to tell the
    site's pages from a wall.
    """

    def __init__(
        self,
        source: str,
        client: httpx.AsyncClient | None,
        *,
        concurrency: int = DEFAULT_CONCURRENCY,
        own_content: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.source = source
        self.client = client
        self.own_content = own_content
        self.requests_sent = 0
        self._clock = clock
        self._done: dict[str, Page | _Failure] = {}
        self._read: dict[tuple[str, Callable[[str, str], object]], object] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(concurrency)
        self._refused: _Failure | None = None

    async def get(self, url: str, scope: str = WHOLE) -> Page:
        """The page at `url` (status 200, 404 or 410); raises SourceUnavailable (for `scope`, or the whole
        source) when it cannot be read."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            if url not in self._done:
                if self._refused is not None:
                    raise SourceUnavailable(self.source, self._refused.reason)
                async with self._slots:
                    found = self._done[url] = await self._fetch(url)
                if isinstance(found, _Failure) and found.whole:
                    self._refused = self._refused or found
        found = self._done[url]
        if isinstance(found, _Failure):
            raise SourceUnavailable(self.source, found.reason, scope=WHOLE if found.whole else scope)
        return found

    async def read(self, url: str, parse: Callable[[str, str], T], scope: str = WHOLE) -> tuple[Page, T | None]:
        """The page at `url` and what `parse(text, url)` reads on it (None for a 404/410), read once however
        often it is asked for: one page may hold several listings (ECVA's, every year's)."""
        page = await self.get(url, scope)
        if not page.found:
            return page, None
        if (url, parse) not in self._read:
            self._read[(url, parse)] = parse(page.text, url)
        return page, cast(T, self._read[(url, parse)])

    async def paper(self, url: str, parse: Callable[[str, str], PaperMeta], scope: str = WHOLE) -> PaperMeta | None:
        """The paper page at `url` as `parse(text, url after redirects)` reads it, stamped with when it was
        fetched; None for a 404/410. A page `parse` rejects (ValueError: no paper page, though the site
        answered 200) raises SourceUnavailable for `scope`: it is never evidence that the paper is gone."""
        page = await self.get(url, scope)
        if not page.found:
            return None
        try:
            meta = parse(page.text, page.url)
        except ValueError as exc:
            raise SourceUnavailable(self.source, str(exc), scope=scope) from None
        return dataclasses.replace(meta, fetched_at=page.fetched_at)

    async def _fetch(self, url: str) -> Page | _Failure:
        if self.client is None:
            return _Failure("offline: no network client", whole=True)
        self.requests_sent += 1
        try:
            async with self.client.stream("GET", url, follow_redirects=True) as response:
                raw = await read_capped(response, MAX_PAGE, whole=True)
        except BodyTooLarge as exc:
            return _Failure(f"{exc} at {url}", whole=False)
        except httpx.TimeoutException:
            return _Failure(f"timeout at {url}", whole=False)
        except HostPaused as exc:  # a 429 (this run's, from any caller) paused the host for longer than we wait
            return _Failure(f"rate limited ({exc}) at {url}", whole=True)
        except httpx.RequestError as exc:  # connect/read errors, too many redirects, a cut body
            return _Failure(f"{error_text(exc, type(exc).__name__)} at {url}", whole=False)
        except (NameNotResolved, PrivateAddressRefused) as exc:  # the guard's own refusals: the site is out of reach
            return _Failure(f"{error_text(exc, type(exc).__name__)} at {url}", whole=True)
        status = response.status_code
        if status == 429:
            return _Failure(f"rate limited (HTTP 429) at {url}", whole=True)
        if status == 403:
            return _Failure(f"blocked (HTTP 403) at {url}", whole=True)
        if status in (404, 410):  # whatever the body: a site's own error page may carry any widget
            return Page(str(response.url), status, "", self._clock())
        body = raw.decode(response.encoding or "utf-8", errors="replace")  # as httpx's `response.text` reads it
        if looks_like_challenge(body, self.own_content):  # with 200 or 503, as Cloudflare serves them
            return _Failure(f"challenge page (HTTP {status}) at {url}", whole=True)
        if not 200 <= status < 300:
            return _Failure(f"HTTP {status} at {url}", whole=False)
        if is_truncated(body):
            return _Failure(f"truncated page ({len(body)} characters) at {url}", whole=False)
        return Page(str(response.url), 200, body, self._clock())


class SiteSource(PaperSource):
    """A paper source that reads one site's pages, each at most once per run, through a `PageFetcher`.

    What it claims is declared once: `hosts`, the site's host names in every era, and the hosts of the bases
    it asks (`bases`: a mirror or a test server, whose URLs name papers as the site's do). `from_settings`
    builds it on the run's client pool for `default_base`, or for a `<name>_base` setting where Settings has
    one; without a pool it is offline and every request raises SourceUnavailable.
    """

    default_base: ClassVar[str]
    hosts: ClassVar[frozenset[str]]  # the site's own host names, every era's
    own_content: ClassVar[str | None] = None  # XPath of the site's own markup: see looks_like_challenge

    def __init__(self, client: httpx.AsyncClient | None, base: str | None = None, *,
                 concurrency: int = DEFAULT_CONCURRENCY, clock: Callable[[], float] = time.time) -> None:
        self.base = (base or self.default_base).rstrip("/")
        self._pages = PageFetcher(self.name, client, concurrency=concurrency, own_content=self.own_content,
                                  clock=clock)

    @classmethod
    def from_settings(cls, settings: Settings, pool: ClientPool | None) -> Self:
        base = getattr(settings, f"{cls.name}_base", cls.default_base)
        return cls(pool.client(base) if pool is not None else None, base=base)

    @property
    def requests_sent(self) -> int:
        return self._pages.requests_sent

    @property
    def bases(self) -> tuple[str, ...]:
        """Where the site is asked: the base, and any other the source reads from."""
        return (self.base,)

    @property
    def claimed_hosts(self) -> frozenset[str]:  # type: ignore[override]
        return self.hosts | {(urlsplit(b).hostname or "").lower() for b in self.bases}

    def on_base(self, url: str, read: Callable[[str], T | None]) -> T | None:
        """What `read` finds in the path of `url` below one of the bases; None for a URL elsewhere."""
        found = web_parts(url)
        if found is None:
            return None
        parts = found[1]
        for base in map(urlsplit, self.bases):
            if parts.netloc.lower() == base.netloc.lower() and parts.path.startswith(base.path):
                return read(parts.path[len(base.path):])
        return None

    async def completed_from(self, meta: PaperMeta, url: str, parse: Callable[[str, str], PaperMeta],
                             scope: str = WHOLE) -> PaperMeta:
        """`meta` with what its paper page at `url` adds (`completed`); `meta` itself when the page is gone."""
        found = await self._pages.paper(url, parse, scope)
        return meta if found is None else completed(meta, found)
