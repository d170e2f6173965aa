"""crawler.sources.pmlr: URL rules, the volume table, the parsers on PMLR's markup, PmlrSource in-process.

The fake site answers from tests/fixtures/pmlr/ (README.md there says where each page comes from) through
tests/fakes/venue_mocks.py; `overrides` swaps in a status, a challenge page or a transport error for one URL.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from crawler.errors import SourceUnavailable
from crawler.models import PaperMeta
from crawler.papers.match import best_match
from crawler.sources.base import PaperRef
from crawler.sources.pages import is_truncated, looks_like_challenge
from crawler.sources.pmlr import (
    CONFERENCES,
    DEFAULT_PMLR_BASE,
    OWN_CONTENT,
    TABLE,
    VOLUMES,
    PmlrSource,
    VolumeTable,
    canonical_venue,
    classify,
    parse_index,
    parse_paper_page,
    parse_pmlr_url,
    parse_volume,
)
from tests import paths
from tests.fakes import venue_mocks as venuefakes
from tests.fakes.venue_mocks import Override, html
from tests.fakes.web import Reply, Request

FIXTURES = paths.FIXTURES / "pmlr"
BASE = DEFAULT_PMLR_BASE
HUANG = f"{BASE}/v162/huang22h.html"
NAGEL = f"{BASE}/v162/nagel22a.html"
ABE = f"{BASE}/v206/abe23a.html"
KANERVISTO = f"{BASE}/v123/kanervisto20a.html"
INDEX = f"{BASE}/"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def volume(name: str) -> list[PaperMeta]:
    return parse_volume(read(f"{name}.html"), f"{BASE}/{name}/")


def vol_url(number: int) -> str:
    return f"{BASE}/v{number}/"


# --- the fake site -------------------------------------------------------------------------------------

_VOLUME_FILES = {"v202": "v202_empty.html", "v235": "v235_truncated.html"}
_NOT_FOUND = Reply(404, b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>",
                   {"Content-Type": "text/html; charset=utf-8"})


def site(request: Request) -> Reply:
    """proceedings.mlr.press as the fixtures show it."""
    path = urlsplit(request.path).path
    file: Path | None = None
    if path == "/":
        file = FIXTURES / "index.html"
    elif m := re.fullmatch(r"/(v\d+)/", path):
        file = FIXTURES / _VOLUME_FILES.get(m[1], f"{m[1]}.html")
    elif m := re.fullmatch(r"/(v\d+)/([\w-]+)\.html", path):
        file = FIXTURES / "papers" / m[1] / f"{m[2]}.html"
    if request.host != "proceedings.mlr.press" or file is None or not file.is_file():
        return _NOT_FOUND
    return html(file)


def run(body: Callable[[PmlrSource], Awaitable[Any]], overrides: dict[str, Override] | None = None,
        table: VolumeTable = TABLE) -> tuple[Any, PmlrSource, list[str]]:
    """Run `body(source)` against the fake; return its result, the source and every URL requested."""
    return venuefakes.run(lambda client: PmlrSource(client, table=table), body, site, overrides)


# --- the volume table ----------------------------------------------------------------------------------


def test_the_table_is_one_volume_per_conference_year_and_grows_with_time():
    assert len(TABLE) == len(VOLUMES) == 72
    assert len({v for _, _, v in VOLUMES}) == len(VOLUMES)  # no volume twice
    assert len({(c, y) for c, y, _ in VOLUMES}) == len(VOLUMES)  # no conference-year twice
    assert {c for c, _, _ in VOLUMES} == set(CONFERENCES)
    for conference in CONFERENCES:
        rows = sorted((y, v) for c, y, v in VOLUMES if c == conference)
        assert [v for _, v in rows] == sorted(v for _, v in rows), f"{conference} volumes out of year order"
    assert Counter(c for c, _, _ in VOLUMES) == {"ICML": 13, "AISTATS": 19, "COLT": 15, "UAI": 7, "CoRL": 9, "ALT": 9}


@pytest.mark.parametrize(("venue", "year", "number"), [
    ("ICML", 2022, 162), ("ICML", 2023, 202), ("ICML", 2024, 235), ("AISTATS", 2023, 206), ("AISTATS", 2024, 238),
    ("ICML", 2013, 28), ("COLT", 2023, 195), ("UAI", 2023, 216), ("CoRL", 2017, 78), ("ALT", 2025, 272),
])  # fmt: skip
def test_known_volumes(venue: str, year: int, number: int):
    assert TABLE.volume(venue, year) == number
    assert TABLE.conference(number) == (venue, year)


# --- URL rules -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "ident", "venue", "year"), [
    ("http://proceedings.mlr.press/v80/pham18a.html", "v80/pham18a", "ICML", 2018),
    ("http://proceedings.mlr.press/v80/bender18a/bender18a.pdf", "v80/bender18a", "ICML", 2018),
    ("https://proceedings.mlr.press/v162/liu22v/liu22v-supp.pdf", "v162/liu22v", "ICML", 2022),
    ("https://proceedings.mlr.press/v162/ben-hamu22a.html", "v162/ben-hamu22a", "ICML", 2022),
    ("https://proceedings.mlr.press/v267/a-mancisidor25a.html", "v267/a-mancisidor25a", "ICML", 2025),
    ("https://proceedings.mlr.press/v37/ioffe15.pdf", "v37/ioffe15", "ICML", 2015),  # pdf beside the page, pre-2017
    ("http://jmlr.org/proceedings/papers/v37/ioffe15.pdf", "v37/ioffe15", "ICML", 2015),  # JMLR W&CP
    ("http://www.jmlr.org/proceedings/papers/v33/kaski14.html", "v33/kaski14", "AISTATS", 2014),
    ("https://proceedings.mlr.press/v206/abe23a.html?utm_source=x#abstract", "v206/abe23a", "AISTATS", 2023),
    ("HTTPS://Proceedings.MLR.press/v205/chi23a.html", "v205/chi23a", "CoRL", 2022),
    # a volume no conference row names (a competition track): a paper, but of no venue-year
    (KANERVISTO, "v123/kanervisto20a", None, None),
])  # fmt: skip
def test_paper_urls_name_their_paper(url: str, ident: str, venue: str | None, year: int | None):
    assert parse_pmlr_url(url) == PaperRef("pmlr", ident, venue, year)


@pytest.mark.parametrize("url", [
    "https://proceedings.mlr.press/",
    "https://proceedings.mlr.press/v162/",
    "https://proceedings.mlr.press/v162/assets/bib/bibliography.bib",
    "https://proceedings.mlr.press/v162/huang22h/dong22a.pdf",  # another paper's name in the folder
    "https://proceedings.mlr.press/r0/",
    "https://raw.githubusercontent.com/mlresearch/v267/main/README.md",  # the repository's own files
    "https://raw.githubusercontent.com/someone/v267/main/assets/abnar25a/abnar25a.pdf",
    "https://jmlr.org/papers/v24/22-1234.html",  # the journal, not the proceedings
    "https://proceedings.mlr.press.evil.example/v162/huang22h.html",
    "ftp://proceedings.mlr.press/v162/huang22h.html",
    "not a url",
])  # fmt: skip
def test_other_urls_are_not_claimed(url: str):
    assert parse_pmlr_url(url) is None


@pytest.mark.parametrize(("venue", "expected"), [
    ("ICML", "ICML"), ("icml 2023", "ICML"), ("ICML'22", "ICML"), ("AISTATS", "AISTATS"), ("CORL", "CoRL"),
    ("CoRL 2021", "CoRL"), ("uai", "UAI"), ("COLT", "COLT"), ("ALT", "ALT"),
    ("International Conference on Machine Learning", "ICML"),
    ("ICML Workshop", None), ("ICMLW", None), ("ICML-W 2020", None), ("NeurIPS", None), ("ICLR", None), (None, None),
])  # fmt: skip
def test_entry_venues_are_normalised(venue: str | None, expected: str | None):
    assert canonical_venue(venue) == expected


def test_lists_table_years_and_later_ones_only():
    source = PmlrSource(None)
    assert source.lists("ICML", 2022) and source.lists("aistats", 2023)
    assert source.lists("ICML", 2031)  # past the table: the index may know it
    assert not source.lists("ICML", 2012)  # before PMLR
    assert not source.lists("AISTATS", 2008)  # AISTATS was every other year then
    assert not source.lists("NeurIPS", 2022) and not source.lists("ICML Workshop", 2022)


# --- parsers ---------------------------------------------------------------------------------------


def test_volume_page_lists_every_paper_with_authors_and_links():
    papers = volume("v162")
    assert len(papers) == 9
    huang = next(p for p in papers if p.url == HUANG)
    assert huang.title == "SDQ: Stochastic Differentiable Quantization with Mixed Precision"
    assert huang.authors[:2] == ("Xijie Huang", "Zhiqiang Shen") and len(huang.authors) == 8
    assert huang.pdf_url == f"{BASE}/v162/huang22h/huang22h.pdf"
    assert (huang.venue, huang.year, huang.source) == ("ICML", 2022, "pmlr")


def test_volume_page_with_sections():
    papers = volume("v206")
    assert len(papers) == 25
    assert all((p.venue, p.year) == ("AISTATS", 2023) for p in papers)
    abe = next(p for p in papers if p.url == ABE)
    assert abe.title == "Last-Iterate Convergence with Full and Noisy Feedback in Two-Player Zero-Sum Games"
    assert abe.authors == ("Kenshi Abe", "Kaito Ariu", "Mitsuki Sakamoto", "Kentaro Toyoshima", "Atsushi Iwasaki")


def test_paper_page():
    meta = parse_paper_page(read("papers/v162/nagel22a.html"), NAGEL)
    assert meta.title == "Overcoming Oscillations in Quantization-Aware Training"
    assert meta.authors == ("Markus Nagel", "Marios Fournarakis", "Yelysei Bondarenko", "Tijmen Blankevoort")
    assert meta.abstract and meta.abstract.startswith("When training neural networks with simulated quantization")
    assert meta.abstract.endswith("https://github.com/qualcomm-ai-research/oscillations-qat.")
    assert (meta.venue, meta.year, meta.pdf_url) == ("ICML", 2022, f"{BASE}/v162/nagel22a/nagel22a.pdf")


def test_a_workshop_volumes_paper_page_has_no_venue_but_its_date():
    meta = parse_paper_page(read("papers/v123/kanervisto20a.html"), KANERVISTO)
    assert meta.title == "Playing Minecraft with Behavioural Cloning"
    assert meta.authors[-1] == "Ville Hautamäki"
    assert (meta.venue, meta.year) == (None, 2020)


def test_index_lists_volumes_not_reissues():
    entries = parse_index(read("index.html"))
    assert [e.volume for e in entries] == [300, 267, 258, 235, 206, 162, 123]
    assert entries[2].description == "AISTATS 2025 Proceedings"
    assert [classify(e.description) for e in entries] == [
        ("AISTATS", 2026), ("ICML", 2025), ("AISTATS", 2025), ("ICML", 2024), ("AISTATS", 2023), ("ICML", 2022), None]


@pytest.mark.parametrize(("description", "expected"), [
    ("Proceedings of ICML 2021", ("ICML", 2021)),
    ("ICML 2021 Proceedings", ("ICML", 2021)),
    ("Proceedings of the 42nd International Conference on Machine Learning", ("ICML", 2025)),
    ("Proceedings of The 8th Conference on Robot Learning", ("CoRL", 2024)),
    ("Proceedings of the NeurIPS 2019 Competition and Demonstration Track", None),
    ("Proceedings of the ICML 2023 Workshop on Computational Biology", None),
    ("Proceedings of the Thirty Seventh Conference on Learning Theory", None),  # no number to read: not guessed
    ("Proceedings of ICML 2021 and UAI 2021", None),
    ("ICML 2021 and 2022", None),
])  # fmt: skip
def test_index_descriptions_are_classified_conservatively(description: str, expected):
    assert classify(description) == expected


def test_real_pages_are_neither_challenges_nor_truncated_and_ugly_ones_are():
    for name in ("index.html", "v162.html", "v206.html", "papers/v162/nagel22a.html"):
        assert not looks_like_challenge(read(name), OWN_CONTENT) and not is_truncated(read(name)), name
    assert looks_like_challenge(read("challenge.html"), OWN_CONTENT)
    assert is_truncated(read("v235_truncated.html"))
    assert volume("v202_empty") == []


# --- the source ----------------------------------------------------------------------------------------


def test_a_volume_costs_one_request_and_answers_links_into_it():
    async def body(source: PmlrSource):
        listing = await source.listing("ICML", 2022)
        again = await source.listing("icml", 2022)
        urls = (HUANG, f"{BASE}/v162/nagel22a/nagel22a.pdf", "http://proceedings.mlr.press/v162/zzz22a.html")
        refs = [source.ref(u) for u in urls]
        found = [await source.lookup(r) for r in refs if r is not None]
        return listing, again, found

    (listing, again, found), source, urls = run(body)
    assert urls == [vol_url(162)] and source.requests_sent == 1
    assert listing == again and len(listing) == 9
    assert [m.url if m else None for m in found] == [HUANG, NAGEL, None]  # the third is in no listing


def test_a_workshop_volumes_paper_is_looked_up_by_its_page():
    async def body(source: PmlrSource):
        ref = source.ref(f"{BASE}/v123/kanervisto20a/kanervisto20a.pdf")
        gone = source.ref(f"{BASE}/v123/nobody20a.html")
        assert ref is not None and gone is not None
        return await source.lookup(ref), await source.lookup(gone)

    (meta, gone), _, urls = run(body)
    assert meta is not None and meta.title == "Playing Minecraft with Behavioural Cloning"
    assert gone is None
    assert urls == [KANERVISTO, f"{BASE}/v123/nobody20a.html"]


def test_abstract_comes_from_the_paper_page():
    async def body(source: PmlrSource):
        listing = await source.listing("AISTATS", 2023)
        assert listing is not None
        abe = next(p for p in listing if p.url == ABE)
        return await source.abstract(abe), await source.abstract(abe)

    (first, second), _, urls = run(body)
    assert first.abstract and first.abstract.startswith("This paper proposes Mutation-Driven Multiplicative Weights")
    assert second == first
    assert urls == [vol_url(206), ABE]


def test_a_venue_year_past_the_table_is_found_in_the_index_once():
    without_2025 = VolumeTable([row for row in VOLUMES if row[1] < 2025])

    async def body(source: PmlrSource):
        icml25 = await source.listing("ICML", 2025)
        icml26 = await source.listing("ICML", 2026)  # not in the index: no volume, no new index request
        aistats25 = await source.listing("AISTATS", 2025)  # the index names v258; its page is not in the fixtures
        return icml25, icml26, aistats25

    (icml25, icml26, aistats25), _, urls = run(body, table=without_2025)
    assert icml25 is not None and len(icml25) == 3
    assert {(p.venue, p.year) for p in icml25} == {("ICML", 2025)}
    assert icml26 is None and aistats25 is None
    assert urls == [INDEX, vol_url(267), vol_url(258)]


def test_a_year_the_index_does_not_name_has_no_volume():
    async def body(source: PmlrSource):
        return await source.listing("ICML", 2029), await source.listing("UAI", 2027)

    (icml, uai), _, urls = run(body)
    assert icml is None and uai is None
    assert urls == [INDEX]  # the index is read once for both


def test_discovery_never_takes_a_volume_older_than_the_table_knows():
    # Volumes grow with time: an index entry below the newest known volume is not a later year's.
    table = VolumeTable([("ICML", 2021, 240)])

    async def body(source: PmlrSource):
        return await source.listing("ICML", 2022)  # the index says v162 is "Proceedings of ICML 2022"

    found, _, urls = run(body, table=table)
    assert found is None and urls == [INDEX]


def test_a_volume_pmlr_does_not_have_is_none():
    async def body(source: PmlrSource):
        return await source.listing("ICML", 2021)  # v139: not in the fixtures, so the fake answers 404

    found, _, urls = run(body)
    assert found is None and urls == [vol_url(139)]


@pytest.mark.parametrize(
    ("venue", "year", "override", "reason"),
    [
        ("ICML", 2023, None, "markup of http"),  # v202 answers an empty page
        ("ICML", 2024, None, "truncated"),  # v235 is cut short
        ("AISTATS", 2024, httpx.Response(500), "HTTP 500"),
        ("AISTATS", 2024, httpx.ReadTimeout("read timed out"), "timeout"),
    ],
)
def test_one_volume_that_cannot_be_read_blocks_only_its_venue_year(venue, year, override, reason):
    number = TABLE.volume(venue, year)
    assert number is not None
    overrides = {vol_url(number): override} if override is not None else {}

    async def body(source: PmlrSource):
        with pytest.raises(SourceUnavailable) as caught:
            await source.listing(venue, year)
        return caught.value, await source.listing("ICML", 2022)

    (exc, other), _, urls = run(body, overrides)
    assert (exc.source, exc.scope) == ("pmlr", f"{venue} {year}")
    assert reason in exc.reason
    assert other is not None and len(other) == 9
    assert urls == [vol_url(number), vol_url(162)]


def test_an_index_that_cannot_be_read_blocks_only_the_year_asked_for():
    without_2025 = VolumeTable([row for row in VOLUMES if row[1] < 2025])

    async def body(source: PmlrSource):
        with pytest.raises(SourceUnavailable) as caught:
            await source.listing("ICML", 2025)
        return caught.value, await source.listing("ICML", 2022)

    (exc, other), _, urls = run(body, {INDEX: httpx.Response(503)}, table=without_2025)
    assert exc.scope == "ICML 2025" and other is not None
    assert urls == [INDEX, vol_url(162)]


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        (httpx.Response(200, html=(FIXTURES / "challenge.html").read_text()), "challenge page"),
        (httpx.Response(403, html="<html><body>Forbidden</body></html>"), "HTTP 403"),
        (httpx.Response(429, headers={"Retry-After": "60"}), "HTTP 429"),
    ],
)
def test_a_challenge_or_throttle_stops_the_whole_source(override, reason):
    async def body(source: PmlrSource):
        with pytest.raises(SourceUnavailable) as caught:
            await source.listing("AISTATS", 2024)
        return caught.value

    exc, _, urls = run(body, {vol_url(238): override})
    assert exc.scope == "" and reason in exc.reason
    assert urls == [vol_url(238)]


def test_not_a_pmlr_venue_is_a_usage_error():
    async def body(source: PmlrSource):
        with pytest.raises(ValueError):
            await source.listing("NeurIPS", 2022)

    _, _, urls = run(body)
    assert urls == []


# --- matching against the listings (blank-out) ----------------------------------------------------------


def _as_a_list_writes_it(title: str) -> str:
    """What list authors do to titles: lower case, colon dropped, hyphens as spaces."""
    return title.replace(":", "").replace("-", " ").lower()


@pytest.mark.parametrize(("name", "venue", "year"), [("v162", "ICML", 2022), ("v206", "AISTATS", 2023)])
def test_blanked_out_titles_find_their_own_paper_in_the_volume(name: str, venue: str, year: int):
    listing = volume(name)
    right = wrong = 0
    for paper in listing:
        for title in (paper.title, _as_a_list_writes_it(paper.title)):
            match = best_match(title, listing, venue=venue, year=year)
            if match.meta is not None:
                right += match.meta.url == paper.url
                wrong += match.meta.url != paper.url
    assert wrong == 0  # precision 1.0
    assert right == 2 * len(listing)  # recall 1.0 on the volume's own titles


def test_a_paper_named_at_another_venue_is_not_filled_from_this_volume():
    listing = volume("v162")
    title = "Overcoming Oscillations in Quantization-Aware Training"
    assert best_match(title, listing, venue="ICML", year=2022).meta is not None
    assert best_match(title, listing, venue="NeurIPS", year=2022).meta is None
    assert best_match(title, listing, venue="ICML", year=2019).meta is None  # year disagrees
