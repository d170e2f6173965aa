"""What every venue site's source needs: HTML helpers and a polite, memoising page fetcher.

Pure helpers (documents, text, `citation_*` meta tags, bot walls, truncated pages) and `PageFetcher`,
which fetches each URL at most once per instance through an injected `httpx.AsyncClient` and turns
every way a site can fail to answer into `SourceUnavailable`:

- a challenge page, 403 or 429 stops the whole source for the run (scope ""): the site refuses this
  client, so every later `get`, of any URL, raises at once without asking (SPEC "Manners");
- a 5xx, a timeout, a connection error or a truncated page stops only the scope the caller names
  ("ICML 2023"; "" for a page that belongs to no listing): one listing that cannot be read blocks
  nothing else.

A 404/410 is an answer ("no such page"), returned as a `Page` with that status. Redirects are followed
(old hosts move to new ones). `SiteSource` is the paper source built on one such fetcher (CVF, ECVA,
NeurIPS, PMLR, ACL Anthology).
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Self, TypeVar
from urllib.parse import urljoin

import httpx
import lxml.etree
import lxml.html
import lxml.html.defs

from crawler.errors import (
    BodyTooLarge,
    HostPaused,
    NameNotResolved,
    PrivateAddressRefused,
    SourceUnavailable,
    error_text,
)
from crawler.models import PaperMeta
from crawler.net.body import read_capped
from crawler.sources.base import WHOLE, PaperSource

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

# Markup these sites write. A `<` that starts none of it is text the site failed to escape: its abstracts
# are pasted in raw (PMLR's Jekyll `{{ page.abstract }}`, NeurIPS' templates), so `$W<d$`, `a<b and c>d`
# and `<human, action, object>` reach the page as they were typed.
_TAG_NAMES = frozenset(lxml.html.defs.tags | lxml.html.defs.html5_tags) | {
    "main", "template", "picture", "dialog", "slot", "data", "search", "frame", "noframes", "bdi", "nobr",
    "path", "g", "circle", "rect", "line", "polyline", "polygon", "use", "symbol", "defs", "text", "tspan",
    "mi", "mo", "mn", "mrow", "msub", "msup", "msubsup", "mfrac", "msqrt", "mtext", "semantics", "annotation",
}
# An attribute without a value must be one HTML has: in `a<b and c>d`, "and" and "c" are words.
_VALUELESS = frozenset(lxml.html.defs.safe_attrs | lxml.html.defs.event_attrs | lxml.html.defs.link_attrs) | {
    "async", "defer", "autofocus", "autoplay", "controls", "default", "formnovalidate", "hidden", "inert",
    "itemscope", "loop", "muted", "nomodule", "novalidate", "open", "playsinline", "required", "reversed",
    "allowfullscreen", "crossorigin", "download", "integrity",
}
_ATTR = r"""[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
_MARKUP = re.compile(
    r"<(?:!--.*?-->|![^>]*>|\?[^>]*>"  # comments, doctypes, processing instructions
    r"|(?P<raw>script|style)\b[^>]*>.*?</(?P=raw)\s*>"  # their text is not HTML
    rf"|/?(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<attrs>(?:\s+{_ATTR})*)\s*/?>)"
    r"|<",
    re.DOTALL | re.IGNORECASE,
)
_ATTR_NAME = re.compile(rf"\s+(?P<attr>{_ATTR})")
# Where an abstract's text ends at the latest: the page's headings, buttons and navigation are never part of it.
_CHROME = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "button", "nav", "header", "footer", "form", "hr",
                     "script", "style", "noscript"})


# --- pure helpers -----------------------------------------------------------------------------------


def _is_markup(m: re.Match[str]) -> bool:
    if m["name"] is None:
        return m.group(0) != "<"  # a comment, doctype, script or style; a lone "<" is text
    if m["name"].lower() not in _TAG_NAMES:
        return False  # <projektor>, <human, ...>
    for a in _ATTR_NAME.finditer(m["attrs"] or ""):
        name = a["attr"].split("=", 1)[0].strip().lower()
        if "=" not in a["attr"] and name not in _VALUELESS and not name.startswith(("data-", "aria-")):
            return False
    return True


def recover(html: str) -> str:
    """`html` with every `<` that starts no markup written as `&lt;`, so a parser keeps it as text.

    A browser takes `<d$. Our main result ...>` for a tag and hides the words up to the next `>`; libxml2
    goes further and may leave the element open, so the page's chrome ("Cite this Paper", "Download PDF")
    reads as part of the abstract. What the author typed is the text.
    """
    return _MARKUP.sub(lambda m: m.group(0) if _is_markup(m) else "&lt;" + m.group(0)[1:], html)


def doc(html: str) -> lxml.html.HtmlElement | None:
    """The parsed document (bare `<` in text kept as text: `recover`), or None for an empty or unparsable page."""
    if not html or not html.strip():
        return None
    html = recover(html)
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


def prose(el: lxml.html.HtmlElement | None) -> str:
    """A block of prose (an abstract): its text up to the first heading, button or navigation inside it.

    However a page is broken, what follows an abstract on it (a "Cite this Paper" heading, "Copy to
    Clipboard" buttons) is never read as part of it.
    """
    if el is None:
        return ""
    parts: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> bool:
        parts.append(node.text or "")
        for child in node:
            if isinstance(child.tag, str) and (child.tag.lower() in _CHROME or not walk(child)):
                return False
            parts.append(child.tail or "")
        return True

    walk(el)
    return " ".join("".join(parts).split())


def absolute(base: str, href: str | None) -> str | None:
    """A URL the page gives (`ioffe15.pdf`, `/content/...`, `//host/...`) resolved against the page's URL."""
    href = (href or "").strip()
    return urljoin(base, href) if href else None


def meta_url(page: lxml.html.HtmlElement, name: str, base: str) -> str | None:
    """The first `<meta name=…>` URL of that name, absolute: older PMLR pages say `citation_pdf_url` `ioffe15.pdf`."""
    found = metas(page, name)
    return absolute(base, found[0]) if found else None


def by_id(page: lxml.html.HtmlElement, ident: str) -> lxml.html.HtmlElement | None:
    """The element with `id=ident`, or None."""
    found = page.xpath("//*[@id=$ident]", ident=ident)
    return found[0] if found else None


def metas(page: lxml.html.HtmlElement, name: str) -> list[str]:
    """The non-empty contents of every `<meta name=…>` tag of that name, in page order."""
    values = page.xpath("//meta[@name=$name]/@content", name=name)
    return [" ".join(v.split()) for v in values if v.strip()]


def meta_year(page: lxml.html.HtmlElement, *names: str) -> int | None:
    """The year the first of the `names` meta tags present starts with ('2019/06/16' -> 2019), or None."""
    for name in names:
        dates = metas(page, name)
        if dates:
            return int(dates[0][:4]) if dates[0][:4].isdigit() else None
    return None


def _letters(title: str) -> str:
    return "".join(c for c in title.casefold() if c.isalnum())


def better_title(meta: str, visible: str) -> str:
    """The paper's title from its `citation_title` and the title the page shows (its heading).

    The meta wins unless it is broken: cut short (`content="Double Nystr\\" om Method"` ends the attribute
    at the quote), or carrying TeX escapes the heading has rendered (`Nystr\\"om` for Nyström), while the
    heading starts the way the meta does: so a heading that is the site's name never wins.
    """
    if not meta or not visible:
        return meta or visible
    head = meta.split("\\", 1)[0]
    agrees = bool(_letters(head)) and _letters(visible).startswith(_letters(head))
    cut_short = len(_letters(visible)) > len(_letters(meta)) and _letters(visible).startswith(_letters(meta))
    escaped = "\\" in meta and "\\" not in visible
    return visible if agrees and (cut_short or escaped) else meta


def paper_document(html: str, url: str, title_xpath: str, what: str) -> tuple[lxml.html.HtmlElement, str]:
    """A paper page's document and title: its `citation_title`, or the text at `title_xpath` where the meta is
    broken or missing (`better_title`).

    Raises ValueError for an empty page or one without a title: not `what` ("a CVF paper page").
    """
    page = doc(html)
    if page is None:
        raise ValueError(f"empty page at {url}")
    titles = metas(page, "citation_title")
    title = better_title(titles[0] if titles else "", text(next(iter(page.xpath(title_xpath)), None)))
    if not title:
        raise ValueError(f"not {what} (no title) at {url}")
    return page, title


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


def dds_after(dt: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The `<dd>`s that follow a `<dt>` up to the next `<dt>`: one paper's lines in CVF-style lists."""
    dds: list[lxml.html.HtmlElement] = []
    for sib in dt.itersiblings():
        if not isinstance(sib.tag, str):  # comments, processing instructions
            continue
        if sib.tag == "dt":
            break
        if sib.tag == "dd":
            dds.append(sib)
    return dds


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

    `from_settings` builds it on the run's client pool for `default_base`, or for a `<name>_base`
    setting where Settings has one (a mirror, a test server); without a pool it is offline and every
    request raises SourceUnavailable.
    """

    default_base: ClassVar[str]
    own_content: ClassVar[str | None] = None  # XPath of the site's own markup: see looks_like_challenge

    def __init__(self, client: httpx.AsyncClient | None, base: str, *, concurrency: int = DEFAULT_CONCURRENCY,
                 clock: Callable[[], float] = time.time) -> None:
        self.base = base.rstrip("/")
        self._pages = PageFetcher(self.name, client, concurrency=concurrency, own_content=self.own_content,
                                  clock=clock)

    @classmethod
    def from_settings(cls, settings: Settings, pool: ClientPool | None) -> Self:
        base = getattr(settings, f"{cls.name}_base", cls.default_base)
        return cls(pool.client(base) if pool is not None else None, base=base)

    @property
    def requests_sent(self) -> int:
        return self._pages.requests_sent
