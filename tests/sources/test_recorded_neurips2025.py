"""crawler.sources.neurips on the NeurIPS pages recorded from the live site (tests/fixtures/neurips/recorded).

The 2025 year page (the Creative AI book, linking the main conference's volume page), that volume page, the
2022 year page (its Datasets and Benchmarks track has no `_Track` in its URLs) and a 2024 Datasets and
Benchmarks paper page, each read by the parsers and through NeuripsSource against an in-process site that
serves them at their real paths. Titles and authors are the recorder's synthetic text; hashes, tracks and
markup are the site's.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx

from crawler.sources.neurips import (
    NeuripsSource,
    listing_url,
    parse_companion_links,
    parse_listing,
    parse_paper_page,
)
from tests import paths
from tests.fakes.web import InProcess, Reply, Request

RECORDED = paths.FIXTURES / "neurips" / "recorded"
BASE = "https://proceedings.neurips.cc"
YEAR_2025 = f"{BASE}/paper_files/paper/2025"
VOL38 = f"{YEAR_2025}/vol38-main-conference"
HASHES = f"{YEAR_2025}/hash"
DB_2024 = "013cf29a9e68e4411d0593040a8a1eb3-Abstract-Datasets_and_Benchmarks_Track.html"
_HTML = {"Content-Type": "text/html; charset=utf-8"}

# The main conference volume as recorded: 6 of its 5823 papers, 2 per track, in the page's order.
VOL38_PAPERS = [
    ("0010031a1b4910aa67edbda26a705518", "Conference", "Synthetic title 1", "Synthetic authors 7"),
    ("0010665e949927b74faf6e3ada6d7f72", "Conference", "Synthetic title 2", "Synthetic authors 8"),
    ("0013efa1327c079e73154d4061c3a396", "Datasets_and_Benchmarks_Track", "Synthetic title 3", "Synthetic authors 9"),
    ("00cd1753b04ec5eb21cfa3d7cf386083", "Datasets_and_Benchmarks_Track", "Synthetic title 4", "Synthetic authors 10"),
    ("19bd7e362324c52d2454e28f075467ab", "Position_Paper_Track", "Synthetic title 5", "Synthetic authors 11"),
    ("1ae5c1db7569a6c2f395020765b119a4", "Position_Paper_Track", "Synthetic title 6", "Synthetic authors 12"),
]
ROUTES = {
    "/paper_files/paper/2025": RECORDED / "2025.html",
    "/paper_files/paper/2025/vol38-main-conference": RECORDED / "2025_vol38-main-conference.html",
    "/paper_files/paper/2022": RECORDED / "2022.html",
    "/paper_files/paper/2024": RECORDED / "2024.html",
    f"/paper_files/paper/2024/hash/{DB_2024}": RECORDED / "2024" / DB_2024,
}


def read(name: str) -> str:
    return (RECORDED / name).read_text(encoding="utf-8")


def site(request: Request) -> Reply:
    found = ROUTES.get(urlsplit(request.path).path) if request.host == "proceedings.neurips.cc" else None
    if found is None:
        return Reply(404, b"<html><head><title>404 Not Found</title></head></html>", _HTML)
    return Reply(200, found.read_bytes(), _HTML)


def run(body):
    """`body(source)` against the recorded pages; its result and the URLs asked, in order."""
    transport = InProcess(site)

    async def main():
        async with httpx.AsyncClient(transport=transport) as client:
            return await body(NeuripsSource(client))

    result = asyncio.run(main())
    return result, [f"https://{r.host}{r.path}" for r in transport.requests]


# --- the 2025 year page and its main conference volume ------------------------------------------------------


def test_the_recorded_year_page_leads_to_the_main_conference_volume_and_back_to_nothing():
    assert parse_companion_links(read("2025.html"), YEAR_2025, 2025) == [VOL38]
    # The volume page's "See also" links the year page: no companion of its own, so nothing loops.
    assert 'See also: <a href="/paper_files/paper/2025">' in read("2025_vol38-main-conference.html")
    assert parse_companion_links(read("2025_vol38-main-conference.html"), VOL38, 2025) == []
    assert parse_companion_links(read("2025.html"), YEAR_2025, 2024) == []


def test_the_recorded_volume_page_reads_titles_authors_urls_and_tracks():
    papers = parse_listing(read("2025_vol38-main-conference.html"), VOL38)
    assert [(p.title, p.authors) for p in papers] == [(t, (a,)) for _, _, t, a in VOL38_PAPERS]
    # The page's hrefs are root-relative: resolved against the volume page, they land in the year's hash folder.
    assert [p.url for p in papers] == [f"{HASHES}/{h}-Abstract-{track}.html" for h, track, _, _ in VOL38_PAPERS]
    assert [p.pdf_url for p in papers] == [
        f"{YEAR_2025}/file/{h}-Paper-{track}.pdf" for h, track, _, _ in VOL38_PAPERS]
    assert {(p.year, p.venue, p.source) for p in papers} == {(2025, "NeurIPS", "neurips")}
    source = NeuripsSource(None)
    assert [source.ref(p.url).id for p in papers] == [f"2025/{h}" for h, _, _, _ in VOL38_PAPERS]
    assert [source.ref(p.pdf_url).id for p in papers] == [f"2025/{h}" for h, _, _, _ in VOL38_PAPERS]


def test_a_nickname_the_site_escaped_twice_reads_as_quotes():
    # The site escapes a nickname's quotes twice, `&amp;quot;` (the recorder put `alias` in place of the real
    # nickname and kept that shape): the text is `&quot;alias&quot;`, and the name splitter strips its last `;`.
    html = read("2025.html")
    assert "Synthetic authors 3 &amp;quot;alias&amp;quot;</span>" in html
    first, second = parse_listing(html, YEAR_2025)
    assert first.authors == ('Synthetic authors 3 "alias"',)
    assert second.authors == ("Synthetic authors 4",)
    assert (first.title, second.title) == ("Synthetic title 1", "Synthetic title 2")
    assert first.url == f"{HASHES}/04440b43c10100305d21cdeb60262e98-Abstract-Creative_AI_Track.html"
    assert first.pdf_url == f"{YEAR_2025}/file/04440b43c10100305d21cdeb60262e98-Paper-Creative_AI_Track.pdf"


def test_the_2025_listing_is_the_year_page_and_its_volume_page_read_once_each():
    async def body(source: NeuripsSource):
        first = await source.listing("NeurIPS", 2025)
        again = await source.listing("NIPS", 2025)
        ref = source.ref(f"{BASE}/paper/2025/file/19bd7e362324c52d2454e28f075467ab-Paper-Position_Paper_Track.pdf")
        return first, again, await source.lookup(ref)

    (papers, again, found), urls = run(body)
    assert urls == [listing_url(2025), VOL38]
    assert papers == again
    assert [p.url.rsplit("/", 1)[1].split("-Abstract-")[1] for p in papers] == [
        "Creative_AI_Track.html", "Creative_AI_Track.html", "Conference.html", "Conference.html",
        "Datasets_and_Benchmarks_Track.html", "Datasets_and_Benchmarks_Track.html",
        "Position_Paper_Track.html", "Position_Paper_Track.html"]
    assert found is not None and (found.title, found.authors) == ("Synthetic title 5", ("Synthetic authors 11",))
    assert found.url == f"{HASHES}/19bd7e362324c52d2454e28f075467ab-Abstract-Position_Paper_Track.html"


# --- 2022: the year page in today's markup ------------------------------------------------------------------


def test_the_recorded_2022_year_page_reads_its_track_without_a_track_suffix():
    async def body(source: NeuripsSource):
        return await source.listing("NeurIPS", 2022)

    papers, urls = run(body)
    assert urls == [listing_url(2022)]  # no volume page linked: the year page is the listing
    year = f"{BASE}/paper_files/paper/2022"
    expected = [("002262941c9edfd472a79298b2ac5e17", "Conference"), ("00295cede6e1600d344b5cd6d9fd4640", "Conference"),
                ("004bed4e186fdd7ebb73aad6e97c2332", "Datasets_and_Benchmarks"),
                ("0378c7692da36807bdec87ab043cdadc", "Datasets_and_Benchmarks")]
    assert [p.url for p in papers] == [f"{year}/hash/{h}-Abstract-{t}.html" for h, t in expected]
    assert [p.pdf_url for p in papers] == [f"{year}/file/{h}-Paper-{t}.pdf" for h, t in expected]
    assert [p.title for p in papers] == [f"Synthetic title {n}" for n in range(1, 5)]
    assert [p.authors for p in papers] == [(f"Synthetic authors {n}",) for n in range(5, 9)]
    assert {p.year for p in papers} == {2022}


# --- a 2024 Datasets and Benchmarks paper page --------------------------------------------------------------


def test_the_recorded_track_paper_page_reads_its_meta_authors_and_stops_before_the_doi():
    url = f"{BASE}/paper_files/paper/2024/hash/{DB_2024}"
    meta = parse_paper_page(read(f"2024/{DB_2024}"), url)
    assert meta.title == "Synthetic title 3"
    assert meta.authors == tuple(f"Synthetic Author {n}" for n in range(4, 8))  # citation_author, not the byline
    assert meta.abstract == "Synthetic abstract 1"  # `<p class="paper-abstract">…</section>`; not the DOI section
    assert meta.pdf_url == (f"{BASE}/paper_files/paper/2024/file/013cf29a9e68e4411d0593040a8a1eb3-"
                            "Paper-Datasets_and_Benchmarks_Track.pdf")
    assert (meta.year, meta.venue) == (2024, "NeurIPS")


def test_a_listed_track_paper_gets_its_abstract_from_its_recorded_page():
    async def body(source: NeuripsSource):
        listing = await source.listing("NeurIPS", 2024)
        track_paper = next(p for p in listing if p.url.endswith(DB_2024))
        return track_paper, await source.abstract(track_paper)

    (listed, completed), urls = run(body)
    assert urls == [listing_url(2024), f"{BASE}/paper_files/paper/2024/hash/{DB_2024}"]
    assert listed.abstract is None and completed.abstract == "Synthetic abstract 1"
    assert completed.authors == listed.authors == ("Synthetic authors 7",)  # the listing's authors stand
    assert completed.title == "Synthetic title 3" and completed.pdf_url == listed.pdf_url
