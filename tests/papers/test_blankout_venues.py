"""Blank out the venue links of real lists (NeurIPS, PMLR, ECVA, ACL Anthology) and let the enricher find them again.

For each corpus list (`CRAWLER_CORPUS`, default ../shared/corpus/lists), every paper entry whose link points
at a paper on one of the four sites (page, pdf or supplement, any URL era) is blanked: its links to that
paper become `()` (`href=""`). Fake sites on loopback (tests/fakes/venues.py renders them in each site's markup)
list each blanked paper under the venue-year its URL names, with the list's title re-cased the way the
sites write titles, among the list's other paper entries as distractors (in every listing: lists are full of
near-identical titles). The enricher, asking the four venue sources only (no arXiv: this experiment is about
the venues), must fill each blanked link with the page the fake lists for that paper, and never another.

Where the URL names no year (NeurIPS's pre-2020 `/paper/<n>-<slug>` pages), the paper is listed under the
year the list gives; a paper in a volume no venue listing covers (a workshop) is listed in its own volume.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from crawler.config import Settings
from crawler.listfile.parse import parse_list
from crawler.net.pool import ClientPool
from crawler.papers.enrich import Enricher
from crawler.sources.acl import AclSource, parse_acl_url
from crawler.sources.ecva import EcvaSource
from crawler.sources.gateway import SourceSet
from crawler.sources.neurips import NeuripsSource
from crawler.sources.pmlr import PmlrSource
from crawler.store.cache import Store
from tests import paths
from tests.fakes.venues import (
    ACL,
    ECVA,
    NEURIPS,
    PMLR,
    Listed,
    acl_volume_page,
    ecva_papers_page,
    neurips_listing_page,
    paper_page,
    pmlr_volume_page,
)
from tests.fakes.web import FakeWeb, Reply, Request, RoutingTransport

pytestmark = pytest.mark.corpus

CORPUS = paths.CORPUS
LISTS = sorted(CORPUS.glob("*.md")) if CORPUS.is_dir() else []
SITES = ("neurips", "pmlr", "ecva", "acl")
# Recall asked of the blanked entries whose list names the venue-year whose listing holds the paper: the
# issue's own measure ("recall >= 0.9 where the paper is in the venue's listing"). Every one of them comes
# back today (2026-11: NeurIPS 63/63, PMLR 18/18, ECVA 64/64, ACL 27/27). The other blanked entries cannot be
# filled from a venue listing by design, and are printed: the list gives no venue (dkozlov's `[Title](url),
# authors, year`; mwan's federated-learning section), the wrong year (PAMS as "ECCV 2021", in ECCV 2020), or
# cites a workshop, demo or student-workshop paper as the main conference ("ACL 2020" for SustaiNLP and
# IWSLT papers, TextBrewer's demo): filling those from the named listing would be a guess.
THRESHOLD = 0.9
DISTRACTORS = 120  # per listing: the other entries of the list closest in wording to the listed papers
_HTML = {"Content-Type": "text/html; charset=utf-8"}
_SMALL = frozenset({"a", "an", "and", "as", "at", "by", "for", "from", "in", "into", "of", "on", "or", "the", "to",
                    "via", "with"})



def site_cased(title: str) -> str:
    """A title as the proceedings sites write it: title case, small words lower, words with capitals kept."""
    words = title.split()
    out = []
    for i, w in enumerate(words):
        if any(c.isupper() for c in w[1:]) or not w[:1].isalpha():
            out.append(w)
        elif i and w.lower() in _SMALL:
            out.append(w.lower())
        else:
            out.append(w[:1].upper() + w[1:])
    return " ".join(out)


def _words(title: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", title.lower()))


# --- where each blanked paper is listed --------------------------------------------------------------


@dataclass(frozen=True)
class Blanked:
    site: str
    line: int  # the entry's line
    link_lines: frozenset[int]  # lines of the blanked links
    title: str  # as the list writes it
    venue: str | None  # as the list writes them
    year: int | None
    where: tuple  # the listing it is in: ("neurips", year) / ("pmlr", volume) / ("ecva", year) / ("acl", volume)
    true_venue: str | None  # the conference of that listing ("NeurIPS", "ICML", "ECCV", "EMNLP", ...); None: a workshop
    true_year: int
    paper: Listed


# Whose proceedings an Anthology volume holds (the ids' own naming: acl-org/acl-anthology data/xml).
_ACL_HEADS = {"acl": "ACL", "emnlp": "EMNLP", "naacl": "NAACL", "eacl": "EACL", "coling": "COLING", "aacl": "AACL",
              "tacl": "TACL", "ijcnlp": "AACL"}
_ACL_LETTERS = {"P": "ACL", "D": "EMNLP", "N": "NAACL", "E": "EACL", "C": "COLING", "Q": "TACL"}
_ACL_KINDS = frozenset({"long", "short", "main", "1", "2"})  # main volumes; demo, srw, industry are not
_LIST_VENUES = {"NIPS": "NeurIPS", "NEURIPS": "NeurIPS"}


def acl_conference(volume: str) -> str | None:
    """'2020.emnlp-main' -> 'EMNLP', '2023.findings-acl' -> 'ACL', 'P19-1' -> 'ACL'; workshops -> None."""
    if m := re.fullmatch(r"\d{4}\.([a-z0-9]+)-([a-z0-9]+)", volume):
        head, kind = m[1], m[2]
        if head == "findings":
            return _ACL_HEADS.get(kind)
        return _ACL_HEADS.get(head) if kind in _ACL_KINDS else None
    if m := re.fullmatch(r"([A-Z])\d\d-(\d)", volume):
        return _ACL_LETTERS.get(m[1])
    return None


class Placer:
    """Reads each link's paper with the sources' URL rules (pure) and gives it a page on the fake site."""

    def __init__(self) -> None:
        self.neurips, self.pmlr, self.ecva = NeuripsSource(None), PmlrSource(None), EcvaSource(None)
        self.counter = 0

    def place(self, url: str, entry) -> tuple[str, tuple, str | None, int, Listed] | None:
        title = site_cased(entry.title)
        if ref := self.neurips.ref(url):
            year = ref.year or entry.year
            if year is None:
                return None  # a `/paper/<n>-<slug>` page on an entry without a year: nowhere to list it
            digest = ref.id.split("/")[-1] if ref.year else hashlib.md5(ref.id.encode()).hexdigest()
            page = f"https://{NEURIPS}/paper_files/paper/{year}/hash/{digest}-Abstract.html"
            pdf = page.replace("/hash/", "/file/").replace("-Abstract.html", "-Paper.pdf")
            return "neurips", ("neurips", year), "NeurIPS", year, Listed("neurips", year, title, page, (), pdf)
        if ref := self.pmlr.ref(url):
            volume, key = ref.id.split("/")
            number = int(volume[1:])
            page = f"https://{PMLR}/{volume}/{key}.html"
            return ("pmlr", ("pmlr", number), ref.venue, ref.year or entry.year or 0,
                    Listed("pmlr", ref.year or 0, title, page, (), f"https://{PMLR}/{volume}/{key}/{key}.pdf"))
        if ref := self.ecva.ref(url):
            year, name = ref.id.split("/", 1)
            self.counter += 1
            stem = name if name.endswith("_paper") else f"{70000 + self.counter}_ECCV_{year}_paper"
            base = f"https://{ECVA}/papers/eccv_{year}/papers_ECCV"
            pdf = f"{base}/papers/{name}.pdf"
            return ("ecva", ("ecva", int(year)), "ECCV", int(year),
                    Listed("ecva", int(year), title, f"{base}/html/{stem}.php", (), pdf))
        if found := parse_acl_url(url):
            page = f"https://{ACL}/{found.id}/"
            return ("acl", ("acl", found.volume), acl_conference(found.volume), found.year,
                    Listed("acl", found.year, title, page, (), f"https://{ACL}/{found.id}.pdf"))
        return None


# --- the fake sites ------------------------------------------------------------------------------------


@dataclass
class Sites:
    """Listings of the blanked papers, every one padded with the distractors, at whatever venue-year is asked."""

    placed: dict[tuple, list[Listed]] = field(default_factory=lambda: defaultdict(list))
    distractors: list[str] = field(default_factory=list)
    pages: dict[str, Listed] = field(default_factory=dict)

    def add(self, where: tuple, paper: Listed) -> None:
        if paper.url not in {p.url for p in self.placed[where]}:
            self.placed[where].append(paper)
            self.pages[paper.url] = paper

    def _padded(self, site: str, papers: list[Listed], url_of) -> list[Listed]:
        """The listing's papers and the distractors closest to them in wording (all the list's entries would
        cost minutes of matching for nothing: a distractor that shares no word with a title never wins)."""
        out = list(papers)
        near = [set(_words(p.title).split()) - _SMALL for p in papers] or [set()]
        closest = sorted(self.distractors, key=lambda t: -max(len(set(_words(t).split()) & w) for w in near))
        chosen = set(closest[:DISTRACTORS])
        for n, title in enumerate(t for t in self.distractors if t in chosen):
            page, pdf = url_of(n, title)
            if page is None:
                break
            paper = Listed(site, 0, title, page, ("A. Author",), pdf)
            self.pages.setdefault(page, paper)
            out.append(paper)
        return out

    def install(self, web: FakeWeb) -> None:
        web.host(NEURIPS, self._neurips)
        web.host(PMLR, self._pmlr)
        web.host(ECVA, self._ecva)
        web.host(ACL, self._acl)

    def _paper(self, url: str) -> Reply:
        found = self.pages.get(url)
        if found is None:
            return Reply(404, b"<html><title>404 Not Found</title></html>", _HTML)
        return Reply(200, paper_page(found).encode(), _HTML)

    def _neurips(self, request: Request) -> Reply:
        host, path = request.host, urlsplit(request.path).path
        if m := re.fullmatch(r"/paper_files/paper/(\d{4})/?", path):
            year = int(m[1])

            def url_of(n, title):
                digest = hashlib.md5(f"{year}:{title}".encode()).hexdigest()
                return (f"https://{NEURIPS}/paper_files/paper/{year}/hash/{digest}-Abstract.html",
                        f"https://{NEURIPS}/paper_files/paper/{year}/file/{digest}-Paper.pdf")

            papers = self._padded("neurips", self.placed.get(("neurips", year), []), url_of)
            return Reply(200, neurips_listing_page(year, papers).encode(), _HTML)
        return self._paper(f"https://{host}{path}")

    def _pmlr(self, request: Request) -> Reply:
        host, path = request.host, urlsplit(request.path).path
        if m := re.fullmatch(r"/v(\d+)/", path):
            volume = int(m[1])

            def url_of(n, title):
                key = f"distractor{n}x"
                return f"https://{PMLR}/v{volume}/{key}.html", f"https://{PMLR}/v{volume}/{key}/{key}.pdf"

            papers = self._padded("pmlr", self.placed.get(("pmlr", volume), []), url_of)
            return Reply(200, pmlr_volume_page(volume, papers).encode(), _HTML)
        return self._paper(f"https://{host}{path}")

    def _ecva(self, request: Request) -> Reply:
        host, path = request.host, urlsplit(request.path).path
        if path == "/papers.php":
            by_year = {}
            for year in (2018, 2020, 2022, 2024):
                def url_of(n, title, year=year):
                    base = f"https://{ECVA}/papers/eccv_{year}/papers_ECCV"
                    return f"{base}/html/{90000 + n}_ECCV_{year}_paper.php", f"{base}/papers/{90000 + n}.pdf"

                by_year[year] = self._padded("ecva", self.placed.get(("ecva", year), []), url_of)
            return Reply(200, ecva_papers_page(by_year).encode(), _HTML)
        return self._paper(f"https://{host}{path}")

    def _acl(self, request: Request) -> Reply:
        host, path = request.host, urlsplit(request.path).path
        if m := re.fullmatch(r"/volumes/([^/]+)/", path):
            volume = m[1]

            def url_of(n, title):
                if volume[0].isdigit():
                    ident = f"{volume}.{9000 + n}"
                elif n < 400:
                    ident = f"{volume}{500 + n:03d}"  # P19-1500 …: the old ids have three digits for the number
                else:
                    return None, None
                return f"https://{ACL}/{ident}/", f"https://{ACL}/{ident}.pdf"

            papers = self._padded("acl", self.placed.get(("acl", volume), []), url_of)
            return Reply(200, acl_volume_page(volume, papers).encode(), _HTML)
        return self._paper(f"https://{host}{path}")


# --- the experiment --------------------------------------------------------------------------------------


def blank_out(text: str, urls_by_line: dict[int, set[str]]) -> str:
    lines = text.splitlines(keepends=True)
    for line_no, urls in urls_by_line.items():
        line = lines[line_no - 1]
        for url in sorted(urls, key=len, reverse=True):
            for written in (f"({url})", f"( {url})", f"({url} )", f"(<{url}>)"):
                line = line.replace(written, "()")
            line = line.replace(f'href="{url}"', 'href=""').replace(f"href='{url}'", "href=''")
        lines[line_no - 1] = line
    return "".join(lines)


def evaluate(path: Path, web: FakeWeb, tmp_path: Path) -> dict:
    text = path.read_bytes().decode("utf-8")
    parsed = parse_list(text)
    placer, sites = Placer(), Sites()
    blanked: list[Blanked] = []
    unplaced = 0
    urls_by_line: dict[int, set[str]] = defaultdict(set)
    for entry in parsed.entries:
        if not entry.is_paper or len(entry.title.split()) < 3:
            continue
        placed = {lk.url: placer.place(lk.url, entry) for lk in entry.links if lk.url}
        first = next(((u, p) for u, p in placed.items() if p is not None), None)
        if first is None:
            if any(NeuripsSource(None).ref(u) for u in placed):
                unplaced += 1
            continue
        site, where, true_venue, true_year, paper = first[1]
        # Every link of the entry to that same paper (its pdf, its supplement) goes too.
        same = [lk for lk in entry.links if lk.url and placed.get(lk.url) and placed[lk.url][4].url == paper.url]
        for lk in same:
            urls_by_line[lk.line].add(lk.url)
        blanked.append(Blanked(site, entry.line, frozenset(lk.line for lk in same), entry.title, entry.venue,
                               entry.year, where, true_venue, true_year, paper))
    if not blanked:
        return {"blanked": [], "unplaced": unplaced}
    for b in blanked:
        sites.add(b.where, b.paper)
    mine = {_words(b.title) for b in blanked}
    sites.distractors = list(dict.fromkeys(
        site_cased(e.title) for e in parsed.entries
        if e.is_paper and len(e.title.split()) >= 3 and _words(e.title) not in mine))
    sites.install(web)

    blanked_text = blank_out(text, urls_by_line)
    again = parse_list(blanked_text)
    settings = Settings(db=tmp_path / f"{path.stem}.db", timeout=10.0, retries=1, progress=False)

    async def enrich():
        routed = lambda limits: RoutingTransport(web.port, limits)  # noqa: E731
        async with ClientPool(settings, transport_factory=routed) as pool:
            sources = [NeuripsSource.from_settings(settings, pool), PmlrSource.from_settings(settings, pool),
                       EcvaSource.from_settings(settings, pool), AclSource.from_settings(settings, pool)]
            with Store(settings.db) as store:
                return await Enricher(SourceSet(sources, store, now=0.0, max_age=settings.metadata_max_age)
                                      ).enrich(again, {})

    enrichment = asyncio.run(enrich())
    fills: dict[int, list[str]] = defaultdict(list)
    for f in enrichment.fills:
        fills[f.line].append(f.url)
    return {"blanked": blanked, "unplaced": unplaced, "fills": fills, "enrichment": enrichment,
            "text": blanked_text, "parsed": again}


def answerable(b: Blanked) -> bool:
    """The list names the venue-year the paper is listed under (else no venue listing can be expected to hold it)."""
    if b.true_venue is None or b.venue is None or b.year != b.true_year:
        return False
    written = _LIST_VENUES.get(b.venue.upper(), b.venue)
    return bool(re.search(rf"\b{re.escape(b.true_venue)}\b", written, re.IGNORECASE))


def score(got: dict) -> dict[str, Counter]:
    out = {s: Counter() for s in SITES}
    for b in got["blanked"]:
        urls = {u for line in b.link_lines for u in got["fills"].get(line, [])}
        c = out[b.site]
        c["blanked"] += 1
        c["answerable"] += answerable(b)
        c["recovered"] += urls == {b.paper.url}
        c["recovered_answerable"] += urls == {b.paper.url} and answerable(b)
        c["wrong"] += bool(urls - {b.paper.url})
    return out


@pytest.mark.slow
@pytest.mark.skipif(not LISTS, reason="corpus not present (set CRAWLER_CORPUS)")
def test_blanked_venue_links_come_back_with_no_wrong_fill(web, tmp_path):
    totals = {s: Counter() for s in SITES}
    for path in LISTS:
        got = evaluate(path, web, tmp_path)
        if not got["blanked"]:
            continue
        figs = score(got)
        print(f"\n{path.name}: " + ", ".join(f"{s} {c['recovered']}/{c['blanked']} (wrong {c['wrong']})"
                                             for s, c in figs.items() if c)
              + (f"; {got['unplaced']} NeurIPS links without a year left out" if got["unplaced"] else ""))
        for b in got["blanked"]:
            urls = {u for ln in b.link_lines for u in got["fills"].get(ln, [])}
            if urls != {b.paper.url}:
                why = "" if answerable(b) else f" (the list says {b.venue} {b.year}: listed as {b.true_venue} " \
                                               f"{b.true_year})"
                print(f"  missed: line {b.line} {b.site} {b.title[:70]!r}{why}")
        for site, c in figs.items():
            totals[site].update(c)
    print("\nper site: blanked, recovered, wrong; recall where the list names the venue-year the paper is in")
    for site, c in totals.items():
        print(f"  {site}: blanked {c['blanked']}, recovered {c['recovered']}, wrong {c['wrong']}; "
              f"{c['recovered_answerable']}/{c['answerable']} where the list names the listing")
    assert {s: c["wrong"] for s, c in totals.items()} == {s: 0 for s in SITES}  # precision 1.0
    for site, c in totals.items():
        assert c["blanked"] >= 15, site  # the corpus has that many of each: the figure means something
        assert c["recovered_answerable"] / c["answerable"] >= THRESHOLD, (site, c)
