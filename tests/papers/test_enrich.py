"""crawler.papers.enrich over fakes that implement the source interface (issue 17): no network, no HTML.

A fake venue site lists papers per venue-year and can fail one listing or the whole site; a fake arXiv
answers title searches. The enricher must fill from the entry's venue, fall back to arXiv only where the
venue has no listing, wait where a listing could not be read, ask each question once, and take
abstracts from paper pages when the listing had none.
"""

from __future__ import annotations

import asyncio

import pytest

from crawler.errors import SourceUnavailable
from crawler.listfile.parse import parse_list
from crawler.models import PaperMeta
from crawler.papers.enrich import Enricher
from crawler.sources.base import PaperRef, PaperSource
from crawler.sources.gateway import SourceSet
from crawler.store.cache import Store

WEEK = 7 * 86400.0


def paper(source: str, title: str, year: int, venue: str | None = None, n: int = 0) -> PaperMeta:
    return PaperMeta(source=source, title=title, url=f"https://{source}.example/{year}/{n}", year=year, venue=venue,
                     authors=("Ada Lovelace", "Alan Turing"))


class FakeVenue(PaperSource):
    """A venue site: CVPR listings by year; `down` fails one year, `site_down` the whole site."""

    name = "venue"
    venues = frozenset({"CVPR"})

    def __init__(self, listings: dict[int, list[PaperMeta] | None], *, down: set[int] = frozenset(),
                 site_down: bool = False):
        self.listings = listings
        self.down = down
        self.site_down = site_down
        self.asked: list[tuple[str, object]] = []

    def ref(self, url: str) -> PaperRef | None:
        if not url.startswith("https://venue.example/"):
            return None
        year = int(url.split("/")[3])
        return PaperRef(self.name, url, venue="CVPR", year=year, url=url)

    def find(self, ref, listing):
        return next((m for m in listing if m.url == ref.id), None)

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        return None  # its papers are found in its listings

    def lists(self, venue: str, year: int) -> bool:
        return venue == "CVPR" and year >= 2013

    async def listing(self, venue: str, year: int) -> list[PaperMeta] | None:
        self.asked.append(("listing", (venue, year)))
        if self.site_down:
            raise SourceUnavailable(self.name, "challenge page")
        if year in self.down:
            raise SourceUnavailable(self.name, "empty day page", scope=f"{venue} {year}")
        return self.listings.get(year)

    async def abstract(self, meta: PaperMeta) -> PaperMeta:
        self.asked.append(("abstract", meta.url))
        return PaperMeta(**{**meta.__dict__, "abstract": f"Abstract of {meta.title}."})


class FakeArxiv(PaperSource):
    name = "arxiv"
    searches = True

    def __init__(self, papers: list[PaperMeta]):
        self.papers = papers
        self.asked: list[list[str]] = []

    def ref(self, url: str) -> PaperRef | None:
        return None  # it only searches titles

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        return None

    async def search(self, titles):
        self.asked.append(list(titles))
        return {t: [p for p in self.papers if p.title.lower() == t.lower()] for t in titles}


LIST = """# Papers
### Deep Residual Learning for Image Recognition CVPR 2016 [[paper]]()
### Feature Pyramid Networks for Object Detection CVPR 2017 [[paper]]()
### Masked Autoencoders Are Scalable Vision Learners CVPR 2022 [[paper]]()
### Momentum Contrast for Unsupervised Visual Representation Learning CVPR 2020 [[paper]]()
"""

RESNET = paper("venue", "Deep Residual Learning for Image Recognition", 2016, "CVPR", 1)
FPN = paper("venue", "Feature Pyramid Networks for Object Detection", 2017, "CVPR", 2)
MAE_ARXIV = paper("arxiv", "Masked Autoencoders Are Scalable Vision Learners", 2021)
MOCO_ARXIV = paper("arxiv", "Momentum Contrast for Unsupervised Visual Representation Learning", 2019)


def enrich(sources, text=LIST, store=None, now=1_800_000_000.0):
    store = store or Store(":memory:")
    parsed = parse_list(text).in_file("list.md")
    return asyncio.run(Enricher(SourceSet(sources, store, now=now, max_age=WEEK)).enrich(parsed, {})), store


@pytest.fixture
def sources():
    # 2016 and 2017 listed; 2020 fails for its year only; 2022 is not hosted (None): arXiv's turn.
    venue = FakeVenue({2016: [RESNET, FPN], 2017: [FPN, RESNET], 2022: None}, down={2020})
    return venue, FakeArxiv([MAE_ARXIV, MOCO_ARXIV])


def test_fills_come_from_the_venue_listing_and_not_hosted_years_from_arxiv(sources):
    venue, arxiv = sources
    enrichment, _ = enrich([arxiv, venue])
    fills = {f.entry: (f.source, f.url) for f in enrichment.fills}
    assert fills[RESNET.title] == ("venue", RESNET.url) and fills[FPN.title] == ("venue", FPN.url)
    assert fills[MAE_ARXIV.title] == ("arxiv", MAE_ARXIV.url)  # CVPR 2022: not hosted, so arXiv
    assert all(f.file == "list.md" for f in enrichment.fills)


def test_a_listing_that_fails_stops_that_year_only_and_its_entry_waits(sources):
    venue, arxiv = sources
    enrichment, _ = enrich([arxiv, venue])
    (waiting,) = enrichment.unresolved
    assert waiting.entry == MOCO_ARXIV.title  # arXiv has it, but CVPR 2020's listing decides
    assert waiting.reason == "venue CVPR 2020 unavailable: empty day page (nothing guessed; night 1 of 3 before arXiv)"
    assert MOCO_ARXIV.title not in {t for ts in arxiv.asked for t in ts}  # and it was not even searched
    states = {(s.source, s.scope): s.availability.value for s in enrichment.sources}
    assert states[("venue", "CVPR 2020")] == "unavailable" and states[("venue", "")] == "ok"


def test_a_site_that_refuses_everything_leaves_every_venue_entry_waiting(sources):
    _, arxiv = sources
    venue = FakeVenue({2016: [RESNET]}, site_down=True)
    enrichment, _ = enrich([arxiv, venue])
    assert not [f for f in enrichment.fills if f.source == "venue"]
    assert len([u for u in enrichment.unresolved if "challenge page" in u.reason]) == 4
    assert len(venue.asked) == 1  # once refused, the site is asked nothing more this run


def test_each_question_is_asked_once_and_a_rerun_within_a_week_asks_nothing(sources):
    venue, arxiv = sources
    _, store = enrich([arxiv, venue])
    listings = [a for a in venue.asked if a[0] == "listing"]
    assert sorted(y for _, (_, y) in listings) == [2016, 2017, 2020, 2022]  # one request per venue-year
    venue.asked.clear()
    arxiv.asked.clear()
    again, _ = enrich([arxiv, venue], store=store, now=1_800_000_000.0 + 3600)
    assert [a for a in venue.asked if a[0] == "listing"] == [("listing", ("CVPR", 2020))]  # only the failed one
    assert arxiv.asked == [] or all(MAE_ARXIV.title not in ts for ts in arxiv.asked)
    assert len(again.fills) == 3


def test_abstracts_come_from_the_paper_page_when_the_listing_has_none(sources):
    venue, arxiv = sources
    enrichment, _ = enrich([arxiv, venue])
    by_title = {m.title: m for m in enrichment.metas.values()}
    assert by_title[RESNET.title].abstract == f"Abstract of {RESNET.title}."
    assert ("abstract", RESNET.url) in venue.asked


def test_a_link_to_the_venue_gives_the_entry_its_paper_only_when_it_is_the_entrys(sources):
    venue, arxiv = sources
    text = (f"### Deep Residual Learning for Image Recognition CVPR 2016 [[paper]]({RESNET.url})\n"
            f"### Attention Is All You Need NeurIPS 2017 [[paper]]({FPN.url})\n")
    enrichment, _ = enrich([arxiv, venue], text=text)
    metas = {line: m.title for (_, line), m in enrichment.metas.items()}
    assert metas[1] == RESNET.title
    assert metas.get(2) != FPN.title  # another paper, other title: not this entry's


def test_an_empty_search_is_not_blamed_on_another_venues_failure(sources):
    venue, arxiv = sources
    text = LIST + "### A Paper Nobody Has Indexed Anywhere ICML 2021 [[paper]]()\n"
    enrichment, _ = enrich([arxiv, venue], text=text)
    reasons = {u.entry: u.reason for u in enrichment.unresolved}
    assert reasons["A Paper Nobody Has Indexed Anywhere"] == "no candidate"
