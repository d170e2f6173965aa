"""crawler.sources.crossref on Crossref answers recorded from the live API (tests/fixtures/crossref/recorded).

The recorded work list is ACM's works of 2019-01-22 to 2019-02-05 (FAT* 2019 among them), asked with
`select=DOI,title,subtitle,author,type,page,published`: no `issued`, no `container-title`, no abstract; a title
and its subtitle apart. Titles, subtitles and names are the recorder's synthetic text; DOIs, types, pages and
dates are Crossref's. Read by work_to_meta, and through CrossrefSource's batch request against an in-process
api.crossref.org that answers it (and doi.org's handle API for what it does not hold).
"""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qs, urlsplit

import httpx

from crawler.sources.api import Answer
from crawler.sources.base import PaperRef
from crawler.sources.crossref import CrossrefSource, read_works, work_to_meta
from tests import paths
from tests.fakes.web import InProcess, Reply, Request

RECORDED = paths.FIXTURES / "crossref" / "recorded"
_JSON = {"Content-Type": "application/json"}


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


WORKS = recorded("facct-2019-works-1.json")
ITEMS = {item["DOI"]: item for item in WORKS["message"]["items"]}


def names(*numbers: int) -> tuple[str, ...]:
    return tuple(f"Synthetic Author {n}" for n in numbers)


# --- one work at a time ---------------------------------------------------------------------------------


def test_a_recorded_title_and_its_subtitle_are_one_title():
    meta = work_to_meta(ITEMS["10.1145/3287560.3287561"], 7.0)
    assert meta.title == "Synthetic title 9: Synthetic subtitle 10"  # was "Synthetic title 9"
    assert work_to_meta(ITEMS["10.1145/3286960.3286961"], 7.0).title == "Synthetic title 5: Synthetic subtitle 6"
    assert work_to_meta(ITEMS["10.1145/3287560.3287562"], 7.0).title == "Synthetic title 17"  # no subtitle


def test_a_subtitle_is_not_added_twice_nor_after_a_colon():
    item = ITEMS["10.1145/3286960.3286961"]
    for title, expected in [(["Synthetic title 5: Synthetic subtitle 6"], "Synthetic title 5: Synthetic subtitle 6"),
                            (["Synthetic title 5:"], "Synthetic title 5: Synthetic subtitle 6"),
                            ([], "")]:
        assert work_to_meta({**item, "title": title}, 7.0).title == expected
    assert work_to_meta({**item, "subtitle": []}, 7.0).title == "Synthetic title 5"


def test_recorded_works_read_as_papers():
    metas = [work_to_meta(item, 7.0) for item in WORKS["message"]["items"]]
    assert [(m.url, m.title, m.authors) for m in metas] == [
        ("https://doi.org/10.1145/3286960.3286974", "Synthetic title 1", names(2, 3)),
        ("https://doi.org/10.1145/3286960", "", ()),  # a proceedings volume only exists
        ("https://doi.org/10.1145/3286960.3286961", "Synthetic title 5: Synthetic subtitle 6", names(7, 8)),
        ("https://doi.org/10.1145/3287560.3287561", "Synthetic title 9: Synthetic subtitle 10", names(*range(11, 17))),
        ("https://doi.org/10.1145/3287560.3287562", "Synthetic title 17", names(18, 19, 20, 21)),
        ("https://doi.org/10.1145/3287560.3287568", "Synthetic title 105", names(106)),
    ]
    # `published` is the only date these works carry; they name no container and hold no abstract.
    assert {(m.year, m.venue, m.abstract, m.source, m.fetched_at) for m in metas} == {
        (2019, None, None, "crossref", 7.0)}


def test_the_recorded_proceedings_record_only_exists():
    answer = recorded("facct-2019-proceedings.json")
    assert answer["message-type"] == "work"
    meta = work_to_meta(answer["message"], 7.0)
    assert (meta.title, meta.authors, meta.abstract) == ("", (), None)
    assert (meta.url, meta.year, meta.venue) == ("https://doi.org/10.1145/3287560", 2019, None)  # `container-title: []`
    # A single work's answer is no work list: the batch request never takes it for one.
    assert read_works(Answer(200, httpx.Headers(), answer, "")) is None
    assert len(read_works(Answer(200, httpx.Headers(), WORKS, ""))) == 6
    assert read_works(Answer(200, httpx.Headers(), recorded("facct-2019-works-2.json"), "")) == []


# --- the batch request ------------------------------------------------------------------------------------


class Api:
    """api.crossref.org answering every works request with one recorded page; doi.org's handle API after it."""

    def __init__(self, page: dict, registered: dict[str, str] | None = None):
        self.page = json.dumps(page).encode()
        self.registered = registered or {}
        self.works: list[dict[str, list[str]]] = []
        self.handles: list[str] = []

    def handle(self, request: Request) -> Reply:
        parts = urlsplit(request.path)
        if request.host == "api.crossref.org" and parts.path == "/works":
            self.works.append(parse_qs(parts.query))
            return Reply(200, self.page, _JSON)
        if request.host == "doi.org" and parts.path.startswith("/api/handles/"):
            doi = parts.path.removeprefix("/api/handles/")
            self.handles.append(doi)
            if doi in self.registered:
                value = {"index": 1, "type": "URL", "data": {"format": "string", "value": self.registered[doi]}}
                return Reply(200, json.dumps({"responseCode": 1, "handle": doi, "values": [value]}).encode(), _JSON)
            return Reply(404, json.dumps({"responseCode": 100, "handle": doi}).encode(), _JSON)
        return Reply(404, b"Resource not found.", {"Content-Type": "text/plain"})


def ask(api: Api, urls: list[str]):
    async def main():
        async with httpx.AsyncClient(transport=InProcess(api)) as client:
            source = CrossrefSource(lambda url: client, clock=lambda: 11.0)
            refs = [source.ref(u) for u in urls]
            assert all(isinstance(r, PaperRef) for r in refs)
            return await source.lookup_all(refs), source

    return asyncio.run(main())


def test_the_batch_request_takes_the_works_it_asked_for_from_a_recorded_answer():
    api = Api(WORKS)
    found, source = ask(api, ["https://dl.acm.org/doi/10.1145/3287560.3287561",
                              "https://doi.org/10.1145/3287560.3287568",
                              "https://dl.acm.org/doi/proceedings/10.1145/3286960",
                              "https://dl.acm.org/doi/abs/10.1145/3287560.3287999"])
    assert api.works == [{"filter": ["doi:10.1145/3287560.3287561,doi:10.1145/3287560.3287568,doi:10.1145/3286960,"
                                     "doi:10.1145/3287560.3287999"], "rows": ["4"]}]
    assert set(found) == {"10.1145/3287560.3287561", "10.1145/3287560.3287568", "10.1145/3286960",
                          "10.1145/3287560.3287999"}  # the page's other works were not asked for
    paper = found["10.1145/3287560.3287561"]
    assert (paper.title, paper.authors, paper.year) == ("Synthetic title 9: Synthetic subtitle 10",
                                                        names(*range(11, 17)), 2019)
    assert (paper.url, paper.abstract, paper.fetched_at) == ("https://doi.org/10.1145/3287560.3287561", None, 11.0)
    single = found["10.1145/3287560.3287568"]
    assert (single.title, single.authors, single.year) == ("Synthetic title 105", names(106), 2019)
    assert found["10.1145/3286960"].title == "" and found["10.1145/3286960"].year == 2019
    assert found["10.1145/3287560.3287999"] is None  # not in the answer, not registered at doi.org
    assert api.handles == ["10.1145/3287560.3287999"]
    assert (source.requests_sent, source.handle_requests) == (2, 1)


def test_an_empty_recorded_page_sends_every_doi_to_doi_org():
    api = Api(recorded("facct-2019-works-2.json"), registered={"10.1145/3287560.3287561": "https://dl.acm.org/doi/x"})
    found, _ = ask(api, ["https://doi.org/10.1145/3287560.3287561", "https://doi.org/10.1145/3287560.3287562"])
    assert api.handles == ["10.1145/3287560.3287561", "10.1145/3287560.3287562"]
    registered = found["10.1145/3287560.3287561"]
    assert (registered.title, registered.url) == ("", "https://dl.acm.org/doi/x")  # it exists, nothing to judge
    assert found["10.1145/3287560.3287562"] is None
