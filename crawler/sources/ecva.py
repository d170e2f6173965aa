"""ECVA (www.ecva.net): the ECCV papers, every year from 2018 on one page, and their paper pages.

`papers.php` holds one accordion section per year ("ECCV 2024 Papers"), each a CVF-style list:
`<dt class="ptitle"><br><a href="papers/eccv_2020/papers_ECCV/html/832_ECCV_2020_paper.php">Title</a></dt>`,
a `<dd>` of authors (2020 on "First Last*, …"; 2018 BibTeX-style "Last, First and Last, First"), a `<dd>`
with `[pdf]`, optional `[supplementary material]` and a Springer DOI link. Paper pages carry CVF's
`#papertitle`, `#authors` and `#abstract`. The page is fetched once per run for every year.

PDF names cannot be derived from page names (2020 and 2022 pages are numbered `832_ECCV_2020_paper.php`,
their pdfs by LNCS volume and page, `123540562.pdf`), so a link is looked up in its year's listing by
either name (`EcvaSource.find`).

ECCV 2018 is also on CVF open access (`content_ECCV_2018/…`, same names). ECVA answers ECCV fills of every
year, 2018 included: it is ECCV's own publisher, and the page it reads is already fetched for any other
ECCV year, where CVF's ECCV 2018 listing would cost one more request for the same papers and abstracts.
CVF keeps judging links to its own ECCV 2018 pages.
"""

from __future__ import annotations

import dataclasses
import re
from typing import ClassVar
from urllib.parse import urljoin, urlsplit

import lxml.html

from crawler.errors import SourceUnavailable
from crawler.listfile.links import web_parts
from crawler.models import PaperMeta
from crawler.sources.base import WHOLE, PaperRef
from crawler.sources.markup import by_id, dds_after, doc, has_class, paper_page, prose, text
from crawler.sources.pages import SiteSource, checked_listing

SOURCE = "ecva"
VENUE = "ECCV"
DEFAULT_ECVA_BASE = "https://www.ecva.net"
FIRST_YEAR = 2018  # the first ECCV on ECVA's page; ECCV is held in even years
_HOSTS = frozenset({"www.ecva.net", "ecva.net"})

# /papers/eccv_2020/papers_ECCV/html/832_ECCV_2020_paper.php, …/papers/123460205.pdf, …/123540562-supp.pdf,
# 2018: …/html/Beery_Recognition_in_Terra_ECCV_2018_paper.php and …/papers/<same name>.pdf
_PAPER_PATH = re.compile(
    r"/papers/eccv_(?P<year>\d{4})/papers_eccv/"
    r"(?:html/(?P<page>[^/]+_eccv_\d{4}_paper)\.php"
    r"|papers/(?P<file>[^/]+?)(?:-supp)?\.(?:pdf|zip))",
    re.IGNORECASE,
)
_SECTION = re.compile(r"^\s*ECCV\s*(?P<year>\d{4})\s*Papers\s*$", re.IGNORECASE)
_PTITLE = f"//dt[{has_class('ptitle')}]"
_MARKS = re.compile(r"[*\u00b2\u00b3\u00b9\u2070-\u2079]+")  # "Alice Smith*", superscript affiliations
_QUOTES = "\"'\u201c\u201d "

# ECVA's own markup (a paper list, a paper page): a page that has it is no bot wall, whatever its text says.
OWN_CONTENT = f"{_PTITLE} | //*[@id='papertitle']"

EcvaListing = dict[int, tuple[PaperMeta, ...]]  # year -> its papers; a year announced but empty maps to ()


# --- pure URL rules ------------------------------------------------------------------------------------


def paper_id(url: str) -> tuple[int, str] | None:
    """(year, name) of an ECVA paper page, pdf or supplement URL; the name is the page's or the file's stem.

    '…/eccv_2020/papers_ECCV/html/832_ECCV_2020_paper.php' -> (2020, '832_ECCV_2020_paper');
    '…/eccv_2020/papers_ECCV/papers/123540562-supp.pdf' -> (2020, '123540562'). Path only: no host check.
    """
    try:
        path = urlsplit(url.strip()).path
    except ValueError:
        return None
    return id_in_path(path)


def id_in_path(path: str) -> tuple[int, str] | None:
    """(year, name) of an ECVA paper path: `paper_id` without the host."""
    m = _PAPER_PATH.fullmatch(path)
    return (int(m["year"]), m["page"] or m["file"]) if m else None


def parse_ecva_url(url: str) -> tuple[int, str] | None:
    """(year, name) of a paper page, pdf or supplement URL on ECVA's own hosts; else None."""
    found = web_parts(url)
    return id_in_path(found[1].path) if found is not None and found[0] in _HOSTS else None


def papers_url(base: str = DEFAULT_ECVA_BASE) -> str:
    return f"{base.rstrip('/')}/papers.php"


# --- pure page parsers ---------------------------------------------------------------------------------


def _clean_title(line: str) -> str:
    return " ".join(line.split()).strip(_QUOTES)


def _split_authors(line: str) -> tuple[str, ...]:
    """'Alice Smith*, Bob Jones and Carol White' -> ('Alice Smith', 'Bob Jones', 'Carol White');
    2018's BibTeX-style 'Beery, Sara and Van Horn, Grant' -> ('Sara Beery', 'Grant Van Horn')."""
    line = _MARKS.sub("", " ".join(line.split()))
    parts = [p.strip(" ,") for p in re.split(r"\s+and\s+", line) if p.strip(" ,")]
    if len(parts) > 1 and all(p.count(",") == 1 for p in parts):
        return tuple(f"{first.strip()} {last.strip()}" for last, _, first in (p.partition(",") for p in parts))
    return tuple(n.strip() for n in re.split(r",|\s+and\s+", line) if n.strip())


def _pdf_link(dds: list[lxml.html.HtmlElement], page_url: str) -> str | None:
    anchors = [a for dd in dds for a in dd.xpath(".//a[@href]")]
    for a in anchors:
        if text(a).lower() == "pdf":
            return urljoin(page_url, a.get("href", "").strip())
    for a in anchors:
        href = a.get("href", "").strip()
        if href.lower().endswith(".pdf") and "-supp" not in href.lower() and paper_id(urljoin(page_url, href)):
            return urljoin(page_url, href)
    return None


def parse_papers_page(html: str, page_url: str) -> EcvaListing:
    """Every paper of `papers.php`, by year; a year whose heading is there but whose list is empty maps to ().

    URLs are made absolute against `page_url`; a paper's year is the one its page URL names (a section
    heading only announces a year).
    """
    tree = doc(html)
    if tree is None:
        return {}
    years: dict[int, list[PaperMeta]] = {}
    for heading in tree.xpath("//button | //h2 | //h3 | //h4"):
        m = _SECTION.match(text(heading))
        if m:
            years.setdefault(int(m["year"]), [])
    seen: set[str] = set()
    for dt in tree.xpath(_PTITLE):
        link = next(iter(dt.xpath(".//a[@href]")), None)
        if link is None:
            continue
        url = urljoin(page_url, link.get("href", "").strip())
        title = _clean_title(text(link))
        found = paper_id(url)
        if found is None or not urlsplit(url).path.lower().endswith(".php") or not title or url in seen:
            continue  # a title that links anywhere but its ECVA page is no paper of the listing
        year = found[0]
        seen.add(url)
        dds = dds_after(dt)
        authors = _split_authors(text(dds[0])) if dds and not dds[0].xpath(".//a[@href]") else ()
        years.setdefault(year, []).append(
            PaperMeta(
                source=SOURCE, title=title, url=url, authors=authors, year=year, venue=VENUE,
                pdf_url=_pdf_link(dds, page_url),
            )
        )
    return {year: tuple(papers) for year, papers in years.items()}


def parse_paper_page(html: str, url: str) -> PaperMeta:
    """One paper's page (`…/html/<N>_ECCV_<YYYY>_paper.php`). Raises ValueError for anything else."""
    page = paper_page(html, url, "//*[@id='papertitle']", "an ECVA paper page")
    tree, title = page.tree, _clean_title(page.title)
    byline = by_id(tree, "authors")
    names = (byline.xpath(".//i") or byline.xpath(".//b")) if byline is not None else []
    authors = _split_authors(text(names[0])) if names else ()
    if not authors:
        authors = tuple(_split_authors(" and ".join(page.metas("citation_author"))))
    content = by_id(tree, "content")
    anchors = (content if content is not None else tree).xpath(".//a[@href]")
    pdf = next((urljoin(url, a.get("href", "").strip()) for a in anchors if text(a).lower() == "pdf"), None)
    found = paper_id(url)
    abstract = _clean_title(prose(by_id(tree, "abstract")))
    return PaperMeta(
        source=SOURCE, title=title, url=url, abstract=abstract or None, authors=authors,
        year=found[0] if found else None, venue=VENUE, pdf_url=pdf,
    )


# --- the source ----------------------------------------------------------------------------------------


class EcvaSource(SiteSource):
    """ECCV papers from www.ecva.net: one listing request per run for every year, paper pages for abstracts."""

    name: ClassVar[str] = SOURCE
    venues: ClassVar[frozenset[str]] = frozenset({VENUE})
    default_base = DEFAULT_ECVA_BASE
    hosts = _HOSTS
    own_content = OWN_CONTENT

    # -- pure ---------------------------------------------------------------------------------------

    def ref(self, url: str) -> PaperRef | None:
        found = parse_ecva_url(url) or self.on_base(url, id_in_path)
        if found is None:
            return None
        year, name = found
        return PaperRef(SOURCE, f"{year}/{name}", venue=VENUE, year=year)

    def lists(self, venue: str, year: int) -> bool:
        return venue.strip().upper() == VENUE and year >= FIRST_YEAR and year % 2 == 0

    def listed_ids(self, meta: PaperMeta) -> tuple[str, ...]:
        """The ids of its page and of its pdf (a pdf name says nothing of the page's)."""
        refs = (self.ref(url) for url in (meta.url, meta.pdf_url) if url)
        return tuple(r.id for r in refs if r is not None)

    # -- asking the site ----------------------------------------------------------------------------

    async def listing(self, venue: str, year: int) -> list[PaperMeta] | None:
        """The year's papers; None when papers.php has no such year (a year whose heading is there but whose
        list is empty raises SourceUnavailable for that year: a list being published is not "no papers")."""
        if not self.lists(venue, year):
            return None
        scope = f"{VENUE} {year}"
        every = await self._every_year(scope)
        if year not in every:
            return None
        if not every[year]:
            raise SourceUnavailable(SOURCE, f"empty listing for {scope} at {papers_url(self.base)}", scope=scope)
        return list(every[year])

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        """The paper behind `ref`, from its year's listing; a page missing from the listing is read directly."""
        if ref.year is None:
            return None
        listed = await self.listing(VENUE, ref.year)
        if listed:
            return self.find(ref, listed)
        name = ref.id.partition("/")[2]
        if not name.endswith("_paper"):  # a pdf of a year the page does not list: nothing to read it from
            raise SourceUnavailable(SOURCE, f"no listing for {VENUE} {ref.year}", scope=f"{VENUE} {ref.year}")
        return await self._pages.paper(f"{self.base}/papers/eccv_{ref.year}/papers_ECCV/html/{name}.php",
                                         parse_paper_page)

    async def abstract(self, meta: PaperMeta) -> PaperMeta:
        """`meta` with the abstract (and the byline's authors when the listing had none) of its paper page."""
        if meta.abstract or paper_id(meta.url) is None:
            return meta
        return await self.completed_from(meta, meta.url, parse_paper_page)

    async def _every_year(self, scope: str) -> EcvaListing:
        # One page lists every year: the fetcher reads it once, whichever year is asked for first.
        url = papers_url(self.base)
        page, every = await self._pages.read(url, parse_papers_page, scope)
        if every is None:
            raise SourceUnavailable(SOURCE, f"no papers page (HTTP {page.status}) at {url}", scope=scope)
        # A page without a single paper is a broken or foreign page, not "ECCV has no papers"; it stops every
        # year, as they all come from it.
        checked_listing(SOURCE, url, WHOLE, [p for papers in every.values() for p in papers])
        return {year: tuple(dataclasses.replace(p, fetched_at=page.fetched_at) for p in papers)
                for year, papers in every.items()}

