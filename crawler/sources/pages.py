"""What every listing-based venue site needs: HTML helpers and a polite, memoising page fetcher.

Pure helpers (documents, text, `citation_*` meta tags, bot walls, truncated pages) and `PageFetcher`,
which fetches each URL at most once per instance through an injected `httpx.AsyncClient` and turns
every way a site can fail to answer into `SourceUnavailable`:

- a challenge page, 403 or 429 stops the whole source for the run (scope "": asking again only
  digs the hole deeper);
- a 5xx, a timeout, a connection error or a truncated page stops only the scope the caller names
  ("ICML 2023"): one listing that cannot be read blocks nothing else.

A 404/410 is an answer ("no such page"), returned as a `Page` with that status.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass

import httpx
import lxml.etree
import lxml.html

from crawler.errors import SourceUnavailable

# Bot walls seen in front of academic hosts: Cloudflare's managed challenge and "Attention Required",
# DDoS-Guard, captcha interstitials. Titles and attributes are markers enough; phrases in the text
# only count on a page without the site's own content (a paper may well be about CAPTCHAs).
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


# --- pure helpers -----------------------------------------------------------------------------------


def doc(html: str) -> lxml.html.HtmlElement | None:
    """The parsed document, or None for an empty or unparsable page."""
    if not html or not html.strip():
        return None
    try:
        return lxml.html.document_fromstring(html)
    except ValueError:  # lxml refuses str with an <?xml encoding=…?> declaration
        try:
            return lxml.html.document_fromstring(html.encode("utf-8"))
        except (lxml.etree.ParserError, ValueError):
            return None
    except lxml.etree.ParserError:
        return None


def text(el: lxml.html.HtmlElement | None) -> str:
    """An element's text with whitespace (no-break spaces included) collapsed."""
    return " ".join(el.text_content().split()) if el is not None else ""


def metas(page: lxml.html.HtmlElement, name: str) -> list[str]:
    """The non-empty contents of every `<meta name=…>` tag of that name, in page order."""
    values = page.xpath("//meta[@name=$name]/@content", name=name)
    return [" ".join(v.split()) for v in values if v.strip()]


def flip(name: str) -> str:
    """'Vaswani, Ashish' -> 'Ashish Vaswani'; a name without a comma is kept."""
    last, sep, first = name.partition(",")
    return f"{first.strip()} {last.strip()}" if sep and first.strip() else name.strip()


def split_names(line: str) -> tuple[str, ...]:
    """'A. Author, B. Author' (commas, no-break spaces, a trailing ';') -> ('A. Author', 'B. Author')."""
    return tuple(n for n in (" ".join(part.split()).strip(" ;") for part in line.split(",")) if n)


def has_class(name: str) -> str:
    """An XPath predicate body: the element has CSS class `name`."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def looks_like_challenge(html: str, own_content: str | None = None) -> bool:
    """A bot wall or interstitial instead of the page asked for.

    `own_content` is an XPath that finds the site's own markup (a paper list, a paper title): a page
    that has it is the site's page whatever phrases its text holds.
    """
    page = doc(html)
    if page is None:
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
    if own_content and page.xpath(own_content):
        return False
    body_text = text(page).lower()
    return any(marker in body_text for marker in _CHALLENGE_TEXT)


def is_truncated(html: str) -> bool:
    """A page cut short: real pages of these sites end with `</html>`; a dropped connection does not."""
    return not _HTML_END.search(html[-_END_WINDOW:])


# --- fetching -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Page:
    url: str  # where the answer came from, after redirects
    status: int  # 200, or 404/410 for "no such page"
    text: str
    fetched_at: float


@dataclass(frozen=True)
class _Failure:
    reason: str
    whole: bool  # True: the whole source is down; False: only the scope the caller names


class PageFetcher:
    """GETs pages for one source: each URL at most once per instance, failures included.

    A challenged or throttled site is not asked again in the same run, and a listing costs one
    visit per run. At most `concurrency` requests are in flight, whatever callers gather.
    `own_content` is the XPath `looks_like_challenge` uses to tell the site's pages from a wall.
    """

    def __init__(self, source: str, client: httpx.AsyncClient | None, *, concurrency: int = 2,
                 own_content: str | None = None) -> None:
        if concurrency < 1:
            raise ValueError("concurrency must be at least 1")
        self.source = source
        self.client = client
        self.own_content = own_content
        self.requests_sent = 0
        self._done: dict[str, Page | _Failure] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._slots = asyncio.Semaphore(concurrency)

    async def get(self, url: str, scope: str) -> Page:
        """The page at `url`; raises SourceUnavailable (scoped to `scope`, or whole) when it cannot be read."""
        lock = self._locks.setdefault(url, asyncio.Lock())
        async with lock:
            if url not in self._done:
                async with self._slots:
                    self._done[url] = await self._fetch(url)
        found = self._done[url]
        if isinstance(found, _Failure):
            raise SourceUnavailable(self.source, found.reason, scope="" if found.whole else scope)
        return found

    def fetched(self, url: str) -> bool:
        """Whether `url` was asked already (answered or failed)."""
        return url in self._done

    async def _fetch(self, url: str) -> Page | _Failure:
        if self.client is None:
            return _Failure("no network client (offline run)", whole=True)
        self.requests_sent += 1
        try:
            response = await self.client.get(url, follow_redirects=True)
        except httpx.TimeoutException:
            return _Failure(f"timeout at {url}", whole=False)
        except httpx.RequestError as exc:  # connect/read errors, too many redirects, a cut body
            return _Failure(f"{type(exc).__name__} at {url}: {exc}", whole=False)
        status = response.status_code
        if status == 429:
            return _Failure(f"rate limited (HTTP 429) at {url}", whole=True)
        if status == 403:
            return _Failure(f"blocked (HTTP 403) at {url}", whole=True)
        body = response.text
        if looks_like_challenge(body, self.own_content):
            return _Failure(f"challenge page (HTTP {status}) at {url}", whole=True)
        if status in (404, 410):
            return Page(str(response.url), status, "", time.time())
        if not 200 <= status < 300:
            return _Failure(f"HTTP {status} at {url}", whole=False)
        if is_truncated(body):
            return _Failure(f"truncated page ({len(body)} characters) at {url}", whole=False)
        return Page(str(response.url), 200, body, time.time())
