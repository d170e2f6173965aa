"""crawler.sources.arxiv: pure helpers, and ArxivSource against a fake arXiv API on 127.0.0.1.

The fake server builds each `id_list` answer from tests/fixtures/arxiv/papers.xml, answers searches
with search_born_again.xml, and can be told to throttle, fail, stall or talk nonsense. Time is a fake
clock: the 3-second rule is checked without sleeping.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import arxiv
import pytest
from lxml import etree

from crawler.errors import SourceUnavailable
from crawler.sources.arxiv import (
    MAX_IDS_PER_REQUEST,
    MAX_QUERY_CHARS,
    TITLES_PER_QUERY,
    ArxivQueryRejected,
    ArxivSource,
    abs_url,
    check_feed,
    parse_arxiv_id,
    result_to_meta,
    title_queries,
)
from tests import paths
from tests.fakes.web import Loopback, Reply, Request

FIXTURES = paths.FIXTURES / "arxiv"
ATOM = "{http://www.w3.org/2005/Atom}"
UA = "paper-list-crawler/test (+https://example.org/contact)"
CATALOGUE_IDS = {
    "1503.02531",
    "1412.6550",
    "1610.09650",
    "1612.03928",
    "1805.04770",
    "1803.00443",
    "1811.03233",
    "1904.03624",
    "1902.03393",
    "2004.05856",
    "1812.00123",
    "1908.00858",
    "2003.11132",
    "hep-th/9711200",
}


# --- the fake arXiv ---------------------------------------------------------------------------------


def _load_catalogue() -> dict[str, bytes]:
    root = etree.parse(str(FIXTURES / "papers.xml")).getroot()
    entries = {}
    for entry in root.iterfind(f"{ATOM}entry"):
        m = re.search(r"/abs/(.+?)v\d+$", entry.findtext(f"{ATOM}id"))
        entries[m.group(1)] = etree.tostring(entry, with_tail=False)
    return entries


CATALOGUE = _load_catalogue()
# arXiv's own notion of a well-formed id (independent of the code under test).
_SERVER_ID = re.compile(r"(\d{4}\.\d{4,5}|[a-z-]+(\.[A-Z]{2})?/\d{7})(v\d+)?")


def feed(entries: list[bytes], total: int, start: int, per_page: int, query: str) -> bytes:
    head = (
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">\n'
        "  <id>https://arxiv.org/api/fake</id>\n"
        f"  <title>arXiv Query: {query.replace('&', '&amp;')}</title>\n"
        "  <updated>2026-05-12T09:14:27Z</updated>\n"
        f"  <opensearch:itemsPerPage>{per_page}</opensearch:itemsPerPage>\n"
        f"  <opensearch:totalResults>{total}</opensearch:totalResults>\n"
        f"  <opensearch:startIndex>{start}</opensearch:startIndex>\n"
    ).encode()
    return head + b"".join(b"  " + e + b"\n" for e in entries) + b"</feed>\n"


@dataclass
class Seen:
    params: dict[str, str]
    headers: dict[str, str]
    at: float | None  # fake time of arrival

    @property
    def ids(self) -> list[str]:
        return [i for i in self.params.get("id_list", "").split(",") if i]


@dataclass
class FakeArxiv:
    port: int = 0
    mode: str = "ok"  # ok | 429 | 503 | error400 | stall | trickle | html | garbage | truncated | bad_date
    reject_ids: set[str] = field(default_factory=set)
    latency: float = 0.0
    clock: object = None  # a FakeTime.clock, to stamp arrivals
    seen: list[Seen] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    recorded: dict[str, bytes] = field(default_factory=dict)  # id_list as asked -> an answer recorded from arXiv

    @property
    def url_format(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/query?{{}}"

    def handle(self, request: Request) -> Reply:
        params = {k: v[0] for k, v in parse_qs(urlsplit(request.path).query, keep_blank_values=True).items()}
        with self.lock:
            self.seen.append(Seen(params, request.headers, self.clock() if self.clock else None))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.latency:
                time.sleep(self.latency)
            if self.mode == "stall":
                self.release.wait(5)  # far beyond the client's timeout
                return _reply(503, "text/plain", b"")
            if self.mode == "trickle":  # a few bytes every 0.1 s: never silent for long
                return Reply(200, (FIXTURES / "papers.xml").read_bytes(), {"Content-Type": "application/atom+xml"},
                             drip=0.1)
            return self.answer(params)
        finally:
            with self.lock:
                self.in_flight -= 1

    def answer(self, params: dict[str, str]) -> Reply:
        if self.mode == "429":
            return _reply(429, "text/plain", b"Rate exceeded.")
        if self.mode == "503":
            return _reply(503, "text/html", b"<html><body><h1>503 Service Unavailable</h1></body></html>")
        if self.mode == "error400":
            return _reply(400, "application/atom+xml", (FIXTURES / "error_malformed_id.xml").read_bytes())
        if self.mode == "html":
            return _reply(200, "text/html", b"<html><head><title>Just a moment...</title></head><body/></html>")
        if self.mode == "garbage":
            return _reply(200, "text/plain", b"Rate exceeded.")
        if self.mode == "truncated":
            body = (FIXTURES / "papers.xml").read_bytes()
            return _reply(200, "application/atom+xml", body[: len(body) // 2])
        if self.mode == "bad_date":
            body = (FIXTURES / "papers.xml").read_bytes()
            return _reply(200, "application/atom+xml", body.replace(b"2015-03-09T15:44:49Z", b"last Monday"))
        ids = [i for i in params.get("id_list", "").split(",") if i]
        for asked, body in self.recorded.items():  # the recorded answer to a question that held these ids
            if ids and set(ids) <= set(asked.split(",")):
                return _reply(200, "application/atom+xml", body)
        if any(not _SERVER_ID.fullmatch(i) for i in ids) or self.reject_ids & set(ids):
            return _reply(400, "application/atom+xml", (FIXTURES / "error_malformed_id.xml").read_bytes())
        start, per_page = int(params.get("start", 0)), int(params.get("max_results", 10))
        query = f"search_query={params.get('search_query', '')}&id_list={','.join(ids)}"
        if ids:
            found = [CATALOGUE[re.sub(r"v\d+$", "", i)] for i in ids if re.sub(r"v\d+$", "", i) in CATALOGUE]
            return _reply(200, "application/atom+xml",
                          feed(found[start : start + per_page], len(found), start, per_page, query))
        if "Born Again" in params.get("search_query", ""):
            return _reply(200, "application/atom+xml", (FIXTURES / "search_born_again.xml").read_bytes())
        return _reply(200, "application/atom+xml", (FIXTURES / "empty.xml").read_bytes())


def _reply(status: int, content_type: str, body: bytes) -> Reply:
    return Reply(status, body, {"Content-Type": content_type})


class FakeTime:
    """A monotonic clock that only moves when someone sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake():
    server_state = FakeArxiv()
    server = Loopback(server_state).start()
    server_state.port = server.port
    yield server_state
    server_state.release.set()
    server.stop()


@pytest.fixture
def ftime() -> FakeTime:
    return FakeTime()


@pytest.fixture
def source(fake: FakeArxiv, ftime: FakeTime):
    fake.clock = ftime.clock
    src = ArxivSource(
        url_format=fake.url_format,
        delay=3.0,
        timeout=0.5,
        user_agent=UA,
        clock=ftime.clock,
        sleep=ftime.sleep,
    )
    yield src
    src.close()


# --- parse_arxiv_id ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1503.02531", "1503.02531"),
        ("1503.02531v2", "1503.02531"),
        ("  1412.6550v4 ", "1412.6550"),
        ("arXiv:1503.02531v1", "1503.02531"),
        ("0704.0001", "0704.0001"),
        ("https://arxiv.org/abs/1503.02531", "1503.02531"),
        ("https://arxiv.org/abs/1503.02531v3", "1503.02531"),
        ("http://arxiv.org/abs/1503.02531", "1503.02531"),
        ("https://www.arxiv.org/abs/1503.02531", "1503.02531"),
        ("http://export.arxiv.org/abs/1503.02531v1", "1503.02531"),
        ("https://arxiv.org/pdf/1503.02531", "1503.02531"),
        ("https://arxiv.org/pdf/1503.02531.pdf", "1503.02531"),
        ("https://arxiv.org/pdf/1503.02531v2.pdf", "1503.02531"),
        ("https://arxiv.org/pdf/1412.6550v4", "1412.6550"),
        ("https://arxiv.org/html/2401.12345v2", "2401.12345"),
        ("https://arxiv.org/html/2401.12345v2/", "2401.12345"),
        ("https://arxiv.org/abs/1503.02531?context=cs", "1503.02531"),
        ("https://arxiv.org/abs/1503.02531v2#section", "1503.02531"),
        ("HTTPS://ARXIV.ORG/abs/1503.02531", "1503.02531"),
        ("hep-th/9901001", "hep-th/9901001"),
        ("hep-th/9901001v2", "hep-th/9901001"),
        ("math.GT/0309136", "math/0309136"),  # arXiv's canonical form drops the subject class
        ("https://arxiv.org/abs/hep-th/9711200v3", "hep-th/9711200"),
        ("https://arxiv.org/abs/math.GT/0309136", "math/0309136"),
        ("https://arxiv.org/pdf/hep-th/9901001v1.pdf", "hep-th/9901001"),
        ("http://arxiv.org/abs/astro-ph/0601001", "astro-ph/0601001"),
    ],
)
def test_parse_arxiv_id_accepts(text: str, expected: str) -> None:
    assert parse_arxiv_id(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "junk",
        "1503.0253",  # 2015 on: five digits
        "1412.65501",  # until 2014: four digits
        "2401.123456",
        "2401.123",
        "1513.02531",  # month 13
        "0612.0001",  # new scheme began 2007-04
        "0000.0000",
        "1503.00000",
        "1503.02531v",
        "1503.02531v0",
        "1503.02531x",
        "hep-th/990100",
        "hep-th/99010011",
        "hep-th/9913001",
        "https://arxiv.org/abs/",
        "https://arxiv.org/abs/1503.0253",
        "https://arxiv.org/abs/1503.02531.pdf",  # .pdf belongs to /pdf/ only
        "https://arxiv.org/list/cs.LG/recent",
        "https://example.org/abs/1503.02531",
        "https://arxiv.org.evil.com/abs/1503.02531",
        "ftp://arxiv.org/abs/1503.02531",
        "https://arxiv.org/abs/1503.02531/extra",
        "see 1503.02531",
    ],
)
def test_parse_arxiv_id_rejects(text: str) -> None:
    assert parse_arxiv_id(text) is None


def test_abs_url() -> None:
    assert abs_url("1503.02531") == "https://arxiv.org/abs/1503.02531"
    assert abs_url("hep-th/9901001") == "https://arxiv.org/abs/hep-th/9901001"


# --- title queries ----------------------------------------------------------------------------------


def test_title_queries_ors_quoted_phrases() -> None:
    assert title_queries(["Born Again Neural Networks", "Knowledge Transfer with Jacobian Matching"]) == [
        'ti:"Born Again Neural Networks" OR ti:"Knowledge Transfer with Jacobian Matching"'
    ]


def test_title_queries_strips_punctuation_that_breaks_arxiv_parser() -> None:
    titles = [
        "Snapshot Distillation: Teacher-Student Optimization in One Generation",
        '"Dark Knowledge" (and [Soft] Targets) / A Study?',
        "Inter-region Affinity Distillation for Road Marking Segmentation",
        "Learning to AND/OR NOT",
    ]
    (query,) = title_queries(titles)
    assert query == (
        'ti:"Snapshot Distillation Teacher Student Optimization in One Generation"'
        ' OR ti:"Dark Knowledge and Soft Targets A Study"'
        ' OR ti:"Inter region Affinity Distillation for Road Marking Segmentation"'
        ' OR ti:"Learning to and or not"'
    )
    phrases = re.findall(r'ti:"([^"]*)"', query)
    assert len(phrases) == 4
    for phrase in phrases:
        assert not set(phrase) & set(':-"()[]/?'), phrase
        assert not set(phrase.split()) & {"AND", "OR", "NOT", "ANDNOT"}


def test_title_queries_drops_stop_word_only_titles_and_duplicates() -> None:
    assert title_queries(["", "A", "On the", " - : ", "The Of"]) == []
    assert title_queries(["FitNets", "On the", "FitNets!", "fitnets"]) == ['ti:"FitNets" OR ti:"fitnets"']


def test_title_queries_stay_short() -> None:
    titles = [f"Knowledge Distillation Study Number {n} of Many Interesting Things" for n in range(25)]
    queries = title_queries(titles)
    assert len(queries) == 3
    phrases = [p for q in queries for p in q.split(" OR ")]
    assert len(phrases) == 25 and len(set(phrases)) == 25
    for q in queries:
        assert len(q.split(" OR ")) <= TITLES_PER_QUERY
        assert len(q) <= MAX_QUERY_CHARS
    long_titles = ["Word " * 60 + str(n) for n in range(10)]  # ~300 characters each
    assert all(len(q) <= MAX_QUERY_CHARS for q in title_queries(long_titles))
    assert title_queries(["A", "the"]) == []


# --- result_to_meta, check_feed ---------------------------------------------------------------------


def test_result_to_meta_collapses_and_drops_versions() -> None:
    result = arxiv.Result(
        entry_id="http://arxiv.org/abs/1612.03928v3",
        published=datetime(2016, 12, 12, 19, 59, 21, tzinfo=UTC),
        title="Paying More Attention to Attention: Improving the Performance of\n  Convolutional Neural",
        summary="  Attention plays a critical role\nin human   visual experience.\n",
        authors=[arxiv.Result.Author("Sergey Zagoruyko"), arxiv.Result.Author("Nikos Komodakis")],
        links=[arxiv.Result.Link("https://arxiv.org/pdf/1612.03928v3", title="pdf", rel="related")],
    )
    meta = result_to_meta(result, fetched_at=123.0)
    assert meta.source == "arxiv"
    assert meta.arxiv_id == "1612.03928"
    assert meta.url == "https://arxiv.org/abs/1612.03928"
    assert meta.pdf_url == "https://arxiv.org/pdf/1612.03928"
    assert meta.title == (
        "Paying More Attention to Attention: Improving the Performance of Convolutional Neural"
    )
    assert meta.abstract == "Attention plays a critical role in human visual experience."
    assert meta.authors == ("Sergey Zagoruyko", "Nikos Komodakis")
    assert meta.year == 2016
    assert meta.venue is None
    assert meta.fetched_at == 123.0


def test_check_feed_accepts_fixtures_and_refuses_the_rest() -> None:
    check_feed((FIXTURES / "papers.xml").read_bytes())
    check_feed((FIXTURES / "empty.xml").read_bytes())
    check_feed((FIXTURES / "search_born_again.xml").read_bytes())
    bad = {
        (FIXTURES / "error_malformed_id.xml").read_bytes(): "incorrect id format for 1503.0253",
        b"Rate exceeded.": "not XML",
        b"<html><body>challenge</body></html>": "instead of an Atom feed",
        (FIXTURES / "papers.xml").read_bytes()[:3000]: "not XML",
    }
    for body, reason in bad.items():
        with pytest.raises(Exception, match=reason):
            check_feed(body)


def test_search_fixture_agrees_with_catalogue() -> None:
    """Other tests (and the end-to-end fake) rely on both files telling the same story."""
    root = etree.parse(str(FIXTURES / "search_born_again.xml")).getroot()
    entries = root.findall(f"{ATOM}entry")
    assert int(root.findtext("{http://a9.com/-/spec/opensearch/1.1/}totalResults")) == len(entries) == 4
    for entry in entries:
        arxiv_id = re.search(r"/abs/(.+?)v\d+$", entry.findtext(f"{ATOM}id")).group(1)
        assert etree.tostring(entry, with_tail=False) == CATALOGUE[arxiv_id]
    assert set(CATALOGUE) == CATALOGUE_IDS


# --- ArxivSource: lookups ---------------------------------------------------------------------------


RECORDED = FIXTURES / "recorded"


def test_lookup_reads_answers_recorded_from_arxiv(source: ArxivSource, fake: FakeArxiv) -> None:
    # export.arxiv.org's own answers (lukasschwab/arxiv.py tests/fixtures; fixtures/arxiv/recorded/README.md).
    fake.recorded = {
        "0808.05394,1707.08567": (RECORDED / "id_list_0808.05394_1707.08567.xml").read_bytes(),
        "astro-ph/0601001": (RECORDED / "id_list_astro-ph_0601001.xml").read_bytes(),
        "0000.0000": (RECORDED / "id_list_0000.0000.xml").read_bytes(),
    }
    got = source.lookup_ids(["0808.05394", "1707.08567"])  # 0808.05394 is malformed: never sent
    assert set(got) == {"1707.08567"}
    meta = got["1707.08567"]
    assert meta.title == "Proceedings of Workshop AEW10: Concepts in Information Theory and Communications"
    assert meta.year == 2017 and meta.abstract.startswith("The 10th Asia-Europe workshop")
    assert meta.url == "https://arxiv.org/abs/1707.08567"
    old = source.lookup_ids(["astro-ph/0601001"])["astro-ph/0601001"]
    assert old.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert old.authors == ("Andrew Gould", "Susan Dorsher", "B. Scott Gaudi", "Andrzej Udalski")
    assert "V_max<17.5" in old.abstract and old.year == 2006
    assert source.lookup_ids(["0000.0000"]) == {}


def test_lookup_returns_metadata(source: ArxivSource, fake: FakeArxiv) -> None:
    got = source.lookup_ids(["https://arxiv.org/abs/1503.02531v1", "1612.03928", "hep-th/9711200v2"])
    assert set(got) == {"1503.02531", "1612.03928", "hep-th/9711200"}
    hinton = got["1503.02531"]
    assert hinton.title == "Distilling the Knowledge in a Neural Network"
    assert hinton.authors == ("Geoffrey Hinton", "Oriol Vinyals", "Jeff Dean")
    assert hinton.year == 2015
    assert hinton.url == "https://arxiv.org/abs/1503.02531"
    assert hinton.pdf_url == "https://arxiv.org/pdf/1503.02531"
    assert hinton.abstract.startswith("A very simple way to improve the performance of almost any machine")
    assert "\n" not in hinton.abstract and "  " not in hinton.abstract
    assert hinton.fetched_at > 0
    attention = got["1612.03928"]
    assert attention.title == (
        "Paying More Attention to Attention: Improving the Performance of "
        "Convolutional Neural Networks via Attention Transfer"
    )
    assert got["hep-th/9711200"].year == 1997
    assert got["hep-th/9711200"].authors == ("Juan M. Maldacena",)
    assert len(fake.seen) == 1 == source.requests_sent
    assert fake.seen[0].ids == ["1503.02531", "1612.03928", "hep-th/9711200"]


def test_unknown_id_is_simply_absent(source: ArxivSource) -> None:
    assert set(source.lookup_ids(["1503.02531", "2101.99999"])) == {"1503.02531"}
    assert source.lookup_ids(["2101.99999"]) == {}


def test_ids_are_batched_by_100(source: ArxivSource, fake: FakeArxiv, ftime: FakeTime) -> None:
    unknown = [f"2101.{n:05d}" for n in range(1, 219)]
    ids = sorted(CATALOGUE_IDS) + unknown
    assert len(ids) == 232
    got = source.lookup_ids(ids)
    assert set(got) == CATALOGUE_IDS
    assert [len(s.ids) for s in fake.seen] == [100, 100, 32]
    assert all(len(s.ids) <= MAX_IDS_PER_REQUEST for s in fake.seen)
    sent = [i for s in fake.seen for i in s.ids]
    assert sorted(sent) == sorted(ids)  # each id once, none lost
    assert source.requests_sent == 3
    starts = [s.at for s in fake.seen]
    assert all(b - a >= 3.0 for a, b in zip(starts, starts[1:], strict=False))


def test_malformed_ids_are_dropped_never_sent(source: ArxivSource, fake: FakeArxiv) -> None:
    got = source.lookup_ids(
        [
            "1503.0253",
            "2401.123456",
            "junk",
            "https://arxiv.org/abs/1503.02531v2",
            "1503.02531",
            "arXiv:1412.6550",
            "https://arxiv.org/pdf/1412.6550v1.pdf",
        ]
    )
    assert set(got) == {"1503.02531", "1412.6550"}
    assert [s.ids for s in fake.seen] == [["1503.02531", "1412.6550"]]


def test_nothing_valid_sends_nothing(source: ArxivSource, fake: FakeArxiv) -> None:
    assert source.lookup_ids(["junk", "1503.0253"]) == {}
    assert source.search_titles(["", "On the"]) == []
    assert fake.seen == [] and source.requests_sent == 0


def test_user_agent_is_ours(source: ArxivSource, fake: FakeArxiv) -> None:
    source.lookup_ids(["1503.02531"])
    headers = {k.lower(): v for k, v in fake.seen[0].headers.items()}
    assert headers["user-agent"] == UA
    assert "arxiv.py" not in str(fake.seen[0].headers)


# --- ArxivSource: title search ----------------------------------------------------------------------


def test_search_titles_returns_all_candidates(source: ArxivSource, fake: FakeArxiv) -> None:
    titles = [
        "Born Again Neural Networks",
        "Knowledge Transfer with Jacobian Matching",
        "Inter-region Affinity Distillation for Road Marking Segmentation",
    ]
    got = source.search_titles(titles)
    assert [m.arxiv_id for m in got] == ["1805.04770", "2003.11132", "1803.00443", "2004.05856"]
    assert next(m for m in got if m.arxiv_id == "2003.11132").title == "Born-Again Tree Ensembles"
    assert all(m.abstract and m.authors and m.year for m in got)
    assert len(fake.seen) == 1
    assert fake.seen[0].params["search_query"] == (
        'ti:"Born Again Neural Networks" OR ti:"Knowledge Transfer with Jacobian Matching"'
        ' OR ti:"Inter region Affinity Distillation for Road Marking Segmentation"'
    )
    assert fake.seen[0].ids == []


def test_search_titles_splits_long_lists_and_dedupes(source: ArxivSource, fake: FakeArxiv) -> None:
    titles = ["Born Again Neural Networks"] + [f"Some Other Title Number {n}" for n in range(14)]
    titles.append("Born Again Neural Networks: extended")
    got = source.search_titles(titles)
    assert len(fake.seen) == 2
    assert all(s.params["search_query"].count("ti:") <= TITLES_PER_QUERY for s in fake.seen)
    assert "Born Again" in fake.seen[0].params["search_query"]
    assert "Born Again" in fake.seen[1].params["search_query"]
    assert [m.arxiv_id for m in got] == ["1805.04770", "2003.11132", "1803.00443", "2004.05856"]


# --- ArxivSource: failures --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "reason", "requests"),
    [
        ("429", r"throttled \(HTTP 429: Rate exceeded\.\)", 1),  # never retried: do not hammer
        ("503", "HTTP 503", 2),  # one retry, spaced like any request
        ("html", "instead of an Atom feed", 1),
        ("garbage", "not XML", 1),
        ("truncated", "not XML", 1),  # the package would parse half a page and lose entries
        ("bad_date", "unreadable answer", 1),
        ("stall", "timed out", 1),
        ("trickle", "timed out", 1),
    ],
)
def test_failures_make_the_source_unavailable(
    source: ArxivSource, fake: FakeArxiv, mode: str, reason: str, requests: int
) -> None:
    fake.mode = mode
    began = time.monotonic()
    with pytest.raises(SourceUnavailable, match=reason) as info:
        source.lookup_ids(["1503.02531"])
    assert time.monotonic() - began < 2.5  # timeout 0.5 s: nothing hangs
    assert info.value.source == "arxiv"
    assert not isinstance(info.value, ArxivQueryRejected)
    assert len(fake.seen) == requests == source.requests_sent
    with pytest.raises(SourceUnavailable, match=reason):
        source.search_titles(["Born Again Neural Networks"])


def test_error_feed_is_rejected_without_retry(source: ArxivSource, fake: FakeArxiv) -> None:
    fake.mode = "error400"
    with pytest.raises(ArxivQueryRejected, match="incorrect id format for 1503.0253") as info:
        source.lookup_ids(["1503.02531"])
    assert isinstance(info.value, SourceUnavailable)
    assert info.value.partial == {} and info.value.rejected == ("1503.02531",)
    assert len(fake.seen) == 1  # the package would have retried the 400


def test_rejected_batch_does_not_sink_the_others(source: ArxivSource, fake: FakeArxiv) -> None:
    fake.reject_ids = {"1902.03393"}
    ids = ["1503.02531"] + [f"2101.{n:05d}" for n in range(1, 100)] + ["1902.03393", "1805.04770"]
    with pytest.raises(ArxivQueryRejected) as info:
        source.lookup_ids(ids)
    assert set(info.value.partial) == {"1503.02531"}
    assert info.value.rejected == ("1902.03393", "1805.04770")
    assert len(fake.seen) == 2
    fake.reject_ids = set()  # no lasting "down" state: the next call just works
    assert set(source.lookup_ids(["1805.04770"])) == {"1805.04770"}


def test_connection_refused(ftime: FakeTime) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed when the block ends: nobody listens there
    src = ArxivSource(
        url_format=f"http://127.0.0.1:{port}/api/query?{{}}",
        timeout=0.5,
        clock=ftime.clock,
        sleep=ftime.sleep,
    )
    began = time.monotonic()
    with pytest.raises(SourceUnavailable, match="connection failed"):
        src.lookup_ids(["1503.02531"])
    assert time.monotonic() - began < 2.5
    assert src.requests_sent == 2  # the package retries a connection error once
    assert ftime.sleeps == [3.0]


# --- ArxivSource: manners ---------------------------------------------------------------------------


def test_requests_are_spaced_in_fake_time(source: ArxivSource, fake: FakeArxiv, ftime: FakeTime) -> None:
    began = time.monotonic()
    for _ in range(4):
        source.lookup_ids(["1503.02531"])
    assert time.monotonic() - began < 1.5  # 9 s of waiting happened in fake time only
    starts = [s.at for s in fake.seen]
    assert [b - a for a, b in zip(starts, starts[1:], strict=False)] == [3.0, 3.0, 3.0]
    assert ftime.sleeps == [3.0, 3.0, 3.0]
    ftime.now += 10  # time passed on its own: no need to wait
    source.lookup_ids(["1503.02531"])
    assert ftime.sleeps == [3.0, 3.0, 3.0]
    ftime.now += 1
    source.search_titles(["Born Again Neural Networks"])
    assert ftime.sleeps == [3.0, 3.0, 3.0, 2.0]
    assert source.requests_sent == 6


def test_retries_are_spaced_too(source: ArxivSource, fake: FakeArxiv) -> None:
    fake.mode = "503"
    with pytest.raises(SourceUnavailable):
        source.lookup_ids(["1503.02531"])
    first, retry = (s.at for s in fake.seen)
    assert retry - first >= 3.0


def test_async_wrappers_keep_one_request_at_a_time(source: ArxivSource, fake: FakeArxiv) -> None:
    fake.latency = 0.05  # long enough for overlapping requests to show

    async def main() -> list:
        return await asyncio.gather(
            source.lookup_ids_async(["1503.02531"]),
            source.search_titles_async(["Born Again Neural Networks"]),
            source.lookup_ids_async(["1412.6550", "junk"]),
            source.lookup_ids_async(iter(["1805.04770"])),
        )

    one, found, two, three = asyncio.run(main())
    assert set(one) == {"1503.02531"} and set(two) == {"1412.6550"} and set(three) == {"1805.04770"}
    assert len(found) == 4
    assert fake.max_in_flight == 1
    assert source.requests_sent == len(fake.seen) == 4
