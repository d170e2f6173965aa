"""NeurIPS proceedings (proceedings.neurips.cc, formerly papers.nips.cc): URL rules, page parsers, a source.

Every URL era names a paper (tests/fixtures/neurips/README.md shows the markup of each page):

| era | paper page (files: `file/<hex>-Paper[-<Track>].pdf`, `-Supplemental…`) |
|---|---|
| 2022 on | `/paper_files/paper/YYYY/hash/<32 hex>-Abstract-<Track>.html` |
| 1987–2021 (today) | `/paper_files/paper/YYYY/hash/<hex>-Abstract.html` |
| 2020–2022 links | `/paper/YYYY/hash/<hex>-Abstract.html`, `/paper/YYYY/file/<hex>-Paper.pdf`, either host |
| before 2020 | `papers.nips.cc/paper/<n>-<slug>`, `papers.nips.cc/paper/<n>-<slug>.pdf` |

The hash is not unique across years (`747d3443e319a22747fbb873e8b2f9f2` is a 2020 paper and a different
2021 one), so a paper's id is "YYYY/<hash>". The `<n>-<slug>` pages carry no year: they are looked up
page by page (the site redirects them to the hash page); the others in their year's listing, fetched
once per year. The year page (`/paper_files/paper/YYYY`) lists every paper as `ul.paper-list li` with
the title link and the authors (in `<i>`, or in `span.paper-authors` since the 2025 redesign); from
2025 the main conference is a companion volume page (`/paper_files/paper/2025/vol38-main-conference`)
linked from the year page, read as part of the same listing.

The NeurIPS 2021 Datasets and Benchmarks track lives on its own host with its own numbering (`-round1`,
`-round2`): those URLs are left to the ordinary check.
"""

from __future__ import annotations

import html
import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html

from crawler.errors import SourceUnavailable
from crawler.listfile.links import web_parts
from crawler.models import PaperMeta
from crawler.sources.base import PaperRef
from crawler.sources.markup import PaperPage, doc, has_class, paper_page, prose, split_names, text
from crawler.sources.pages import SiteSource, checked_listing, stamped

SOURCE = "neurips"
VENUE = "NeurIPS"
DEFAULT_NEURIPS_BASE = "https://proceedings.neurips.cc"
LEGACY_BASE = "https://papers.nips.cc"  # where `/paper/<n>-<slug>` pages were, and still redirect from
FIRST_YEAR = 1987  # NIPS 1987 is volume 0 of the proceedings

# The same site under every name it has had.
_HOSTS = frozenset({"proceedings.neurips.cc", "papers.nips.cc", "papers.neurips.cc", "proceedings.nips.cc"})

# `/paper_files/paper/2023/hash/<hex>-Abstract-Conference.html`, `/paper/2020/file/<hex>-Paper.pdf`,
# `.../file/<hex>-Supplemental-Conference.zip`, `.../hash/<hex>-Abstract-Conference-bib.txt`: every file of a paper.
_HASHED = re.compile(
    r"/(?:paper_files/)?paper/(?P<year>\d{4})/(?P<dir>hash|file)/(?P<hash>[0-9a-fA-F]{32})"
    r"-(?P<kind>[A-Za-z]+)(?:-(?P<track>[A-Za-z0-9_]+?))?(?:-bib)?\.(?:html|pdf|zip|bib|json|txt)"
)
# `/paper/7181-attention-is-all-you-need`, `.pdf`, `/bibtex`: the pre-2020 site's paper pages.
_NUMBERED = re.compile(r"/paper/(?P<id>\d+-[a-z0-9][a-z0-9-]*?)(?:\.pdf|/[a-z-]*)?/?", re.IGNORECASE)
_ROUND = re.compile(r"round\d+", re.IGNORECASE)  # the 2021 Datasets and Benchmarks host's own numbering
_YEAR_PAGE = re.compile(r"/paper_files/paper/(?P<year>\d{4})/?")
_COMPANION = re.compile(r"/paper_files/paper/(?P<year>\d{4})/(?P<name>[A-Za-z0-9][\w-]*)/?")
_VENUE_NAME = re.compile(r"^\s*(?:neurips|nips)\s*(?:['’]?\s*(?:19|20)?\d\d)?\s*$", re.IGNORECASE)
_FULL_NAME = re.compile(r"neural information processing systems", re.IGNORECASE)
_WORKSHOP = re.compile(r"workshop|\b(?:neurips|nips)-?w\b", re.IGNORECASE)
_ABSTRACT_BODY = frozenset({"p", "ul", "ol", "blockquote"})
_NO_ABSTRACT = frozenset({"abstract missing", "abstract unavailable"})  # what the old site printed instead
_PART_OF = re.compile(r"\((?:NIPS|NeurIPS)\s+(?P<year>\d{4})\)")  # "Part of: … (NIPS 1994)"
_HEADINGS = ("h2", "h3", "h4", "h5")

# The site's own markup: a page that has it is no bot wall, whatever its text says.
OWN_CONTENT = (
    f"//ul[{has_class('paper-list')}] | //meta[@name='citation_title']"
    f" | //p[{has_class('paper-abstract')}]"
)


# --- pure URL rules ----------------------------------------------------------------------------------


def canonical_venue(venue: str | None) -> str | None:
    """'NIPS 2017', 'neurips', 'NeurIPS’19' -> 'NeurIPS'; a workshop or another venue -> None."""
    if not venue or _WORKSHOP.search(venue):
        return None
    if _VENUE_NAME.match(venue) or _FULL_NAME.search(venue):
        return VENUE
    return None


def ref_from_path(path: str) -> PaperRef | None:
    """The paper a proceedings path names, on whatever host serves it; None for anything else."""
    if m := _HASHED.fullmatch(path):
        if m["track"] and _ROUND.fullmatch(m["track"]):
            return None
        year = int(m["year"])
        return PaperRef(SOURCE, f"{year}/{m['hash'].lower()}", VENUE, year)
    if m := _NUMBERED.fullmatch(path):
        return PaperRef(SOURCE, m["id"].lower(), VENUE, None)
    return None


def parse_neurips_url(url: str) -> PaperRef | None:
    """Any NeurIPS paper URL (page, pdf, supplement, bibtex; every era and host) -> its ref; else None."""
    found = web_parts(url)
    if found is None or found[0].removeprefix("www.") not in _HOSTS:
        return None
    return ref_from_path(found[1].path)


def listing_url(year: int, base: str = DEFAULT_NEURIPS_BASE) -> str:
    return f"{base.rstrip('/')}/paper_files/paper/{year}"


def numbered_url(ref_id: str, base: str = LEGACY_BASE) -> str:
    """The pre-2020 page of an `<n>-<slug>` ref (the site redirects it to the paper's hash page)."""
    return f"{base.rstrip('/')}/paper/{ref_id}"


def pdf_for(page_url: str) -> str | None:
    """'…/hash/<hex>-Abstract-Conference.html' -> '…/file/<hex>-Paper-Conference.pdf' (the site's own rule)."""
    parts = urlsplit(page_url)
    m = _HASHED.fullmatch(parts.path)
    if not m or m["dir"] != "hash" or m["kind"] != "Abstract" or not parts.path.endswith(".html"):
        return None
    track = f"-{m['track']}" if m["track"] else ""
    path = parts.path[: m.start("dir")] + f"file/{m['hash']}-Paper{track}.pdf"
    return f"{parts.scheme}://{parts.netloc}{path}"


# --- pure page parsers -------------------------------------------------------------------------------


def _paper_link(li: lxml.html.HtmlElement, page_url: str) -> tuple[str, str] | None:
    for a in li.xpath(".//a[@href]"):
        url = urljoin(page_url, a.get("href", "").strip())
        m = _HASHED.fullmatch(urlsplit(url).path)
        if m and m["dir"] == "hash" and m["kind"] == "Abstract" and url.endswith(".html"):
            title = text(a)
            return (title, url) if title else None
    return None


def _listing_authors(li: lxml.html.HtmlElement) -> tuple[str, ...]:
    for xpath in (f".//span[{has_class('paper-authors')}]", ".//i"):
        found = li.xpath(xpath)
        if found:
            # The site escapes names twice (`&amp;quot;`, `&amp;amp;`): their text still holds one escape.
            return split_names(html.unescape(text(found[0])))
    return ()


def parse_listing(html: str, page_url: str) -> list[PaperMeta]:
    """Every paper of a year page (or a companion volume page), URLs made absolute."""
    page = doc(html)
    if page is None:
        return []
    papers: list[PaperMeta] = []
    for li in page.xpath(f"//ul[{has_class('paper-list')}]/li"):
        found = _paper_link(li, page_url)
        if found is None:
            continue
        title, url = found
        m = _HASHED.fullmatch(urlsplit(url).path)
        papers.append(PaperMeta(
            source=SOURCE,
            title=title,
            url=url,
            authors=_listing_authors(li),
            year=int(m["year"]) if m else None,
            venue=VENUE,
            pdf_url=pdf_for(url),
        ))
    return papers


def parse_companion_links(html: str, page_url: str, year: int) -> list[str]:
    """Volume pages of the same year a year page links to (2025: `vol38-main-conference`), absolute."""
    page = doc(html)
    if page is None:
        return []
    here = urlsplit(page_url).path.rstrip("/")
    found: list[str] = []
    for a in page.xpath("//a[@href]"):
        url = urljoin(page_url, a.get("href", "").strip()).split("#", 1)[0].split("?", 1)[0]
        m = _COMPANION.fullmatch(urlsplit(url).path)
        if not m or int(m["year"]) != year or m["name"] in ("hash", "file"):
            continue
        if urlsplit(url).path.rstrip("/") != here and url not in found:
            found.append(url)
    return found


def _abstract(page: lxml.html.HtmlElement) -> str:
    """The abstract, in every era's markup.

    2023 on: `<p class="paper-abstract"><p>…</p></p>`; an HTML parser closes the outer <p> at the inner
    one, so the text lands in the siblings that follow. 2024's redesign: `<p class="paper-abstract">…</section>`.
    2020–2022: `<h4>Abstract</h4><p><p>…</p></p>`; before 2020: `<h3 class="abstract">Abstract</h3><p
    class="abstract">…</p>`.
    """
    starts = page.xpath(f"//p[{has_class('paper-abstract')}]")
    if not starts:
        starts = [h for h in page.xpath("|".join(f"//{t}" for t in _HEADINGS)) if text(h).lower() == "abstract"]
    for start in starts:
        parts = [prose(start)] if start.tag == "p" else []
        for sib in start.itersiblings():
            if not isinstance(sib.tag, str):  # comments
                continue
            if sib.tag not in _ABSTRACT_BODY:
                break
            parts.append(prose(sib))
        abstract = " ".join(p for p in parts if p)
        if abstract and abstract.lower().strip(" .") not in _NO_ABSTRACT:
            return abstract
    return ""


def _page_authors(paper: PaperPage) -> tuple[str, ...]:
    if paper.authors:
        return paper.authors
    page = paper.tree
    for h in page.xpath("|".join(f"//{t}" for t in _HEADINGS)):
        if text(h).lower() == "authors":
            following = h.xpath("following-sibling::*[1]")
            if following:
                return split_names(text(following[0]))
    old = page.xpath(f"//ul[{has_class('authors')}]/li")  # the pre-2020 site
    return tuple(text(li) for li in old if text(li))


def _book_year(paper: PaperPage) -> int | None:
    """The conference year of a page whose URL has none: its "Part of" link, else its meta date.

    The link names the conference year ("NIPS 1994"); the proceedings' date may be the year after.
    """
    for a in paper.tree.xpath("//a[@href]"):
        m = _YEAR_PAGE.fullmatch(urlsplit(a.get("href", "")).path) or _PART_OF.search(text(a))
        if m:
            return int(m["year"])
    return paper.year("citation_publication_date", "citation_date")


def parse_paper_page(html: str, url: str) -> PaperMeta:
    """One paper's page (any era). Raises ValueError when the page is not a NeurIPS paper page."""
    page = paper_page(html, url, f"//h2[{has_class('subtitle')}]", "a NeurIPS paper page")
    m = _HASHED.fullmatch(urlsplit(url).path)
    year = int(m["year"]) if m else _book_year(page)
    return PaperMeta(
        source=SOURCE,
        title=page.title,
        url=url,
        abstract=_abstract(page.tree) or None,
        authors=_page_authors(page),
        year=year,
        venue=VENUE,
        pdf_url=pdf_for(url) or page.pdf_url,
    )


# --- the source --------------------------------------------------------------------------------------


class NeuripsSource(SiteSource):
    """NeurIPS proceedings through an injected client: year listings, paper pages, every URL era.

    Every URL is fetched at most once per instance (crawler.sources.pages.PageFetcher); a year's
    listing is its year page plus the companion volume pages it links to.
    """

    name = SOURCE
    venues = frozenset({VENUE, "NIPS"})
    default_base = DEFAULT_NEURIPS_BASE
    hosts = _HOSTS
    own_content = OWN_CONTENT

    def __init__(self, client: httpx.AsyncClient | None, base: str | None = None, legacy_base: str = LEGACY_BASE,
                 **options: Any) -> None:
        super().__init__(client, base, **options)
        self.legacy_base = legacy_base.rstrip("/")

    @property
    def bases(self) -> tuple[str, ...]:
        return (self.base, self.legacy_base)

    def ref(self, url: str) -> PaperRef | None:
        return parse_neurips_url(url) or self.on_base(url, ref_from_path)

    def venue_key(self, venue: str | None) -> str | None:
        return canonical_venue(venue)

    def lists(self, venue: str, year: int) -> bool:
        return canonical_venue(venue) == VENUE and year >= FIRST_YEAR

    async def listing(self, venue: str, year: int) -> list[PaperMeta] | None:
        """Every paper of NeurIPS `year`; None when the site has no page for that year (404).

        Raises SourceUnavailable (scope "NeurIPS YYYY") rather than return an empty or partial listing:
        a missing page would otherwise read as "this paper is not at NeurIPS".
        """
        if canonical_venue(venue) != VENUE:
            raise ValueError(f"not a NeurIPS venue: {venue!r}")
        scope = f"{VENUE} {year}"
        url = listing_url(year, self.base)
        page = await self._pages.get(url, scope)
        if page.status != 200:
            return None
        papers = parse_listing(page.text, url)
        companions = parse_companion_links(page.text, url, year)
        for companion in companions:
            more = await self._pages.get(companion, scope)
            if more.status != 200:
                raise SourceUnavailable(SOURCE, f"no volume page (HTTP {more.status}) at {companion}", scope=scope)
            papers.extend(checked_listing(SOURCE, companion, scope, parse_listing(more.text, companion)))
        if not companions:  # a year page that only links its volumes holds no papers of its own
            checked_listing(SOURCE, url, scope, papers)
        return stamped(papers, page.fetched_at)

    def listed_ids(self, meta: PaperMeta) -> tuple[str, ...]:
        # By path: the listing's URLs may be on a mirror or a test server's host.
        other = ref_from_path(urlsplit(meta.url).path)
        return (other.id,) if other is not None else ()

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        """A dated ref in its year's listing; an `<n>-<slug>` ref by its page (None: the site says 404)."""
        if ref.year is not None:
            listing = await self.listing(VENUE, ref.year)
            return None if listing is None else self.find(ref, listing)
        return await self._pages.paper(numbered_url(ref.id, self.legacy_base), parse_paper_page, VENUE)

    async def abstract(self, meta: PaperMeta) -> PaperMeta:
        """`meta` with the abstract (and, if it had none, the authors) of its paper page."""
        if meta.abstract:
            return meta
        scope = f"{VENUE} {meta.year}" if meta.year else VENUE
        return await self.completed_from(meta, meta.url, parse_paper_page, scope)
