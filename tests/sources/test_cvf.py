"""crawler.sources.cvf: URL rules, the parsers on fixtures of every era, and CvfSource in-process.

The fake CVF answers from tests/fixtures/cvf/ via tests/fakes/cvf_pages.py (the same mapping a loopback
server uses) and tests/fakes/venue_mocks.py; `overrides` swaps in a status, a challenge page or a transport
error for one path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from crawler.errors import SourceUnavailable
from crawler.models import PaperMeta
from crawler.sources import pages
from crawler.sources.cvf import (
    DEFAULT_CVF_BASE,
    OWN_CONTENT,
    CvfRef,
    CvfSource,
    covers,
    default_folder,
    html_url_for,
    listing_url,
    parse_cvf_url,
    parse_day_links,
    parse_listing,
    parse_paper_page,
)
from tests.fakes import venue_mocks as venuefakes
from tests.fakes.cvf_pages import FIXTURES, fixture_for_path
from tests.fakes.venue_mocks import Override, html

BASE = DEFAULT_CVF_BASE
YIM = f"{BASE}/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_paper.html"
YIM_TITLE = (
    "A Gift From Knowledge Distillation: Fast Optimization, Network Minimization and Transfer Learning"
)
YU_NAME = "Yu_Learning_Metrics_From_Teachers_Compact_Networks_for_Image_Embedding_CVPR_2019_paper"
YU = f"{BASE}/content_CVPR_2019/html/{YU_NAME}.html"
YANG = (
    f"{BASE}/content_CVPR_2019/html/"
    "Yang_Snapshot_Distillation_Teacher-Student_Optimization_in_One_Generation_CVPR_2019_paper.html"
)
HOU_NAME = "Hou_Inter-Region_Affinity_Distillation_for_Road_Marking_Segmentation_CVPR_2020_paper"
HOU = f"{BASE}/content_CVPR_2020/html/{HOU_NAME}.html"
YE = (
    f"{BASE}/content_CVPR_2020/html/"
    "Ye_Distilling_Cross-Task_Knowledge_via_Relationship_Matching_CVPR_2020_paper.html"
)
SAPUTRA = (
    f"{BASE}/content_ICCV_2019/html/"
    "Saputra_Distilling_Knowledge_From_a_Deep_Pose_Regressor_Network_ICCV_2019_paper.html"
)
DISWOT_NAME = "Dong_DisWOT_Student_Architecture_Search_for_Distillation_WithOut_Training_CVPR_2023_paper"
DISWOT = f"{BASE}/content/CVPR2023/html/{DISWOT_NAME}.html"


def read(name: str) -> str:
    return (FIXTURES / name).read_text(encoding="utf-8")


def titles(papers: list[PaperMeta]) -> list[str]:
    return [p.title for p in papers]


# --- the fake CVF ------------------------------------------------------------------------------------

SITE = venuefakes.fixtures(fixture_for_path)


def run(
    body: Callable[[CvfSource], Awaitable[Any]],
    overrides: dict[str, Override] | None = None,
    base: str = BASE,
) -> tuple[Any, CvfSource, list[str]]:
    """Run `body(source)` against the fake; return its result, the source and every URL requested."""
    return venuefakes.run(lambda client: CvfSource(client, base), body, SITE, overrides)


def page(name: str, status: int = 200) -> httpx.Response:
    return html(FIXTURES / name, status)


# --- parse_cvf_url -----------------------------------------------------------------------------------

PAPER_URLS = [
    # (url, conf, year, kind, name, folder)
    (
        "http://openaccess.thecvf.com/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_paper.html",
        "CVPR", 2017, "html", "Yim_A_Gift_From_CVPR_2017_paper", "content_cvpr_2017",
    ),
    (
        "http://openaccess.thecvf.com/content_ICCV_2017/papers/Choi_Learning_Hand_Articulations_ICCV_2017_paper.pdf",
        "ICCV", 2017, "pdf", "Choi_Learning_Hand_Articulations_ICCV_2017_paper", "content_ICCV_2017",
    ),
    (
        "https://openaccess.thecvf.com/content_iccv_2017/html/Choi_Learning_Hand_Articulations_ICCV_2017_paper.html",
        "ICCV", 2017, "html", "Choi_Learning_Hand_Articulations_ICCV_2017_paper", "content_iccv_2017",
    ),
    (
        "https://openaccess.thecvf.com/content_cvpr_2018/html/Zhou_Explicit_Loss-Error-Aware_Quantization_CVPR_2018_paper.html",
        "CVPR", 2018, "html",
        "Zhou_Explicit_Loss-Error-Aware_Quantization_CVPR_2018_paper",
        "content_cvpr_2018",
    ),
    (
        "http://openaccess.thecvf.com/content_ECCV_2018/html/SEUNG_HYUN_LEE_Self-supervised_Knowledge_Distillation_ECCV_2018_paper.html",
        "ECCV", 2018, "html",
        "SEUNG_HYUN_LEE_Self-supervised_Knowledge_Distillation_ECCV_2018_paper",
        "content_ECCV_2018",
    ),
    (YU, "CVPR", 2019, "html", YU_NAME, "content_CVPR_2019"),
    (
        "http://openaccess.thecvf.com/content_ICCV_2019/papers/Jin_Knowledge_Distillation_via_Route_Constrained_Optimization_ICCV_2019_paper.pdf",
        "ICCV", 2019, "pdf",
        "Jin_Knowledge_Distillation_via_Route_Constrained_Optimization_ICCV_2019_paper",
        "content_ICCV_2019",
    ),
    (
        "https://openaccess.thecvf.com/content_CVPR_2020/supplemental/Li_Block-Wisely_Supervised_Neural_CVPR_2020_supplemental.pdf",
        "CVPR", 2020, "supp", "Li_Block-Wisely_Supervised_Neural_CVPR_2020_paper", "content_CVPR_2020",
    ),
    (
        "http://openaccess.thecvf.com/content_WACV_2020/papers/Kong_Rotation-invariant_Mixed_Graphical_Model_Network_for_2D_Hand_Pose_Estimation_WACV_2020_paper.pdf",
        "WACV", 2020, "pdf",
        "Kong_Rotation-invariant_Mixed_Graphical_Model_Network_for_2D_Hand_Pose_Estimation_WACV_2020_paper",
        "content_WACV_2020",
    ),
    (DISWOT, "CVPR", 2023, "html", DISWOT_NAME, "content/CVPR2023"),
    (
        "https://openaccess.thecvf.com/content/ICCV2021/papers/Zhang_Hand_Image_Understanding_via_Deep_Multi-Task_Learning_ICCV_2021_paper.pdf",
        "ICCV", 2021, "pdf",
        "Zhang_Hand_Image_Understanding_via_Deep_Multi-Task_Learning_ICCV_2021_paper",
        "content/ICCV2021",
    ),
    (
        "https://openaccess.thecvf.com/content/WACV2022/papers/Kong_Image-Adaptive_Hint_Generation_via_Vision_Transformer_for_Outpainting_WACV_2022_paper.pdf",
        "WACV", 2022, "pdf",
        "Kong_Image-Adaptive_Hint_Generation_via_Vision_Transformer_for_Outpainting_WACV_2022_paper",
        "content/WACV2022",
    ),
    (
        "https://openaccess.thecvf.com/content/ICCV2023/html/Zhang_QD-BEV__Quantization-aware_View-guided_Distillation_for_Multi-view_3D_Object_Detection_ICCV_2023_paper.html",
        "ICCV", 2023, "html",
        "Zhang_QD-BEV__Quantization-aware_View-guided_Distillation_for_Multi-view_3D_Object_Detection_ICCV_2023_paper",
        "content/ICCV2023",
    ),
    (
        "http://www.cv-foundation.org/openaccess/content_cvpr_2016/html/He_Deep_Residual_Learning_CVPR_2016_paper.html",
        "CVPR", 2016, "html", "He_Deep_Residual_Learning_CVPR_2016_paper", "content_cvpr_2016",
    ),
    (
        "https://www.cv-foundation.org/openaccess/content_iccv_2015/papers/Rogez_Understanding_Everyday_Hands_ICCV_2015_paper.pdf",
        "ICCV", 2015, "pdf", "Rogez_Understanding_Everyday_Hands_ICCV_2015_paper", "content_iccv_2015",
    ),
    (  # 2013–2014 names put the year before the conference
        "http://www.cv-foundation.org/openaccess/content_iccv_2013/papers/Xu_Efficient_Hand_Pose_2013_ICCV_paper.pdf",
        "ICCV", 2013, "pdf", "Xu_Efficient_Hand_Pose_2013_ICCV_paper", "content_iccv_2013",
    ),
    (  # case-insensitive scheme, host and content_ prefix; fragment and query ignored
        "HTTPS://OpenAccess.TheCVF.com/CONTENT_CVPR_2019/html/Yu_Learning_Metrics_CVPR_2019_paper.html?x=1#abstract",
        "CVPR", 2019, "html", "Yu_Learning_Metrics_CVPR_2019_paper", "CONTENT_CVPR_2019",
    ),
]  # fmt: skip


@pytest.mark.parametrize(("url", "conf", "year", "kind", "name", "folder"), PAPER_URLS)
def test_parse_cvf_url_every_era_and_host(url: str, conf: str, year: int, kind: str, name: str, folder: str):
    assert parse_cvf_url(url) == CvfRef(conf=conf, year=year, kind=kind, name=name, folder=folder)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a url",
        "http://[::1",
        "https://arxiv.org/abs/1904.03624",
        "https://openaccess.thecvf.com/CVPR2019?day=2019-06-18",
        "https://openaccess.thecvf.com/CVPR2020_search",
        "https://openaccess.thecvf.com/menu",
        # workshops are not main-conference papers
        "http://openaccess.thecvf.com/content_CVPRW_2019/papers/NTIRE/Cheng_Encoder-Decoder_Residual_Network_for_Real_Super-Resolution_CVPRW_2019_paper.pdf",
        "https://openaccess.thecvf.com/content/CVPR2022W/ECV/papers/van_Baalen_Simulated_Quantization_Real_Power_Savings_CVPRW_2022_paper.pdf",
        "http://openaccess.thecvf.com/CVPR2018_workshops/content_CVPR_2018/papers/w17/Dibra_Monocular_RGB_Hand_CVPR_2018_paper.pdf",
        # lookalike hosts, a missing /openaccess, other schemes
        "https://openaccess.thecvf.com.evil.example/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_paper.html",
        "https://example.org/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_paper.html",
        "https://www.cv-foundation.org/content_cvpr_2016/html/He_Deep_Residual_Learning_CVPR_2016_paper.html",
        "ftp://openaccess.thecvf.com/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_paper.html",
        # folder and extension that do not go together, names that are not papers, unknown conferences
        "https://openaccess.thecvf.com/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_paper.pdf",
        "https://openaccess.thecvf.com/content_cvpr_2017/papers/Yim_A_Gift_From_CVPR_2017_paper.html",
        "https://openaccess.thecvf.com/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_supplemental.html",
        "https://openaccess.thecvf.com/content_cvpr_2017/html/",
        "https://openaccess.thecvf.com/content_bmvc_2017/html/Smith_Something_BMVC_2017_paper.html",
        "https://www.ecva.net/papers/eccv_2020/papers_ECCV/html/267_ECCV_2020_paper.php",
    ],
)
def test_parse_cvf_url_rejects_everything_else(url: str):
    assert parse_cvf_url(url) is None


# --- html <-> pdf, folders, listing URLs ----------------------------------------------------------------


def test_pdf_and_html_swap_keeps_the_folder_as_found():
    pdf = "http://openaccess.thecvf.com/content_ICCV_2017/papers/Choi_Learning_Hand_Articulations_ICCV_2017_paper.pdf"
    ref = parse_cvf_url(pdf)
    assert ref is not None
    assert html_url_for(ref) == (
        f"{BASE}/content_ICCV_2017/html/Choi_Learning_Hand_Articulations_ICCV_2017_paper.html"
    )


@pytest.mark.parametrize("url", [YIM, YU, HOU, SAPUTRA, DISWOT])
def test_html_pdf_round_trip(url: str):
    ref = parse_cvf_url(url)
    assert ref is not None
    pdf = url.replace("/html/", "/papers/").removesuffix(".html") + ".pdf"
    back = parse_cvf_url(pdf)
    assert back is not None and back.kind == "pdf"
    assert html_url_for(back) == url


def test_old_host_maps_onto_any_base():
    ref = parse_cvf_url(
        "http://www.cv-foundation.org/openaccess/content_cvpr_2016/html/He_Deep_Residual_Learning_CVPR_2016_paper.html"
    )
    assert ref is not None
    assert html_url_for(ref) == (
        f"{BASE}/content_cvpr_2016/html/He_Deep_Residual_Learning_CVPR_2016_paper.html"
    )
    assert html_url_for(ref, "http://127.0.0.1:8080/") == (
        "http://127.0.0.1:8080/content_cvpr_2016/html/He_Deep_Residual_Learning_CVPR_2016_paper.html"
    )


def test_supplement_names_the_paper_only_up_to_2018():
    old = parse_cvf_url(
        "http://openaccess.thecvf.com/content_ICCV_2017/supplemental/Choi_Learning_Hand_Articulations_ICCV_2017_supplemental.pdf"
    )
    assert old is not None and old.kind == "supp" and old.exact
    assert html_url_for(old) == (
        f"{BASE}/content_ICCV_2017/html/Choi_Learning_Hand_Articulations_ICCV_2017_paper.html"
    )
    new = parse_cvf_url(
        "https://openaccess.thecvf.com/content_CVPR_2020/supplemental/Li_Block-Wisely_Supervised_Neural_CVPR_2020_supplemental.pdf"
    )
    assert new is not None and not new.exact
    assert new.stem == "Li_Block-Wisely_Supervised_Neural"
    with pytest.raises(ValueError):
        html_url_for(new)  # would invent a page: the paper's name is its full title


def test_refs_built_by_hand_use_the_eras_folder():
    assert html_url_for(CvfRef("CVPR", 2019, "html", YU_NAME)) == YU
    assert default_folder("CVPR", 2017) == "content_cvpr_2017"
    assert default_folder("ICCV", 2017) == "content_iccv_2017"
    assert default_folder("CVPR", 2018) == "content_cvpr_2018"
    assert default_folder("ECCV", 2018) == "content_ECCV_2018"
    assert default_folder("WACV", 2020) == "content_WACV_2020"
    assert default_folder("ICCV", 2021) == "content/ICCV2021"


def test_listing_url_per_era():
    assert listing_url("CVPR", 2017) == f"{BASE}/CVPR2017"
    assert listing_url("cvpr", 2019) == f"{BASE}/CVPR2019"
    assert listing_url("ICCV", 2019) == f"{BASE}/ICCV2019"
    assert listing_url("CVPR", 2020) == f"{BASE}/CVPR2020"
    assert listing_url("CVPR", 2023) == f"{BASE}/CVPR2023?day=all"
    assert listing_url("WACV", 2022, "http://127.0.0.1:9/") == "http://127.0.0.1:9/WACV2022?day=all"
    with pytest.raises(ValueError):
        listing_url("NeurIPS", 2020)


def test_covers_only_what_cvf_hosts():
    assert covers("CVPR", 2013) and covers("cvpr", 2024)
    assert covers("ICCV", 2019) and not covers("ICCV", 2020)
    assert covers("ECCV", 2018) and not covers("ECCV", 2020)
    assert covers("WACV", 2020) and not covers("WACV", 2019)
    assert not covers("CVPR", 2012) and not covers("NeurIPS", 2020)


# --- day links ---------------------------------------------------------------------------------------


def test_day_links_from_the_conference_page():
    assert parse_day_links(read("CVPR2019.html"), f"{BASE}/CVPR2019") == [
        f"{BASE}/CVPR2019?day=2019-06-18",
        f"{BASE}/CVPR2019?day=2019-06-19",
        f"{BASE}/CVPR2019?day=2019-06-20",
    ]  # not the workshops menu, not ICCV 2019's day linked below
    # leading-slash hrefs, another conference's dates, a loopback base: all read from the page
    assert parse_day_links(read("CVPR2020.html"), "http://127.0.0.1:8765/CVPR2020") == [
        f"http://127.0.0.1:8765/CVPR2020?day=2020-06-{day}" for day in (16, 17, 18)
    ]
    assert parse_day_links(read("ICCV2019.html"), f"{BASE}/ICCV2019") == [
        f"{BASE}/ICCV2019?day=2019-10-29",
        f"{BASE}/ICCV2019?day=2019-10-30",
        f"{BASE}/ICCV2019?day=2019-10-31",
        f"{BASE}/ICCV2019?day=2019-11-01",
    ]


def test_day_links_prefer_all_and_accept_the_old_py_pages():
    html = """<html><body><div id="content"><dl>
    <dd><a href="CVPR2018.py?day=2018-06-19">Day 1: 2018-06-19</a></dd>
    <dd><a href="CVPR2018.py?day=2018-06-20">Day 2: 2018-06-20</a></dd>
    <dd><a href="CVPR2018.py?day=all">All Papers</a></dd>
    <dd><a href="CVPR2018.py?day=tomorrow">not a date</a></dd>
    </dl></div></body></html>"""
    assert parse_day_links(html, f"{BASE}/CVPR2018") == [f"{BASE}/CVPR2018.py?day=all"]
    assert parse_day_links(html.replace("day=all", "day=x"), f"{BASE}/CVPR2018") == [
        f"{BASE}/CVPR2018.py?day=2018-06-19",
        f"{BASE}/CVPR2018.py?day=2018-06-20",
    ]


def test_no_day_links_on_listings_or_junk():
    assert parse_day_links(read("CVPR2017.html"), f"{BASE}/CVPR2017") == []
    assert parse_day_links("", f"{BASE}/CVPR2019") == []
    assert parse_day_links(read("challenge.html"), f"{BASE}/CVPR2019") == []


# --- listings ----------------------------------------------------------------------------------------


def test_listing_2017_single_page_with_relative_hrefs():
    papers = parse_listing(read("CVPR2017.html"), f"{BASE}/CVPR2017")
    assert len(papers) == 7
    yim = next(p for p in papers if p.url == YIM)
    assert yim == PaperMeta(
        source="cvf",
        title=YIM_TITLE,
        url=YIM,
        authors=("Junho Yim", "Donggyu Joo", "Jihoon Bae", "Junmo Kim"),
        year=2017,
        venue="CVPR",
        arxiv_id=None,
        pdf_url=f"{BASE}/content_cvpr_2017/papers/Yim_A_Gift_From_CVPR_2017_paper.pdf",
        abstract=None,
    )
    assert "Image-To-Image Translation With Conditional Adversarial Networks" in titles(papers)
    assert all(p.url.startswith(f"{BASE}/content_cvpr_2017/html/") for p in papers)
    assert all(p.pdf_url and p.pdf_url.startswith(f"{BASE}/content_cvpr_2017/papers/") for p in papers)
    assert all(p.authors and "Search" not in p.authors for p in papers)  # the search form is no author


def test_listing_2019_day_page():
    papers = parse_listing(read("CVPR2019_day_2019-06-19.html"), f"{BASE}/CVPR2019?day=2019-06-19")
    assert titles(papers) == [
        "Learning Metrics From Teachers: Compact Networks for Image Embedding",
        "Structured Knowledge Distillation for Semantic Segmentation",
    ]
    yu = papers[0]
    assert yu.url == YU
    assert yu.authors == (
        "Lu Yu", "Vacit Oguz Yazici", "Xialei Liu", "Joost van de Weijer", "Yongmei Cheng", "Arnau Ramisa",
    )  # fmt: skip
    assert yu.arxiv_id == "1904.03624"
    assert yu.pdf_url == f"{BASE}/content_CVPR_2019/papers/{YU_NAME}.pdf"  # [pdf], not [supp]
    assert (yu.venue, yu.year, yu.abstract) == ("CVPR", 2019, None)

    day18 = parse_listing(read("CVPR2019_day_2019-06-18.html"), f"{BASE}/CVPR2019?day=2019-06-18")
    yang = next(p for p in day18 if p.url == YANG)
    assert yang.title == "Snapshot Distillation: Teacher-Student Optimization in One Generation"
    assert yang.authors == ("Chenglin Yang", "Lingxi Xie", "Siyuan Qiao", "Alan L. Yuille")
    assert yang.arxiv_id is None


def test_listing_2020_and_iccv_2019_day_pages():
    day17 = parse_listing(read("CVPR2020_day_2020-06-17.html"), f"{BASE}/CVPR2020?day=2020-06-17")
    hou = day17[0]
    assert (hou.url, hou.arxiv_id, hou.venue, hou.year) == (HOU, "2004.05304", "CVPR", 2020)
    assert hou.authors == ("Yuenan Hou", "Zheng Ma", "Chunxiao Liu", "Tak-Wai Hui", "Chen Change Loy")
    day16 = parse_listing(read("CVPR2020_day_2020-06-16.html"), f"{BASE}/CVPR2020?day=2020-06-16")
    assert [p.url for p in day16][1] == YE and day16[1].authors == ("Han-Jia Ye", "Su Lu", "De-Chuan Zhan")

    day30 = parse_listing(read("ICCV2019_day_2019-10-30.html"), f"{BASE}/ICCV2019?day=2019-10-30")
    saputra = day30[0]
    assert (saputra.url, saputra.venue, saputra.year) == (SAPUTRA, "ICCV", 2019)
    assert saputra.arxiv_id == "1908.00858"
    assert saputra.authors[1] == "Pedro P. B. de Gusmao"
    day31 = parse_listing(read("ICCV2019_day_2019-10-31.html"), f"{BASE}/ICCV2019?day=2019-10-31")
    assert day31[1].authors[-1] == "Laura Leal-Taixé"  # UTF-8 survives


def test_listing_2021_era_day_all():
    papers = parse_listing(read("CVPR2023_day_all.html"), f"{BASE}/CVPR2023?day=all")
    assert len(papers) == 4
    assert [p.arxiv_id for p in papers] == [None, "2303.15678", "2302.14771", "2304.12777"]
    assert papers[1].url == DISWOT
    assert papers[1].pdf_url == f"{BASE}/content/CVPR2023/papers/{DISWOT_NAME}.pdf"
    assert all((p.venue, p.year, p.source) == ("CVPR", 2023, "cvf") for p in papers)


def test_listing_urls_follow_the_page_they_came_from():
    papers = parse_listing(read("CVPR2017.html"), "http://127.0.0.1:8765/CVPR2017")
    assert papers[1].url == "http://127.0.0.1:8765/content_cvpr_2017/html/Yim_A_Gift_From_CVPR_2017_paper.html"
    assert (papers[1].venue, papers[1].year) == ("CVPR", 2017)


def test_listing_odd_markup():
    html = """<html><body><dl>
    <dt class="ptitle"><br><a href="content_cvpr_2016/html/A_B_CVPR_2016_paper.html">Rock &amp; Roll:
      a   Title</a></dt>
    <dd><form class="authsearch"><a href="#">Ann Author</a>,</form>
        <form class="authsearch"><input type="hidden" name="query_author" value=" ">
          <a href="#">Bo Bee</a></form></dd>
    <!-- a comment between the dds -->
    <dd>[<a href="content_cvpr_2016/papers/A_B_CVPR_2016_paper.pdf">pdf</a>]
        [<a href="https://arxiv.org/pdf/1512.03385v1.pdf">arXiv</a>]</dd>
    <dt class="ptitle"><br><a href="/content_cvpr_2016/html/C_D_CVPR_2016_paper.html">Second</a></dt>
    <dd>Cy Dee, Di Eee</dd>
    <dd>[<a href="/content_cvpr_2016/papers/C_D_CVPR_2016_paper.pdf">paper</a>]</dd>
    <dt class="ptitle"><br>No link here</dt>
    <dd>nobody</dd>
    </dl></body></html>"""
    first, second = parse_listing(html, f"{BASE}/CVPR2016")
    assert first.title == "Rock & Roll: a Title"
    assert first.authors == ("Ann Author", "Bo Bee")  # anchors when the input is missing or blank
    assert first.arxiv_id == "1512.03385"
    assert second.authors == ("Cy Dee", "Di Eee")  # plain-text author line
    assert second.pdf_url == f"{BASE}/content_cvpr_2016/papers/C_D_CVPR_2016_paper.pdf"
    assert second.arxiv_id is None


def test_empty_and_junk_listings_have_no_papers():
    assert parse_listing(read("empty_listing.html"), f"{BASE}/CVPR2023?day=all") == []
    assert parse_listing(read("CVPR2019.html"), f"{BASE}/CVPR2019") == []
    assert parse_listing(read("challenge.html"), f"{BASE}/CVPR2019") == []
    assert parse_listing("", f"{BASE}/CVPR2019") == []
    assert parse_listing("   \n", f"{BASE}/CVPR2019") == []


# --- paper pages -------------------------------------------------------------------------------------


def test_paper_page_2017():
    meta = parse_paper_page(read("papers/Yim_A_Gift_From_CVPR_2017_paper.html"), YIM)
    assert meta.title == YIM_TITLE
    assert meta.authors == ("Junho Yim", "Donggyu Joo", "Jihoon Bae", "Junmo Kim")
    assert meta.url == YIM
    # ../../content_cvpr_2017/papers/… resolved against the page, not citation_pdf_url's http:// host
    assert meta.pdf_url == f"{BASE}/content_cvpr_2017/papers/Yim_A_Gift_From_CVPR_2017_paper.pdf"
    assert (meta.venue, meta.year, meta.arxiv_id, meta.source) == ("CVPR", 2017, None, "cvf")
    assert meta.abstract is not None
    assert meta.abstract.startswith("We present a way to transfer knowledge")
    assert meta.abstract.endswith("trained for a different task.")
    assert "\n" not in meta.abstract and "  " not in meta.abstract


@pytest.mark.parametrize(
    ("fixture", "url", "authors", "arxiv_id", "venue", "year"),
    [
        (f"papers/{YU_NAME}.html", YU,
         ("Lu Yu", "Vacit Oguz Yazici", "Xialei Liu", "Joost van de Weijer", "Yongmei Cheng", "Arnau Ramisa"),
         "1904.03624", "CVPR", 2019),
        ("papers/" + YANG.rsplit("/", 1)[1], YANG,
         ("Chenglin Yang", "Lingxi Xie", "Siyuan Qiao", "Alan L. Yuille"), None, "CVPR", 2019),
        (f"papers/{HOU_NAME}.html", HOU,
         ("Yuenan Hou", "Zheng Ma", "Chunxiao Liu", "Tak-Wai Hui", "Chen Change Loy"),
         "2004.05304", "CVPR", 2020),
        ("papers/" + YE.rsplit("/", 1)[1], YE, ("Han-Jia Ye", "Su Lu", "De-Chuan Zhan"), None, "CVPR", 2020),
        ("papers/" + SAPUTRA.rsplit("/", 1)[1], SAPUTRA,
         ("Muhamad Risqi U. Saputra", "Pedro P. B. de Gusmao", "Yasin Almalioglu", "Andrew Markham",
          "Niki Trigoni"),
         "1908.00858", "ICCV", 2019),
        (f"papers/{DISWOT_NAME}.html", DISWOT, ("Peijie Dong", "Lujun Li", "Zimian Wei"),
         "2303.15678", "CVPR", 2023),
    ],
)  # fmt: skip
def test_paper_pages_every_era(
    fixture: str, url: str, authors: tuple, arxiv_id: str | None, venue: str, year: int
):
    meta = parse_paper_page(read(fixture), url)
    listed = {p.url: p for p in parse_listing(read(_listing_for(url)), BASE + "/")}[url]
    assert meta.title == listed.title  # the page and the listing agree
    assert meta.authors == authors == listed.authors
    assert (meta.arxiv_id, meta.venue, meta.year, meta.url) == (arxiv_id, venue, year, url)
    assert meta.pdf_url == listed.pdf_url == url.replace("/html/", "/papers/").removesuffix(".html") + ".pdf"
    assert meta.abstract and meta.abstract == " ".join(meta.abstract.split())
    assert "'" in meta.abstract or "&#39;" not in read(fixture)  # entities decoded


def _listing_for(url: str) -> str:
    for file in FIXTURES.glob("*.html"):
        if url.removeprefix(BASE) in file.read_text(encoding="utf-8"):
            return file.name
    raise AssertionError(f"no listing fixture names {url}")


def test_paper_page_fallbacks():
    # no citation metas: #papertitle; no byline: citation_author metas flipped from "Last, First"
    html = """<html><head><meta name="citation_author" content="van de Weijer, Joost">
    <meta name="citation_author" content="Madonna">
    <meta name="citation_pdf_url" content="https://openaccess.thecvf.com/content_CVPR_2019/papers/X_CVPR_2019_paper.pdf">
    <meta name="citation_publication_date" content="2019/06/16"></head>
    <body><div id="content"><div id="papertitle">
      A   Title </div><div id="abstract"> </div></div></body></html>"""
    meta = parse_paper_page(html, "http://127.0.0.1:1/somewhere.html")
    assert meta.title == "A Title"
    assert meta.authors == ("Joost van de Weijer", "Madonna")
    assert meta.pdf_url == "https://openaccess.thecvf.com/content_CVPR_2019/papers/X_CVPR_2019_paper.pdf"
    assert (meta.abstract, meta.year, meta.venue) == (None, 2019, None)


@pytest.mark.parametrize(
    "html", ["", read("challenge.html"), read("CVPR2017.html"), "<html><body>hi</body></html>"]
)
def test_paper_page_rejects_pages_that_are_not_papers(html: str):
    with pytest.raises(ValueError):
        parse_paper_page(html, YIM)


# --- challenge detection (the fetcher turns a 403, a 429 or a challenge page into "unavailable") --------


def looks_like_challenge(html: str) -> bool:
    return pages.looks_like_challenge(html, OWN_CONTENT)


def test_challenge_pages_are_recognised():
    assert looks_like_challenge(read("challenge.html"))
    attention = (
        "<html><head><title>Attention Required! | Cloudflare</title></head><body>"
        "<h1>Sorry, you have been blocked</h1></body></html>"
    )
    assert looks_like_challenge(attention)
    turnstile = '<html><body><div class="cf-turnstile" data-sitekey="x"></div></body></html>'
    assert looks_like_challenge(turnstile)
    generic = (
        "<html><head><title>openaccess</title></head>"
        "<body>Checking your browser before accessing.</body></html>"
    )
    assert looks_like_challenge(generic)


def test_real_pages_are_not_challenges():
    for name in ("CVPR2017.html", "CVPR2019.html", "CVPR2023_day_all.html", "empty_listing.html",
                 f"papers/{YU_NAME}.html"):  # fmt: skip
        assert not looks_like_challenge(read(name)), name
    assert not looks_like_challenge("")
    # a paper about CAPTCHAs is a paper, not a wall
    captcha_paper = read(f"papers/{YU_NAME}.html").replace("Metric learning networks", "CAPTCHA solvers")
    assert not looks_like_challenge(captcha_paper)


# --- CvfSource: listings -----------------------------------------------------------------------------


def test_listing_follows_day_pages_once_each_and_memoises():
    async def body(source: CvfSource) -> tuple[list[PaperMeta], list[PaperMeta], int]:
        first = await source.listing("CVPR", 2019)
        sent = source.requests_sent
        second = await source.listing("cvpr", 2019)
        return first, second, sent

    (first, second, sent), source, calls = run(body)
    assert calls == [
        f"{BASE}/CVPR2019",
        f"{BASE}/CVPR2019?day=2019-06-18",
        f"{BASE}/CVPR2019?day=2019-06-19",
        f"{BASE}/CVPR2019?day=2019-06-20",
    ]
    assert sent == source.requests_sent == 4  # the second call sent nothing
    assert len(first) == 7 and second == first
    assert {YU, YANG} <= {p.url for p in first}
    assert all(p.fetched_at > 0 for p in first)


def test_listing_is_a_copy():
    async def body(source: CvfSource) -> list[PaperMeta]:
        (await source.listing("CVPR", 2017)).clear()
        return await source.listing("CVPR", 2017)

    papers, source, calls = run(body)
    assert len(papers) == 7 and calls == [f"{BASE}/CVPR2017"]


@pytest.mark.parametrize(
    ("conf", "year", "urls", "count"),
    [
        ("CVPR", 2017, ["/CVPR2017"], 7),
        ("CVPR", 2020, ["/CVPR2020"] + [f"/CVPR2020?day=2020-06-{d}" for d in (16, 17, 18)], 7),
        ("ICCV", 2019, ["/ICCV2019"] + [f"/ICCV2019?day={d}" for d in
                                        ("2019-10-29", "2019-10-30", "2019-10-31", "2019-11-01")], 6),
        ("CVPR", 2023, ["/CVPR2023?day=all"], 4),
    ],
)  # fmt: skip
def test_listing_every_era(conf: str, year: int, urls: list[str], count: int):
    papers, source, calls = run(lambda s: s.listing(conf, year))
    assert calls == [BASE + u for u in urls]
    assert len(papers) == count and source.requests_sent == len(urls)
    assert all((p.venue, p.year) == (conf, year) for p in papers)


def test_listing_prefers_all_papers_when_offered():
    conference = read("CVPR2019.html").replace(
        '<dd><a href="CVPR2019?day=2019-06-20">',
        '<dd><a href="CVPR2019?day=all">All Papers</a></dd>\n<dd><a href="CVPR2019?day=2019-06-20">',
    )
    merged = read("CVPR2019_day_2019-06-19.html") + read("CVPR2019_day_2019-06-18.html")
    overrides: dict[str, Override] = {
        "/CVPR2019": httpx.Response(200, html=conference),
        "/CVPR2019?day=all": httpx.Response(200, html=merged),
    }
    papers, _, calls = run(lambda s: s.listing("CVPR", 2019), overrides)
    assert calls == [f"{BASE}/CVPR2019", f"{BASE}/CVPR2019?day=all"]
    assert len(papers) == 5


def test_listing_drops_duplicates_across_days():
    overrides: dict[str, Override] = {"/CVPR2019?day=2019-06-20": page("CVPR2019_day_2019-06-19.html")}
    papers, _, _ = run(lambda s: s.listing("CVPR", 2019), overrides)
    assert len(papers) == 5 and len({p.url for p in papers}) == 5


def test_concurrent_listings_fetch_each_page_once():
    async def body(source: CvfSource) -> list[list[PaperMeta]]:
        return list(await asyncio.gather(*(source.listing("CVPR", 2019) for _ in range(5))))

    results, source, calls = run(body)
    assert sorted(calls) == sorted(set(calls)) and len(calls) == 4 == source.requests_sent
    assert all(r == results[0] for r in results)


def test_listing_works_on_a_loopback_base():
    base = "http://127.0.0.1:8765"
    papers, _, calls = run(lambda s: s.listing("CVPR", 2019), base=base)
    assert calls[0] == f"{base}/CVPR2019" and len(calls) == 4
    assert all(p.url.startswith(f"{base}/content_CVPR_2019/html/") for p in papers)


def test_listing_not_hosted_by_cvf_asks_nothing():
    papers, source, calls = run(lambda s: s.listing("ECCV", 2020))
    assert papers is None and calls == [] and source.requests_sent == 0
    with pytest.raises(ValueError):
        run(lambda s: s.listing("NeurIPS", 2020))


def _unavailable(
    body: Callable[[CvfSource], Awaitable[Any]], overrides: dict[str, Override]
) -> SourceUnavailable:
    async def catch(source: CvfSource) -> SourceUnavailable:
        with pytest.raises(SourceUnavailable) as info:
            await body(source)
        return info.value

    error, _, _ = run(catch, overrides)
    assert error.source == "cvf"
    return error


@pytest.mark.parametrize(
    ("target", "answer", "reason"),
    [
        ("/CVPR2019", page("challenge.html", 200), "challenge"),
        ("/CVPR2019", page("challenge.html", 403), "403"),
        ("/CVPR2019", httpx.Response(429, text="Too Many Requests"), "429"),
        ("/CVPR2019", httpx.Response(503, text="Service Unavailable"), "503"),
        ("/CVPR2019", httpx.Response(500, text="oops"), "500"),
        ("/CVPR2019", page("empty_listing.html"), "markup of http"),
        ("/CVPR2019?day=2019-06-19", page("challenge.html", 200), "challenge"),
        ("/CVPR2019?day=2019-06-19", page("empty_listing.html"), "markup of http"),
        ("/CVPR2019?day=2019-06-20", httpx.Response(404), "404"),
        ("/CVPR2019", httpx.ConnectTimeout("timed out"), "timeout"),
        ("/CVPR2019?day=2019-06-18", httpx.ReadTimeout("timed out"), "timeout"),
        ("/CVPR2019", httpx.ConnectError("connection refused"), "ConnectError"),
        ("/CVPR2019", httpx.RemoteProtocolError("peer closed connection"), "RemoteProtocolError"),
    ],
)
def test_listing_unavailable(target: str, answer: Override, reason: str):
    error = _unavailable(lambda s: s.listing("CVPR", 2019), {target: answer})
    assert reason in error.reason
    # A refusal of the whole site stops CVF; anything else stops only this conference year.
    site_wide = reason in ("challenge", "403", "429")
    assert error.scope == ("" if site_wide else "CVPR 2019")


def test_a_conference_year_cvf_does_not_host_is_none_not_unavailable():
    papers, source, calls = run(lambda s: s.listing("CVPR", 2019), {"/CVPR2019": httpx.Response(404, text="Not Found")})
    assert papers is None and calls == [f"{BASE}/CVPR2019"]


def test_an_empty_day_page_stops_that_year_only():
    async def body(source: CvfSource):
        with pytest.raises(SourceUnavailable) as info:
            await source.listing("ICCV", 2019)
        return info.value, await source.listing("CVPR", 2017)

    (error, other), _, _ = run(body, {"/ICCV2019?day=2019-10-30": page("empty_listing.html")})
    assert error.scope == "ICCV 2019" and len(other) == 7


def test_empty_2021_era_listing_is_unavailable():
    error = _unavailable(lambda s: s.listing("CVPR", 2023), {"/CVPR2023?day=all": page("empty_listing.html")})
    assert "may have changed" in error.reason


def test_failures_are_memoised_too():
    async def body(source: CvfSource) -> int:
        for _ in range(3):
            with pytest.raises(SourceUnavailable):
                await source.listing("CVPR", 2019)
        return source.requests_sent

    sent, _, calls = run(body, {"/CVPR2019": httpx.Response(429)})
    assert sent == 1 and calls == [f"{BASE}/CVPR2019"]


# --- CvfSource: paper pages --------------------------------------------------------------------------


def test_paper_page_fetched_once():
    async def body(source: CvfSource) -> tuple[PaperMeta | None, PaperMeta | None]:
        return await source.paper(YU), await source.paper(YU)

    (first, second), source, calls = run(body)
    assert first is not None and first == second
    assert calls == [YU] and source.requests_sent == 1
    assert first.abstract and first.abstract.startswith("Metric learning networks produce embeddings")
    assert first.arxiv_id == "1904.03624" and first.fetched_at > 0


@pytest.mark.parametrize(
    ("given", "fetched"),
    [
        (YIM.replace("https://", "http://"), YIM),
        (YIM.replace("/html/", "/papers/").replace(".html", ".pdf"), YIM),  # the pdf's abstract page
        (YIM.replace(BASE, "http://www.cv-foundation.org/openaccess"), YIM),
        (SAPUTRA.replace("/html/", "/papers/").replace(".html", ".pdf"), SAPUTRA),
        (DISWOT, DISWOT),
    ],
)
def test_paper_from_any_cvf_url(given: str, fetched: str):
    meta, _, calls = run(lambda s: s.paper(given))
    assert calls == [fetched]
    assert meta is not None and meta.url == fetched and meta.abstract


def test_paper_on_a_loopback_base_accepts_real_and_base_urls():
    base = "http://127.0.0.1:8765"

    async def body(source: CvfSource) -> list[PaperMeta | None]:
        return [await source.paper(HOU), await source.paper(HOU.replace(BASE, base))]

    (a, b), source, calls = run(body, base=base)
    assert calls == [HOU.replace(BASE, base)] and source.requests_sent == 1
    assert a == b and a is not None and a.pdf_url == f"{base}/content_CVPR_2020/papers/{HOU_NAME}.pdf"


def test_paper_from_a_2019_supplement_goes_through_the_listing():
    supp = f"{BASE}/content_ICCV_2019/supplemental/" + (
        "Saputra_Distilling_Knowledge_From_ICCV_2019_supplemental.pdf"
    )
    meta, _, calls = run(lambda s: s.paper(supp))
    assert meta is not None and meta.url == SAPUTRA
    assert calls[0] == f"{BASE}/ICCV2019" and calls[-1] == SAPUTRA and len(calls) == 6
    nothing, _, _ = run(
        lambda s: s.paper(f"{BASE}/content_ICCV_2019/supplemental/Nobody_Wrote_ICCV_2019_supplemental.pdf")
    )
    assert nothing is None


def test_missing_paper_page_is_none():
    missing = f"{BASE}/content_CVPR_2019/html/Nobody_Wrote_This_CVPR_2019_paper.html"

    async def body(source: CvfSource) -> list[PaperMeta | None]:
        return [await source.paper(missing), await source.paper(missing)]

    results, source, calls = run(body)
    assert results == [None, None] and calls == [missing] and source.requests_sent == 1
    gone, _, _ = run(lambda s: s.paper(YU), {YU.removeprefix(BASE): httpx.Response(410)})
    assert gone is None


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (page("challenge.html", 200), "challenge"),
        (page("challenge.html", 403), "403"),
        (httpx.Response(429), "429"),
        (httpx.Response(503), "503"),
        (httpx.Response(502), "502"),
        (page("CVPR2017.html"), "not a CVF paper page"),
        (httpx.ReadTimeout("timed out"), "timeout"),
        (httpx.ConnectError("refused"), "ConnectError"),
    ],
)
def test_paper_unavailable(answer: Override, reason: str):
    error = _unavailable(lambda s: s.paper(YU), {YU.removeprefix(BASE): answer})
    assert reason in error.reason


@pytest.mark.parametrize(
    "url",
    [
        "https://arxiv.org/abs/1904.03624",
        "https://openaccess.thecvf.com/CVPR2019",
        "http://openaccess.thecvf.com/content_CVPRW_2019/papers/NTIRE/X_CVPRW_2019_paper.pdf",
        "http://127.0.0.1:9999/content_CVPR_2019/html/X_CVPR_2019_paper.html",  # not the base
    ],
)
def test_paper_refuses_urls_that_name_no_cvf_paper(url: str):
    with pytest.raises(ValueError):
        run(lambda s: s.paper(url))


def test_redirects_are_followed():
    overrides: dict[str, Override] = {
        "/CVPR2017": httpx.Response(301, headers={"Location": f"{BASE}/CVPR2017/"}),
        "/CVPR2017/": page("CVPR2017.html"),
    }
    papers, _, calls = run(lambda s: s.listing("CVPR", 2017), overrides)
    assert len(papers) == 7 and calls == [f"{BASE}/CVPR2017", f"{BASE}/CVPR2017/"]


# --- the fixture mapping itself ------------------------------------------------------------------------


def test_fixture_for_path():
    assert fixture_for_path("/CVPR2017") == FIXTURES / "CVPR2017.html"
    assert fixture_for_path("/CVPR2019?day=2019-06-18") == FIXTURES / "CVPR2019_day_2019-06-18.html"
    assert fixture_for_path("/CVPR2023?day=all") == FIXTURES / "CVPR2023_day_all.html"
    assert fixture_for_path(YIM) == FIXTURES / "papers" / "Yim_A_Gift_From_CVPR_2017_paper.html"
    assert fixture_for_path(DISWOT.removeprefix(BASE)) == FIXTURES / "papers" / f"{DISWOT_NAME}.html"
    for missing in ("/CVPR2019?day=2019-06-21", "/CVPR2019?day=all", "/CVPR2019?day=2019-06-18&x=1",
                    "/cvpr2017", "/CVPR2017/", "/challenge", "/",
                    "/content_CVPR_2019/html/Nobody_CVPR_2019_paper.html",
                    "/content_CVPR_2019/papers/" + YU_NAME + ".pdf"):  # fmt: skip
        assert fixture_for_path(missing) is None, missing
    # every listed paper page of the seed list is served
    for url in (YIM, YU, YANG, HOU, YE, SAPUTRA, DISWOT):
        assert fixture_for_path(url) is not None, url
