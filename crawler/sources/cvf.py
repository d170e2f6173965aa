"""CVF open access (openaccess.thecvf.com): URL rules, page parsers, and a source.

The parsers are pure functions of text (fixtures in tests/fixtures/cvf/ show every era's markup);
`CvfSource` fetches through an injected `httpx.AsyncClient`, at most once per URL
(crawler.sources.pages.PageFetcher). Paper names are read from CVF's pages and URLs, never built from a
title: CVF's names follow no rule one could rebuild (authors' spellings, cut titles, suffixes).

A source that cannot answer (challenge page, 403/429/5xx, timeout, a listing with no papers) raises
`SourceUnavailable`: that is never evidence that a paper or a link does not exist.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Literal, cast
from urllib.parse import parse_qs, urljoin, urlsplit

import lxml.html

from crawler.errors import SourceUnavailable
from crawler.listfile.links import parse_arxiv_id, web_parts
from crawler.models import PaperMeta
from crawler.sources.base import PaperRef
from crawler.sources.markup import by_id, dds_after, doc, has_class, paper_page, prose, text
from crawler.sources.pages import SiteSource, checked_listing, stamped

SOURCE = "cvf"
DEFAULT_CVF_BASE = "https://openaccess.thecvf.com"

Conf = Literal["CVPR", "ICCV", "WACV", "ECCV"]
Kind = Literal["html", "pdf", "supp"]
CONFS: tuple[Conf, ...] = ("CVPR", "ICCV", "WACV", "ECCV")

# Host -> the path prefix the repository lives under there. The old host kept the same folders.
_HOSTS = {
    "openaccess.thecvf.com": "",
    "www.cv-foundation.org": "/openaccess",
    "cv-foundation.org": "/openaccess",
}

# A paper file's path, every era: content_cvpr_2017/…, content_CVPR_2019/…, content/CVPR2023/…
# Anchored at the start so workshop paths (content_CVPRW_2019/papers/NTIRE/…, content/CVPR2022W/…,
# CVPR2018_workshops/content_CVPR_2018/papers/w17/…) are not taken for main-conference papers.
_PAPER_PATH = re.compile(
    r"/(?P<folder>content_(?P<c1>cvpr|iccv|wacv|eccv)_(?P<y1>\d{4})"
    r"|content/(?P<c2>cvpr|iccv|wacv|eccv)(?P<y2>\d{4}))"
    r"/(?P<dir>html|papers|supplemental)/(?P<stem>[^/]+)\.(?P<ext>html|pdf|zip)",
    re.IGNORECASE,
)
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
_PTITLE = f"//dt[{has_class('ptitle')}]"
_AUTHSEARCH = f".//form[{has_class('authsearch')}]"

# CVF's own markup (a listing, a paper page): a page that has it is no bot wall, whatever its text says.
OWN_CONTENT = f"{_PTITLE} | //*[@id='papertitle']"


@dataclass(frozen=True)
class CvfRef:
    """One CVF paper as its URL names it. Names are looked up, never built."""

    conf: Conf
    year: int
    kind: Kind
    name: str  # the "<...>_paper" stem: "Yim_A_Gift_From_CVPR_2017_paper"
    folder: str = ""  # as found ("content_ICCV_2017"); "" means the era's usual folder

    @property
    def path_folder(self) -> str:
        return self.folder or default_folder(self.conf, self.year)

    @property
    def exact(self) -> bool:
        """False when `name` is only a guess: from 2019 on CVF cut supplement names to a few title
        words ("Li_Block-Wisely_Supervised_Neural_CVPR_2020_supplemental.pdf") but not paper names."""
        return self.kind != "supp" or self.year < 2019

    @property
    def stem(self) -> str:
        """The name without its "_<CONF>_<YEAR>_paper" tail (2013–2014 names end "_<YEAR>_<CONF>_paper")."""
        for tail in (f"_{self.conf}_{self.year}_paper", f"_{self.year}_{self.conf}_paper", "_paper"):
            if self.name.endswith(tail):
                return self.name[: -len(tail)]
        return self.name


# --- pure URL rules ----------------------------------------------------------------------------------


def default_folder(conf: str, year: int) -> str:
    """The folder a conference year's papers live in, when no URL told us."""
    conf = conf.upper()
    if year >= 2021:
        return f"content/{conf}{year}"
    if year >= 2019 or conf == "ECCV":
        return f"content_{conf}_{year}"
    return f"content_{conf.lower()}_{year}"  # 2013–2018: lower case (ICCV 2017 pdfs excepted)


def covers(conf: str, year: int) -> bool:
    """Whether CVF open access hosts this conference year's main papers at all."""
    conf = conf.upper()
    if conf == "CVPR":
        return year >= 2013
    if conf == "ICCV":
        return year >= 2013 and year % 2 == 1
    if conf == "WACV":
        return year >= 2020
    if conf == "ECCV":
        return year == 2018  # other ECCV years live at www.ecva.net
    return False


def _ref_from_path(path: str) -> CvfRef | None:
    if path[:11].lower() == "/openaccess":
        path = path[11:]
    m = _PAPER_PATH.fullmatch(path)
    if not m:
        return None
    directory, stem, ext = m["dir"].lower(), m["stem"], m["ext"].lower()
    kind: Kind
    if directory == "html" and ext == "html" and stem.endswith("_paper"):
        kind, name = "html", stem
    elif directory == "papers" and ext == "pdf" and stem.endswith("_paper"):
        kind, name = "pdf", stem
    elif directory == "supplemental" and stem.endswith("_supplemental"):
        kind, name = "supp", stem[: -len("_supplemental")] + "_paper"
    else:
        return None
    conf = cast(Conf, (m["c1"] or m["c2"]).upper())
    return CvfRef(conf=conf, year=int(m["y1"] or m["y2"]), kind=kind, name=name, folder=m["folder"])


def parse_cvf_url(url: str) -> CvfRef | None:
    """A main-conference CVF paper URL (html page, pdf or supplement) -> its ref; anything else -> None."""
    found = web_parts(url)
    if found is None or found[0] not in _HOSTS:
        return None
    host, parts = found
    prefix = _HOSTS[host]
    path = parts.path
    if prefix:
        if path[: len(prefix)].lower() != prefix:
            return None
        path = path[len(prefix) :]
    return _ref_from_path(path)


def html_url_for(ref: CvfRef, base: str = DEFAULT_CVF_BASE) -> str:
    """The paper's abstract page. Keeps the folder as found: only html/papers and the extension swap.

    Raises ValueError for a ref whose name is a guess (`ref.exact` is False): CvfSource.paper()
    resolves those through the listing instead of inventing a URL.
    """
    return f"{base.rstrip('/')}/{_exact(ref).path_folder}/html/{ref.name}.html"


def _exact(ref: CvfRef) -> CvfRef:
    if not ref.exact:
        raise ValueError(f"supplement name does not name the paper from 2019 on: {ref.name}")
    return ref


def listing_url(conf: str, year: int, base: str = DEFAULT_CVF_BASE) -> str:
    """The page to start a conference year's listing from.

    Up to 2020 the conference page itself (one listing up to 2017; links to day pages for
    2018–2020 and ICCV 2019); from 2021 the single `?day=all` page.
    """
    page = f"{base.rstrip('/')}/{_conf(conf)}{year}"
    return f"{page}?day=all" if year >= 2021 else page


def _conf(conf: str) -> Conf:
    upper = conf.strip().upper()
    if upper not in CONFS:
        raise ValueError(f"not a CVF conference: {conf!r} (one of {', '.join(CONFS)})")
    return cast(Conf, upper)


# --- pure page parsers -------------------------------------------------------------------------------


def _pdf_link(anchors: list[lxml.html.HtmlElement], page_url: str) -> str | None:
    for a in anchors:
        if text(a).lower() == "pdf":
            return urljoin(page_url, a.get("href", "").strip())
    for a in anchors:  # no "[pdf]" label: the first paper pdf will do
        href = a.get("href", "").strip()
        if "/papers/" in href and href.lower().endswith(".pdf"):
            return urljoin(page_url, href)
    return None


def _arxiv_link(anchors: list[lxml.html.HtmlElement]) -> str | None:
    for a in anchors:
        found = parse_arxiv_id(a.get("href", ""))
        if found:
            return found
    return None


def _venue_year(url: str) -> tuple[Conf | None, int | None]:
    # Path only: pages served from a mirror or a loopback fake still carry the CVF folder.
    ref = _ref_from_path(urlsplit(url).path)
    return (ref.conf, ref.year) if ref else (None, None)


def _listing_authors(dds: list[lxml.html.HtmlElement]) -> tuple[str, ...]:
    names: list[str] = []
    for dd in dds:
        for form in dd.xpath(_AUTHSEARCH):
            value = form.xpath(".//input[@name='query_author']/@value")
            name = " ".join(value[0].split()) if value and value[0].strip() else ""
            if not name:
                name = text(next(iter(form.xpath(".//a")), None))
            name = name.strip(" ,")
            if name:
                names.append(name)
    if not names and dds and not dds[0].xpath(".//a[@href and @href != '#']"):
        # Old pages without search forms: a plain "A, B, C" line.
        names = [n.strip() for n in text(dds[0]).split(",") if n.strip()]
    return tuple(names)


def parse_listing(html: str, page_url: str) -> list[PaperMeta]:
    """Every paper of a listing page (conference, day or `?day=all` page), URLs made absolute."""
    tree = doc(html)
    if tree is None:
        return []
    papers: list[PaperMeta] = []
    for dt in tree.xpath(_PTITLE):
        title_links = dt.xpath(".//a[@href]")
        if not title_links:
            continue
        title = text(title_links[0])
        href = title_links[0].get("href", "").strip()
        if not title or not href:
            continue
        url = urljoin(page_url, href)
        dds = dds_after(dt)
        anchors = [a for dd in dds for a in dd.xpath(".//a[@href]")]
        venue, year = _venue_year(url)
        papers.append(
            PaperMeta(
                source=SOURCE,
                title=title,
                url=url,
                authors=_listing_authors(dds),
                year=year,
                venue=venue,
                arxiv_id=_arxiv_link(anchors),
                pdf_url=_pdf_link(anchors, page_url),
            )
        )
    return papers


def _page_name(path: str) -> str:
    last = path.rstrip("/").rsplit("/", 1)[-1].lower()
    return last.removesuffix(".py")  # the pre-2020 site served CVPR2019.py


def parse_day_links(html: str, page_url: str) -> list[str]:
    """Day pages linked from a conference page, absolute, in page order; only `?day=all` if offered.

    Dates come from the page, never from a calendar: they differ per conference and year.
    """
    tree = doc(html)
    if tree is None:
        return []
    here = _page_name(urlsplit(page_url).path)
    days: list[str] = []
    every: str | None = None
    for a in tree.xpath("//a[@href]"):
        url = urljoin(page_url, a.get("href", "").strip()).split("#", 1)[0]
        parts = urlsplit(url)
        if _page_name(parts.path) != here:  # another conference's days, workshops, the menu
            continue
        day = parse_qs(parts.query).get("day", [""])[0].strip()
        if day.lower() == "all":
            every = every or url
        elif _DAY.fullmatch(day) and url not in days:
            days.append(url)
    return [every] if every else days


def _byline_authors(tree: lxml.html.HtmlElement) -> tuple[str, ...]:
    byline = by_id(tree, "authors")
    if byline is None:
        return ()
    names = byline.xpath(".//i") or byline.xpath(".//b")
    if not names:
        return ()
    return tuple(n.strip() for n in text(names[0]).split(",") if n.strip())


def parse_paper_page(html: str, url: str) -> PaperMeta:
    """One paper's abstract page. Raises ValueError when the page is not a CVF paper page."""
    page = paper_page(html, url, "//*[@id='papertitle']", "a CVF paper page")
    tree = page.tree
    # The byline is already in display order and matches the listing; the metas ("Last, First") need flipping.
    authors = _byline_authors(tree) or page.authors
    content = by_id(tree, "content")
    anchors = (content if content is not None else tree).xpath(".//a[@href]")
    # The page's own [pdf] link resolves against where we fetched it (a mirror stays a mirror);
    # citation_pdf_url names the canonical host and only fills in when the link is missing.
    pdf = _pdf_link(anchors, url) or page.pdf_url
    venue, year = _venue_year(url)
    if year is None:
        year = page.year()
    abstract = prose(by_id(tree, "abstract"))
    return PaperMeta(
        source=SOURCE,
        title=page.title,
        url=url,
        abstract=abstract or None,
        authors=authors,
        year=year,
        venue=venue,
        arxiv_id=_arxiv_link(anchors),
        pdf_url=pdf,
    )


# --- the source --------------------------------------------------------------------------------------


class CvfSource(SiteSource):
    """CVF open access through an injected client (crawler.sources.pages.PageFetcher: each URL once per
    run, a conference listing one visit, at most `concurrency` requests in flight).

    Failures are scoped: a challenge, 403 or 429 stops CVF for the run; an empty day page, a 5xx or a timeout
    while reading one conference year's listing, or that year's paper pages, stops only that year.
    """

    name = SOURCE
    venues = frozenset({"CVPR", "ICCV", "WACV"})  # ECCV: www.ecva.net (crawler.sources.ecva)
    default_base = DEFAULT_CVF_BASE  # Settings.cvf_base
    hosts = frozenset(_HOSTS)
    own_content = OWN_CONTENT

    # -- the PaperSource interface --------------------------------------------------------------------
    def ref(self, url: str) -> PaperRef | None:
        ref = self._cvf_ref(url)
        if ref is None:
            return None
        # A 2019+ supplement's name is cut to a few title words: found in the listing by prefix (find).
        ident = ref.name.lower() if ref.exact else f"supp:{ref.stem.lower()}"
        return PaperRef(SOURCE, ident, venue=ref.conf, year=ref.year, url=url)

    def lists(self, venue: str, year: int) -> bool:
        return venue.upper() in CONFS and covers(venue, year)

    def listed_ids(self, meta: PaperMeta) -> tuple[str, ...]:
        """The page name, and every word-prefix of its stem as a 2019+ supplement name may cut it
        ("supp:li_block-wisely_supervised_neural"): a prefix two papers share names neither."""
        ref = _ref_from_path(urlsplit(meta.url).path)
        if ref is None:
            return super().listed_ids(meta)
        words = ref.stem.lower().split("_")
        return (ref.name.lower(), *(f"supp:{'_'.join(words[:n])}" for n in range(1, len(words) + 1)))

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        # Refs always carry their conference year, so the gateway finds them in the listing; a
        # lookup is for a listing that is missing, and reads the paper's own page.
        return await self.paper(ref.url)

    async def abstract(self, meta: PaperMeta) -> PaperMeta:
        try:
            page = await self.paper(meta.url)
        except ValueError:  # not a CVF paper URL after all: nothing to read
            return meta
        if page is None:
            return meta
        return dataclasses.replace(meta, abstract=page.abstract, authors=page.authors or meta.authors,
                                   arxiv_id=meta.arxiv_id or page.arxiv_id, pdf_url=meta.pdf_url or page.pdf_url)

    # -- fetching ---------------------------------------------------------------------------------------
    async def listing(self, conf: str, year: int) -> list[PaperMeta] | None:
        """All papers of a conference year; None when CVF does not host it (no request when it cannot).

        Raises SourceUnavailable rather than return a partial or empty listing: a missing day
        would otherwise read as "this paper is not at CVPR".
        """
        key = (_conf(conf), year)
        return await self._fetch_listing(*key) if covers(*key) else None

    async def paper(self, url: str) -> PaperMeta | None:
        """The paper page behind any CVF paper URL (html, pdf or supp; old host or base).

        Returns None when CVF answers 404/410 (no such page), or when a 2019+ supplement URL matches
        no single paper of its listing. Raises SourceUnavailable when CVF cannot answer, and
        ValueError for a URL that names no CVF paper.
        """
        ref = self._cvf_ref(url)
        if ref is None:
            raise ValueError(f"not a CVF paper URL: {url}")
        if not ref.exact:
            found = await self._paper_for_supplement(ref)
            if found is None:
                return None
            ref = found
        return await self._pages.paper(html_url_for(ref, self.base), parse_paper_page, f"{ref.conf} {ref.year}")

    async def _paper_for_supplement(self, supp: CvfRef) -> CvfRef | None:
        # The supplement keeps the first title words of the paper's name: find the one paper so named.
        matches = []
        for paper in await self.listing(supp.conf, supp.year) or ():
            ref = _ref_from_path(urlsplit(paper.url).path)
            if ref and (ref.stem == supp.stem or ref.stem.startswith(supp.stem + "_")):
                matches.append(ref)
        return matches[0] if len(matches) == 1 else None

    def _cvf_ref(self, url: str) -> CvfRef | None:
        return parse_cvf_url(url) or self.on_base(url, _ref_from_path)

    async def _fetch_listing(self, conf: Conf, year: int) -> list[PaperMeta] | None:
        url = listing_url(conf, year, self.base)
        scope = f"{conf} {year}"
        page = await self._pages.get(url, scope)
        if page.status != 200:  # 404: CVF does not host this conference year (fall back to arXiv)
            return None
        papers = parse_listing(page.text, url)
        days = parse_day_links(page.text, url) if not papers else []
        if not days:  # a listing itself, or a conference page that lists nothing and links no day either
            return stamped(checked_listing(SOURCE, url, scope, papers), page.fetched_at)
        for day_url in days:
            day = await self._pages.get(day_url, scope)
            if day.status != 200:  # every day the conference page links must be there, or the listing is partial
                raise SourceUnavailable(SOURCE, f"no day page (HTTP {day.status}) at {day_url}", scope=scope)
            papers.extend(checked_listing(SOURCE, day_url, scope, parse_listing(day.text, day_url)))
        return stamped(papers, page.fetched_at)  # the conference page: when this listing was asked for
