"""PMLR (proceedings.mlr.press): ICML, AISTATS, COLT, UAI, CoRL, ALT — URL rules, page parsers, a source.

A paper is `/vNNN/<key>.html` (its page), `/vNNN/<key>/<key>.pdf` (and supplements in that folder), or
in volumes before about 2017 `/vNNN/<key>.pdf` (`/vNNN/<key>-supp.pdf`); the old JMLR W&CP host served the
same files under `jmlr.org/proceedings/papers/vNNN/`, and volumes from about 2024 keep their pdfs in the
volume's repository, `raw.githubusercontent.com/mlresearch/vNNN/main/assets/<key>/<key>.pdf`. A volume
page `/vNNN/` lists every paper of one conference-year: `div.paper` with `p.title`, `span.authors` and
`p.links` ([abs], [Download PDF], …); a paper page has `citation_*` meta tags and `div#abstract`
(tests/fixtures/pmlr/README.md shows both).

Which volume is which conference-year is a table (VOLUMES), read from each volume's own repository
(github.com/mlresearch/vNNN, `_config.yml`: `shortname`, `year`, `volume`). A venue-year after the
table's last is looked up once in the volume index, `proceedings.mlr.press/`.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html

from crawler.errors import SourceUnavailable
from crawler.listfile.links import parse_arxiv_id, web_parts
from crawler.models import PaperMeta
from crawler.sources.base import PaperRef
from crawler.sources.markup import absolute, doc, has_class, paper_page, prose, split_names, text
from crawler.sources.pages import SiteSource, checked_listing

SOURCE = "pmlr"
DEFAULT_PMLR_BASE = "https://proceedings.mlr.press"

# (conference, year, volume). Each row is the `shortname`, `year` and `volume` of the volume's
# `_config.yml` in github.com/mlresearch/vNNN (read 2026-11). Add a row per new volume; until then the
# volume index finds it.
VOLUMES: tuple[tuple[str, int, int], ...] = (
    ("ICML", 2013, 28), ("ICML", 2014, 32), ("ICML", 2015, 37), ("ICML", 2016, 48), ("ICML", 2017, 70),
    ("ICML", 2018, 80), ("ICML", 2019, 97), ("ICML", 2020, 119), ("ICML", 2021, 139), ("ICML", 2022, 162),
    ("ICML", 2023, 202), ("ICML", 2024, 235), ("ICML", 2025, 267),
    ("AISTATS", 2007, 2), ("AISTATS", 2009, 5), ("AISTATS", 2010, 9), ("AISTATS", 2011, 15),
    ("AISTATS", 2012, 22), ("AISTATS", 2013, 31), ("AISTATS", 2014, 33), ("AISTATS", 2015, 38),
    ("AISTATS", 2016, 51), ("AISTATS", 2017, 54), ("AISTATS", 2018, 84), ("AISTATS", 2019, 89),
    ("AISTATS", 2020, 108), ("AISTATS", 2021, 130), ("AISTATS", 2022, 151), ("AISTATS", 2023, 206),
    ("AISTATS", 2024, 238), ("AISTATS", 2025, 258), ("AISTATS", 2026, 300),
    ("COLT", 2011, 19), ("COLT", 2012, 23), ("COLT", 2013, 30), ("COLT", 2014, 35), ("COLT", 2015, 40),
    ("COLT", 2016, 49), ("COLT", 2017, 65), ("COLT", 2018, 75), ("COLT", 2019, 99), ("COLT", 2020, 125),
    ("COLT", 2021, 134), ("COLT", 2022, 178), ("COLT", 2023, 195), ("COLT", 2024, 247), ("COLT", 2025, 291),
    ("UAI", 2019, 115), ("UAI", 2020, 124), ("UAI", 2021, 161), ("UAI", 2022, 180), ("UAI", 2023, 216),
    ("UAI", 2024, 244), ("UAI", 2025, 286),
    ("CoRL", 2017, 78), ("CoRL", 2018, 87), ("CoRL", 2019, 100), ("CoRL", 2020, 155), ("CoRL", 2021, 164),
    ("CoRL", 2022, 205), ("CoRL", 2023, 229), ("CoRL", 2024, 270), ("CoRL", 2025, 305),
    ("ALT", 2017, 76), ("ALT", 2018, 83), ("ALT", 2019, 98), ("ALT", 2020, 117), ("ALT", 2021, 132),
    ("ALT", 2022, 167), ("ALT", 2023, 201), ("ALT", 2024, 237), ("ALT", 2025, 272),
)

# How a list or the volume index names each conference: its short name, and its full name.
CONFERENCES: dict[str, str] = {
    "ICML": "International Conference on Machine Learning",
    "AISTATS": "Artificial Intelligence and Statistics",
    "COLT": "Conference on Learning Theory",
    "UAI": "Uncertainty in Artificial Intelligence",
    "CoRL": "Conference on Robot Learning",
    "ALT": "Algorithmic Learning Theory",
}
# Conference number -> year, for index entries that give only "the 42nd …": n + offset (recent volumes).
_ORDINAL_OFFSET = {"ICML": 1983, "AISTATS": 1997, "COLT": 1987, "UAI": 1984, "CoRL": 2016, "ALT": 1989}


class VolumeTable:
    """Which PMLR volume holds which conference-year, both ways."""

    def __init__(self, rows: Sequence[tuple[str, int, int]] = VOLUMES) -> None:
        self._by_venue: dict[str, dict[int, int]] = {}
        self._by_volume: dict[int, tuple[str, int]] = {}
        for venue, year, volume in rows:
            self._by_venue.setdefault(venue, {})[year] = volume
            self._by_volume[volume] = (venue, year)

    def __len__(self) -> int:
        return len(self._by_volume)

    def volume(self, venue: str, year: int) -> int | None:
        return self._by_venue.get(venue, {}).get(year)

    def conference(self, volume: int) -> tuple[str, int] | None:
        """(venue, year) of a volume, or None (a workshop, or a volume not in the table yet)."""
        return self._by_volume.get(volume)

    def last_year(self, venue: str) -> int | None:
        years = self._by_venue.get(venue)
        return max(years) if years else None

    def newest_volume(self, venue: str) -> int:
        return max(self._by_venue.get(venue, {}).values(), default=0)


TABLE = VolumeTable()


def _with_www(*names: str) -> frozenset[str]:
    return frozenset(names) | {f"www.{n}" for n in names}


# Every host name `parse_pmlr_url` reads, "www." forms included: these sets are also the hosts the source
# claims, and a link on a host it does not claim is never asked about (`http://www.jmlr.org/proceedings/…`).
_HOSTS = _with_www("proceedings.mlr.press")
_JMLR_HOSTS = _with_www("jmlr.org", "jmlr.csail.mit.edu")  # JMLR W&CP, before PMLR (2017)
_RAW_HOST = "raw.githubusercontent.com"  # the volume repositories' files, where current pages link pdfs
_KEY = r"(?P<key>[A-Za-z][A-Za-z0-9_-]*?)"
# `/v202/abe23a.html`, `/v202/abe23a/abe23a.pdf`, `/v202/abe23a/abe23a-supp.pdf`, `/v37/ioffe15.pdf`,
# `/v37/ioffe15-supp.pdf` (its supplement, beside it in the old volumes).
_PAPER_PATH = re.compile(rf"/v(?P<volume>\d+)/{_KEY}(?:\.html|(?:-supp)?\.(?:pdf|zip)|/(?P<file>[^/]+))")
# `/mlresearch/v235/main/assets/abe24a/abe24a.pdf` on raw.githubusercontent.com: the same folder as above.
_RAW_PATH = re.compile(r"/mlresearch/v(?P<volume>\d+)/[^/]+/assets(?P<rest>/[^/]+/[^/]+)")
_NOT_KEYS = frozenset({"assets", "index", "feed", "bibliography", "citeproc"})
_VOLUME_HREF = re.compile(r"/?v(?P<volume>\d+)/?")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_ORDINAL = re.compile(r"\b(\d{1,2})(?:st|nd|rd|th)\b", re.IGNORECASE)
# A volume of another event held at a conference: "TerraBytes at ICML 2025", "Proceedings of GRaM at ICML 2024".
_GUEST = re.compile(r"\bat\b|@|co-?located|in conjunction with|satellite", re.IGNORECASE)
_BOILERPLATE = re.compile(r"\b(?:proceedings|of|the|volume|\d+(?:st|nd|rd|th)?)\b", re.IGNORECASE)
# Volumes that share a conference's name without being its main proceedings.
_NOT_MAIN = re.compile(
    r"workshop|competition|demonstration|challenge|tutorial|track|doctoral|satellite"
    r"|\b(?:icml|aistats|colt|uai|corl|alt|neurips|nips)-?w\b",
    re.IGNORECASE,
)

OWN_CONTENT = (
    f"//div[{has_class('paper')}] | //meta[@name='citation_title'] | //ul[{has_class('proceedings-list')}]"
)


# --- pure rules ------------------------------------------------------------------------------------


def canonical_venue(venue: str | None) -> str | None:
    """'ICML', 'icml 2023', 'CORL', 'International Conference on Machine Learning' -> the table's name.

    A workshop ("ICML Workshop", "ICMLW") or a venue PMLR does not index -> None.
    """
    if not venue or _NOT_MAIN.search(venue):
        return None
    words = re.sub(r"['’]?\s*(?:19|20)?\d\d\s*$", "", venue.strip()).strip()
    for short, full in CONFERENCES.items():
        if words.upper() == short.upper() or full.lower() in venue.lower():
            return short
    return None


def ref_from_path(path: str, table: VolumeTable = TABLE) -> PaperRef | None:
    m = _PAPER_PATH.fullmatch(path)
    if not m or m["key"].lower() in _NOT_KEYS:
        return None
    if m["file"] is not None and not m["file"].startswith(m["key"]):
        return None  # the folder holds the paper's own files, all named after its key
    volume = int(m["volume"])
    venue, year = table.conference(volume) or (None, None)
    return PaperRef(SOURCE, f"v{volume}/{m['key']}", venue, year)


def parse_pmlr_url(url: str, table: VolumeTable = TABLE) -> PaperRef | None:
    """A PMLR paper URL (page, pdf, supplement; the old JMLR W&CP host and the volume repositories' raw files
    too) -> its ref; else None."""
    found = web_parts(url)
    if found is None:
        return None
    host, parts = found
    if host in _HOSTS:
        return ref_from_path(parts.path, table)
    if host in _JMLR_HOSTS and parts.path.startswith("/proceedings/papers/"):
        return ref_from_path(parts.path[len("/proceedings/papers"):], table)
    if host == _RAW_HOST and (m := _RAW_PATH.fullmatch(parts.path)):
        return ref_from_path(f"/v{m['volume']}{m['rest']}", table)
    return None


@dataclass(frozen=True)
class IndexEntry:
    volume: int
    description: str  # as the index shows it: "Proceedings of ICML 2021"


def classify(description: str) -> tuple[str, int] | None:
    """The main conference-year an index description names, or None (a workshop, a guest event "at ICML",
    two venues, no year)."""
    if _NOT_MAIN.search(description) or _GUEST.search(description):
        return None
    named = {short for short, full in CONFERENCES.items()
             if re.search(rf"\b{re.escape(short)}\b", description) or full.lower() in description.lower()}
    if len(named) != 1:
        return None
    venue = named.pop()
    years = {int(y) for y in _YEAR.findall(description)}
    if not years:
        ordinals = {int(n) for n in _ORDINAL.findall(description)}
        years = {n + _ORDINAL_OFFSET[venue] for n in ordinals}
    return (venue, years.pop()) if len(years) == 1 else None


# --- pure page parsers -------------------------------------------------------------------------------


def parse_index(html: str) -> list[IndexEntry]:
    """The volumes the index lists (`ul.proceedings-list li`: a `/vNNN` link, then the description)."""
    page = doc(html)
    if page is None:
        return []
    entries: list[IndexEntry] = []
    for li in page.xpath(f"//ul[{has_class('proceedings-list')}]/li"):
        links = li.xpath(".//a[@href]")
        m = _VOLUME_HREF.fullmatch(urlsplit(links[0].get("href", "").strip()).path) if links else None
        if not m:
            continue  # the reissue series (/r0 …) and anything else
        description = text(li).removeprefix(text(links[0])).strip(" :")
        entries.append(IndexEntry(int(m["volume"]), description))
    return entries


def _links(div: lxml.html.HtmlElement, page: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for a in div.xpath(f".//p[{has_class('links')}]//a[@href]"):
        found.setdefault(text(a).lower(), urljoin(page, a.get("href", "").strip()))
    return found


def _arxiv_of(url: str | None) -> str | None:
    return parse_arxiv_id(url) if url else None  # crawler.listfile.links: every URL form, the canonical id


def extra_words(description: str, venue: str) -> int:
    """How many words an index description has besides the conference's name, year and "Proceedings of the":
    of two volumes that both name a conference-year, the main one says least."""
    rest = re.sub(rf"\b{re.escape(venue)}\b|{re.escape(CONFERENCES[venue])}|{_YEAR.pattern}", " ", description,
                  flags=re.IGNORECASE)
    return len(_BOILERPLATE.sub(" ", rest).split())


def parse_volume(html: str, page: str, table: VolumeTable = TABLE) -> list[PaperMeta]:
    """Every paper of a volume page. Venue and year come from the table, by the URL's volume."""
    tree = doc(html)
    if tree is None:
        return []
    papers: list[PaperMeta] = []
    for div in tree.xpath(f"//div[{has_class('paper')}]"):
        title = text(next(iter(div.xpath(f".//p[{has_class('title')}]")), None))
        links = _links(div, page)
        url = links.get("abs")
        if not title or not url:
            continue
        ref = ref_from_path(urlsplit(url).path, table)
        papers.append(PaperMeta(
            source=SOURCE,
            title=title,
            url=url,
            authors=split_names(text(next(iter(div.xpath(f".//span[{has_class('authors')}]")), None))),
            year=ref.year if ref else None,
            venue=ref.venue if ref else None,
            arxiv_id=_arxiv_of(links.get("arxiv version")),
            pdf_url=links.get("download pdf"),
        ))
    return papers


def parse_paper_page(html: str, url: str, table: VolumeTable = TABLE) -> PaperMeta:
    """One paper's page. Raises ValueError when the page is not a PMLR paper page."""
    # `article h1` on current pages, `div#content h1` on the JMLR W&CP era's.
    page = paper_page(html, url, "//article/h1 | //div[@id='content']/h1", "a PMLR paper page")
    tree, authors = page.tree, page.authors
    if not authors:
        authors = split_names(text(next(iter(tree.xpath(f"//article//span[{has_class('authors')}]")), None)))
    # The page's own address first (`jmlr.org/proceedings/papers/v28/…` included), else its path on a base.
    ref = parse_pmlr_url(url, table) or ref_from_path(urlsplit(url).path, table)
    year = ref.year if ref else None
    if year is None:
        year = page.year()
    abstract = prose(next(iter(tree.xpath("//*[@id='abstract']")), None))
    arxiv = next((a.get("href") for a in tree.xpath("//div[@id='extras']//a[@href]") if _arxiv_of(a.get("href"))),
                 None)
    return PaperMeta(source=SOURCE, title=page.title, url=url, abstract=abstract or None, authors=authors, year=year,
                     venue=ref.venue if ref else None, arxiv_id=_arxiv_of(absolute(url, arxiv)), pdf_url=page.pdf_url)


# --- the source --------------------------------------------------------------------------------------


class PmlrSource(SiteSource):
    """PMLR through an injected client: volume pages per conference-year, paper pages for abstracts.

    Every URL is fetched at most once per instance; the volume index only when a venue-year is
    past the table, and then once per run.
    """

    name = SOURCE
    venues = frozenset(CONFERENCES)
    default_base = DEFAULT_PMLR_BASE
    hosts = _HOSTS | _JMLR_HOSTS | {_RAW_HOST}
    own_content = OWN_CONTENT

    def __init__(self, client: httpx.AsyncClient | None, base: str | None = None, *, table: VolumeTable = TABLE,
                 **options: Any) -> None:
        super().__init__(client, base, **options)
        self.table = table

    def ref(self, url: str) -> PaperRef | None:
        return parse_pmlr_url(url, self.table) or self.on_base(url, self._ref_from_path)

    def _ref_from_path(self, path: str) -> PaperRef | None:
        return ref_from_path(path, self.table)

    def venue_key(self, venue: str | None) -> str | None:
        return canonical_venue(venue)

    def lists(self, venue: str, year: int) -> bool:
        short = canonical_venue(venue)
        last = self.table.last_year(short) if short else None
        if short is None or last is None:
            return False
        return self.table.volume(short, year) is not None or year > last

    async def listing(self, venue: str, year: int) -> list[PaperMeta] | None:
        """Every paper of a venue-year's volume; None when PMLR has no volume for it.

        Raises SourceUnavailable (scope "ICML 2023") rather than return an empty listing.
        """
        short = canonical_venue(venue)
        if short is None:
            raise ValueError(f"not a PMLR conference: {venue!r} (one of {', '.join(CONFERENCES)})")
        scope = f"{short} {year}"
        volume = self.table.volume(short, year)
        last = self.table.last_year(short)
        if volume is None and (last is None or year > last):
            volume = await self._discover(short, year, scope)
        if volume is None:
            return None
        papers = await self._volume(volume, scope)
        if papers is None:
            return None
        # A discovered volume is not in the table: its papers get the venue-year it was found for.
        return [dataclasses.replace(p, venue=p.venue or short, year=p.year or year) for p in papers]

    async def _volume(self, volume: int, scope: str) -> list[PaperMeta] | None:
        url = f"{self.base}/v{volume}/"
        page = await self._pages.get(url, scope)
        if page.status != 200:
            return None
        papers = checked_listing(SOURCE, url, scope, parse_volume(page.text, url, self.table))
        return [dataclasses.replace(p, fetched_at=page.fetched_at) for p in papers]

    async def _discover(self, venue: str, year: int, scope: str) -> int | None:
        """The volume the index names as `venue` `year`, newer than the table's; None when it names none.

        Of several, the one whose description says least besides the conference's name ("Proceedings of ICML
        2024", not "Proceedings of the ICML 2024 Workshop …"); two that cannot be told apart make the
        venue-year unavailable, never "not hosted" (which would send its entries to arXiv at once).
        """
        url = f"{self.base}/"
        page = await self._pages.get(url, scope)
        if page.status != 200:
            raise SourceUnavailable(SOURCE, f"no volume index (HTTP {page.status}) at {url}", scope=scope)
        index = checked_listing(SOURCE, url, scope, parse_index(page.text), what="volumes")
        newest = self.table.newest_volume(venue)
        found = [e for e in index if e.volume > newest and classify(e.description) == (venue, year)]
        if not found:
            return None
        least = min(extra_words(e.description, venue) for e in found)
        best = sorted({e.volume for e in found if extra_words(e.description, venue) == least})
        if len(best) > 1:
            raise SourceUnavailable(SOURCE, f"the volume index names {len(best)} volumes for {venue} {year}: "
                                    + ", ".join(f"v{v}" for v in best), scope=scope)
        return best[0]

    def listed_ids(self, meta: PaperMeta) -> tuple[str, ...]:
        # By path: the listing's URLs may be on a mirror or a test server's host.
        other = self._ref_from_path(urlsplit(meta.url).path)
        return (other.id,) if other is not None else ()

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        """A ref in a table volume through that volume's page; any other (a workshop volume) by its own page."""
        if ref.venue is not None and ref.year is not None:
            listing = await self.listing(ref.venue, ref.year)
            return None if listing is None else self.find(ref, listing)
        scope = ref.id.split("/", 1)[0]  # "v123": one volume
        return await self._pages.paper(f"{self.base}/{ref.id}.html", self._parse_paper_page, scope)  # "v202/abe23a"

    async def abstract(self, meta: PaperMeta) -> PaperMeta:
        """`meta` with the abstract (and, if it had none, the authors) of its paper page."""
        if meta.abstract:
            return meta
        ref = self._ref_from_path(urlsplit(meta.url).path)
        scope = f"{meta.venue} {meta.year}" if meta.venue and meta.year else (ref.id.split("/")[0] if ref else "")
        return await self.completed_from(meta, meta.url, self._parse_paper_page, scope)

    def _parse_paper_page(self, html: str, url: str) -> PaperMeta:
        return parse_paper_page(html, url, self.table)
