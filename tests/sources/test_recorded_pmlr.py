"""PMLR's parsers and source on more pages recorded from proceedings.mlr.press (tests/fixtures/pmlr/recorded,
origins in its README): v28 (ICML 2013, the JMLR W&CP era's volume: `http://` pdfs beside the page, `-supp.pdf`,
"PMLR 28(1)" issue numbers) with its paper page muandet13, v81 (the 1st Conference on Fairness, Accountability
and Transparency, 2018) and v220 (the NeurIPS 2022 Competition Track): two volumes of conferences PMLR's table
does not hold.
"""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

import httpx
import lxml.html
import pytest

from crawler.checking.authorities import on_hosts
from crawler.listfile.links import host_of
from crawler.sources.pmlr import (
    TABLE,
    PmlrSource,
    canonical_venue,
    classify,
    parse_paper_page,
    parse_pmlr_url,
    parse_volume,
)
from tests import paths
from tests.fakes.web import InProcess, Reply, Request

PMLR = paths.FIXTURES / "pmlr" / "recorded"
BASE = "https://proceedings.mlr.press"
MUANDET = f"{BASE}/v28/muandet13.html"
_HTML = {"Content-Type": "text/html; charset=utf-8"}


def read(name: str) -> str:
    return (PMLR / name).read_text(encoding="utf-8")


def heading(name: str) -> str:
    return " ".join(lxml.html.document_fromstring(read(name)).xpath("//h2")[0].text_content().split())


# --- the volume pages --------------------------------------------------------------------------------------


def test_the_v28_listing_reads_titles_authors_and_the_old_pdf_links():
    papers = parse_volume(read("v28.html"), f"{BASE}/v28/")
    assert [p.title for p in papers] == ["Synthetic title 1", "Synthetic title 2", "Synthetic title 3"]
    assert [p.authors for p in papers] == [("Synthetic authors 4",), ("Synthetic authors 5",), ("Synthetic authors 6",)]
    assert [p.url for p in papers] == [f"{BASE}/v28/sznitman13.html", MUANDET, f"{BASE}/v28/boots13.html"]
    # The pdfs are on http://, beside the page (`/v28/<key>.pdf`), not in a folder of their own.
    assert [p.pdf_url for p in papers] == ["http://proceedings.mlr.press/v28/sznitman13.pdf",
                                           "http://proceedings.mlr.press/v28/muandet13.pdf",
                                           "http://proceedings.mlr.press/v28/boots13.pdf"]
    assert {(p.venue, p.year) for p in papers} == {("ICML", 2013)}
    assert {p.abstract for p in papers} == {None} and {p.arxiv_id for p in papers} == {None}


def test_the_issue_number_beside_the_authors_is_not_read_as_an_author():
    html = read("v28.html")
    assert "PMLR 28(1):10-18</span>" in html  # `span.info`, after `span.authors` and a ";" in `p.details`
    names = [a for p in parse_volume(html, f"{BASE}/v28/") for a in p.authors]
    assert not [n for n in names if "PMLR" in n or "Proceedings" in n or "(1)" in n]


def test_listing_urls_are_the_pages_own_absolute_links_wherever_the_page_was_read():
    # The [abs] and pdf hrefs are absolute: a copy of the page served elsewhere names the same URLs, and the
    # source still finds each paper by its path.
    papers = parse_volume(read("v28.html"), "http://127.0.0.1:8080/v28/")
    assert papers[1].url == MUANDET and papers[1].pdf_url == "http://proceedings.mlr.press/v28/muandet13.pdf"
    source = PmlrSource(None, base="http://127.0.0.1:8080")
    assert source.find(source.ref("http://127.0.0.1:8080/v28/muandet13.html"), papers) is papers[1]
    assert source.find(source.ref(papers[1].pdf_url), papers) is papers[1]


def test_the_v81_listing_keeps_pdfs_and_supplements_in_the_papers_folder():
    papers = parse_volume(read("v81.html"), f"{BASE}/v81/")
    keys = ["friedler18a", "sweeney18a", "hellman18a", "speicher18a", "datta18a"]
    assert [p.url for p in papers] == [f"{BASE}/v81/{k}.html" for k in keys]
    assert [p.pdf_url for p in papers] == [f"http://proceedings.mlr.press/v81/{k}/{k}.pdf" for k in keys]
    assert [p.title for p in papers] == [f"Synthetic title {n}" for n in range(1, 6)]
    assert papers[4].authors == ("Synthetic authors 10",)
    supplement = "http://proceedings.mlr.press/v81/datta18a/datta18a-supp.pdf"
    assert supplement in read("v81.html")  # "[Supplementary PDF]": never taken for the paper's pdf
    assert parse_pmlr_url(supplement).id == "v81/datta18a" == parse_pmlr_url(papers[4].url).id


def test_the_v220_listing_has_https_pdfs_and_a_roman_page_number():
    papers = parse_volume(read("v220.html"), f"{BASE}/v220/")
    assert [p.url.rsplit("/", 1)[1] for p in papers] == ["ciccone23a.html", "yip23a.html", "liu23a.html"]
    assert [p.pdf_url for p in papers] == [f"{BASE}/v220/{k}/{k}.pdf" for k in ("ciccone23a", "yip23a", "liu23a")]
    assert "PMLR 220:i-i" in read("v220.html") and papers[0].authors == ("Synthetic authors 4",)


@pytest.mark.parametrize(("name", "volume", "shown", "conference"), [
    ("v28.html", 28, "Volume 28: International Conference on Machine Learning, 17-19 June 2013, Atlanta, Georgia, USA",
     ("ICML", 2013)),
    ("v81.html", 81, "Volume 81: Conference on Fairness, Accountability and Transparency, 23-24 February 2018, "
     "New York, NY, USA", None),
    ("v220.html", 220, "Volume 220: NeurIPS 2022 Competition Track, 28-9 December 2022, New Orleans, LA, Online",
     None),
])  # fmt: skip
def test_which_conference_year_each_volume_is(name: str, volume: int, shown: str, conference):
    # What the page says it is, read as an index description, agrees with the table.
    assert heading(name) == shown
    assert classify(shown) == TABLE.conference(volume) == conference
    papers = parse_volume(read(name), f"{BASE}/v{volume}/")
    assert {(p.venue, p.year) for p in papers} == {conference or (None, None)}


def test_the_volumes_outside_the_table_are_no_listing_of_ours():
    source = PmlrSource(None)
    assert canonical_venue("Conference on Fairness, Accountability and Transparency") is None
    assert canonical_venue("NeurIPS 2022 Competition Track") is None
    assert not source.lists("FAccT", 2018) and not source.lists("NeurIPS", 2022)
    assert source.lists("ICML", 2013) and TABLE.volume("ICML", 2013) == 28


# --- the paper page ------------------------------------------------------------------------------------------


def test_the_v28_paper_page():
    meta = parse_paper_page(read("v28/muandet13.html"), MUANDET)
    assert meta.title == "Synthetic title 10"
    assert meta.authors == ("Synthetic Author 12", "Synthetic Author 13", "Synthetic Author 11")  # citation_author
    assert meta.abstract == "Synthetic abstract 5"  # not the "Cite this Paper" boxes after it
    assert meta.pdf_url == "http://proceedings.mlr.press/v28/muandet13.pdf"  # citation_pdf_url, as given
    assert (meta.venue, meta.year, meta.url, meta.arxiv_id) == ("ICML", 2013, MUANDET, None)


@pytest.mark.parametrize("url", [
    "http://proceedings.mlr.press/v28/muandet13.html",
    "http://jmlr.org/proceedings/papers/v28/muandet13.html",
    "http://www.jmlr.org/proceedings/papers/v28/muandet13.html",
])  # fmt: skip
def test_the_v28_paper_page_read_from_its_older_addresses(url: str):
    meta = parse_paper_page(read("v28/muandet13.html"), url)
    assert (meta.venue, meta.year, meta.abstract) == ("ICML", 2013, "Synthetic abstract 5")
    assert meta.pdf_url == "http://proceedings.mlr.press/v28/muandet13.pdf"  # absolute on the page


# --- the link forms these pages use -----------------------------------------------------------------------


@pytest.mark.parametrize(("url", "ident"), [
    ("https://proceedings.mlr.press/v28/muandet13.html", "v28/muandet13"),
    ("http://proceedings.mlr.press/v28/muandet13.html", "v28/muandet13"),
    ("http://proceedings.mlr.press/v28/muandet13.pdf", "v28/muandet13"),
    ("http://proceedings.mlr.press/v28/muandet13-supp.pdf", "v28/muandet13"),
    ("http://jmlr.org/proceedings/papers/v28/muandet13.pdf", "v28/muandet13"),
    ("http://jmlr.org/proceedings/papers/v28/muandet13-supp.pdf", "v28/muandet13"),
    ("https://www.jmlr.org/proceedings/papers/v28/muandet13.pdf", "v28/muandet13"),
    ("http://jmlr.csail.mit.edu/proceedings/papers/v28/muandet13.pdf", "v28/muandet13"),
    ("http://proceedings.mlr.press/v81/datta18a/datta18a.pdf", "v81/datta18a"),
    ("http://proceedings.mlr.press/v81/datta18a/datta18a-supp.pdf", "v81/datta18a"),
    ("https://proceedings.mlr.press/v220/ciccone23a/ciccone23a.pdf", "v220/ciccone23a"),
    # The pages' other links: the volume, its bibliography, feeds, the navigation, the repository.
    ("https://proceedings.mlr.press/v28/", None),
    ("https://proceedings.mlr.press/v28/assets/bib/bibliography.bib", None),
    ("https://proceedings.mlr.press/v28/assets/bib/citeproc.yaml", None),
    ("https://proceedings.mlr.press//v28/assets/rss/feed.xml", None),
    ("https://proceedings.mlr.press/v28/feed.xml", None),
    ("https://proceedings.mlr.press/v28/assets/images/logo-pmlr.png", None),
    ("https://www.jmlr.org/", None),
    ("https://www.jmlr.org/mloss", None),
    ("https://github.com/mlresearch/v28/edit/gh-pages/_posts/2013-02-13-muandet13.md", None),
])  # fmt: skip
def test_the_link_forms_of_the_recorded_pages(url: str, ident: str | None):
    ref = PmlrSource(None).ref(url)
    assert (ref.id if ref else None) == ident
    if ref is not None:
        assert (ref.venue, ref.year) == (TABLE.conference(int(ident[1:].split("/")[0])) or (None, None))


def test_every_link_the_source_names_is_on_a_host_it_claims():
    # Sources are asked only about links on the hosts they claim (crawler.checking.authorities.on_hosts, and
    # the enrichment's filter): a paper link on a host `ref` reads but the source does not claim is never
    # judged as a paper (`www.jmlr.org`, the JMLR W&CP host's other name).
    source = PmlrSource(None)
    links = ["http://www.jmlr.org/proceedings/papers/v28/muandet13.pdf",
             "http://www.jmlr.org/proceedings/papers/v28/muandet13-supp.pdf",
             "http://jmlr.org/proceedings/papers/v28/muandet13.pdf",
             "http://jmlr.csail.mit.edu/proceedings/papers/v28/muandet13.pdf"]
    for name in ("v28.html", "v81.html", "v220.html", "v28/muandet13.html"):
        page = lxml.html.document_fromstring(read(name))
        links += [href for href in page.xpath("//a/@href") if source.ref(href) is not None]
    assert len(links) > 20
    assert {source.ref(u).id for u in links} >= {"v28/muandet13", "v81/datta18a", "v220/liu23a"}
    assert [u for u in links if host_of(u) not in source.claimed_hosts] == []
    assert on_hosts(links, source.claimed_hosts) == links


# --- the source on the recorded pages ---------------------------------------------------------------------


def _site(routes: dict[str, str], asked: list[str]) -> InProcess:
    def answer(request: Request) -> Reply:
        asked.append(request.url)
        found = routes.get(urlsplit(request.path).path)
        return Reply(200, read(found).encode(), _HTML) if found else Reply(404, b"<html>404</html>", _HTML)
    return InProcess(answer)


def _drive(body, routes: dict[str, str]) -> tuple[object, list[str]]:
    asked: list[str] = []

    async def main():
        async with httpx.AsyncClient(transport=_site(routes, asked)) as client:
            return await body(PmlrSource(client))
    return asyncio.run(main()), asked


def test_old_links_find_their_paper_in_the_recorded_volume_and_its_page_adds_the_abstract():
    routes = {"/v28/": "v28.html", "/v28/muandet13.html": "v28/muandet13.html"}

    async def body(source: PmlrSource):
        listing = await source.listing("ICML", 2013)
        found = [await source.lookup(source.ref(u)) for u in (
            "http://proceedings.mlr.press/v28/muandet13-supp.pdf",
            "http://www.jmlr.org/proceedings/papers/v28/muandet13.pdf",
            "https://proceedings.mlr.press/v28/muandet13.html",
        )]
        return listing, found, await source.abstract(found[0])

    (listing, found, full), asked = _drive(body, routes)
    assert len(listing) == 3 and found == [listing[1]] * 3
    assert (full.title, full.authors) == ("Synthetic title 2", ("Synthetic authors 5",))  # the listing's
    assert full.abstract == "Synthetic abstract 5"  # the page's
    assert (full.venue, full.year, full.url) == ("ICML", 2013, MUANDET)
    assert asked == [f"{BASE}/v28/", MUANDET]  # each page once


def test_a_paper_of_a_volume_outside_the_table_is_asked_by_its_own_page():
    routes = {"/v81/": "v81.html"}

    async def body(source: PmlrSource):
        return await source.lookup(source.ref("http://proceedings.mlr.press/v81/datta18a/datta18a-supp.pdf"))

    found, asked = _drive(body, routes)
    assert found is None  # the recorded set has no v81 paper page: the fake site answers 404
    assert asked == [f"{BASE}/v81/datta18a.html"]  # never the volume page
