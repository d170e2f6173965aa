"""ACL Anthology (aclanthology.org): paper pages by id, and the volume pages that list a conference-year.

Ids come in two eras: `P19-1001` (letter, year, volume digit, paper number; workshops `W19-4301` have
two volume digits) and, from 2020, `2022.acl-long.485` (year, venue, volume, paper number). A paper is
`/<id>/` (its page), `/<id>.pdf` (also `/<id>v2.pdf` for a revision), `/<id>.bib`; the older host
`www.aclweb.org/anthology/<id>` and its `/anthology/P/P19/P19-1001.pdf` and `/anthology/papers/P/P19/…`
forms name the same paper. Number 0 is the volume's front matter, not a paper.

Paper pages carry `citation_title`, `citation_author` ("First Last"), `citation_pdf_url`,
`citation_publication_date` and the abstract in `div.acl-abstract`. Volume pages list every paper:
`<strong><a class="align-middle" href="/2022.acl-long.1/">Title</a></strong>`, authors linked to
`/people/…`, a `pdf` badge, and the abstract in a collapsed `div#abstract-2022--acl-long--1`, so a
listing gives fills *and* abstracts without reading paper pages.

What a list means by "ACL 2022" is a table (MAIN_VOLUMES, FINDINGS_VOLUMES): the main volumes (long and
short papers) and Findings, never demos, student research or workshops, whose papers a list marks as such.
"Findings of EMNLP 2021" is Findings alone; "Findings 2021" every Findings volume of 2021.
"""

from __future__ import annotations

import dataclasses
import datetime
import re
from dataclasses import dataclass
from typing import Any, ClassVar
from urllib.parse import urljoin, urlsplit

import httpx
import lxml.html

from crawler.listfile.links import web_parts
from crawler.models import PaperMeta
from crawler.sources.base import PaperRef
from crawler.sources.markup import absolute, doc, has_class, paper_page, prose, text
from crawler.sources.pages import SiteSource, checked_listing

SOURCE = "acl"
DEFAULT_ACL_BASE = "https://aclanthology.org"

# --- what "<VENUE> <YEAR>" means ---------------------------------------------------------------------
# Volume ids as the Anthology names them (acl-org/acl-anthology data/xml/<year>.<venue>.xml). To add a
# year, add its line. For the annual ACL, EMNLP and TACL, a year after the newest line repeats that
# line's volume kinds with the year swapped (2025.acl-long -> 2026.acl-long), up to next year; a volume
# that answers 404 is skipped, and a venue-year none of whose volumes exists has no listing (fills fall
# back to arXiv).
MAIN_VOLUMES: dict[str, dict[int, tuple[str, ...]]] = {
    "ACL": {
        2016: ("P16-1", "P16-2"), 2017: ("P17-1", "P17-2"), 2018: ("P18-1", "P18-2"), 2019: ("P19-1",),
        2020: ("2020.acl-main",), 2021: ("2021.acl-long", "2021.acl-short"),
        2022: ("2022.acl-long", "2022.acl-short"), 2023: ("2023.acl-long", "2023.acl-short"),
        2024: ("2024.acl-long", "2024.acl-short"), 2025: ("2025.acl-long", "2025.acl-short"),
    },
    "EMNLP": {
        2016: ("D16-1",), 2017: ("D17-1",), 2018: ("D18-1",), 2019: ("D19-1",),
        2020: ("2020.emnlp-main",), 2021: ("2021.emnlp-main",), 2022: ("2022.emnlp-main",),
        2023: ("2023.emnlp-main",), 2024: ("2024.emnlp-main",), 2025: ("2025.emnlp-main",),
    },
    "NAACL": {
        2016: ("N16-1",), 2018: ("N18-1", "N18-2"), 2019: ("N19-1",), 2021: ("2021.naacl-main",),
        2022: ("2022.naacl-main",), 2024: ("2024.naacl-long", "2024.naacl-short"),
        2025: ("2025.naacl-long", "2025.naacl-short"),
    },
    "EACL": {
        2017: ("E17-1", "E17-2"), 2021: ("2021.eacl-main",), 2023: ("2023.eacl-main",),
        2024: ("2024.eacl-long", "2024.eacl-short"),
    },
    "COLING": {
        2016: ("C16-1",), 2018: ("C18-1",), 2020: ("2020.coling-main",), 2022: ("2022.coling-1",),
        2024: ("2024.lrec-main",), 2025: ("2025.coling-main",),  # 2024: LREC-COLING, one volume
    },
    "AACL": {
        2020: ("2020.aacl-main",), 2022: ("2022.aacl-main", "2022.aacl-short"),
        2023: ("2023.ijcnlp-main", "2023.ijcnlp-short"),  # AACL-IJCNLP 2023
    },
    "TACL": {
        2016: ("Q16-1",), 2017: ("Q17-1",), 2018: ("Q18-1",), 2019: ("Q19-1",), 2020: ("2020.tacl-1",),
        2021: ("2021.tacl-1",), 2022: ("2022.tacl-1",), 2023: ("2023.tacl-1",), 2024: ("2024.tacl-1",),
        2025: ("2025.tacl-1",),
    },
}
FINDINGS_VOLUMES: dict[str, dict[int, str]] = {
    "ACL": {y: f"{y}.findings-acl" for y in range(2021, 2026)},
    "EMNLP": {y: f"{y}.findings-emnlp" for y in range(2020, 2026)},
    "NAACL": {2022: "2022.findings-naacl", 2024: "2024.findings-naacl", 2025: "2025.findings-naacl"},
    "EACL": {2023: "2023.findings-eacl", 2024: "2024.findings-eacl"},
    "AACL": {2022: "2022.findings-aacl", 2023: "2023.findings-ijcnlp"},
}
VENUES = tuple(MAIN_VOLUMES)
_ANNUAL = frozenset({"ACL", "EMNLP", "TACL"})  # the others skip years: only the table says when they met
# Old-era letters: whose proceedings a volume is (W: workshops, J: the CL journal, L: LREC, ...: none).
_LETTERS = {"P": "ACL", "D": "EMNLP", "N": "NAACL", "E": "EACL", "C": "COLING", "Q": "TACL"}
_NOT_MAIN = ("DEMO", "SRW", "STUDENT", "TUTORIAL", "INDUSTRY", "WORKSHOP")
_FINDINGS_OF = {"ijcnlp": "AACL"}  # Findings of AACL-IJCNLP 2023
_NEW_VOLUME = re.compile(r"(?P<year>\d{4})\.(?P<head>[a-z0-9]+)-(?P<kind>[a-z0-9]+)")
_OLD_VOLUME = re.compile(r"[A-Z]\d\d-\d+", re.IGNORECASE)

# --- ids and URLs ------------------------------------------------------------------------------------

_ID = re.compile(
    r"(?P<new>(?P<nvol>(?P<nyear>\d{4})\.(?P<nvenue>[a-z0-9]+)-[a-z0-9]+)\.(?P<nnum>\d+))"
    r"|(?P<old>(?P<letter>[a-z])(?P<yy>\d{2})-(?P<digits>\d{4}))",
    re.IGNORECASE,
)
_REVISION = r"(?:v\d+)?"
# After the host (and an "/anthology" prefix): /ID, /ID/, /ID.pdf, /IDv2.pdf, /ID.pdf/, /ID.bib,
# /P/P19/ID.pdf and /papers/P/P19/ID/ (aclweb.org 2018-2019), /papers/ID/slug (aclanthology.info).
_PATHS = (
    re.compile(rf"/(?P<id>[^/]+?){_REVISION}(?:\.pdf|\.bib)?/?", re.IGNORECASE),
    re.compile(rf"/(?:papers/|pdf/)?[a-z]/[a-z]\d\d/(?P<id>[^/]+?){_REVISION}(?:\.pdf|\.bib)?/?", re.IGNORECASE),
    re.compile(r"/papers/(?P<id>[^/]+)/[^/]*/?", re.IGNORECASE),
)
_HOSTS = frozenset({
    "aclanthology.org", "www.aclanthology.org", "aclweb.org", "www.aclweb.org", "anthology.aclweb.org",
    "aclanthology.info", "www.aclanthology.info",
})
_ANTHOLOGY_PREFIX = re.compile(r"^/anthology(?=/)", re.IGNORECASE)  # www.aclweb.org/anthology/…, old volume pages

# The Anthology's own markup (a paper or volume page): a page that has it is no bot wall, whatever its text says.
OWN_CONTENT = (
    f"//*[{has_class('acl-paper-details')} or {has_class('list-button-row')} or {has_class('acl-abstract')}]"
    " | //a[contains(@href, '/people/')]"
)


@dataclass(frozen=True)
class AclId:
    """One Anthology id, split: `2022.acl-long.485` -> volume `2022.acl-long`, number 485, year 2022."""

    id: str
    volume: str
    number: int
    year: int

    @property
    def is_frontmatter(self) -> bool:
        return self.number == 0


def parse_id(text: str) -> AclId | None:
    """'2022.acl-long.485', 'p19-1001' -> AclId (old ids upper-cased as the Anthology writes them); else None."""
    m = _ID.fullmatch(text.strip())
    if not m:
        return None
    if m["new"]:
        ident = m["new"].lower()
        return AclId(ident, m["nvol"].lower(), int(m["nnum"]), int(m["nyear"]))
    ident = m["old"].upper()
    split = 2 if ident[0] == "W" else 1  # W19-4301: volume W19-43, paper 01
    yy = int(m["yy"])
    return AclId(ident, ident[: 4 + split], int(ident[4 + split :]), (2000 if yy < 60 else 1900) + yy)


def parse_acl_url(url: str, extra_hosts: frozenset[str] = frozenset()) -> AclId | None:
    """The paper an Anthology URL names (page, pdf, revision, bib; old hosts too); None for anything else."""
    found = web_parts(url)
    if found is None or (found[0] not in _HOSTS and found[0] not in extra_hosts):
        return None
    return id_in_path(found[1].path)


def id_in_path(path: str) -> AclId | None:
    """The paper an Anthology path names, after the host: `/2022.acl-long.485/`, `/anthology/P19-1001.pdf`."""
    path = _ANTHOLOGY_PREFIX.sub("", path)
    for pattern in _PATHS:
        m = pattern.fullmatch(path)
        if m:
            found = parse_id(m["id"])
            if found is not None:
                return found
    return None


def paper_url(ident: str, base: str = DEFAULT_ACL_BASE) -> str:
    return f"{base.rstrip('/')}/{ident}/"


# --- venues ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Venue:
    """An entry's venue as far as the Anthology is concerned: a conference (or None: any), Findings only?"""

    conference: str | None
    findings_only: bool


def parse_venue(venue: str) -> Venue | None:
    """'ACL' -> ACL; 'Findings of EMNLP' / 'EMNLP-Findings' -> EMNLP Findings; 'Findings' -> any Findings;
    'ACL-IJCNLP', 'NAACL-HLT', 'LREC-COLING' -> the ACL venue; workshops, demos, SRW and others -> None."""
    upper = venue.upper()
    if any(word in upper for word in _NOT_MAIN):
        return None
    findings = "FINDINGS" in upper
    names = re.findall(r"[A-Z]+", upper)
    conference = next((n for n in names if n in MAIN_VOLUMES), None)
    if conference is None and any(n.endswith("W") and n[:-1] in MAIN_VOLUMES for n in names):
        return None  # "ACLW", "EMNLPW": a workshop
    if conference is None and not findings:
        return None
    if findings and conference is not None and conference not in FINDINGS_VOLUMES:
        return None
    return Venue(conference, findings)


def _extrapolated(table: dict[int, tuple[str, ...]], year: int, this_year: int, annual: bool) -> tuple[str, ...]:
    if year in table:
        return table[year]
    newest = max(table)
    if not annual:
        return ()
    if not newest < year <= this_year + 1 or not all(v[:4].isdigit() for v in table[newest]):
        return ()
    return tuple(f"{year}{v[4:]}" for v in table[newest])


def volumes_for(venue: str, year: int, *, this_year: int | None = None) -> tuple[str, ...]:
    """The volumes whose papers make up "<venue> <year>", most likely first; () when the Anthology has none."""
    parsed = parse_venue(venue)
    if parsed is None:
        return ()
    this_year = this_year or datetime.date.today().year
    conferences = (parsed.conference,) if parsed.conference else tuple(FINDINGS_VOLUMES)
    volumes: list[str] = []
    for conference in conferences:
        if not parsed.findings_only:
            volumes.extend(_extrapolated(MAIN_VOLUMES[conference], year, this_year, conference in _ANNUAL))
        findings = {y: (v,) for y, v in FINDINGS_VOLUMES.get(conference, {}).items()}
        if findings:
            volumes.extend(_extrapolated(findings, year, this_year, conference in _ANNUAL))
    return tuple(dict.fromkeys(volumes))


def venue_label(volume: str) -> str | None:
    """Whose proceedings a volume holds, as lists write it: 'ACL', 'Findings of EMNLP'; None for workshops."""
    m = _NEW_VOLUME.fullmatch(volume)
    if m:
        year, head, kind = int(m["year"]), m["head"], m["kind"]
        if head == "findings":
            return f"Findings of {_FINDINGS_OF.get(kind, kind.upper())}"
        for conference, years in MAIN_VOLUMES.items():
            if volume in years.get(year, ()):
                return conference
        return head.upper() if head.upper() in MAIN_VOLUMES else None  # demos, SRW, industry: still ACL's
    if _OLD_VOLUME.fullmatch(volume):
        return _LETTERS.get(volume[0].upper())
    return None


def listing_venue(volume: str, year: int, *, this_year: int | None = None) -> str | None:
    """The narrowest venue whose listing (volumes_for) holds `volume`: 'ACL', 'Findings of ACL'; else None."""
    label = venue_label(volume)
    if label is None:
        return None
    return label if volume in volumes_for(label, year, this_year=this_year) else None


# --- pure page parsers -------------------------------------------------------------------------------


def _site_root(url: str) -> str:
    """Where the Anthology's paths start for a page: its origin, plus `/anthology` on www.aclweb.org, which
    served the Anthology under that folder (`www.aclweb.org/anthology/P19-1001/`)."""
    parts = urlsplit(url)
    prefix = m.group(0) if (m := _ANTHOLOGY_PREFIX.match(parts.path)) else ""
    return f"{parts.scheme}://{parts.netloc}{prefix}"


def parse_volume_page(html: str, page_url: str) -> list[PaperMeta]:
    """Every paper a volume page lists, front matter left out, with authors, pdf and abstract.

    Paper URLs are canonical (`<site root of page_url>/<id>/`) whatever era the page links in.
    """
    tree = doc(html)
    if tree is None:
        return []
    origin = _site_root(page_url)
    here = frozenset({(urlsplit(page_url).hostname or "").lower()})
    abstracts = {el.get("id"): el for el in tree.xpath("//*[starts-with(@id, 'abstract-')]")}
    papers: list[PaperMeta] = []
    seen: set[str] = set()
    for anchor in tree.xpath("//strong/a[@href]"):
        found = parse_acl_url(urljoin(page_url, anchor.get("href", "").strip()), here)
        if found is None or found.is_frontmatter or found.id in seen:
            continue
        title = text(anchor)
        if not title:
            continue
        seen.add(found.id)
        strong = anchor.getparent()
        byline = strong.getparent() if strong.getparent() is not None else strong  # <span><strong><a/></strong> authors
        authors = tuple(text(a) for a in byline.xpath("./a[contains(@href, '/people/')]") if text(a))
        entry = next(iter(anchor.xpath("ancestor::*[contains(@class, 'd-sm-flex')][1]")), byline)
        pdf = next((a.get("href") for a in entry.xpath(".//a[@href]") if text(a).lower() == "pdf"), None)
        abstract = abstracts.get(f"abstract-{found.id.replace('.', '--')}")
        papers.append(
            PaperMeta(
                source=SOURCE, title=title, url=paper_url(found.id, origin), abstract=prose(abstract) or None,
                authors=authors, year=found.year, venue=venue_label(found.volume), pdf_url=absolute(page_url, pdf),
            )
        )
    return papers


def _abstract(tree: lxml.html.HtmlElement) -> str:
    card = next(iter(tree.xpath(f"//*[{has_class('acl-abstract')}]")), None)
    if card is None:
        return ""
    span = next(iter(card.xpath("./span")), None)
    return re.sub(r"^Abstract\s*", "", prose(span if span is not None else card))


def parse_paper_page(html: str, url: str) -> PaperMeta:
    """One paper's page. Raises ValueError when it is not an Anthology paper page."""
    page = paper_page(html, url, "//*[@id='title']", "an ACL Anthology paper page")
    tree, authors = page.tree, page.authors
    if not authors:
        lead = next(iter(tree.xpath("//p[contains(@class, 'lead')]")), None)
        authors = tuple(text(a) for a in lead.xpath(".//a")) if lead is not None else ()
    found = parse_acl_url(url, frozenset({(urlsplit(url).hostname or "").lower()}))
    year = found.year if found else page.year()
    return PaperMeta(
        source=SOURCE, title=page.title, url=url, abstract=_abstract(tree) or None, authors=authors, year=year,
        venue=venue_label(found.volume) if found else None, pdf_url=page.pdf_url,
    )


# --- the source --------------------------------------------------------------------------------------


class AclSource(SiteSource):
    """ACL Anthology papers: paper pages for links, the venue-year's volume pages for fills and abstracts."""

    name: ClassVar[str] = SOURCE
    venues: ClassVar[frozenset[str]] = frozenset(VENUES) | {"Findings"}
    default_base = DEFAULT_ACL_BASE
    hosts = _HOSTS
    own_content = OWN_CONTENT

    def __init__(self, client: httpx.AsyncClient | None, base: str | None = None, *, this_year: int | None = None,
                 **options: Any) -> None:
        super().__init__(client, base, **options)
        self._this_year = this_year

    # -- pure -----------------------------------------------------------------------------------------

    def ref(self, url: str) -> PaperRef | None:
        """The paper a link names; venue and year set when that paper's volume is part of a venue listing."""
        found = parse_acl_url(url) or self.on_base(url, id_in_path)
        if found is None:
            return None
        venue = listing_venue(found.volume, found.year, this_year=self._this_year)
        return PaperRef(SOURCE, found.id, venue=venue, year=found.year if venue else None)

    def venue_key(self, venue: str | None) -> str | None:
        """'ACL', 'Findings of EMNLP' (also for 'EMNLP-Findings'), 'Findings'; None for workshops and others."""
        parsed = parse_venue(venue or "")
        if parsed is None:
            return None
        if parsed.findings_only:
            return f"Findings of {parsed.conference}" if parsed.conference else "Findings"
        return parsed.conference

    def lists(self, venue: str, year: int) -> bool:
        return bool(volumes_for(venue, year, this_year=self._this_year))

    # -- asking the site ------------------------------------------------------------------------------

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        """The paper's own page; None when the Anthology answers 404 (no such id)."""
        return await self._pages.paper(paper_url(ref.id, self.base), parse_paper_page)

    async def listing(self, venue: str, year: int) -> list[PaperMeta] | None:
        """Every paper of the venue-year's volumes; None when none of them exists (the year is not hosted).

        A volume that answers 404 is skipped (the table may name a kind a year did not have); one that
        cannot be read, or lists no paper, makes the whole venue-year unavailable rather than partial.
        """
        volumes = volumes_for(venue, year, this_year=self._this_year)
        if not volumes:
            return None
        scope = f"{venue.strip()} {year}"
        papers: dict[str, PaperMeta] = {}
        hosted = False
        for volume in volumes:
            url = f"{self.base}/volumes/{volume}/"
            page = await self._pages.get(url, scope)
            if not page.found:
                continue
            hosted = True
            for paper in checked_listing(SOURCE, url, scope, parse_volume_page(page.text, url)):
                papers.setdefault(paper.url, dataclasses.replace(paper, fetched_at=page.fetched_at))
        return list(papers.values()) if hosted else None

    async def abstract(self, meta: PaperMeta) -> PaperMeta:
        """`meta` with the abstract of its paper page, when the volume page had none (older volumes)."""
        found = None if meta.abstract else parse_acl_url(meta.url) or self.on_base(meta.url, id_in_path)
        if found is None:
            return meta
        return await self.completed_from(meta, paper_url(found.id, self.base), parse_paper_page)
