"""crawler.sources.openreview on answers recorded from the live OpenReview APIs (tests/fixtures/openreview/recorded).

`note_to_meta` reads every recorded note; `OpenReviewSource` runs through a real ClientPool against
`Replay`, a site served in-process (tests/fakes/web.py's InProcess) that answers each note id with the
recorded note and its recorded headers, and each failure with the recorded failure. The credentials are
made up; the login's answer is the only one that is not recorded (its token is made up too).
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import pytest

from crawler.errors import SourceUnavailable
from crawler.findings import Exists, Known
from crawler.models import Entry, Link
from crawler.net.credentials import Credentials
from crawler.net.pool import ClientPool
from crawler.sources.base import Claim, PaperRef
from crawler.sources.openreview import OpenReviewSource, note_to_meta
from tests import paths
from tests.fakes.openreview import FakeOpenReview, Note
from tests.fakes.web import InProcess, Reply, Request, RoutingTransport

RECORDED = paths.FIXTURES / "openreview" / "recorded"
API1, API2 = "api.openreview.net", "api2.openreview.net"
ENVIRON = {"OPENREVIEW_USERNAME": "robot@example.org", "OPENREVIEW_PASSWORD": "made-up-password"}
CHALLENGE = "api2.openreview.net answered with a challenge, a browser check (HTTP 200 HTML page, not JSON)"
NOT_FOUND = "v2/errors/v1-note-not-found.json"
NOT_FOUND_ID = "g1SzIRLQXMM"  # the API 1 note (ICLR 2022) that recording asked API 2 for


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def recorded_note(name: str, ident: str) -> dict:
    return next(n for n in recorded(name)["response"]["json"]["notes"] if n["id"] == ident)


def replayed(response: dict) -> Reply:
    """A recorded response as a reply: its status, its headers, its JSON or its text."""
    body = json.dumps(response["json"]) if "json" in response else response["text"]
    return Reply(response["status"], body.encode(), dict(response["headers"]))


def synthetic(*numbers: int) -> tuple[str, ...]:
    """The recorder's synthetic author names ("Synthetic Author 4")."""
    return tuple(f"Synthetic Author {n}" for n in numbers)


# --- every recorded note, read ----------------------------------------------------------------------------------

# (file, note id, title, authors, venue, year, abstract, has a PDF)
NOTES = [
    ("v2/iclr-2024/notes-accepted.json", "rhgIgTSSxW", "Synthetic title text 1.", synthetic(*range(2, 8)),
     "ICLR 2024 poster", 2024, "Synthetic abstract text 20.", True),
    ("v2/iclr-2024/notes-withdrawn.json", "fMX07g3prp", "Synthetic title text 1.", synthetic(2, 3),
     "ICLR 2024 Conference Withdrawn Submission", 2024, "Synthetic abstract text 10.", True),
    ("v2/iclr-2024/notes-desk-rejected.json", "mnyXZBa5dP", "Synthetic title text 1.", synthetic(2),
     "ICLR 2024 Conference Desk Rejected Submission", 2024, "Synthetic abstract text 9.", False),
    ("v2/iclr-2024/notes-tinypapers.json", "p8GJzu52XL", "Synthetic title text 1.", synthetic(2),
     "Tiny Papers @ ICLR 2024 Archive", 2024, "Synthetic abstract text 9.", True),  # no dates recorded
    ("v2/neurips-2024/notes-presentation-conference.json", "JKEIYQUSUc", "Synthetic title text 24.",
     synthetic(*range(12, 20)), "NeurIPS 2024 poster", 2024, "Synthetic abstract text 3.", True),
    ("v2/neurips-2024/notes-presentation-conference.json", "4bKEFyUHT4", "Synthetic title text 46.",
     synthetic(*range(32, 37)), "NeurIPS 2024 oral", 2024, "Synthetic abstract text 26.", True),
    ("v2/neurips-2024/notes-presentation-conference.json", "IDn9SiKgLy", "Synthetic title text 63.",
     synthetic(*range(54, 58)), "NeurIPS 2024 spotlight", 2024, "Synthetic abstract text 49.", True),
    ("v2/iclr-2025/notes-workshop-rejected.json", "14BmcWqqXC", "Synthetic title text 1.", (),  # no authors field
     "Submitted to ICLR 2025 Workshop ICBINB", 2025, "Synthetic abstract text 6.", True),
    ("v1/iclr-2017/note-authors-string-live.json", "S1J0E-71l", "Synthetic title text 2.", synthetic(4),
     "Submitted to ICLR 2017", 2017, "Synthetic abstract text 3.", True),
    ("v1/iclr-2017/notes-conference-authors-string.json", "S1HEBe_Jl", "Synthetic title text 11.", synthetic(6, 7),
     "Submitted to ICLR 2017", 2017, "Synthetic abstract text 3.", True),
    ("v1/iclr-2017/notes-workshop-authors-and.json", "HkXKUTVFl", "Synthetic title text 18.",
     synthetic(8, 9, 10, 11, 12), None, 2017, "Synthetic abstract text 2.", True),
    ("v1/iclr-2017/notes-workshop-authors-and.json", "H1JBMVpdx", "Synthetic title text 30.", synthetic(23, 24, 25),
     "ICLR 2017 Invite to Workshop", 2017, "Synthetic abstract text 20.", True),
    ("v1/iclr-2017/notes-workshop-authors-and.json", "Hynn8SHOx", "Synthetic title text 41.", synthetic(35, 36),
     None, 2017, "Synthetic abstract text 32.", True),
    ("v1/iclr-2020/forum-accepted.json", "ryxyCeHtPB", "Synthetic title text 13.", synthetic(*range(14, 20)),
     None, 2020, "Synthetic abstract text 21.", True),  # published 2019-12-20
    ("v1/iclr-2022/note-withdrawn-empty-venueid.json", "fG9WttDhAaa", "Synthetic title text 1.", synthetic(5, 6, 7),
     None, 2022, "Synthetic abstract text 8.", True),  # venue "", opened 2021-10-06
    ("v1/iclr-2023/note-desk-rejected.json", "7HSHJQwkna0", "Synthetic title text 1.", synthetic(4, 5),
     None, 2023, "Synthetic abstract text 11.", True),  # no venue, opened 2022-09-29
    ("v1/neurips-2022/note-accepted.json", "09QFnDWPF8", "Synthetic title text 1.", synthetic(4, 5),
     "NeurIPS 2022 Accept", 2022, "Synthetic abstract text 10.", True),
]


@pytest.mark.parametrize(("name", "ident", "title", "authors", "venue", "year", "abstract", "pdf"), NOTES,
                         ids=[f"{n[0]}:{n[1]}" for n in NOTES])
def test_every_recorded_note_reads_as_written(name, ident, title, authors, venue, year, abstract, pdf):
    meta = note_to_meta(recorded_note(name, ident), 9.0)
    assert (meta.title, meta.authors, meta.venue, meta.year, meta.abstract) == (title, authors, venue, year, abstract)
    assert meta.url == f"https://openreview.net/forum?id={ident}" and meta.source == "openreview"
    assert meta.pdf_url == (f"https://openreview.net/pdf?id={ident}" if pdf else None)
    assert meta.fetched_at == 9.0


def test_authors_written_as_one_string_or_joined_with_and_are_names():
    # ICLR 2017's API 1 notes: "A, B" as one string, "and E" as the last of a list, "A and B and C" as one item.
    string = note_to_meta(recorded_note("v1/iclr-2017/notes-conference-authors-string.json", "S1HEBe_Jl"), 0.0)
    assert string.authors == ("Synthetic Author 6", "Synthetic Author 7")
    listed = {n["id"]: note_to_meta(n, 0.0).authors
              for n in recorded("v1/iclr-2017/notes-workshop-authors-and.json")["response"]["json"]["notes"]}
    assert listed["HkXKUTVFl"][-1] == "Synthetic Author 12"
    assert listed["H1JBMVpdx"] == ("Synthetic Author 23", "Synthetic Author 24", "Synthetic Author 25")
    # A comma before a suffix is inside a name: "Jr." stays with it, a degree is not a name.
    suffixed = {**recorded_note("v1/iclr-2017/note-authors-string-live.json", "S1J0E-71l")}
    suffixed["content"] = {**suffixed["content"], "authors": "Ada Lovelace, Jr., Alan Turing, Ph.D., Grace Hopper"}
    assert note_to_meta(suffixed, 0.0).authors == ("Ada Lovelace Jr.", "Alan Turing", "Grace Hopper")


def test_the_year_is_the_venues_even_where_the_note_names_none():
    # The ICLR 2020 paper was published on 2019-12-20 and its note names no venue; its invitation does.
    note = recorded_note("v1/iclr-2020/forum-accepted.json", "ryxyCeHtPB")
    assert note["invitation"] == "ICLR.cc/2020/Conference/-/Blind_Submission" and "venue" not in note["content"]
    assert note_to_meta(note, 0.0).year == 2020


def test_api_2s_invitations_list_names_the_year_when_nothing_else_does():
    note = recorded_note("v2/iclr-2024/notes-accepted.json", "rhgIgTSSxW")
    assert isinstance(note["invitations"], list) and any("2024" in i for i in note["invitations"])
    bare = {**note, "content": {k: v for k, v in note["content"].items() if k not in ("venue", "venueid")}}
    dates = ("domain", "cdate", "mdate", "tcdate", "tmdate", "pdate", "odate")
    bare = {k: v for k, v in bare.items() if k not in dates}
    assert note_to_meta(bare, 0.0).year == 2024


def test_comments_and_decisions_in_a_forum_are_not_the_paper():
    source = OpenReviewSource(None)
    forum = "https://openreview.net/forum?id=ryxyCeHtPB"
    entry = Entry(line=1, section="ICLR 2020", title="T", venue="ICLR", year=2020,
                  links=(Link(url=forum, label="paper", line=1),))
    claim = Claim(forum, forum, (entry,))
    found = {n["id"]: source.verdict(claim, note_to_meta(n, 0.0))
             for n in recorded("v1/iclr-2020/forum-accepted.json")["response"]["json"]["notes"]}
    assert found["u4lGEyBWi5n"] == Exists(forum)  # a public comment with a title of its own
    assert found["EE4Ml5hZtI"] == Exists(forum)  # the decision, titled too
    assert isinstance(found["ryxyCeHtPB"], Known) and found["ryxyCeHtPB"].meta.title == "Synthetic title text 13."


# --- the source against the recorded answers -------------------------------------------------------------------


@dataclass
class Replay:
    """Both APIs answering from the recordings: a note by id as recorded, with its file's headers; on API 2 an id
    it does not hold gets the recorded `404 NotFoundError` (for another id: that answer with the id replaced);
    `challenged` paths of API 2 get the recorded browser check. API 1 answers only the notes it holds."""

    files: tuple[str, ...] = ()
    challenged: frozenset[str] = frozenset()  # "/notes", "/login"
    unnamed: bool = False  # the 404 without `details`: it names no note of the batch
    held: dict[str, dict[str, tuple[dict, dict]]] = field(default_factory=dict)  # host -> id -> (note, headers)
    asked: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (host, ids) per notes request
    logins: Counter = field(default_factory=Counter)
    tokens: list[tuple[str, str]] = field(default_factory=list)  # (host, Authorization) per notes request

    def __post_init__(self) -> None:
        for name in self.files:
            answer = recorded(name)
            host = urlsplit(answer["request"]["url"]).hostname
            for note in answer["response"]["json"]["notes"]:
                self.held.setdefault(host, {})[note["id"]] = (note, answer["response"]["headers"])

    def handle(self, request: Request) -> Reply:
        path = urlsplit(request.path)
        if request.host == API2 and path.path in self.challenged:
            return replayed(recorded("v2/errors/anonymous-challenge.json")["response"])
        if request.method == "POST" and path.path == "/login":
            self.logins[request.host] += 1
            token = {"token": f"made-up-token-{request.host}", "user": {"id": ENVIRON["OPENREVIEW_USERNAME"]}}
            return Reply(200, json.dumps(token).encode(), {"content-type": "application/json; charset=utf-8"})
        ids = tuple(i for v in parse_qs(path.query).get("ids", []) for i in v.split(",") if i)
        self.asked.append((request.host, ids))
        self.tokens.append((request.host, next((v for k, v in request.headers.items() if k.lower() == "authorization"),
                                               "")))
        held = self.held.get(request.host, {})
        missing = [i for i in ids if i not in held]
        if missing and request.host == API2:
            answer = json.loads(json.dumps(recorded(NOT_FOUND)["response"]).replace(NOT_FOUND_ID, missing[0]))
            if self.unnamed:
                del answer["json"]["details"]
            return replayed(answer)
        found = [held[i] for i in ids if i in held]
        headers = found[0][1] if found else {"content-type": "application/json; charset=utf-8"}
        return Reply(200, json.dumps({"notes": [n for n, _ in found], "count": len(found)}).encode(), dict(headers))


def lookup(site: Replay, refs: list[PaperRef], settings) -> tuple[dict | SourceUnavailable, OpenReviewSource]:
    credentials = Credentials.from_environment(environ=ENVIRON)
    transport = InProcess(site)

    async def go():
        async with ClientPool(settings, transport_factory=lambda limits: transport, credentials=credentials) as pool:
            source = OpenReviewSource(pool.client, credentials)
            try:
                return await source.lookup_all(refs), source
            except SourceUnavailable as exc:
                return exc, source

    return asyncio.run(go())


V2_FILES = ("v2/iclr-2024/notes-accepted.json", "v2/iclr-2024/notes-withdrawn.json",
            "v2/iclr-2024/notes-desk-rejected.json", "v2/iclr-2024/notes-tinypapers.json",
            "v2/neurips-2024/notes-presentation-conference.json", "v2/iclr-2025/notes-workshop-rejected.json")
V1_FILES = ("v1/iclr-2017/note-authors-string-live.json", "v1/iclr-2017/notes-conference-authors-string.json",
            "v1/iclr-2017/notes-workshop-authors-and.json", "v1/iclr-2020/forum-accepted.json",
            "v1/iclr-2022/note-withdrawn-empty-venueid.json", "v1/iclr-2023/note-desk-rejected.json",
            "v1/neurips-2022/note-accepted.json")


def test_recorded_notes_of_both_apis_are_found_by_id(make_settings):
    site = Replay(V2_FILES + V1_FILES)
    refs = [PaperRef("openreview", "rhgIgTSSxW", year=2024), PaperRef("openreview", "IDn9SiKgLy", year=2024),
            PaperRef("openreview", "p8GJzu52XL", year=2024), PaperRef("openreview", "S1HEBe_Jl", year=2017),
            PaperRef("openreview", "H1JBMVpdx", year=2017), PaperRef("openreview", "09QFnDWPF8", year=2022)]
    found, source = lookup(site, refs, make_settings())
    assert {i: (m.title, m.venue, m.year) for i, m in found.items()} == {
        "rhgIgTSSxW": ("Synthetic title text 1.", "ICLR 2024 poster", 2024),
        "IDn9SiKgLy": ("Synthetic title text 63.", "NeurIPS 2024 spotlight", 2024),
        "p8GJzu52XL": ("Synthetic title text 1.", "Tiny Papers @ ICLR 2024 Archive", 2024),
        "S1HEBe_Jl": ("Synthetic title text 11.", "Submitted to ICLR 2017", 2017),
        "H1JBMVpdx": ("Synthetic title text 30.", "ICLR 2017 Invite to Workshop", 2017),
        "09QFnDWPF8": ("Synthetic title text 1.", "NeurIPS 2022 Accept", 2022),
    }
    assert found["S1HEBe_Jl"].authors == ("Synthetic Author 6", "Synthetic Author 7")
    assert found["H1JBMVpdx"].authors == ("Synthetic Author 23", "Synthetic Author 24", "Synthetic Author 25")
    assert site.logins == {API2: 1, API1: 1} and source.logins == 2
    assert site.asked == [(API2, ("rhgIgTSSxW", "IDn9SiKgLy", "p8GJzu52XL")),
                          (API1, ("S1HEBe_Jl", "H1JBMVpdx", "09QFnDWPF8"))]
    assert site.tokens == [(API2, f"Bearer made-up-token-{API2}"), (API1, f"Bearer made-up-token-{API1}")]


def test_an_iclr_2023_note_is_asked_of_api_2_and_found_on_api_1(make_settings):
    # ICLR 2023 stayed on API 1: API 2 answers its notes 404 NotFoundError, as recorded for another API 1 note.
    site = Replay(V2_FILES + V1_FILES)
    found, _ = lookup(site, [PaperRef("openreview", "7HSHJQwkna0", year=2023)], make_settings())
    assert (found["7HSHJQwkna0"].title, found["7HSHJQwkna0"].year) == ("Synthetic title text 1.", 2023)
    assert found["7HSHJQwkna0"].authors == ("Synthetic Author 4", "Synthetic Author 5")
    assert site.asked == [(API2, ("7HSHJQwkna0",)), (API1, ("7HSHJQwkna0",))]


def test_an_iclr_2023_entrys_note_is_asked_of_api_1_first(make_settings):
    site = Replay(V2_FILES + V1_FILES)
    found, _ = lookup(site, [PaperRef("openreview", "7HSHJQwkna0", venue="ICLR", year=2023)], make_settings())
    assert found["7HSHJQwkna0"].title == "Synthetic title text 1."
    assert site.asked == [(API1, ("7HSHJQwkna0",))] and site.logins == {API1: 1}


def test_api_2s_not_found_naming_a_note_asks_the_batchs_others_again_then_api_1(make_settings):
    site = Replay(V2_FILES + V1_FILES)
    refs = [PaperRef("openreview", "7HSHJQwkna0", year=2023), PaperRef("openreview", "fG9WttDhAaa"),
            PaperRef("openreview", "rhgIgTSSxW", year=2024)]
    found, _ = lookup(site, refs, make_settings())
    assert [found[r.id].year for r in refs] == [2023, 2022, 2024]
    # Each 404 names one missing note (`details.value`): one request more per API 1 note, not halves.
    assert site.asked == [(API2, ("7HSHJQwkna0", "fG9WttDhAaa", "rhgIgTSSxW")), (API2, ("fG9WttDhAaa", "rhgIgTSSxW")),
                          (API2, ("rhgIgTSSxW",)), (API1, ("7HSHJQwkna0", "fG9WttDhAaa"))]


def test_api_2s_not_found_naming_no_note_of_the_batch_is_asked_by_halves(make_settings):
    site = Replay(V2_FILES + V1_FILES, unnamed=True)
    refs = [PaperRef("openreview", "7HSHJQwkna0", year=2023), PaperRef("openreview", "fG9WttDhAaa"),
            PaperRef("openreview", "rhgIgTSSxW", year=2024)]
    found, _ = lookup(site, refs, make_settings())
    assert [found[r.id].year for r in refs] == [2023, 2022, 2024]
    assert site.asked == [(API2, ("7HSHJQwkna0", "fG9WttDhAaa", "rhgIgTSSxW")), (API2, ("7HSHJQwkna0",)),
                          (API2, ("fG9WttDhAaa", "rhgIgTSSxW")), (API2, ("fG9WttDhAaa",)), (API2, ("rhgIgTSSxW",)),
                          (API1, ("7HSHJQwkna0", "fG9WttDhAaa"))]


def test_the_recorded_not_found_answer_settles_nothing_but_that_api(make_settings):
    site = Replay(V2_FILES)  # API 1 holds none of them
    found, source = lookup(site, [PaperRef("openreview", NOT_FOUND_ID)], make_settings())
    assert found == {NOT_FOUND_ID: None}  # neither API returned it: `broken`, by the one rule
    assert site.asked == [(API2, (NOT_FOUND_ID,)), (API1, (NOT_FOUND_ID,))]
    assert source._down is None


def test_a_browser_check_instead_of_notes_makes_the_source_unavailable_in_one_line(make_settings):
    site = Replay(V2_FILES, challenged=frozenset({"/notes"}))
    refs = [PaperRef("openreview", "rhgIgTSSxW", year=2024), PaperRef("openreview", "S1HEBe_Jl", year=2017)]
    answer, source = lookup(site, refs, make_settings())
    assert isinstance(answer, SourceUnavailable) and answer.reason == CHALLENGE
    assert str(answer) == f"openreview unavailable: {CHALLENGE}" and "\n" not in str(answer)
    assert answer.partial == {} and site.logins == {API2: 1}  # API 1 is not asked once API 2 challenged
    with pytest.raises(SourceUnavailable, match="browser check"):  # and nothing more is sent this run
        asyncio.run(source.lookup_all(refs))
    assert source.requests_sent == 2


def test_a_browser_check_instead_of_a_login_makes_the_source_unavailable_in_one_line(make_settings):
    site = Replay(V2_FILES, challenged=frozenset({"/login"}))
    answer, source = lookup(site, [PaperRef("openreview", "rhgIgTSSxW", year=2024)], make_settings())
    assert isinstance(answer, SourceUnavailable) and answer.reason == CHALLENGE
    assert "refused" not in answer.reason and "made-up-password" not in answer.reason
    assert site.asked == [] and source.requests_sent == 1


def test_the_loopback_fake_answers_an_unsigned_api_2_read_with_the_recorded_browser_check(web, make_settings):
    class Forgetful(FakeOpenReview):  # a login whose token API 2 does not honour: the read is an anonymous one
        def _login(self, request):
            reply = super()._login(request)
            self._tokens.clear()
            return reply

    fake = Forgetful(notes=[Note("rhgIgTSSxW", "T", ("A B",), "ICLR 2024 poster", "ICLR.cc/2024/Conference")],
                     accounts={"robot@example.org": "made-up-password"}).install(web)
    credentials = Credentials.from_environment(environ=ENVIRON)

    async def go():
        async with ClientPool(make_settings(), transport_factory=lambda limits: RoutingTransport(web.port, limits),
                              credentials=credentials) as pool:
            with pytest.raises(SourceUnavailable) as caught:
                await OpenReviewSource(pool.client, credentials).lookup_all([PaperRef("openreview", "rhgIgTSSxW")])
            return caught.value

    assert asyncio.run(go()).reason == CHALLENGE
    assert fake.notes_requests == {API2: 1} and fake.asked == []
