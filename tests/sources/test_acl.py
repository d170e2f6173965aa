"""crawler.sources.acl: ids and URLs of every era, the venue table, the volume and paper parsers, and
AclSource in-process.

The fake Anthology answers from tests/fixtures/acl/ (README there): `/volumes/<volume>/` a volume page,
`/<id>/` a paper page, anything else the site's 404 page.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest

from crawler.errors import SourceUnavailable
from crawler.listfile.parse import parse_list
from crawler.models import PaperMeta
from crawler.papers.match import best_match
from crawler.sources.acl import (
    DEFAULT_ACL_BASE,
    AclId,
    AclSource,
    Venue,
    listing_venue,
    parse_acl_url,
    parse_paper_page,
    parse_venue,
    parse_volume_page,
    venue_label,
    volumes_for,
)
from crawler.sources.base import PaperRef
from tests import paths
from tests.fakes.venue_mocks import FIXTURES, fixtures, html, recased, refusals, run

HERE = FIXTURES / "acl"
BASE = DEFAULT_ACL_BASE
THIS_YEAR = 2026  # the tests' "today": a year after the table's newest is guessed up to next year
TAO = f"{BASE}/2022.acl-long.331/"
_VOLUME = re.compile(r"/volumes/([^/]+)/")
_PAPER = re.compile(r"/([^/]+)/")


def route(target: str) -> Path | None:
    if m := _VOLUME.fullmatch(target):
        return HERE / "volumes" / f"{m[1]}.html"
    if m := _PAPER.fullmatch(target):
        return HERE / "papers" / f"{m[1]}.html"
    return None


SITE = fixtures(route, HERE / "not_found.html")


def acl(body, overrides=None):
    return run(lambda client: AclSource(client, this_year=THIS_YEAR), body, SITE, overrides)


def volume(name: str) -> list[PaperMeta]:
    return parse_volume_page((HERE / "volumes" / f"{name}.html").read_text(encoding="utf-8"), f"{BASE}/volumes/{name}/")


def vol(name: str) -> str:
    return f"{BASE}/volumes/{name}/"


# --- ids and URLs --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "ident", "volume", "number", "year"),
    [
        ("https://aclanthology.org/2022.acl-long.331", "2022.acl-long.331", "2022.acl-long", 331, 2022),
        ("https://aclanthology.org/2023.findings-acl.15/", "2023.findings-acl.15", "2023.findings-acl", 15, 2023),
        ("https://www.aclweb.org/anthology/2020.acl-main.202.pdf", "2020.acl-main.202", "2020.acl-main", 202, 2020),
        ("https://www.aclweb.org/anthology/2021.naacl-main.150/", "2021.naacl-main.150", "2021.naacl-main", 150, 2021),
        ("https://www.aclweb.org/anthology/D19-1367.pdf/", "D19-1367", "D19-1", 367, 2019),  # a slash after .pdf
        ("https://www.aclweb.org/anthology/P19-1185.pdf", "P19-1185", "P19-1", 185, 2019),
        ("https://aclanthology.org/2022.acl-long.1v2.pdf", "2022.acl-long.1", "2022.acl-long", 1, 2022),  # revision
        ("https://aclanthology.org/2022.acl-long.1.bib", "2022.acl-long.1", "2022.acl-long", 1, 2022),
        ("http://www.aclweb.org/anthology/P/P18/P18-1001.pdf", "P18-1001", "P18-1", 1, 2018),
        ("https://www.aclweb.org/anthology/papers/P/P19/P19-1001/", "P19-1001", "P19-1", 1, 2019),
        ("http://aclanthology.info/papers/P17-1001/p17-1001", "P17-1001", "P17-1", 1, 2017),
        ("https://aclweb.org/anthology/p19-1355", "P19-1355", "P19-1", 355, 2019),  # lower-case old id
        ("https://aclanthology.org/W19-4301.pdf", "W19-4301", "W19-43", 1, 2019),  # workshops: 2 volume digits
        ("https://aclanthology.org/J93-2004/", "J93-2004", "J93-2", 4, 1993),
        ("HTTPS://ACLANTHOLOGY.ORG/2020.sustainlp-1.4.pdf?download=1#page=2", "2020.sustainlp-1.4",
         "2020.sustainlp-1", 4, 2020),
    ],
)  # fmt: skip
def test_paper_urls_of_every_era_and_host(url: str, ident: str, volume: str, number: int, year: int):
    assert parse_acl_url(url) == AclId(ident, volume, number, year)


@pytest.mark.parametrize(
    "url",
    [
        "https://aclanthology.org/",
        "https://aclanthology.org/volumes/2022.acl-long/",
        "https://www.aclweb.org/anthology/events/acl-2020/#2020acl-main",
        "https://aclanthology.org/people/c/chaofan-tao/",
        "https://aclanthology.org/2022.acl-long.1.software.zip",  # an attachment, not the paper
        "https://aclanthology.org/venues/acl/",
        "https://doi.org/10.18653/v1/2022.acl-long.331",
        "https://aclanthology.org.example.com/2022.acl-long.331/",
        "ftp://aclanthology.org/2022.acl-long.331/",
        "not a url",
    ],
)
def test_other_urls_are_not_anthology_papers(url: str):
    assert parse_acl_url(url) is None


def test_front_matter_is_not_a_paper():
    found = parse_acl_url("https://aclanthology.org/2022.acl-long.0/")
    assert found is not None and found.is_frontmatter
    old = parse_acl_url("https://aclanthology.org/P19-1000.pdf")
    assert old is not None and old.is_frontmatter


# --- the venue table -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("venue", "parsed"),
    [
        ("ACL", Venue("ACL", False)),
        ("acl", Venue("ACL", False)),
        ("Findings of EMNLP", Venue("EMNLP", True)),
        ("EMNLP-Findings", Venue("EMNLP", True)),
        ("Findings", Venue(None, True)),
        ("ACL-IJCNLP", Venue("ACL", False)),
        ("NAACL-HLT", Venue("NAACL", False)),
        ("LREC-COLING", Venue("COLING", False)),
        ("TACL", Venue("TACL", False)),
        ("ACLW", None),
        ("ACL Workshop", None),
        ("ACL demo", None),
        ("NAACL SRW", None),
        ("Findings of TACL", None),
        ("CVPR", None),
        ("", None),
    ],
)
def test_parse_venue(venue: str, parsed: Venue | None):
    assert parse_venue(venue) == parsed


@pytest.mark.parametrize(
    ("venue", "year", "volumes"),
    [
        ("ACL", 2022, ("2022.acl-long", "2022.acl-short", "2022.findings-acl")),
        ("Findings of ACL", 2022, ("2022.findings-acl",)),
        ("ACL", 2020, ("2020.acl-main",)),  # Findings of ACL began in 2021
        ("EMNLP", 2020, ("2020.emnlp-main", "2020.findings-emnlp")),
        ("ACL", 2019, ("P19-1",)),
        ("EMNLP", 2019, ("D19-1",)),
        ("NAACL", 2024, ("2024.naacl-long", "2024.naacl-short", "2024.findings-naacl")),
        ("NAACL", 2023, ()),  # no NAACL in 2023
        ("COLING", 2024, ("2024.lrec-main",)),
        ("Findings", 2021, ("2021.findings-acl", "2021.findings-emnlp")),
        ("ACL", 2026, ("2026.acl-long", "2026.acl-short", "2026.findings-acl")),  # guessed from 2025
        ("ACL", 2027, ("2027.acl-long", "2027.acl-short", "2027.findings-acl")),  # up to next year
        ("ACL", 2028, ()),
        ("EACL", 2026, ()),  # EACL skips years: only the table says when it met
        ("ACL", 2010, ()),
        ("ACLW", 2022, ()),
    ],
)
def test_volumes_for_a_venue_year(venue: str, year: int, volumes: tuple[str, ...]):
    assert volumes_for(venue, year, this_year=THIS_YEAR) == volumes


@pytest.mark.parametrize(
    ("volume", "label", "listed_as"),
    [
        ("2022.acl-long", "ACL", "ACL"),
        ("2021.findings-acl", "Findings of ACL", "Findings of ACL"),
        ("2023.findings-ijcnlp", "Findings of AACL", "Findings of AACL"),
        ("2024.lrec-main", "COLING", "COLING"),
        ("P19-1", "ACL", "ACL"),
        ("D19-1", "EMNLP", "EMNLP"),
        ("2020.acl-demos", "ACL", None),  # ACL's, but not in what a list means by "ACL 2020"
        ("2021.naacl-srw", "NAACL", None),
        ("2020.sustainlp-1", None, None),  # a workshop
        ("W19-43", None, None),
    ],
)
def test_venue_label_and_listing_venue(volume: str, label: str | None, listed_as: str | None):
    assert venue_label(volume) == label
    year = int(volume[:4]) if volume[:4].isdigit() else 2000 + int(volume[1:3])
    assert listing_venue(volume, year, this_year=THIS_YEAR) == listed_as


def test_ref_is_looked_up_in_its_listing_only_when_a_listing_holds_it():
    source = AclSource(None, this_year=THIS_YEAR)
    assert source.ref(TAO) == PaperRef("acl", "2022.acl-long.331", venue="ACL", year=2022)
    assert source.ref("https://aclanthology.org/2023.findings-acl.15/") == PaperRef(
        "acl", "2023.findings-acl.15", venue="Findings of ACL", year=2023
    )
    for workshop in ("https://www.aclweb.org/anthology/2020.sustainlp-1.4.pdf",
                     "https://www.aclweb.org/anthology/2021.naacl-srw.1/"):
        ref = source.ref(workshop)
        assert ref is not None and (ref.venue, ref.year) == (None, None)
    assert source.ref("https://arxiv.org/abs/2203.10705") is None


def test_lists_without_asking():
    source = AclSource(None, this_year=THIS_YEAR)
    assert source.lists("ACL", 2022) and source.lists("Findings of EMNLP", 2020) and source.lists("ACL", 2027)
    assert not source.lists("ACL", 2028) and not source.lists("NAACL", 2023) and not source.lists("ICLR", 2022)
    assert {"ACL", "EMNLP", "NAACL", "EACL", "COLING", "TACL", "Findings"} <= AclSource.venues


# --- parsers -------------------------------------------------------------------------------------------


def test_volume_page_lists_papers_with_authors_abstracts_and_pdfs_not_front_matter():
    papers = volume("2022.acl-long")
    assert len(papers) == 8 and all(not p.url.endswith(".0/") for p in papers)
    tao = next(p for p in papers if p.url == TAO)
    assert tao.title == "Compression of Generative Pre-trained Language Models via Quantization"
    assert tao.authors == ("Chaofan Tao", "Lu Hou", "Wei Zhang", "Lifeng Shang", "Xin Jiang", "Qun Liu",
                           "Ping Luo", "Ngai Wong")
    assert tao.abstract is not None and tao.abstract.startswith("Quantizing generative pre-trained")
    assert (tao.pdf_url, tao.year, tao.venue, tao.source) == (f"{BASE}/2022.acl-long.331.pdf", 2022, "ACL", "acl")
    adapler = papers[0]
    assert adapler.title == "AdapLeR: Speeding up Inference by Adaptive Length Reduction"  # fixed-case spans joined
    assert "Răzvan-Alexandru Smădu" in next(p for p in papers if p.url.endswith(".6/")).authors


def test_old_volume_page_with_anthology_prefix_and_missing_abstracts():
    papers = volume("P19-1")
    assert [p.url for p in papers] == [f"{BASE}/P19-1001/", f"{BASE}/P19-1185/", f"{BASE}/P19-1355/"]
    assert papers[1].abstract is None and papers[1].authors == ("Ramakanth Pasunuru", "Mohit Bansal")
    assert papers[2].title == "Energy and Policy Considerations for Deep Learning in NLP"
    assert papers[0].pdf_url == "https://www.aclweb.org/anthology/P19-1001.pdf"


def test_findings_papers_carry_a_findings_venue():
    (tiny,) = volume("2020.findings-emnlp")
    assert tiny.venue == "Findings of EMNLP" and tiny.url == f"{BASE}/2020.findings-emnlp.372/"


def test_empty_or_foreign_pages_list_nothing():
    assert volume("2021.acl-short") == []
    assert parse_volume_page((HERE / "challenge.html").read_text(encoding="utf-8"), vol("2021.acl-short")) == []
    assert parse_volume_page("", vol("2021.acl-short")) == []


def test_paper_page():
    meta = parse_paper_page((HERE / "papers/2022.acl-long.331.html").read_text(encoding="utf-8"), TAO)
    assert meta.title == "Compression of Generative Pre-trained Language Models via Quantization"
    assert meta.authors[0] == "Chaofan Tao" and len(meta.authors) == 8
    assert meta.abstract is not None and meta.abstract.startswith("Quantizing") and "Abstract" not in meta.abstract
    assert (meta.year, meta.venue, meta.pdf_url) == (2022, "ACL", f"{BASE}/2022.acl-long.331.pdf")


def test_workshop_paper_page_has_no_venue_of_its_own():
    url = f"{BASE}/2020.sustainlp-1.4/"
    meta = parse_paper_page((HERE / "papers/2020.sustainlp-1.4.html").read_text(encoding="utf-8"), url)
    assert meta.title == "End to End Binarized Neural Networks for Text Classification"
    assert meta.venue is None and meta.year == 2020


def test_not_a_paper_page_raises():
    with pytest.raises(ValueError):
        parse_paper_page((HERE / "not_found.html").read_text(encoding="utf-8"), f"{BASE}/2022.acl-long.9999/")


# --- the source: one request per volume, once ----------------------------------------------------------


def test_a_venue_year_costs_one_request_per_volume_once():
    async def body(source: AclSource):
        first = await source.listing("ACL", 2022)
        again = await source.listing("ACL", 2022)
        findings = await source.listing("Findings of ACL", 2022)  # a volume already read
        return first, again, findings

    (first, again, findings), source, urls = acl(body)
    assert urls == [vol("2022.acl-long"), vol("2022.acl-short"), vol("2022.findings-acl")]
    assert len(first) == 8 + 1 + 1 and again == first and [p.title for p in findings] == [
        "Compressing Sentence Representation for Semantic Retrieval via Homomorphic Projective Distillation"
    ]
    assert source.requests_sent == 3 and all(p.fetched_at > 0 for p in first)


def test_a_volume_that_does_not_exist_is_skipped():
    async def body(source: AclSource):
        return await source.listing("ACL", 2023)  # 2023.acl-short has no fixture: 404

    papers, _, urls = acl(body)
    assert urls == [vol("2023.acl-long"), vol("2023.acl-short"), vol("2023.findings-acl")]
    assert {p.venue for p in papers} == {"ACL", "Findings of ACL"} and len(papers) == 4


def test_an_unknown_year_has_no_listing():
    async def body(source: AclSource):
        return await source.listing("ACL", 2027), await source.listing("ACL", 2028), await source.listing("ACLW", 2020)

    (guessed, beyond, workshop), _, urls = acl(body)
    assert guessed is None and beyond is None and workshop is None
    assert urls == [vol("2027.acl-long"), vol("2027.acl-short"), vol("2027.findings-acl")]  # all 404


def test_an_empty_volume_makes_its_venue_year_unavailable_and_nothing_else():
    async def body(source: AclSource):
        with pytest.raises(SourceUnavailable) as caught:
            await source.listing("ACL", 2021)  # 2021.acl-short lists no paper
        return caught.value, await source.listing("Findings of ACL", 2021), await source.listing("NAACL", 2021)

    (exc, findings, naacl), _, _ = acl(body)
    assert exc.scope == "ACL 2021" and exc.source == "acl"
    assert "markup of https://aclanthology.org/volumes/2021.acl-short/ may have changed" in exc.reason
    assert [p.url for p in findings] == [f"{BASE}/2021.findings-acl.363/"] and len(naacl) == 4


@pytest.mark.parametrize(
    "answer", [httpx.Response(502, text="Bad Gateway"), httpx.ReadTimeout("slow"), httpx.ConnectError("reset")]
)
def test_an_unreadable_volume_is_unavailable_for_its_scope(answer):
    async def body(source: AclSource):
        with pytest.raises(SourceUnavailable) as caught:
            await source.listing("EMNLP", 2020)
        return caught.value, await source.listing("ACL", 2020)

    (exc, acl2020), _, urls = acl(body, {"/volumes/2020.findings-emnlp/": answer})
    assert exc.scope == "EMNLP 2020"  # the main volume was read, but a partial listing is no listing
    assert len(acl2020) == 6 and urls.count(vol("2020.findings-emnlp")) == 1


@pytest.mark.parametrize(
    "answer",
    [
        html(HERE / "challenge.html", 403),
        html(HERE / "challenge.html", 200),
        httpx.Response(429, headers={"Retry-After": "120"}, text="Too Many Requests"),
    ],
)
def test_a_challenge_or_429_stops_the_whole_source(answer: httpx.Response):
    def body(source: AclSource):
        return refusals(source.listing("ACL", 2022), source.listing("EMNLP", 2020), source.lookup(source.ref(TAO)))

    caught, _, urls = acl(body, {"/volumes/2022.acl-long/": answer})
    assert len(caught) == 3 and all(exc.scope == "" for exc in caught)
    assert urls == [vol("2022.acl-long")]


def test_a_paper_about_captchas_is_not_a_challenge():
    page = (HERE / "volumes/P19-1.html").read_text(encoding="utf-8").replace(
        "Continual and Multi-Task Architecture Search", "Breaking CAPTCHAs: verify you are human, at scale"
    )

    async def body(source: AclSource):
        return await source.listing("ACL", 2019)

    papers, _, _ = acl(body, {"/volumes/P19-1/": httpx.Response(200, html=page)})
    assert any("CAPTCHA" in p.title for p in papers)


# --- lookups and abstracts -----------------------------------------------------------------------------


def test_lookup_reads_the_paper_page_and_a_404_says_no_such_paper():
    async def body(source: AclSource):
        tao = await source.lookup(source.ref("https://www.aclweb.org/anthology/2022.acl-long.331.pdf"))
        workshop = await source.lookup(source.ref("https://www.aclweb.org/anthology/2020.sustainlp-1.4.pdf"))
        missing = await source.lookup(source.ref("https://aclanthology.org/2022.acl-long.9999/"))
        return tao, workshop, missing

    (tao, workshop, missing), _, urls = acl(body)
    assert tao is not None and tao.url == TAO and tao.fetched_at > 0
    assert workshop is not None and workshop.title.startswith("End to End Binarized")
    assert missing is None
    assert urls == [TAO, f"{BASE}/2020.sustainlp-1.4/", f"{BASE}/2022.acl-long.9999/"]


def test_find_in_a_listing_by_any_form_of_the_link():
    source = AclSource(None, this_year=THIS_YEAR)
    listed = volume("2022.acl-long")
    for url in (TAO, "https://www.aclweb.org/anthology/2022.acl-long.331.pdf", f"{BASE}/2022.acl-long.331v2.pdf"):
        found = source.find(source.ref(url), listed)
        assert found is not None and found.url == TAO


def test_abstracts_come_from_the_listing_or_else_the_page():
    async def body(source: AclSource):
        listed = await source.listing("ACL", 2022)
        tao = next(p for p in listed if p.url == TAO)
        same = await source.abstract(tao)  # the volume page had it: no request
        bare = await source.abstract(PaperMeta(source="acl", title=tao.title, url=TAO))
        return tao, same, bare

    (tao, same, bare), _, urls = acl(body)
    assert same is tao and bare.abstract == tao.abstract and bare.authors == tao.authors
    assert urls.count(TAO) == 1 and len(urls) == 4


def test_from_settings_without_a_pool_is_offline():
    exc = None
    try:
        asyncio.run(AclSource.from_settings(None, None).lookup(PaperRef("acl", "2022.acl-long.331")))  # type: ignore[arg-type]
    except SourceUnavailable as caught:
        exc = caught
    assert exc is not None and exc.scope == "" and "offline" in exc.reason


# --- blank-out -----------------------------------------------------------------------------------------

LISTINGS = {  # venue, year -> the fixture volumes its listing reads
    ("ACL", 2022): ("2022.acl-long", "2022.acl-short", "2022.findings-acl"),
    ("ACL", 2023): ("2023.acl-long", "2023.findings-acl"),
    ("ACL", 2020): ("2020.acl-main",),
    ("ACL", 2019): ("P19-1",),
    ("EMNLP", 2020): ("2020.emnlp-main", "2020.findings-emnlp"),
    ("NAACL", 2021): ("2021.naacl-main",),
    ("ACL", 2021): ("2021.acl-long", "2021.findings-acl"),  # (its short volume is the empty-listing case)
    ("Findings of ACL", 2021): ("2021.findings-acl",),
}


def listing(venue: str, year: int) -> list[PaperMeta]:
    return [p for name in LISTINGS.get((venue, year), ()) for p in volume(name)]


def test_blank_out_every_listed_title_finds_its_own_paper():
    everything = [p for key in LISTINGS for p in listing(*key)]
    wrong, found = [], 0
    for (venue, year) in LISTINGS:
        for paper in listing(venue, year):
            for title in (paper.title, recased(paper.title), paper.title.lower() + "."):
                match = best_match(title, everything, venue=venue, year=year)
                if match.meta is not None:
                    found += 1
                    if match.meta.url != paper.url:
                        wrong.append((title, match.meta.title))
    assert wrong == []
    assert found == 3 * sum(len(listing(*key)) for key in LISTINGS)


def test_blank_out_a_findings_paper_cited_as_the_main_conference_is_found():
    # TinyBERT appeared in Findings of EMNLP 2020; lists write "EMNLP 2020".
    match = best_match("TinyBERT: Distilling BERT for Natural Language Understanding", listing("EMNLP", 2020),
                       venue="EMNLP", year=2020)
    assert match.meta is not None and match.meta.url == f"{BASE}/2020.findings-emnlp.372/"


def test_blank_out_a_workshop_paper_is_not_filled_from_the_main_listing():
    everything = [p for key in LISTINGS for p in listing(*key)]
    # Listed under [ACL] in a real list, but a SustaiNLP workshop paper: not in any ACL 2020 volume.
    assert best_match("End to End Binarized Neural Networks for Text Classification", everything,
                      venue="ACL", year=2020).meta is None
    # A title of the main listing, asked for a workshop entry, is not filled either.
    assert best_match("FastBERT: a Self-distilling BERT with Adaptive Inference Time", everything,
                      venue="ACL workshop", year=2020).meta is None


CORPUS = paths.CORPUS


@pytest.mark.corpus
@pytest.mark.skipif(not CORPUS.is_dir(), reason="corpus lists not present")
def test_blank_out_over_the_corpus_lists():
    """Every corpus entry that links an Anthology paper of a fixture listing: blanked, is it found again in
    the listing of the entry's own venue and year?"""
    source = AclSource(None, this_year=THIS_YEAR)
    outcomes: dict[tuple[str, int], bool] = {}
    wrong = []
    for path in sorted(CORPUS.glob("*.md")):
        for entry in parse_list(path.read_text(encoding="utf-8")).entries:
            for link in entry.links:
                ref = source.ref(link.url)
                if ref is None or ref.venue is None or not entry.title.strip() or not entry.venue or not entry.year:
                    continue
                target = source.find(ref, listing(ref.venue, ref.year))
                if target is None:
                    continue
                match = best_match(entry.title, listing(entry.venue, entry.year), venue=entry.venue, year=entry.year)
                outcomes[(path.name, entry.line)] = match.meta is not None
                if match.meta is not None and match.meta.url != target.url:
                    wrong.append((entry.title, match.meta.title))
    found = sum(outcomes.values())
    print(f"ACL blank-out over the corpus: {found}/{len(outcomes)} found again, {len(wrong)} wrong")
    assert wrong == []
    assert len(outcomes) >= 20 and found / len(outcomes) >= 0.9, (found, len(outcomes))
