"""Papers by DOI: links that carry a DOI (crawler.sources.doi) judged from Crossref's metadata, 50 a request.

ACM DL and ScienceDirect answer robots with a Cloudflare challenge (403), and other publishers' pages say
little a robot can read; the DOI in the URL says which paper the link is, and Crossref says what that paper
is. So a link with a DOI is judged without fetching the publisher's page:

- `GET https://api.crossref.org/works?filter=doi:A,doi:B,...&rows=N`, up to 50 DOIs a request, one request
  at a time at least a third of a second apart (Crossref's limits for list queries since 2025-12: 3 a
  second, 3 at a time with `mailto`, 1 without), slower when its `x-rate-limit-*` headers ask for it; the
  `mailto=` of the polite pool is added by the client pool from the `contact` setting (crawler.net.credentials);
- a ScienceDirect PII is found with Crossref's `alternative-id` filter;
- a DOI Crossref does not know is not broken by that alone (arXiv's and Zenodo's are DataCite's): doi.org's
  handle API says whether it is registered at all. Not registered: `broken`. Registered elsewhere: `ok`
  (it exists), without a paper judgement;
- a work Crossref knows is judged by the one rule for every source (crawler.checking.verdicts): another paper's DOI is
  `wrong_paper`; a DOI of a book, a proceedings volume or a journal only exists (`ok`, not judged);
- the abstract, where the publisher deposited one, is JATS XML: read as text with an HTML parser;
- a work's `subtitle` is part of its title (ACM deposits "Title" and "Subtitle" apart): "Title: Subtitle";
- IEEE Xplore walls robots (418/403) and its URLs carry a document number, not a DOI (crawler.sources.doi).
  Such a link is found by its entry's title among IEEE's works, `GET /prefixes/10.1109/works?query.bibliographic=`,
  and the work whose `resource.primary.URL` (or a `link`) names that document number is the paper at the
  link, judged like any other. When no work found names it (no titled entry, another version's number, a
  title Crossref ranks elsewhere) nothing is claimed: the page is checked as before.

A 429 (after waiting out its Retry-After once), a 5xx or no answer makes Crossref unavailable for the run:
its links go to the ordinary check. doi.org failing stops only the handle questions ("doi.org" scope).
"""

from __future__ import annotations

import dataclasses
import html
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import httpx
import lxml.etree
import lxml.html

from crawler.config import DEFAULT_TIMEOUT
from crawler.errors import SourceUnavailable
from crawler.findings import Exists, Finding, Gone, Known
from crawler.models import PaperMeta
from crawler.sources.api import Answer, Unanswered, ask
from crawler.sources.base import Claim, Defer, PaperRef, PaperSource
from crawler.sources.doi import HANDLES, doi_in, ieee_document, pii_in, registration

if TYPE_CHECKING:
    from crawler.config import Settings
    from crawler.net.pacing import HostGate
    from crawler.net.pool import ClientPool

SOURCE = "crossref"
WORKS = "https://api.crossref.org/works"
IEEE_WORKS = "https://api.crossref.org/prefixes/10.1109/works"  # the works of IEEE's DOI prefix
HOST = "api.crossref.org"
BATCH = 50  # DOIs a request (aspero-crossref sends 50)
_PII = "pii:"
_IEEE = "ieee:"
SEARCH_ROWS = 5  # works a title search returns: the document is among the first when the title is its own
# Works that are one paper: judged against the entry. Anything else (a book, a proceedings volume, a
# journal, a dataset) only exists: an entry may well link its proceedings.
PAPER_TYPES = frozenset({"journal-article", "proceedings-article", "book-chapter", "posted-content", "report",
                         "dissertation", "reference-entry"})
_BLOCKS = frozenset({"p", "title", "sec", "list-item", "para"})  # JATS elements that end a run of text
_INTERVAL = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m)?\s*$")


# --- pure parts ------------------------------------------------------------------------------------------


def jats_text(markup: Any) -> str | None:
    """A JATS abstract as plain text: headings ("Abstract") dropped, paragraphs separated, whitespace collapsed."""
    if not isinstance(markup, str) or not markup.strip():
        return None
    try:
        root = lxml.html.fragment_fromstring(markup, create_parent="div")
    except (lxml.etree.ParserError, ValueError):
        return None
    for el in list(root.iter()):
        if not isinstance(el.tag, str) or el is root:
            continue
        local = el.tag.rsplit(":", 1)[-1].lower()
        if local == "title":
            el.drop_tree()  # keeps its tail
        elif local in _BLOCKS:
            el.tail = " " + (el.tail or "")
    text = " ".join(root.text_content().split())
    return text or None


def _first(value: Any) -> str:
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), "")
    return " ".join(html.unescape(value).split()) if isinstance(value, str) else ""


def _year(item: dict[str, Any]) -> int | None:
    for key in ("issued", "published", "published-print", "published-online"):
        parts = item.get(key, {}).get("date-parts") if isinstance(item.get(key), dict) else None
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            year = parts[0][0]
            if isinstance(year, int) and not isinstance(year, bool):
                return year
    return None


def _authors(item: dict[str, Any]) -> tuple[str, ...]:
    names = []
    for author in item.get("author") or ():
        if isinstance(author, dict):
            name = " ".join(str(author.get(k) or "").strip() for k in ("given", "family")).strip()
            name = name or str(author.get("name") or "").strip()
            if name:
                names.append(name)
    return tuple(names)


def work_to_meta(item: Any, fetched_at: float) -> PaperMeta | None:
    """The paper a Crossref work describes; a work that is not one paper keeps no title (it only exists)."""
    if not isinstance(item, dict) or not isinstance(item.get("DOI"), str):
        return None
    doi = item["DOI"].lower()
    paper = item.get("type") in PAPER_TYPES
    return PaperMeta(source=SOURCE, title=_full_title(item) if paper else "",
                     url=f"https://doi.org/{doi}", abstract=jats_text(item.get("abstract")) if paper else None,
                     authors=_authors(item) if paper else (), year=_year(item),
                     venue=_first(item.get("container-title")) or None, fetched_at=fetched_at)


def _jats_title(value: Any) -> str:
    title = _first(value)  # titles may hold markup too: <i>, <sub>
    return (jats_text(title) or title) if "<" in title else title


def _letters(text: str) -> str:
    return "".join(c for c in text.casefold() if c.isalnum())


def _full_title(item: dict[str, Any]) -> str:
    """`title` and `subtitle` as one title, "Title: Subtitle"; a title that already ends with its subtitle stays."""
    title, subtitle = _jats_title(item.get("title")), _jats_title(item.get("subtitle"))
    if not title or not subtitle or _letters(title).endswith(_letters(subtitle)):
        return title
    return f"{title} {subtitle}" if title.endswith(":") else f"{title}: {subtitle}"


def names_document(item: dict[str, Any], number: str) -> bool:
    """Whether a work is IEEE Xplore document `number`: its resource URL (`…/document/N/`) or a full-text link
    (`…?arnumber=N`) names it."""
    resource = item.get("resource")
    primary = resource.get("primary") if isinstance(resource, dict) else None
    urls = [primary.get("URL") if isinstance(primary, dict) else None]
    urls += [link.get("URL") for link in item.get("link") or () if isinstance(link, dict)]
    pattern = re.compile(rf"(?:/document/|arnumber=)0*{re.escape(number)}(?!\d)")
    return any(isinstance(url, str) and pattern.search(url) for url in urls)


def exists_elsewhere(doi: str, url: str | None, fetched_at: float) -> PaperMeta:
    """A DOI registered with another agency than Crossref (DataCite's arXiv and Zenodo DOIs): it exists."""
    return PaperMeta(source=SOURCE, title="", url=url or f"https://doi.org/{doi}", fetched_at=fetched_at)


def read_works(answer: Answer) -> list[dict[str, Any]] | None:
    """The items of a work list, or None when the answer is not one."""
    body = answer.payload
    message = body.get("message") if isinstance(body, dict) and body.get("status") == "ok" else None
    items = message.get("items") if isinstance(message, dict) else None
    return [i for i in items if isinstance(i, dict)] if isinstance(items, list) else None


def spacing_asked(headers: httpx.Headers) -> float | None:
    """Seconds between requests that `x-rate-limit-limit` per `x-rate-limit-interval` allows ("10", "1s")."""
    limit, interval = headers.get("x-rate-limit-limit", ""), _INTERVAL.match(headers.get("x-rate-limit-interval", ""))
    if not limit.strip().isdigit() or int(limit) < 1 or interval is None:
        return None
    seconds = float(interval.group(1)) * {"ms": 0.001, "s": 1.0, "m": 60.0}[interval.group(2) or "s"]
    return seconds / int(limit)


def _chunks(items: Sequence[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield list(items[i : i + size])


# --- the source -------------------------------------------------------------------------------------------


class CrossrefSource(PaperSource):
    """DOIs and PIIs through Crossref's works list, the rest through doi.org's handles; one request at a time."""

    name: ClassVar[str] = SOURCE
    batch_verifies = True
    claimed_hosts = None  # a DOI sits in URLs of many publishers; `ref` rejects the others cheaply

    def __init__(self, client_for: Callable[[str], httpx.AsyncClient] | None, *, gate: HostGate | None = None,
                 timeout: float = DEFAULT_TIMEOUT, clock: Callable[[], float] = time.time) -> None:
        self._client_for = client_for
        self._gate = gate
        self.timeout = timeout
        self._clock = clock
        self.requests_sent = self.handle_requests = 0  # handle_requests: those of them sent to doi.org
        self._handles_down = False  # doi.org failed once this run: not asked again

    @classmethod
    def from_settings(cls, settings: Settings, pool: ClientPool | None) -> CrossrefSource:
        online = pool is not None and not settings.offline
        return cls(pool.client if online else None, gate=pool.gate if pool is not None else None,
                   timeout=settings.timeout)

    # -- which links, and how they are judged --------------------------------------------------------------
    def ref(self, url: str) -> PaperRef | None:
        doi = doi_in(url)
        if doi is not None:
            return PaperRef(SOURCE, doi, url=url)
        pii = pii_in(url)
        if pii:
            return PaperRef(SOURCE, _PII + pii, url=url)
        number = ieee_document(url)
        return PaperRef(SOURCE, _IEEE + number, url=url) if number else None

    def claim_ref(self, claim: Claim) -> PaperRef | None:
        ref = self.ref(claim.url)
        if ref is None or not ref.id.startswith(_IEEE):
            return ref
        return dataclasses.replace(ref, titles=tuple(dict.fromkeys(e.title for e in claim.entries
                                                                    if e.is_paper and e.title)))

    def verdict(self, claim: Claim, meta: PaperMeta | None) -> Finding | Defer:
        if meta is None:
            ref = self.ref(claim.url)
            if ref is None or ref.id.startswith((_PII, _IEEE)):
                return Defer.WEB  # a PII or a document Crossref does not name says nothing: the page decides
            return Gone(f"DOI {ref.id} is not registered (doi.org)")
        if not meta.title:  # exists, and nothing more to judge
            return Exists(meta.url)
        return Known(meta)

    def unsettled(self, claim: Claim, ref: PaperRef, reason: str | None) -> Finding | Defer:
        return Defer.WEB  # Crossref could not be asked: the ordinary check does what it can

    # -- asking ------------------------------------------------------------------------------------------------
    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        return (await self.lookup_all([ref])).get(ref.id)

    async def lookup_all(self, refs: Sequence[PaperRef]) -> dict[str, PaperMeta | None]:
        """DOI (or "pii:PII") -> paper; None: not registered (a DOI) or unknown to Crossref (a PII).
        An IEEE document ("ieee:N") is in the answer only when a search by its entries' titles named it."""
        documents = {r.id: r for r in refs if r.id.startswith(_IEEE)}
        ids = [i for i in dict.fromkeys(r.id for r in refs) if i not in documents]
        if not ids and not documents:
            return {}
        if self._client_for is None:
            raise SourceUnavailable(SOURCE, "offline: no network client")
        out: dict[str, PaperMeta | None] = {}
        try:
            await self._by_ids(ids, out)
            for ref in documents.values():
                if (found := await self._document(ref)) is not None:
                    out[ref.id] = found
            # doi.org last: when it fails (its own scope), Crossref's answers above are settled all the same.
            await self._handles([i for i in ids if not i.startswith(_PII) and i not in out], out)
        except SourceUnavailable as exc:
            exc.partial = dict(out)  # what was settled before Crossref (or doi.org) stopped answering
            raise
        return out

    async def _by_ids(self, ids: list[str], out: dict[str, PaperMeta | None]) -> None:
        """DOIs and PIIs through the works list, 50 a request (a PII it does not know: None)."""
        # A comma would end a DOI inside the filter: such DOIs are asked of doi.org alone.
        dois = [i for i in ids if not i.startswith(_PII) and "," not in i]
        piis = [i for i in ids if i.startswith(_PII)]
        for batch in _chunks(dois, BATCH):
            out.update(await self._works([f"doi:{d}" for d in batch], batch, by_pii=False))
        for batch in _chunks(piis, BATCH):
            out.update(await self._works([f"alternative-id:{p[len(_PII):]}" for p in batch], batch, by_pii=True))
        for pii in piis:
            out.setdefault(pii, None)

    async def _document(self, ref: PaperRef) -> PaperMeta | None:
        """The work an IEEE Xplore document is, searched by the titles of its entries (two at most)."""
        number = ref.id[len(_IEEE):]
        for title in ref.titles[:2]:
            # A search Crossref refuses (400: a title it cannot parse) says nothing of the others.
            items = await self._list({"query.bibliographic": title, "rows": str(SEARCH_ROWS)}, url=IEEE_WORKS,
                                     refused=(400,))
            item = next((i for i in items if names_document(i, number)), None)
            meta = work_to_meta(item, self._clock()) if item is not None else None
            if meta is not None:
                return meta
        return None

    async def _list(self, params: dict[str, str], *, url: str = WORKS,
                    refused: tuple[int, ...] = ()) -> list[dict[str, Any]]:
        """One works-list request's items (a 429 is waited out once, in the host's pause); none when its status
        is one of `refused`."""
        for attempt in (1, 2):
            answer = await self._ask(url, params)
            if answer.status != 429 or attempt == 2:
                break
        if answer.status in refused:
            return []
        items = read_works(answer) if answer.status == 200 else None
        if items is None:
            why = {429: "rate limited (HTTP 429)", 200: "not a work list"}.get(answer.status, f"HTTP {answer.status}")
            raise SourceUnavailable(SOURCE, f"{HOST}: {why}")
        return items

    async def _works(self, filters: list[str], wanted: list[str], *, by_pii: bool) -> dict[str, PaperMeta | None]:
        """One works-list request by DOI or PII: what it found among `wanted`."""
        items = await self._list({"filter": ",".join(filters), "rows": str(len(filters))})
        now = self._clock()
        asked = set(wanted)
        out: dict[str, PaperMeta | None] = {}
        for item in items:
            meta = work_to_meta(item, now)
            if meta is None:
                continue
            keys = ([_PII + str(a).upper() for a in item.get("alternative-id") or ()] if by_pii
                    else [item["DOI"].lower()])
            for key in keys:
                if key in asked:
                    out[key] = meta
        return out

    async def _ask(self, url: str, params: dict[str, str]) -> Answer:
        assert self._client_for is not None
        self.requests_sent += 1
        try:
            answer = await ask(self._client_for(url), "GET", url, timeout=self.timeout, params=params,
                               headers={"Accept": "application/json"})
        except Unanswered as exc:
            raise SourceUnavailable(SOURCE, f"{HOST}: {exc.reason}") from None
        spacing = spacing_asked(answer.headers)
        if spacing is not None and self._gate is not None:
            self._gate.pacer.at_least(HOST, spacing)  # as fast as Crossref says it allows us, never faster
        return answer

    async def _handles(self, dois: list[str], out: dict[str, PaperMeta | None]) -> None:
        """Ask doi.org about the DOIs Crossref does not know, one at a time."""
        assert self._client_for is not None
        for doi in dois if not self._handles_down else ():
            self.requests_sent += 1
            self.handle_requests += 1
            try:
                found = await registration(self._client_for(HANDLES), doi, timeout=self.timeout)
            except Unanswered as exc:
                self._handles_down = True
                raise SourceUnavailable(SOURCE, exc.reason, scope="doi.org") from None
            out[doi] = exists_elsewhere(doi, found.url, self._clock()) if found.registered else None
