"""crawler.sources.cvf on CVF open access pages recorded from the live site (tests/fixtures/cvf/recorded/,
origins and trims in its README).

Two conference pages of the `CVPR<YYYY>.py` era, when one page listed every paper of the year:
- CVPR2020.py.html: the bytes the site served (fetched with wget): hrefs relative (`content_CVPR_2020/…`),
  author forms with `name="query"` values that start with a space, bare `&` in titles;
- CVPR2019.py.html: a browser's "Save Page As" of the page: hrefs made absolute (`http://openaccess.thecvf.com/…`),
  author links `…/CVPR2019.py#`, `&amp;` in titles, the browser extension's markup after `</body>`.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from crawler.errors import SourceUnavailable
from crawler.sources.cvf import CvfSource, parse_day_links, parse_listing
from tests import paths
from tests.fakes.web import InProcess, Reply, Request

RECORDED = paths.FIXTURES / "cvf" / "recorded"
CVPR2020 = RECORDED / "CVPR2020.py.html"
CVPR2019 = RECORDED / "CVPR2019.py.html"
BASE = "https://openaccess.thecvf.com"
OLD = "http://openaccess.thecvf.com"  # the host the 2019 page's absolute hrefs name
_HTML = {"Content-Type": "text/html; charset=utf-8"}

WU_2020 = "Wu_Unsupervised_Learning_of_Probably_Symmetric_Deformable_3D_Objects_From_Images_CVPR_2020_paper"
WU_2020_SUPP = f"{BASE}/content_CVPR_2020/supplemental/Wu_Unsupervised_Learning_of_CVPR_2020_supplemental.pdf"
LI_2020 = "Li_Projection__Probability-Driven_Black-Box_Attack_CVPR_2020_paper"
LI_2019 = "Li_Finding_Task-Relevant_Features_for_Few-Shot_Learning_by_Category_Traversal_CVPR_2019_paper"
SHI_2019 = "Shi_Curls__Whey_Boosting_Black-Box_Adversarial_Attacks_CVPR_2019_paper"


def read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


# --- CVPR 2020: the page as served ------------------------------------------------------------------------


def test_the_recorded_cvpr_2020_page_lists_every_kept_paper():
    papers = parse_listing(read(CVPR2020), f"{BASE}/CVPR2020")
    assert len(papers) == 43
    assert {(p.venue, p.year) for p in papers} == {("CVPR", 2020)}
    assert all(p.title and p.authors and p.pdf_url for p in papers)
    assert len({p.url for p in papers}) == 43
    assert [p.arxiv_id for p in papers] == [None] * 43  # the 2020 conference page links no arXiv


def test_cvpr_2020_relative_hrefs_resolve_against_the_page():
    first = parse_listing(read(CVPR2020), f"{BASE}/CVPR2020")[0]
    assert first.title == "Unsupervised Learning of Probably Symmetric Deformable 3D Objects From Images in the Wild"
    assert first.url == f"{BASE}/content_CVPR_2020/html/{WU_2020}.html"
    assert first.pdf_url == f"{BASE}/content_CVPR_2020/papers/{WU_2020}.pdf"  # [pdf], not the [supp] after it


def test_cvpr_2020_authors_come_from_the_query_forms_without_their_leading_space():
    html = read(CVPR2020)
    # The 2020 forms name the author `query`, not `query_author`, and every name but the first starts with a space.
    assert '<input type="hidden" name="query" value=" Christian Rupprecht">' in html
    assert 'name="query_author"' not in html
    authors = {p.title: p.authors for p in parse_listing(html, f"{BASE}/CVPR2020")}
    wu = "Unsupervised Learning of Probably Symmetric Deformable 3D Objects From Images in the Wild"
    assert authors[wu] == ("Shangzhe Wu", "Christian Rupprecht", "Andrea Vedaldi")
    assert authors["CvxNet: Learnable Convex Decomposition"] == (
        "Boyang Deng", "Kyle Genova", "Soroosh Yazdani", "Sofien Bouaziz", "Geoffrey Hinton", "Andrea Tagliasacchi")
    assert authors["X3D: Expanding Architectures for Efficient Video Recognition"] == ("Christoph Feichtenhofer",)
    focus = "Focus on Defocus: Bridging the Synthetic to Real Domain Gap for Depth Estimation"
    assert authors[focus] == ("Maxim Maximov", "Kevin Galim", "Laura Leal-Taixe")  # the page writes no accent


def test_a_bare_ampersand_in_a_2020_title_is_kept():
    html = read(CVPR2020)
    assert ">Projection & Probability-Driven Black-Box Attack</a>" in html  # served unescaped
    papers = parse_listing(html, f"{BASE}/CVPR2020")
    assert [p.title for p in papers if "&" in p.title] == [
        "Projection & Probability-Driven Black-Box Attack",
        "GHUM & GHUML: Generative 3D Human Shape and Articulated Pose Models",
        "PREDICT & CLUSTER: Unsupervised Skeleton Based Action Recognition",
    ]
    li = next(p for p in papers if p.title.startswith("Projection"))
    assert li.url == f"{BASE}/content_CVPR_2020/html/{LI_2020}.html"  # "&" leaves "__" in the name
    assert li.authors == (
        "Jie Li", "Rongrong Ji", "Hong Liu", "Jianzhuang Liu", "Bineng Zhong", "Cheng Deng", "Qi Tian")


def test_a_cvpr2020_py_page_that_lists_papers_links_no_day():
    html = read(CVPR2020)
    assert parse_day_links(html, f"{OLD}/CVPR2020.py") == []
    assert parse_day_links(html, f"{BASE}/CVPR2020") == []


# --- CVPR 2019: the page as a browser saved it ------------------------------------------------------------


def test_the_recorded_cvpr_2019_page_keeps_its_absolute_urls_and_decodes_entities():
    papers = parse_listing(read(CVPR2019), f"{BASE}/CVPR2019")
    assert len(papers) == 32
    assert {(p.venue, p.year) for p in papers} == {("CVPR", 2019)}
    first = papers[0]
    assert first.title == "Finding Task-Relevant Features for Few-Shot Learning by Category Traversal"
    assert first.url == f"{OLD}/content_CVPR_2019/html/{LI_2019}.html"
    assert first.pdf_url == f"{OLD}/content_CVPR_2019/papers/{LI_2019}.pdf"
    assert first.authors == ("Hongyang Li", "David Eigen", "Samuel Dodge", "Matthew Zeiler", "Xiaogang Wang")
    # `&amp;` in the saved markup
    assert [p.title for p in papers if "&" in p.title] == [
        "Dense 3D Face Decoding Over 2500FPS: Joint Texture & Shape Convolutional Mesh Decoders",
        "Curls & Whey: Boosting Black-Box Adversarial Attacks",
    ]
    assert papers[-1].url == f"{OLD}/content_CVPR_2019/html/{SHI_2019}.html"
    assert papers[-1].authors == ("Yucheng Shi", "Siyu Wang", "Yahong Han")
    ga_net = next(p for p in papers if p.title == "GA-Net: Guided Aggregation Net for End-To-End Stereo Matching")
    assert ga_net.authors == ("Feihu Zhang", "Victor Prisacariu", "Ruigang Yang", "Philip H.S. Torr")


def test_the_saved_pages_author_links_are_no_day_links():
    # Every author link is `http://openaccess.thecvf.com/CVPR2019.py#`: the page itself, with no day.
    assert parse_day_links(read(CVPR2019), f"{BASE}/CVPR2019") == []


# --- CvfSource in-process, the recorded page as CVF's answer --------------------------------------------------


def _site(routes: dict[str, Path | str]):
    def answer(request: Request) -> Reply:
        found = routes.get(urlsplit(request.path).path)
        if found is None:
            return Reply(404, b"<html>404</html>", _HTML)
        body = read(found) if isinstance(found, Path) else found
        return Reply(200, body.encode(), _HTML)
    return InProcess(answer)


def _cvf(body, routes: dict[str, Path | str]):
    transport = _site(routes)

    async def main():
        async with httpx.AsyncClient(transport=transport) as client:
            return await body(CvfSource(client))
    return asyncio.run(main()), [r.path for r in transport.requests]


def test_a_conference_page_that_lists_every_paper_is_one_request():
    async def body(source: CvfSource):
        return await source.listing("CVPR", 2020)

    listing, asked = _cvf(body, {"/CVPR2020": CVPR2020})
    assert asked == ["/CVPR2020"]
    assert len(listing) == 43 and {p.year for p in listing} == {2020}
    assert listing[0].url == f"{BASE}/content_CVPR_2020/html/{WU_2020}.html"


def test_links_to_recorded_papers_are_found_in_the_listing():
    async def body(source: CvfSource):
        return source, await source.listing("CVPR", 2020), await source.listing("CVPR", 2019)

    (source, cvpr2020, cvpr2019), asked = _cvf(body, {"/CVPR2020": CVPR2020, "/CVPR2019": CVPR2019})
    assert asked == ["/CVPR2020", "/CVPR2019"]
    # A 2020 supplement is named after the paper's first title words only.
    supp = source.ref(WU_2020_SUPP)
    assert supp is not None and supp.id == "supp:wu_unsupervised_learning_of"
    assert source.find(supp, cvpr2020).title.startswith("Unsupervised Learning of Probably Symmetric")
    # "Wu" alone would name three papers of the slice: a prefix two papers share names neither.
    assert sum(1 for p in cvpr2020 if p.url.rsplit("/", 1)[1].startswith("Wu_")) == 3
    li = source.ref(f"{BASE}/content_CVPR_2020/papers/{LI_2020}.pdf")
    assert source.find(li, cvpr2020).title == "Projection & Probability-Driven Black-Box Attack"
    # The 2019 page names http://; an https link to the same pdf is the same paper.
    shi = source.ref(f"{BASE}/content_CVPR_2019/papers/{SHI_2019}.pdf")
    assert source.find(shi, cvpr2019).title == "Curls & Whey: Boosting Black-Box Adversarial Attacks"


def test_a_2020_supplement_is_read_through_the_paper_page_the_listing_names():
    async def body(source: CvfSource):
        return await source.paper(WU_2020_SUPP)

    found, asked = _cvf(body, {"/CVPR2020": CVPR2020})  # no paper page is served: CVF's 404
    assert found is None
    assert asked == ["/CVPR2020", f"/content_CVPR_2020/html/{WU_2020}.html"]


@pytest.mark.parametrize(("change", "said"), [
    (lambda html: html.replace('class="ptitle"', 'class="paper-title"'), "no papers on it"),
    (lambda html: html.replace('class="authsearch"', 'class="author-search"'), "32 of 32 papers lack"),
])  # fmt: skip
def test_a_recorded_cvf_page_whose_markup_changed_is_unavailable_not_empty(change, said):
    async def body(source: CvfSource):
        return await source.listing("CVPR", 2019)

    with pytest.raises(SourceUnavailable) as caught:
        _cvf(body, {"/CVPR2019": change(read(CVPR2019))})
    assert caught.value.scope == "CVPR 2019" and said in caught.value.reason
