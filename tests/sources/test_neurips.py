"""crawler.sources.neurips: URL rules of every era, the parsers on each era's markup, NeuripsSource in-process.

The fake site answers from tests/fixtures/neurips/ (README.md there says where each page comes from) through
tests/fakes/venue_mocks.py; `overrides` swaps in a status, a challenge page or a transport error for one URL.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import respx

from crawler.errors import SourceUnavailable
from crawler.models import PaperMeta
from crawler.net.pool import ClientPool
from crawler.papers.match import best_match
from crawler.sources.base import PaperRef
from crawler.sources.neurips import (
    DEFAULT_NEURIPS_BASE,
    OWN_CONTENT,
    NeuripsSource,
    canonical_venue,
    parse_companion_links,
    parse_listing,
    parse_neurips_url,
    parse_paper_page,
    pdf_for,
)
from crawler.sources.pages import is_truncated, looks_like_challenge
from tests import paths
from tests.fakes import venue_mocks as venuefakes
from tests.fakes.venue_mocks import Override, html
from tests.fakes.web import Reply, Request, RoutingTransport

FIXTURES = paths.FIXTURES / "neurips"
BASE = DEFAULT_NEURIPS_BASE
ATTENTION = f"{BASE}/paper_files/paper/2017/hash/3f5ee243547dee91fbd053c1c4a845aa-Abstract.html"
CHEN17 = f"{BASE}/paper_files/paper/2017/hash/e1e32e235eee1f970470a3a6658dfdd5-Abstract.html"
RAGHU = f"{BASE}/paper_files/paper/2021/hash/652cf38361a209088302ba2b8b7f51e0-Abstract.html"
BIMLP = f"{BASE}/paper_files/paper/2022/hash/20f94998511f25bb6378cae0e098bc46-Abstract-Conference.html"
CHEN17_SLUG = "6676-learning-efficient-object-detection-models-with-knowledge-distillation"
KROGH_SLUG = "1001-neural-network-ensembles-cross-validation-and-active-learning"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def listing_of(year: int, name: str | None = None) -> list[PaperMeta]:
    return parse_listing(read(name or f"{year}.html"), f"{BASE}/paper_files/paper/{year}")


# --- the fake site -------------------------------------------------------------------------------------

_YEAR_FILES = {2018: "2018_empty.html", 2019: "2019_truncated.html"}
_LISTING = re.compile(r"/paper_files/paper/(\d{4})")
_COMPANION = re.compile(r"/paper_files/paper/(\d{4})/(vol[\w-]+)")
_PAPER = re.compile(r"/paper_files/paper/(\d{4})/hash/([0-9a-f]{32}-Abstract[\w-]*\.html)")
_NOT_FOUND = Reply(404, b"<html><head><title>404 Not Found</title></head><body>Not Found</body></html>",
                   {"Content-Type": "text/html; charset=utf-8"})


def site(request: Request) -> Reply:
    """proceedings.neurips.cc and papers.nips.cc as the fixtures show them."""
    host, path = request.host, urlsplit(request.path).path
    file: Path | None = None
    if host == "proceedings.neurips.cc":
        if m := _LISTING.fullmatch(path):
            file = FIXTURES / _YEAR_FILES.get(int(m[1]), f"{m[1]}.html")
        elif m := _COMPANION.fullmatch(path):
            file = FIXTURES / f"{m[1]}_{m[2]}.html"
        elif m := _PAPER.fullmatch(path):
            file = FIXTURES / "papers" / m[1] / m[2]
    elif host == "papers.nips.cc" and path == f"/paper/{CHEN17_SLUG}":
        return Reply(301, headers={"Location": CHEN17})  # the old form redirects to the hash page
    elif host == "papers.nips.cc" and path.startswith("/paper/"):
        file = FIXTURES / "legacy" / f"{path.removeprefix('/paper/')}.html"
    if file is None or not file.is_file():
        return _NOT_FOUND
    return html(file)


def run(body: Callable[[NeuripsSource], Awaitable[Any]], overrides: dict[str, Override] | None = None,
        ) -> tuple[Any, NeuripsSource, list[str]]:
    """Run `body(source)` against the fake; return its result, the source and every URL requested."""
    return venuefakes.run(NeuripsSource, body, site, overrides)


def listing_url(year: int) -> str:
    return f"{BASE}/paper_files/paper/{year}"


# --- URL rules -----------------------------------------------------------------------------------------

HASH_URLS = [
    # every era and host of one shape: (url, id, year)
    ("https://proceedings.neurips.cc/paper_files/paper/2022/hash/20f94998511f25bb6378cae0e098bc46-Abstract-Conference.html",
     "2022/20f94998511f25bb6378cae0e098bc46", 2022),
    ("https://proceedings.neurips.cc/paper_files/paper/2024/file/000f947dcaff8fbffcc3f53a1314f358-Paper-Conference.pdf",
     "2024/000f947dcaff8fbffcc3f53a1314f358", 2024),
    ("https://proceedings.neurips.cc/paper_files/paper/2024/hash/000f947dcaff8fbffcc3f53a1314f358-Abstract-Datasets_and_Benchmarks_Track.html",
     "2024/000f947dcaff8fbffcc3f53a1314f358", 2024),
    ("https://proceedings.neurips.cc/paper_files/paper/2024/hash/000f947dcaff8fbffcc3f53a1314f358-Abstract-Conference-bib.txt",
     "2024/000f947dcaff8fbffcc3f53a1314f358", 2024),
    ("https://papers.nips.cc/paper/2021/hash/747d3443e319a22747fbb873e8b2f9f2-Abstract.html",
     "2021/747d3443e319a22747fbb873e8b2f9f2", 2021),
    ("https://proceedings.neurips.cc/paper/2020/file/747d3443e319a22747fbb873e8b2f9f2-Paper.pdf",
     "2020/747d3443e319a22747fbb873e8b2f9f2", 2020),
    ("https://papers.nips.cc/paper/2020/file/ef0d3930a7b6c95bd2b32ed45989c61f-Supplemental.zip",
     "2020/ef0d3930a7b6c95bd2b32ed45989c61f", 2020),
    ("https://papers.nips.cc/paper/2020/file/912d2b1c7b2826caf99687388d2e8f7c-Supplemental.pdf",
     "2020/912d2b1c7b2826caf99687388d2e8f7c", 2020),
    ("http://papers.nips.cc/paper_files/paper/2017/hash/3F5EE243547DEE91FBD053C1C4A845AA-Abstract.html",
     "2017/3f5ee243547dee91fbd053c1c4a845aa", 2017),
    ("https://www.papers.nips.cc/paper/2019/file/f1748d6b0fd9d439f71450117eba2725-Paper.pdf?utm_source=x#page=2",
     "2019/f1748d6b0fd9d439f71450117eba2725", 2019),
    ("https://proceedings.nips.cc/paper_files/paper/2025/hash/0010031a1b4910aa67edbda26a705518-Abstract-Conference.html",
     "2025/0010031a1b4910aa67edbda26a705518", 2025),
    # the pre-2020 site: no year in the URL
    (f"http://papers.nips.cc/paper/{CHEN17_SLUG}.pdf", CHEN17_SLUG, None),
    ("http://papers.nips.cc/paper/8374-data-differentiable-architecture-approximation",
     "8374-data-differentiable-architecture-approximation", None),
    (f"https://papers.nips.cc/paper/{KROGH_SLUG}/bibtex", KROGH_SLUG, None),
]  # fmt: skip


@pytest.mark.parametrize(("url", "ident", "year"), HASH_URLS)
def test_every_url_era_names_its_paper(url: str, ident: str, year: int | None):
    assert parse_neurips_url(url) == PaperRef("neurips", ident, "NeurIPS", year)


@pytest.mark.parametrize(
    "url",
    [
        "https://papers.nips.cc/paper/2020",  # a year listing, not a paper
        "https://proceedings.neurips.cc/paper_files/paper/2025/vol38-main-conference",
        "https://proceedings.neurips.cc/",
        "https://papers.nips.cc/paper/7181",  # a bare number is as likely a year: not claimed
        "https://neurips.cc/virtual/2023/poster/72931",
        "https://nips.cc/Conferences/2019/Schedule?showEvent=13276",
        "https://openreview.net/forum?id=FiM0M8gcct",
        # the 2021 Datasets and Benchmarks host numbers its papers apart: left to the ordinary check
        "https://datasets-benchmarks-proceedings.neurips.cc/paper/2021/hash/2b44928ae11fb9384c4cf38708677c48-Abstract-round2.html",
        "https://proceedings.neurips.cc/paper_files/paper/2021/hash/2b44928ae11fb9384c4cf38708677c48-Abstract-round2.html",
        "https://proceedings.neurips.cc.evil.example/paper_files/paper/2017/hash/3f5ee243547dee91fbd053c1c4a845aa-Abstract.html",
        "ftp://papers.nips.cc/paper/2017/hash/3f5ee243547dee91fbd053c1c4a845aa-Abstract.html",
        "https://proceedings.neurips.cc/paper_files/paper/2017/hash/3f5ee243547dee91fbd053c1c4a845-Abstract.html",
        "not a url",
        "http://[::1",
    ],
)
def test_other_urls_are_not_claimed(url: str):
    assert parse_neurips_url(url) is None


def test_a_mirror_base_names_papers_too():
    source = NeuripsSource(None, base="http://127.0.0.1:8765")
    path = "/paper_files/paper/2021/hash/652cf38361a209088302ba2b8b7f51e0-Abstract.html"
    assert source.ref(f"http://127.0.0.1:8765{path}") == PaperRef(
        "neurips", "2021/652cf38361a209088302ba2b8b7f51e0", "NeurIPS", 2021)
    assert source.ref(f"http://127.0.0.2:8765{path}") is None


def test_pdf_is_the_abstract_pages_sibling():
    assert pdf_for(BIMLP) == f"{BASE}/paper_files/paper/2022/file/20f94998511f25bb6378cae0e098bc46-Paper-Conference.pdf"
    assert pdf_for(ATTENTION) == f"{BASE}/paper_files/paper/2017/file/3f5ee243547dee91fbd053c1c4a845aa-Paper.pdf"
    assert pdf_for(pdf_for(ATTENTION) or "") is None  # a pdf has no pdf


@pytest.mark.parametrize(
    ("venue", "expected"),
    [("NeurIPS", "NeurIPS"), ("NIPS", "NeurIPS"), ("nips", "NeurIPS"), ("NIPS 2017", "NeurIPS"),
     ("NeurIPS'19", "NeurIPS"), ("Advances in Neural Information Processing Systems", "NeurIPS"),
     ("NeurIPS Workshop", None), ("NeurIPSW", None), ("NIPS-W 2016", None), ("ICML", None), ("", None), (None, None)],
)
def test_entry_venues_are_normalised(venue: str | None, expected: str | None):
    assert canonical_venue(venue) == expected


def test_lists_only_neurips_years_the_proceedings_can_have():
    source = NeuripsSource(None)
    assert source.lists("NIPS", 2017) and source.lists("neurips", 2030) and source.lists("NeurIPS", 1987)
    assert not source.lists("NeurIPS", 1986)
    assert not source.lists("NeurIPS Workshop", 2021)
    assert not source.lists("ICML", 2021)


# --- parsers on each era's markup ----------------------------------------------------------------------


def test_listing_with_authors_in_italics():
    papers = listing_of(2020)
    assert len(papers) == 15
    bayes = next(p for p in papers if p.title.startswith("Bayesian Bits"))
    assert bayes.url == f"{BASE}/paper_files/paper/2020/hash/3f13cf4ddf6fc50c0d39a1d5aeb57dd8-Abstract.html"
    assert bayes.authors[:3] == ("Mart van Baalen", "Christos Louizos", "Markus Nagel")
    assert (bayes.year, bayes.venue, bayes.source) == (2020, "NeurIPS", "neurips")
    assert bayes.pdf_url == f"{BASE}/paper_files/paper/2020/file/3f13cf4ddf6fc50c0d39a1d5aeb57dd8-Paper.pdf"


def test_listing_in_the_2025_redesign():
    papers = listing_of(2021)
    assert len(papers) == 22
    raghu = next(p for p in papers if p.url == RAGHU)
    assert raghu.title == "Do Vision Transformers See Like Convolutional Neural Networks?"
    assert raghu.authors == ("Maithra Raghu", "Thomas Unterthiner", "Simon Kornblith", "Chiyuan Zhang",
                             "Alexey Dosovitskiy")
    xcit = next(p for p in papers if p.title.startswith("XCiT"))
    assert xcit.authors[-1] == "Hervé Jegou"  # entities and accents survive


def test_listing_with_tracks_in_the_path():
    (bimlp,) = listing_of(2022)
    assert bimlp.url == BIMLP
    assert bimlp.pdf_url and bimlp.pdf_url.endswith("-Paper-Conference.pdf")


def test_2025_year_page_links_its_main_conference_volume():
    year_page = read("2025.html")
    assert parse_companion_links(year_page, listing_url(2025), 2025) == [f"{listing_url(2025)}/vol38-main-conference"]
    assert parse_companion_links(year_page, listing_url(2025), 2024) == []
    assert parse_companion_links(read("2021.html"), listing_url(2021), 2021) == []
    (creative,) = listing_of(2025)
    assert creative.url.endswith("-Abstract-Creative_AI_Track.html") and creative.authors == ()


def test_paper_page_2020_to_2022_abstract_in_nested_paragraphs():
    meta = parse_paper_page(read("papers/2017/3f5ee243547dee91fbd053c1c4a845aa-Abstract.html"), ATTENTION)
    assert meta.title == "Attention is All you Need"
    assert meta.authors[0] == "Ashish Vaswani" and meta.authors[-1] == "Illia Polosukhin"  # "Vaswani, Ashish"
    assert meta.abstract and meta.abstract.startswith("The dominant sequence transduction models")
    assert meta.abstract.endswith("dispensing with recurrence and convolutions entirely.")
    assert (meta.year, meta.venue) == (2017, "NeurIPS")


def test_paper_page_2023_on_paper_abstract_paragraphs_are_joined():
    meta = parse_paper_page(read("papers/2022/20f94998511f25bb6378cae0e098bc46-Abstract-Conference.html"), BIMLP)
    assert meta.abstract == (
        "This paper studies the problem of designing compact binary architectures for vision multi-layer "
        "perceptrons (MLPs). We provide extensive analysis on the difficulty of binarizing vision MLPs and find "
        "that previous binarization methods perform poorly due to limited capacity of binary MLPs."
    )
    assert meta.pdf_url == pdf_for(BIMLP)


def test_the_old_sites_page_has_no_abstract_and_names_its_year_in_its_book_link():
    url = f"https://papers.nips.cc/paper/{KROGH_SLUG}"
    meta = parse_paper_page(read(f"legacy/{KROGH_SLUG}.html"), url)
    assert meta.title == "Neural Network Ensembles, Cross Validation, and Active Learning"
    assert meta.authors == ("Anders Krogh", "Jesper Vedelsby")
    assert meta.abstract is None  # the page says "Abstract Missing"
    assert meta.year == 1994  # "(NIPS 1994)", not the proceedings' 1995


@pytest.mark.parametrize(
    "name", ["2020.html", "2021.html", "papers/2017/3f5ee243547dee91fbd053c1c4a845aa-Abstract.html"]
)
def test_real_pages_are_neither_challenges_nor_truncated(name: str):
    assert not looks_like_challenge(read(name), OWN_CONTENT)
    assert not is_truncated(read(name))


def test_ugly_pages_are_recognised():
    assert looks_like_challenge(read("challenge.html"))
    assert is_truncated(read("2019_truncated.html"))
    assert listing_of(2018, "2018_empty.html") == []
    with pytest.raises(ValueError):
        parse_paper_page(read("challenge.html"), ATTENTION)


# --- the source: one request per listing ----------------------------------------------------------------


def test_a_listing_costs_one_request_however_often_it_is_asked():
    async def body(source: NeuripsSource):
        first = await source.listing("NeurIPS", 2021)
        again = await source.listing("NIPS", 2021)
        both = await asyncio.gather(*(source.listing("neurips", 2021) for _ in range(5)))
        refs = [source.ref(RAGHU), source.ref(RAGHU.replace("paper_files/paper", "paper"))]
        found = [await source.lookup(r) for r in refs if r is not None]
        return first, again, both, found

    (first, again, both, found), source, urls = run(body)
    assert urls == [listing_url(2021)]
    assert source.requests_sent == 1
    assert first == again and all(b == first for b in both) and len(first) == 22
    assert [m.url for m in found if m] == [RAGHU, RAGHU]


def test_2025_listing_reads_the_year_page_and_its_volume_page_once_each():
    async def body(source: NeuripsSource):
        return await source.listing("NeurIPS", 2025), await source.listing("NeurIPS", 2025)

    (papers, again), _, urls = run(body)
    assert urls == [listing_url(2025), f"{listing_url(2025)}/vol38-main-conference"]
    assert [p.url.rsplit("-Abstract", 1)[1] for p in papers] == [
        "-Creative_AI_Track.html", "-Conference.html", "-Datasets_and_Benchmarks_Track.html"]
    assert papers == again


def test_a_year_the_site_does_not_host_is_none_and_asked_once():
    async def body(source: NeuripsSource):
        ref = source.ref(f"{BASE}/paper_files/paper/2030/hash/3f5ee243547dee91fbd053c1c4a845aa-Abstract.html")
        assert ref is not None
        return await source.listing("NeurIPS", 2030), await source.lookup(ref)

    (listing, found), _, urls = run(body)
    assert listing is None and found is None
    assert urls == [listing_url(2030)]


def test_the_same_hash_in_two_years_is_two_papers():
    # The corpus links MiniLM (2020) and "Attention is All you Need" (2017) with the same hash.
    async def body(source: NeuripsSource):
        old = source.ref(ATTENTION)
        new = source.ref("https://papers.nips.cc/paper/2020/file/3f5ee243547dee91fbd053c1c4a845aa-Paper.pdf")
        assert old is not None and new is not None and old.id != new.id
        return await source.lookup(old), await source.lookup(new)

    (old, new), _, urls = run(body)
    assert old is not None and old.title == "Attention is All you Need"
    assert new is not None and new.title.startswith("MiniLM")
    assert urls == [listing_url(2017), listing_url(2020)]


def test_a_hash_missing_from_its_years_listing_does_not_exist():
    async def body(source: NeuripsSource):
        ref = source.ref("https://papers.nips.cc/paper/2021/hash/00000000000000000000000000000000-Abstract.html")
        assert ref is not None
        return await source.lookup(ref)

    found, _, urls = run(body)
    assert found is None and urls == [listing_url(2021)]


def test_an_old_numbered_link_follows_the_sites_redirect_to_its_paper():
    async def body(source: NeuripsSource):
        ref = source.ref(f"http://papers.nips.cc/paper/{CHEN17_SLUG}.pdf")
        assert ref is not None and ref.year is None
        return await source.lookup(ref)

    meta, _, urls = run(body)
    assert meta is not None
    assert meta.title == "Learning Efficient Object Detection Models with Knowledge Distillation"
    assert (meta.url, meta.year) == (CHEN17, 2017)
    assert meta.abstract and meta.abstract.startswith("Despite significant accuracy improvement")
    assert urls == [f"https://papers.nips.cc/paper/{CHEN17_SLUG}", CHEN17]


def test_an_old_numbered_page_in_the_old_sites_markup_and_a_missing_one():
    async def body(source: NeuripsSource):
        krogh = source.ref(f"https://papers.nips.cc/paper/{KROGH_SLUG}.pdf")
        gone = source.ref("https://papers.nips.cc/paper/99999-no-such-paper")
        assert krogh is not None and gone is not None
        return await source.lookup(krogh), await source.lookup(gone)

    (krogh, gone), _, _ = run(body)
    assert krogh is not None and krogh.authors == ("Anders Krogh", "Jesper Vedelsby") and krogh.year == 1994
    assert gone is None


def test_abstract_comes_from_the_paper_page_once():
    async def body(source: NeuripsSource):
        listing = await source.listing("NeurIPS", 2021)
        assert listing is not None
        raghu = next(p for p in listing if p.url == RAGHU)
        assert raghu.abstract is None
        first = await source.abstract(raghu)
        second = await source.abstract(raghu)
        missing = await source.abstract(next(p for p in listing if p.url != RAGHU))  # no page in the fixtures: 404
        return first, second, missing

    (first, second, missing), _, urls = run(body)
    assert first.abstract and first.abstract.startswith("Convolutional neural networks (CNNs)")
    assert first.authors[0] == "Maithra Raghu"  # the listing's authors are kept
    assert second == first
    assert missing.abstract is None
    assert urls.count(RAGHU) == 1 and len(urls) == 3


# --- the source: failures are scoped -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("year", "override", "reason"),
    [
        (2018, None, "may have changed: no papers on it"),
        (2019, None, "truncated"),
        (2020, httpx.Response(500), "HTTP 500"),
        (2020, httpx.Response(502, html="<html><body>Bad Gateway</body></html>"), "HTTP 502"),
        (2020, httpx.ReadTimeout("read timed out"), "timeout"),
        (2020, httpx.ConnectError("connection refused"), "ConnectError"),
    ],
)
def test_one_listing_that_cannot_be_read_blocks_only_its_year(year, override, reason):
    overrides = {listing_url(year): override} if override is not None else {}

    async def body(source: NeuripsSource):
        with pytest.raises(SourceUnavailable) as caught:
            await source.listing("NeurIPS", year)
        with pytest.raises(SourceUnavailable):  # not asked again
            await source.listing("NeurIPS", year)
        return caught.value, await source.listing("NeurIPS", 2021)

    (exc, other), _, urls = run(body, overrides)
    assert (exc.source, exc.scope) == ("neurips", f"NeurIPS {year}")
    assert reason in exc.reason
    assert other is not None and len(other) == 22  # another year still answers
    assert urls == [listing_url(year), listing_url(2021)]


def test_a_missing_companion_volume_makes_the_year_unavailable_not_short():
    overrides = {f"{listing_url(2025)}/vol38-main-conference": _NOT_FOUND}

    async def body(source: NeuripsSource):
        with pytest.raises(SourceUnavailable) as caught:
            await source.listing("NeurIPS", 2025)
        return caught.value

    exc, _, _ = run(body, overrides)
    assert exc.scope == "NeurIPS 2025" and "vol38-main-conference" in exc.reason


@pytest.mark.parametrize(
    ("override", "reason"),
    [
        (httpx.Response(403, html="<html><body>Forbidden</body></html>"), "HTTP 403"),
        (httpx.Response(429, headers={"Retry-After": "60"}), "HTTP 429"),
        (httpx.Response(200, html=(FIXTURES / "challenge.html").read_text()), "challenge page"),
        (httpx.Response(503, html=(FIXTURES / "challenge.html").read_text()), "challenge page"),
    ],
)
def test_a_challenge_or_throttle_stops_the_whole_source(override, reason):
    async def body(source: NeuripsSource):
        with pytest.raises(SourceUnavailable) as first:
            await source.listing("NeurIPS", 2020)
        with pytest.raises(SourceUnavailable) as again:
            await source.listing("NeurIPS", 2020)
        return first.value, again.value

    (first, again), _, urls = run(body, {listing_url(2020): override})
    assert (first.scope, again.scope) == ("", "")
    assert reason in first.reason
    assert urls == [listing_url(2020)]


def test_a_paper_page_that_is_not_one_is_unavailable_not_missing():
    overrides = {CHEN17: httpx.Response(200, html="<html><body><p>Maintenance</p></body></html>")}

    async def body(source: NeuripsSource):
        ref = source.ref(f"https://papers.nips.cc/paper/{CHEN17_SLUG}")
        assert ref is not None
        with pytest.raises(SourceUnavailable) as caught:
            await source.lookup(ref)
        return caught.value

    exc, _, _ = run(body, overrides)
    assert exc.scope == "NeurIPS" and "no title" in exc.reason


def test_requests_in_flight_never_exceed_the_concurrency():
    in_flight = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.01)
        in_flight -= 1
        return httpx.Response(404, html=_NOT_FOUND.body.decode())

    async def main():
        with respx.mock(using="httpx", assert_all_called=False) as router:
            router.route().mock(side_effect=slow)
            async with httpx.AsyncClient() as client:
                source = NeuripsSource(client, concurrency=2)
                return await asyncio.gather(*(source.listing("NeurIPS", y) for y in range(2000, 2010)))

    assert asyncio.run(main()) == [None] * 10
    assert peak == 2


def test_offline_without_a_client_is_unavailable_not_empty():
    async def main():
        source = NeuripsSource.from_settings(object(), None)  # type: ignore[arg-type]
        with pytest.raises(SourceUnavailable) as caught:
            await source.listing("NeurIPS", 2021)
        return caught.value

    exc = asyncio.run(main())
    assert exc.scope == "" and "offline" in exc.reason


def test_through_the_client_pool_and_a_real_redirect_over_loopback(make_settings, web):
    """from_settings builds on the run's pool; the old host's 301 is followed over a real socket."""
    web.add(f"https://papers.nips.cc/paper/{CHEN17_SLUG}", Reply(301, headers={"Location": CHEN17}))
    web.add(CHEN17, Reply(200, read("papers/2017/e1e32e235eee1f970470a3a6658dfdd5-Abstract.html").encode()))
    web.add(listing_url(2017), Reply(200, read("2017.html").encode()))

    async def main():
        settings = make_settings()
        async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits)) as pool:
            source = NeuripsSource.from_settings(settings, pool)
            old = source.ref(f"http://papers.nips.cc/paper/{CHEN17_SLUG}.pdf")
            new = source.ref(CHEN17)
            assert old is not None and new is not None
            return await source.lookup(old), await source.lookup(new), source.requests_sent

    by_page, by_listing, sent = asyncio.run(main())
    assert by_page is not None and by_listing is not None
    assert by_page.title == by_listing.title == "Learning Efficient Object Detection Models with Knowledge Distillation"
    assert sent == 2
    assert [path for _, host, path in web.log] == [
        f"/paper/{CHEN17_SLUG}",
        "/paper_files/paper/2017/hash/e1e32e235eee1f970470a3a6658dfdd5-Abstract.html",
        "/paper_files/paper/2017",
    ]


# --- matching against the listings (blank-out) ----------------------------------------------------------


def _as_a_list_writes_it(title: str) -> str:
    """What list authors do to titles: lower case, colon and question mark dropped, hyphens as spaces."""
    return re.sub(r"[:?]", "", title).replace("-", " ").lower()


@pytest.mark.parametrize("year", [2017, 2020, 2021, 2022])
def test_blanked_out_titles_find_their_own_paper_in_the_listing(year: int):
    listing = listing_of(year)
    right = wrong = 0
    for paper in listing:
        for title in (paper.title, _as_a_list_writes_it(paper.title)):
            match = best_match(title, listing, venue="NeurIPS", year=year)
            if match.meta is not None:
                right += match.meta.url == paper.url
                wrong += match.meta.url != paper.url
    assert wrong == 0  # precision 1.0
    assert right == 2 * len(listing)  # recall 1.0 on the listing's own titles


def test_a_paper_at_another_venue_is_not_filled_from_the_neurips_listing():
    listing = listing_of(2021)
    title = "Do Vision Transformers See Like Convolutional Neural Networks?"
    assert best_match(title, listing, venue="NeurIPS", year=2021).meta is not None
    elsewhere = best_match(title, listing, venue="ICML", year=2021)
    assert elsewhere.meta is None and "venue disagrees" in elsewhere.reason
    assert not NeuripsSource(None).lists("ICML", 2021)
