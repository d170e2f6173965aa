"""crawler.sources.doi and crawler.sources.crossref: DOIs in URLs, Crossref's works, doi.org's handles.

Parsing runs on the recorded works of tests/fixtures/crossref; asking runs against tests/fakes/crossref.py on
loopback through a real ClientPool (its gate paces api.crossref.org, its credentials add `mailto`).
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from crawler.checking.verdicts import source_result
from crawler.errors import SourceUnavailable
from crawler.models import Entry, Link, LinkStatus, PaperMeta
from crawler.net.pool import ClientPool
from crawler.sources.base import Claim, Defer, PaperRef
from crawler.sources.crossref import CrossrefSource, jats_text, names_document, spacing_asked, work_to_meta
from crawler.sources.doi import doi_in, ieee_document, pii_in, read_handle
from tests.fakes.crossref import WORKS, FakeCrossref, ieee_work, work
from tests.fakes.web import FakeWeb, RoutingTransport

SPRINGER, ACM, CHAPTER = (next(w for w in WORKS if w["DOI"] == d) for d in (
    "10.1007/s41109-024-00626-2", "10.1145/3027385.3027428", "10.1007/978-1-4302-0197-7_9"))


@pytest.mark.parametrize(
    ("url", "doi"),
    [
        ("https://doi.org/10.1007/978-3-030-58452-8_1", "10.1007/978-3-030-58452-8_1"),
        ("http://dx.doi.org/10.1145%2F3394486.3403237", "10.1145/3394486.3403237"),
        ("https://doi.org/10.1371/JOURNAL.PONE.0033693", "10.1371/journal.pone.0033693"),  # DOIs ignore case
        ("https://dl.acm.org/doi/10.1145/3394486.3403237", "10.1145/3394486.3403237"),
        ("https://dl.acm.org/doi/abs/10.1145/3394486.3403237", "10.1145/3394486.3403237"),
        ("https://dl.acm.org/doi/pdf/10.1145/3394486.3403237?download=true", "10.1145/3394486.3403237"),
        ("https://dl.acm.org/doi/fullHtml/10.1145/3394486.3403237", "10.1145/3394486.3403237"),
        ("https://link.springer.com/article/10.1007/s11263-021-01453-z", "10.1007/s11263-021-01453-z"),
        ("https://link.springer.com/chapter/10.1007/978-3-030-58621-8_3", "10.1007/978-3-030-58621-8_3"),
        ("https://link.springer.com/content/pdf/10.1007/s11263-021-01453-z.pdf", "10.1007/s11263-021-01453-z"),
        # The slash written %2F, as lists copy Springer's PDF links.
        ("https://link.springer.com/content/pdf/10.1007%2Fs11263-018-1081-7.pdf", "10.1007/s11263-018-1081-7"),
        ("https://link.springer.com/10.1007/s11263-021-01453-z", "10.1007/s11263-021-01453-z"),
        ("https://onlinelibrary.wiley.com/doi/epdf/10.1002/int.22123", "10.1002/int.22123"),
        ("https://www.tandfonline.com/doi/full/10.1080/01621459.2017.1285773", "10.1080/01621459.2017.1285773"),
        ("https://doi.org/10.48550/arXiv.1706.03762", "10.48550/arxiv.1706.03762"),
    ],
)
def test_dois_in_publisher_urls(url: str, doi: str):
    assert doi_in(url) == doi
    ref = CrossrefSource(None).ref(url)
    assert ref is not None and ref.id == doi


@pytest.mark.parametrize("url", ["https://dl.acm.org/doi/10.5555/3295222.3295349",  # ACM's placeholder, no DOI
                                 "https://dl.acm.org/citation.cfm?id=3295349", "https://arxiv.org/abs/2010.10504",
                                 "https://ieeexplore.ieee.org/xpl/RecentIssue.jsp?punumber=34", "https://doi.org/",
                                 "https://github.com/doi/10.1234", "ftp://doi.org/10.1000/x"])
def test_urls_without_a_doi(url: str):
    assert doi_in(url) is None and CrossrefSource(None).ref(url) is None


@pytest.mark.parametrize(("url", "number"), [
    ("https://ieeexplore.ieee.org/document/8953615", "8953615"),
    ("http://ieeexplore.ieee.org/document/8953615/", "8953615"),
    ("https://ieeexplore.ieee.org/abstract/document/8953615/authors", "8953615"),
    ("https://ieeexplore.ieee.org/stamp/stamp.jsp?tp=&arnumber=8953615", "8953615"),
    ("http://ieeexplore.ieee.org/stamp/stamp.jsp?arnumber=8953615", "8953615"),
    ("https://ieeexplore.ieee.org/xpl/articleDetails.jsp?arnumber=6909", "6909"),
    ("http://ieeexplore.ieee.org/xpl/freeabs_all.jsp?arnumber=4767596", "4767596"),
    ("https://ieeexplore.ieee.org/iel7/6488902/6930788/09609654.pdf", "9609654"),
    ("https://ieeexplore.ieee.org/xpl/RecentIssue.jsp?punumber=34", None),  # a journal's page
    ("https://ieeexplore.ieee.org/search/searchresult.jsp?queryText=x", None),
    ("https://example.org/document/8953615", None),
])
def test_ieee_xplore_document_numbers(url: str, number: str | None):
    assert ieee_document(url) == number
    ref = CrossrefSource(None).ref(url)
    assert (ref.id if ref else None) == (f"ieee:{number}" if number else None)


def test_a_work_names_its_ieee_document_by_its_resource_or_a_link():
    item = ieee_work("10.1109/tnse.2021.3126021", "Resource-constrained Federated Learning", "9609654")
    assert names_document(item, "9609654")
    assert not names_document(item, "960965") and not names_document(item, "19609654")
    del item["resource"]
    assert names_document(item, "9609654")  # `…/09609654.pdf?arnumber=9609654`
    assert not names_document(work("10.1109/x.1", "T"), "9609654")


def test_sciencedirect_piis():
    assert pii_in("https://www.sciencedirect.com/science/article/pii/S0197458010001570") == "S0197458010001570"
    assert pii_in("https://www.sciencedirect.com/science/article/abs/pii/s0197458010001570") == "S0197458010001570"
    assert pii_in("https://www.sciencedirect.com/journal/neurobiology-of-aging") is None
    assert CrossrefSource(None).ref("https://www.sciencedirect.com/science/article/pii/S0197458010001570").id == \
        "pii:S0197458010001570"


def test_jats_abstracts_become_plain_text():
    text = jats_text(SPRINGER["abstract"])
    assert text.startswith("The social networks that interconnect groups of people are often “multi-layered”")
    assert "different layers function differently" in text and "<" not in text  # <jats:italic> kept as its words
    assert jats_text("<jats:p>One.</jats:p><jats:p>Two &amp; three&nbsp;four.</jats:p>") == "One. Two & three four."
    assert jats_text("") is None and jats_text(None) is None


def test_recorded_works_read_as_papers():
    paper = work_to_meta(SPRINGER, 3.0)
    assert paper.title.startswith("Linking perspectives") and paper.year == 2024
    assert paper.authors == ("Aaron Thomas Clark", "Jennifer M. Larson", "Janet I. Lewis")
    assert paper.venue == "Applied Network Science" and paper.url == "https://doi.org/10.1007/s41109-024-00626-2"
    assert paper.abstract.startswith("The social networks")
    acm = work_to_meta(ACM, 3.0)
    assert acm.venue == "Proceedings of the Seventh International Learning Analytics & Knowledge Conference"
    assert acm.abstract is None and acm.year == 2017
    chapter = work_to_meta(CHAPTER, 3.0)
    assert chapter.title.startswith("Widget Mania") and chapter.year is None and chapter.authors == ()
    volume = work_to_meta(work("10.1007/978-3-030-58452-8", "Computer Vision – ECCV 2020", kind="book"), 3.0)
    assert volume.title == ""  # a proceedings volume only exists: an entry may link its book


def test_rate_limit_headers():
    assert spacing_asked(httpx.Headers({"x-rate-limit-limit": "10", "x-rate-limit-interval": "1s"})) == 0.1
    assert spacing_asked(httpx.Headers({"x-rate-limit-limit": "3", "x-rate-limit-interval": "1s"})) == 1 / 3
    assert spacing_asked(httpx.Headers({})) is None
    assert spacing_asked(httpx.Headers({"x-rate-limit-limit": "0", "x-rate-limit-interval": "1s"})) is None


def test_handle_answers():
    assert read_handle(404, {"responseCode": 100, "handle": "x"}).registered is False
    found = read_handle(200, {"responseCode": 1, "values": [{"index": 1, "type": "URL", "data": {"value": "https://a"}}]})
    assert found.registered and found.url == "https://a"
    assert read_handle(404, None) is None and read_handle(200, {"responseCode": 2}) is None


# --- against the fake ------------------------------------------------------------------------------------------


def ask_all(web: FakeWeb, fake: FakeCrossref, wanted: list[str | PaperRef], settings):
    """lookup_all on refs (a string: a DOI or "pii:…" ref) against the fake: (answer or SourceUnavailable, source)."""
    fake.install(web)
    refs = [w if isinstance(w, PaperRef) else PaperRef("crossref", w) for w in wanted]

    async def go():
        routed = lambda limits: RoutingTransport(web.port, limits)  # noqa: E731
        async with ClientPool(settings, transport_factory=routed) as pool:
            source = CrossrefSource.from_settings(settings, pool)
            try:
                return await source.lookup_all(refs), source
            except SourceUnavailable as exc:
                return exc, source

    return asyncio.run(go())


def test_fifty_dois_a_request_with_mailto_and_within_the_limits(web, make_settings):
    fake = FakeCrossref()
    dois = [f"10.5281/t.{i}" for i in range(120)]
    fake.works += [work(d, f"Paper {i}") for i, d in enumerate(dois)]
    found, source = ask_all(web, fake, dois, make_settings(contact="mailto:lists@example.org"))
    assert all(found[d].title == f"Paper {i}" for i, d in enumerate(dois))
    assert len(fake.requests) == 3 and all(polite for _, polite, _, _ in fake.requests)
    assert fake.refused == 0 and fake.peak == 1 and fake.busiest_second() <= 3
    assert all("mailto=lists%40example.org" in query for *_, query in fake.requests)


def test_without_a_mailto_contact_the_public_pool_is_used_politely(web, make_settings):
    fake = FakeCrossref()
    found, _ = ask_all(web, fake, ["10.1007/s41109-024-00626-2", "10.1371/journal.pone.0033693"],
                       make_settings(contact="https://github.com/o/r"))
    assert found["10.1007/s41109-024-00626-2"].abstract and found["10.1371/journal.pone.0033693"].abstract is None
    assert [polite for _, polite, _, _ in fake.requests] == [False] and fake.refused == 0


def test_dois_crossref_does_not_know_are_asked_of_doi_org(web, make_settings):
    fake = FakeCrossref(registered={"10.48550/arxiv.1706.03762": "https://arxiv.org/abs/1706.03762"})
    ids = ["10.48550/arxiv.1706.03762", "10.1007/s00000-000-0000-0", "10.1145/3027385.3027428"]
    found, source = ask_all(web, fake, ids, make_settings())
    assert found["10.48550/arxiv.1706.03762"].title == "" and found["10.48550/arxiv.1706.03762"].url == \
        "https://arxiv.org/abs/1706.03762"
    assert found["10.1007/s00000-000-0000-0"] is None
    assert found["10.1145/3027385.3027428"].title.startswith("Widget, widget")
    assert sorted(fake.handles) == ["10.1007/s00000-000-0000-0", "10.48550/arxiv.1706.03762"]


def test_piis_are_found_by_alternative_id(web, make_settings):
    found, _ = ask_all(web, FakeCrossref(), ["pii:S0197458010001570", "pii:S0000000000000000"], make_settings())
    assert found["pii:S0197458010001570"].title.startswith("Human umbilical cord blood")
    assert found["pii:S0000000000000000"] is None


RESNET = ieee_work("10.1109/cvpr.2016.90", "Deep Residual Learning for Image Recognition", "7780459",
                   ("Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"), 2016)
RESNET_OTHER = ieee_work("10.1109/tpami.2099.1", "Deep Residual Learning for Image Recognition Revisited", "9999999")


def test_an_ieee_document_is_found_by_its_entrys_title_and_its_number(web, make_settings):
    fake = FakeCrossref()
    fake.works += [RESNET_OTHER, RESNET]
    refs = [PaperRef("crossref", "ieee:7780459", titles=("Deep Residual Learning for Image Recognition",)),
            PaperRef("crossref", "ieee:1234567", titles=("Deep Residual Learning for Image Recognition",)),
            PaperRef("crossref", "ieee:7654321")]  # no titled entry: nothing to search by
    found, source = ask_all(web, fake, refs, make_settings(contact="mailto:lists@example.org"))
    assert found["ieee:7780459"].title == "Deep Residual Learning for Image Recognition"
    assert found["ieee:7780459"].url == "https://doi.org/10.1109/cvpr.2016.90" and found["ieee:7780459"].year == 2016
    # A document no work names is left unsettled (its page is checked as before), never "not registered".
    assert set(found) == {"ieee:7780459"} and fake.handles == []
    assert len(fake.requests) == 2 and source.requests_sent == 2
    # Asked of IEEE's works (`/prefixes/10.1109/works`: the fake answers nothing elsewhere), with mailto.
    assert all("query.bibliographic=Deep+Residual" in q and "filter" not in q and "mailto=" in q
               for *_, q in fake.requests)


def test_a_title_search_crossref_refuses_leaves_that_document_unsettled_and_crossref_available(web, make_settings):
    fake = FakeCrossref()
    fake.works += [RESNET]
    refs = [PaperRef("crossref", "ieee:1111111", titles=("   ",)),  # Crossref answers 400 to an empty query
            PaperRef("crossref", "ieee:7780459", titles=("Deep Residual Learning for Image Recognition",))]
    found, _ = ask_all(web, fake, refs, make_settings())
    assert set(found) == {"ieee:7780459"} and len(fake.requests) == 2


def test_an_ieee_document_is_searched_by_a_second_entrys_title_when_the_first_does_not_name_it(web, make_settings):
    fake = FakeCrossref()
    fake.works += [RESNET]
    refs = [PaperRef("crossref", "ieee:7780459", titles=("Attention Is All You Need", "Deep Residual Learning",
                                                          "A third title is never searched"))]
    found, _ = ask_all(web, fake, refs, make_settings())
    assert found["ieee:7780459"].year == 2016 and len(fake.requests) == 2


def test_a_429_is_waited_out_once(web, make_settings):
    fake = FakeCrossref(refuse_next=1)
    found, source = ask_all(web, fake, ["10.1145/3027385.3027428"], make_settings())
    assert found["10.1145/3027385.3027428"] is not None and len(fake.requests) == 2
    (first, _, _, _), (second, _, _, _) = fake.requests
    assert second - first >= 0.9  # Retry-After: 1, in the host's pause


def test_429s_make_crossref_unavailable_with_what_was_settled(web, make_settings):
    fake = FakeCrossref(refuse_next=2)
    answer, _ = ask_all(web, fake, ["10.1145/3027385.3027428"], make_settings())
    assert isinstance(answer, SourceUnavailable) and "429" in answer.reason and answer.partial == {}


def test_doi_org_down_stops_only_the_handle_questions(web, make_settings):
    fake = FakeCrossref(handles_down=True)
    answer, source = ask_all(web, fake, ["10.1145/3027385.3027428", "10.9999/unknown.1", "10.9999/unknown.2"],
                             make_settings())
    assert isinstance(answer, SourceUnavailable) and answer.scope == "doi.org"
    assert set(answer.partial) == {"10.1145/3027385.3027428"} and len(fake.handles) == 1


def test_verdicts():
    source = CrossrefSource(None)
    entry = Entry(line=2, section="2024", title="Linking perspectives: a field experiment on the role of multi-layer "
                  "networks in refugee information sharing", venue=None, year=2024,
                  links=(Link(url="https://doi.org/10.1007/s41109-024-00626-2", label="paper", line=2),))
    claim = Claim("https://doi.org/10.1007/s41109-024-00626-2", entry.links[0].url, (entry,))
    def verdict(claim, meta):
        return source_result(claim.key, claim.entries, source.verdict(claim, meta), 1.0)

    assert verdict(claim, work_to_meta(SPRINGER, 1.0)).status is LinkStatus.OK
    wrong = verdict(claim, work_to_meta(ACM, 1.0))
    assert wrong.status is LinkStatus.WRONG_PAPER and "Widget" in wrong.error
    gone = verdict(claim, None)
    assert gone.status is LinkStatus.BROKEN
    assert gone.error == "DOI 10.1007/s41109-024-00626-2 is not registered (doi.org)"
    elsewhere = verdict(claim, PaperMeta("crossref", "", "https://zenodo.org/records/1"))
    assert elsewhere.status is LinkStatus.OK and elsewhere.final_url == "https://zenodo.org/records/1"
    pii = Claim("k", "https://www.sciencedirect.com/science/article/pii/S0000000000000000", (entry,))
    assert source.verdict(pii, None) is Defer.WEB  # unknown to Crossref is not gone: the page decides
    ieee = Claim("k", "https://ieeexplore.ieee.org/document/7780459", (entry,))
    assert source.claim_ref(ieee) == PaperRef("crossref", "ieee:7780459", url=ieee.url, titles=(entry.title,))
    assert source.verdict(ieee, None) is Defer.WEB and source.unsettled(ieee, source.claim_ref(ieee), None) is Defer.WEB
    assert verdict(ieee, work_to_meta(RESNET, 1.0)).status is LinkStatus.WRONG_PAPER  # that number is ResNet
    assert source.unsettled(claim, PaperRef("crossref", "x"), "down") is Defer.WEB


def judge_claims(web: FakeWeb, fake: FakeCrossref, claims: list[Claim], settings, db) -> dict[str, LinkStatus]:
    from crawler.sources.base import SourceStates
    from crawler.sources.gateway import Gateway
    from crawler.store.cache import Store

    fake.install(web)

    async def go():
        routed = lambda limits: RoutingTransport(web.port, limits)  # noqa: E731
        async with ClientPool(settings, transport_factory=routed) as pool:
            with Store(db) as store:
                gateway = Gateway(CrossrefSource.from_settings(settings, pool), store, SourceStates(), now=1.0,
                                  max_age=3600.0)
                found = await gateway.verify_all(claims)
        return {key: result.status for key, result in found.results.items()}, found.to_web

    return asyncio.run(go())


@pytest.mark.parametrize("order", [1, -1])
def test_two_forms_of_one_ieee_document_under_two_entries_are_each_judged_whichever_comes_first(
        web, make_settings, tmp_path, order):
    resnet = Entry(line=3, section="", title="Deep Residual Learning for Image Recognition", venue="CVPR", year=2016,
                   links=(Link(url="https://ieeexplore.ieee.org/document/7780459", label="paper", line=3),))
    other = Entry(line=4, section="", title="Attention Is All You Need", venue="NeurIPS", year=2017,
                  links=(Link(url="https://ieeexplore.ieee.org/abstract/document/7780459", label="paper", line=4),))
    claims = [Claim(e.links[0].url, e.links[0].url, (e,)) for e in (resnet, other)][::order]
    fake = FakeCrossref()
    fake.works += [RESNET]
    statuses, to_web = judge_claims(web, fake, claims, make_settings(), tmp_path / "cache.db")
    # The two refs share the document's id: the search tries both entries' titles, and ResNet's names it.
    assert statuses == {resnet.links[0].url: LinkStatus.OK, other.links[0].url: LinkStatus.WRONG_PAPER}
    assert to_web == set()


def test_doi_org_down_still_leaves_the_ieee_documents_crossref_names_settled(web, make_settings):
    fake = FakeCrossref(handles_down=True)
    fake.works += [RESNET]
    refs = [PaperRef("crossref", "10.9999/unknown.1"),
            PaperRef("crossref", "ieee:7780459", titles=("Deep Residual Learning for Image Recognition",))]
    answer, _ = ask_all(web, fake, refs, make_settings())
    assert isinstance(answer, SourceUnavailable) and answer.scope == "doi.org"
    assert set(answer.partial) == {"ieee:7780459"} and answer.partial["ieee:7780459"].year == 2016
