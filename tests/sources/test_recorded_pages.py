"""The venue parsers on pages recorded from the live sites (tests/fixtures/*/recorded, origins in the READMEs).

The six ways the real pages broke the parsers that hand-written fixtures did not show, each on the page it
was seen on, and each parser's basic reading of a recorded page. CVF's recorded conference pages are read in
test_recorded_cvf.py; ECVA has no recorded page (tests/fixtures/ecva/README.md).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from crawler.errors import SourceUnavailable
from crawler.sources.acl import parse_acl_url, parse_volume_page
from crawler.sources.markup import better_title, recover
from crawler.sources.neurips import NeuripsSource, parse_listing
from crawler.sources.neurips import parse_paper_page as neurips_page
from crawler.sources.pmlr import (
    VOLUMES,
    PmlrSource,
    VolumeTable,
    classify,
    parse_index,
    parse_pmlr_url,
    parse_volume,
)
from crawler.sources.pmlr import parse_paper_page as pmlr_page
from tests import paths
from tests.fakes.web import InProcess, Reply, Request

FIXTURES = paths.FIXTURES
PMLR = FIXTURES / "pmlr" / "recorded"
NEURIPS = FIXTURES / "neurips" / "recorded"
ACL = FIXTURES / "acl" / "recorded"
_HTML = {"Content-Type": "text/html; charset=utf-8"}

NEURIPS_2024 = "https://proceedings.neurips.cc/paper_files/paper/2024/hash/9062b7d6e522dadf4f7d85d49b60d81e-Abstract-Conference.html"
# The recorded abstract (its words replaced by the recorder, its bare `<` shapes the real page's).
NEURIPS_ABSTRACT = (
    "Synthetic opening sentence about gradient flow (GF) when $W<d$. Synthetic words if a<b and c>d then, for "
    "$1<p\\le2$ and $k<n$, with a model called <projektor> that predicts <human, action, object> triplets; "
    "synthetic emphasis stays markup. Code: <https://github.com/synthetic/repo>. Synthetic closing sentence."
)
PMLR_ABSTRACT = (
    "Synthetic opening words, achieving a bound for $1\\leq p<2$ and for $2<p<\\infty$. For $1\\leq p<2$, "
    "synthetic words show the bound is tight, and $P_T< \\! \\!<P_S$ holds. Synthetic closing sentence."
)
CHROME = ("Cite this Paper", "BibTeX", "Copy to Clipboard", "Download PDF", "OpenReview", "Related Material",
          "This site last compiled", "Github Account", "DOI", "Report an Issue")


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- 1. a relative citation_pdf_url -------------------------------------------------------------------


def test_a_relative_citation_pdf_url_is_resolved_against_the_page():
    meta = pmlr_page(read(PMLR / "v37" / "ioffe15.html"), "https://proceedings.mlr.press/v37/ioffe15.html")
    assert meta.pdf_url == "https://proceedings.mlr.press/v37/ioffe15.pdf"  # the page says `ioffe15.pdf`
    assert meta.title == ("Batch Normalization: Accelerating Deep Network Training by Reducing Internal "
                          "Covariate Shift")
    assert meta.authors == ("Sergey Ioffe", "Christian Szegedy") and (meta.venue, meta.year) == ("ICML", 2015)
    assert meta.abstract.startswith("Training Deep Neural Networks is complicated")
    assert meta.abstract.endswith("exceeding the accuracy of human raters.")


def test_a_relative_url_follows_the_page_it_was_read_from():
    # The same page served from the old JMLR W&CP host: its pdf is there too, and names the same paper.
    url = "http://jmlr.org/proceedings/papers/v37/ioffe15.html"
    meta = pmlr_page(read(PMLR / "v37" / "ioffe15.html"), url)
    assert meta.pdf_url == "http://jmlr.org/proceedings/papers/v37/ioffe15.pdf"
    assert parse_pmlr_url(meta.pdf_url) == parse_pmlr_url(url) == parse_pmlr_url(
        "https://proceedings.mlr.press/v37/ioffe15-supp.pdf")


# --- 2. a citation_title cut short by a quote ------------------------------------------------------------


def test_a_citation_title_cut_short_loses_to_the_pages_heading():
    html = read(PMLR / "v37" / "lima15.html")
    assert 'content="Double Nystr\\" om Method' in html  # the quote ends the attribute: "Double Nystr\"
    meta = pmlr_page(html, "https://proceedings.mlr.press/v37/lima15.html")
    assert meta.title == "Double Nyström Method: An Efficient and Accurate Nyström Scheme for Large-Scale Data Sets"


@pytest.mark.parametrize(("meta", "visible", "expected"), [
    ("Double Nystr\\", "Double Nyström Method: An Efficient …", "Double Nyström Method: An Efficient …"),
    ('Double Nystr\\"om Method', "Double Nyström Method", "Double Nyström Method"),  # TeX the heading rendered
    ("Deep Residual Learning", "Deep Residual Learning for Image Recognition",
     "Deep Residual Learning for Image Recognition"),  # a prefix: cut short
    ("Attention Is All You Need", "Proceedings of Machine Learning Research", "Attention Is All You Need"),
    ("A Gift from Knowledge Distillation", "A Gift From Knowledge Distillation",
     "A Gift from Knowledge Distillation"),  # the same title: the meta stands
    ("", "Only a Heading", "Only a Heading"),
    ("Only a Meta", "", "Only a Meta"),
])  # fmt: skip
def test_the_meta_title_wins_unless_it_is_broken(meta: str, visible: str, expected: str):
    assert better_title(meta, visible) == expected


# --- 3. a bare `<` in an abstract -------------------------------------------------------------------------


def test_neurips_keeps_the_text_after_a_bare_less_than():
    meta = neurips_page(read(NEURIPS / "2024" / "9062b7d6e522dadf4f7d85d49b60d81e-Abstract-Conference.html"),
                        NEURIPS_2024)
    assert meta.abstract == NEURIPS_ABSTRACT
    assert meta.pdf_url.endswith("/2024/file/9062b7d6e522dadf4f7d85d49b60d81e-Paper-Conference.pdf")
    assert (meta.venue, meta.year, meta.authors) == ("NeurIPS", 2024, ("Synthetic Author 2",))


def test_pmlr_keeps_the_text_after_a_bare_less_than_and_stops_at_the_abstract():
    meta = pmlr_page(read(PMLR / "v202" / "woodruff23a.html"), "https://proceedings.mlr.press/v202/woodruff23a.html")
    assert meta.abstract == PMLR_ABSTRACT  # not "… for $2 This site last compiled … Github Account …"


def test_pmlr_never_reads_the_pages_chrome_into_an_abstract():
    # The v235 page as recorded, its abstract replaced by the v202 page's bare-`<` one (README).
    meta = pmlr_page(read(PMLR / "v235" / "abe24a-bare-lt.html"), "https://proceedings.mlr.press/v235/abe24a.html")
    assert meta.abstract == PMLR_ABSTRACT
    assert not [c for c in CHROME if c in meta.abstract]


@pytest.mark.parametrize(("raw", "kept"), [
    ("when $W<d$. Our", "when $W&lt;d$. Our"),
    ("if a<b and c>d then", "if a&lt;b and c>d then"),  # a known name whose "attributes" are words
    ("predicts <human, action, object> triplets", "predicts &lt;human, action, object> triplets"),
    ("a model called <projektor>", "a model called &lt;projektor>"),
    ("<https://github.com/x/y>", "&lt;https://github.com/x/y>"),
    ("$1<p\\le2$ and $P_T< \\! \\!<P_S$", "$1&lt;p\\le2$ and $P_T&lt; \\! \\!&lt;P_S$"),
    ("<em>kept</em> <br/> <a href='x'>link</a>", "<em>kept</em> <br/> <a href='x'>link</a>"),
    ('<input type="search" value /> <script async src="s.js">if (a<b) go()</script>',
     '<input type="search" value /> <script async src="s.js">if (a<b) go()</script>'),
    ("<!-- a<b --> <!DOCTYPE html>", "<!-- a<b --> <!DOCTYPE html>"),
])  # fmt: skip
def test_only_a_less_than_that_starts_no_markup_is_text(raw: str, kept: str):
    assert recover(raw) == kept


# --- 4. workshop volumes "at ICML" ----------------------------------------------------------------------


def test_a_workshop_volume_at_icml_is_not_the_main_conference():
    index = {e.volume: e.description for e in parse_index(read(PMLR / "index.html"))}
    assert index[292] == "TerraBytes at ICML 2025" and index[251] == "Proceedings of GRaM at ICML 2024"
    assert classify(index[292]) is None and classify(index[251]) is None
    assert classify(index[267]) == ("ICML", 2025) and classify(index[235]) == ("ICML", 2024)
    assert classify(index[48]) == ("ICML", 2016) and classify(index[220]) is None  # a competition track


def _site(routes: dict[str, Path]) -> InProcess:
    def answer(request: Request) -> Reply:
        found = routes.get(urlsplit(request.path).path)
        return Reply(200, read(found).encode(), _HTML) if found else Reply(404, b"<html>404</html>", _HTML)
    return InProcess(answer)


def _pmlr(body, routes: dict[str, Path], table: VolumeTable):
    async def main():
        async with httpx.AsyncClient(transport=_site(routes)) as client:
            return await body(PmlrSource(client, table=table))
    return asyncio.run(main())


def test_a_year_past_the_table_finds_its_main_volume_in_the_recorded_index():
    # A table that ends at ICML 2023: ICML 2024 and 2025 are looked up in the index, where a workshop "at ICML"
    # of each year sits next to the main volume.
    table = VolumeTable([row for row in VOLUMES if not (row[0] == "ICML" and row[1] > 2023)])
    routes = {"/": PMLR / "index.html", "/v267/": PMLR / "v267.html"}

    async def body(source: PmlrSource):
        return await source.listing("ICML", 2025), await source._discover("ICML", 2024, "ICML 2024")

    listing, volume_2024 = _pmlr(body, routes, table)
    assert volume_2024 == 235
    assert [p.url.rsplit("/", 1)[1] for p in listing] == ["a-mancisidor25a.html", "aamand25a.html", "aamand25b.html"]
    assert {(p.venue, p.year) for p in listing} == {("ICML", 2025)}


# --- 5. pdf links on raw.githubusercontent.com ------------------------------------------------------------


def test_current_pmlr_pdf_links_name_their_paper():
    page = "https://proceedings.mlr.press/v235/abe24a.html"
    meta = pmlr_page(read(PMLR / "v235" / "abe24a.html"), page)
    assert meta.pdf_url == "https://raw.githubusercontent.com/mlresearch/v235/main/assets/abe24a/abe24a.pdf"
    assert parse_pmlr_url(meta.pdf_url) == parse_pmlr_url(page) and parse_pmlr_url(page).id == "v235/abe24a"
    assert meta.abstract == "Synthetic abstract 4" and len(meta.authors) == 4


def test_a_raw_pdf_link_is_found_in_its_volume_listing():
    listing = parse_volume(read(PMLR / "v267.html"), "https://proceedings.mlr.press/v267/")
    source = PmlrSource(None)
    assert "raw.githubusercontent.com" in source.claimed_hosts
    for paper in listing:
        ref = source.ref(paper.pdf_url)
        assert ref is not None and ref.id == source.ref(paper.url).id
        assert source.find(ref, listing) is paper


# --- 6. www.aclweb.org/anthology/ pages -----------------------------------------------------------------


def test_an_aclweb_page_keeps_anthology_in_its_paper_urls():
    page = "https://www.aclweb.org/anthology/people/a/andreas-madsack/"
    papers = parse_volume_page(read(ACL / "andreas-madsack-2021-06.html"), page)
    assert papers and all(p.url.startswith("https://www.aclweb.org/anthology/") for p in papers)
    first = papers[0]
    assert first.url == "https://www.aclweb.org/anthology/W19-4201/"
    assert parse_acl_url(first.url).id == "W19-4201" and first.pdf_url == "https://www.aclweb.org/anthology/W19-4201.pdf"
    assert first.title.startswith("AX Semantics’ Submission to the SIGMORPHON 2019")
    assert first.authors[:2] == ("Andreas Madsack", "Robert Weißgraeber")
    assert first.abstract.startswith("This paper describes the AX Semantics’")


def test_the_current_anthology_markup_reads_the_same():
    papers = parse_volume_page(read(ACL / "andreas-madsack-2026-07.html"),
                               "https://aclanthology.org/people/andreas-madsack/")
    urls = [p.url for p in papers]
    assert "https://aclanthology.org/2022.in2writing-1.1/" in urls and "https://aclanthology.org/W19-4201/" in urls
    assert all(p.title and p.authors for p in papers)
    assert next(p for p in papers if p.url.endswith("/W19-4201/")).year == 2019


# --- each parser's basic reading of a recorded page -------------------------------------------------------


def test_neurips_reads_a_recorded_year_page():
    papers = parse_listing(read(NEURIPS / "2024.html"), "https://proceedings.neurips.cc/paper_files/paper/2024")
    assert [p.title for p in papers] == [f"Synthetic title {n}" for n in range(1, 5)]
    assert papers[0].authors == ("Synthetic authors 5",) and {p.year for p in papers} == {2024}
    assert papers[2].pdf_url.endswith("013cf29a9e68e4411d0593040a8a1eb3-Paper-Datasets_and_Benchmarks_Track.pdf")
    assert NeuripsSource(None).ref(papers[2].url).id == "2024/013cf29a9e68e4411d0593040a8a1eb3"


def test_pmlr_reads_a_recorded_volume_page():
    papers = parse_volume(read(PMLR / "v267.html"), "https://proceedings.mlr.press/v267/")
    assert [p.title for p in papers] == ["Synthetic title 1", "Synthetic title 2", "Synthetic title 3"]
    assert papers[0].authors == ("Synthetic authors 4",)
    assert papers[1].pdf_url == "https://raw.githubusercontent.com/mlresearch/v267/main/assets/aamand25a/aamand25a.pdf"


# --- the markup canary on a recorded page -----------------------------------------------------------------


@pytest.mark.parametrize(("change", "said"), [
    (lambda html: html.replace('class="paper-list"', 'class="paper-grid"'), "no papers on it"),
    (lambda html: html.replace('class="paper-authors"', 'class="paper-byline"'), "4 of 4 papers lack"),
])  # fmt: skip
def test_a_recorded_listing_whose_markup_changed_is_unavailable_not_empty(change, said):
    html = change(read(NEURIPS / "2024.html"))

    async def main():
        transport = InProcess(Reply(200, html.encode(), _HTML))
        async with httpx.AsyncClient(transport=transport) as client:
            return await NeuripsSource(client).listing("NeurIPS", 2024)

    with pytest.raises(SourceUnavailable) as caught:
        asyncio.run(main())
    assert caught.value.scope == "NeurIPS 2024" and said in caught.value.reason
    assert "https://proceedings.neurips.cc/paper_files/paper/2024" in str(caught.value)
    assert "\n" not in str(caught.value)
