"""crawler.sources.openreview: which links, the notes of both APIs, logins, batches, and what refusals mean.

The source runs against tests/fakes/openreview.py on loopback, through a real ClientPool (its credentials
and gate); whole runs are in tests/e2e/test_papers_by_id.py.
"""

from __future__ import annotations

import asyncio
import json

import pytest

from crawler.checking.verdicts import source_result
from crawler.errors import SourceUnavailable
from crawler.models import Entry, Link, LinkStatus
from crawler.net.credentials import OPENREVIEW_TOKEN, Credentials
from crawler.net.pool import ClientPool
from crawler.sources.base import Claim, Defer, PaperRef
from crawler.sources.openreview import (
    PAGE,
    PDF_BY_HASH,
    SIGN_IN,
    OpenReviewSource,
    api_for,
    names_paper,
    note_to_meta,
)
from tests import paths
from tests.fakes.openreview import API1, API2, FakeOpenReview, Note
from tests.fakes.web import FakeWeb, RoutingTransport

FIXTURES = paths.FIXTURES / "openreview"
ACCOUNT = {"openreview-username": "reader@example.org", "openreview-password": "right-password"}


@pytest.mark.parametrize(
    ("url", "ident"),
    [
        ("https://openreview.net/forum?id=rJl-b3RcF7", "rJl-b3RcF7"),
        ("https://openreview.net/forum?id=H1oyRlYgg&noteId=H1oyRlYgg", "H1oyRlYgg"),
        ("https://openreview.net/pdf?id=rJl-b3RcF7", "rJl-b3RcF7"),
        ("http://www.openreview.net/pdf?id=B1ckMDqlg", "B1ckMDqlg"),
        ("https://openreview.net/attachment?id=rJl-b3RcF7&name=supplementary_material", "rJl-b3RcF7"),
        ("https://OpenReview.net/forum/?id=rJl-b3RcF7", "rJl-b3RcF7"),
        ("https://openreview.net/pdf/fed763a30898a94daf0c79a480b698875f2cf105.pdf",
         "hash:fed763a30898a94daf0c79a480b698875f2cf105"),
        ("https://openreview.net/group?id=ICLR.cc/2024/Conference", "page:/group"),
        ("https://openreview.net/forum?id=", "page:/forum"),
    ],
)
def test_every_openreview_link_is_claimed_and_named(url: str, ident: str):
    ref = OpenReviewSource(None).ref(url)
    assert ref is not None and ref.id == ident and ref.url == url
    assert names_paper(url) is not ident.startswith("page:")


@pytest.mark.parametrize("url", ["https://api.openreview.net/notes?id=rJl-b3RcF7",  # the API itself: the ordinary check
                                 "https://openreview.net.example.org/forum?id=rJl-b3RcF7",
                                 "ftp://openreview.net/forum?id=rJl-b3RcF7", "https://arxiv.org/abs/1810.04805",
                                 "not a url"])
def test_other_links_are_not_claimed(url: str):
    assert OpenReviewSource(None).ref(url) is None


def test_notes_of_both_apis_read_the_same():
    two = note_to_meta(json.loads((FIXTURES / "note-api2.json").read_text()), 5.0)
    one = note_to_meta(json.loads((FIXTURES / "note-api1.json").read_text()), 5.0)
    assert two.title == one.title
    assert two.title == "CyberV: A Cybernetic Framework for Enhancing Logical Reasoning in Video Understanding"
    assert two.abstract == one.abstract and two.abstract.startswith("Current Multimodal")
    assert (two.venue, two.year) == ("ICLR 2026 Conference Submission", 2026)
    assert (one.venue, one.year) == ("ICLR 2019 Conference Blind Submission", 2019)
    assert two.url == "https://openreview.net/forum?id=00F7BfXLYJ" and two.source == "openreview"
    assert two.fetched_at == 5.0


def test_odd_note_shapes_never_break_reading():
    note = {"id": "abcdefg", "content": {"title": {"value": "T"}, "venue": {"value": ["ICLR 2024", "x"]},
                                         "authors": {"value": ["A B", 7, ""]}}, "cdate": 1_700_000_000_000}
    meta = note_to_meta(note, 0.0)
    assert (meta.venue, meta.year, meta.authors) == ("ICLR 2024", 2024, ("A B",))
    assert note_to_meta({"id": "abcdefg"}, 0.0).year is None and note_to_meta({"no": "id"}, 0.0) is None
    assert note_to_meta({"id": "abcdefg", "content": {}, "cdate": 1_700_000_000_000}, 0.0).year == 2023


def test_the_api_is_chosen_by_the_entrys_year():
    assert api_for(2022) == f"https://{API1}"
    assert api_for(2023) == api_for(None) == f"https://{API2}"
    entry = Entry(line=1, section="ICLR 2019", title="T", venue="ICLR", year=2019, links=())
    ref = OpenReviewSource(None).claim_ref(Claim("k", "https://openreview.net/forum?id=abcdefg", (entry,)))
    assert ref.year == 2019 and api_for(ref.year) == f"https://{API1}"


# --- against the fake ------------------------------------------------------------------------------------------


def notes(n: int, api: str, prefix: str) -> list[Note]:
    return [Note(f"{prefix}{i:05d}", f"Paper {prefix} {i}", ("Ada Lovelace",), "ICLR 2024 Poster",
                 "ICLR.cc/2024/Conference", api=api) for i in range(n)]


def lookup(web: FakeWeb, fake: FakeOpenReview, refs: list[PaperRef], account: dict | None = ACCOUNT, **kw):
    fake.install(web)
    credentials = Credentials(account)

    async def go():
        async with ClientPool(kw.pop("settings"), transport_factory=lambda limits: RoutingTransport(web.port, limits),
                              credentials=credentials) as pool:
            source = OpenReviewSource(pool.client, credentials)
            try:
                return await source.lookup_all(refs), source
            except SourceUnavailable as exc:
                return exc, source

    return asyncio.run(go())


def refs_for(notes_: list[Note], year: int | None = 2024) -> list[PaperRef]:
    return [PaperRef("openreview", n.id, year=year) for n in notes_]


def test_without_an_account_nothing_is_sent(web, make_settings):
    fake = FakeOpenReview(notes=notes(3, API2, "aaaa"))
    answer, source = lookup(web, fake, refs_for(fake.notes), account=None, settings=make_settings())
    assert isinstance(answer, SourceUnavailable) and answer.reason == SIGN_IN
    assert web.log == [] and source.requests_sent == 0


def test_one_login_per_host_and_fifty_notes_a_request(web, make_settings):
    new, old = notes(120, API2, "newer"), notes(60, API1, "older")
    fake = FakeOpenReview(notes=new + old)
    refs = refs_for(new) + refs_for(old, year=2019) + [PaperRef("openreview", "gone00001", year=2024)]
    found, source = lookup(web, fake, refs, settings=make_settings())
    assert all(found[n.id].title == n.title for n in new + old) and found["gone00001"] is None
    assert fake.logins == {API2: 1, API1: 1}
    assert fake.notes_requests == {API2: 3, API1: 2 + 1}  # ceil(121/50), ceil(60/50) and the one left over
    assert max(len(ids) for _, ids in fake.asked) == 50


def test_an_id_the_first_api_lacks_is_asked_of_the_other(web, make_settings):
    moved = Note("movedOld1", "Old Paper", ("Ada Lovelace",), "ICLR 2023 poster", "ICLR.cc/2023/Conference", api=API1)
    fake = FakeOpenReview(notes=[moved])
    found, _ = lookup(web, fake, [PaperRef("openreview", "movedOld1", year=2023)], settings=make_settings())
    assert found["movedOld1"].title == "Old Paper" and found["movedOld1"].year == 2023
    assert [host for host, _ in fake.asked] == [API2, API1]


def test_hashes_and_pages_are_never_asked(web, make_settings):
    fake = FakeOpenReview()
    refs = [PaperRef("openreview", "hash:0123456789abcdef"), PaperRef("openreview", "page:/group")]
    found, source = lookup(web, fake, refs, settings=make_settings())
    assert found == {} and web.log == []


def test_the_token_goes_to_the_host_that_issued_it_only(web, make_settings):
    fake = FakeOpenReview(notes=notes(2, API2, "aaaa") + notes(2, API1, "bbbb"))
    lookup(web, fake, refs_for(fake.notes[:2]) + refs_for(fake.notes[2:], 2019), settings=make_settings())
    for request in web.requests:
        auth = next((v for k, v in request.headers.items() if k.lower() == "authorization"), "")
        if request.path.startswith("/notes"):
            assert auth.startswith(f"Bearer token-{request.host}-")
        else:
            assert auth == ""  # the logins carry the password in their body, nothing in a header
    logins = [r for r in web.requests if r.path == "/login"]
    assert {r.host for r in logins} == {API1, API2}
    assert all(json.loads(r.body) == {"id": "reader@example.org", "password": "right-password"} for r in logins)


def test_a_batch_answered_not_found_is_asked_by_halves(web, make_settings):
    fake = FakeOpenReview(notes=notes(3, API2, "here"))
    original = fake._notes

    def strict(request, query):  # a server that refuses a whole batch when one id is missing
        ids = [i for v in query.get("ids", []) for i in v.split(",")]
        if any(i not in {n.id for n in fake.notes} for i in ids):
            from tests.fakes.openreview import _error
            return _error(404, "NotFoundError", "Note not found")
        return original(request, query)

    fake._notes = strict
    refs = refs_for(fake.notes) + [PaperRef("openreview", "missing01", year=2024)]
    found, _ = lookup(web, fake, refs, settings=make_settings())
    assert [found[n.id].title for n in fake.notes] == [n.title for n in fake.notes]
    assert found["missing01"] is None


def test_verdicts_blocked_broken_and_judged():
    source = OpenReviewSource(None)
    entry = Entry(line=3, section="ICLR", title="Deep Graph Infomax", venue="ICLR", year=2019,
                  links=(Link(url="https://openreview.net/forum?id=rklz9iAcKQ", label="paper", line=3),))
    claim = Claim("https://openreview.net/forum?id=rklz9iAcKQ", entry.links[0].url, (entry,))
    broken = source_result(claim.key, claim.entries, source.verdict(claim, None), 7.0)
    assert broken.status is LinkStatus.BROKEN and "no note rklz9iAcKQ" in broken.error
    for ident, why in (("hash:ab", PDF_BY_HASH), ("page:/group", PAGE), ("rklz9iAcKQ", SIGN_IN)):
        found = source.unsettled(claim, PaperRef("openreview", ident), SIGN_IN)
        blocked = source_result(claim.key, claim.entries, found, 7.0)
        assert blocked.status is LinkStatus.BLOCKED and blocked.error == f"OpenReview: {why}"
        assert not blocked.status.can_die
    assert source.unsettled(claim, PaperRef("openreview", "x"), None) is not Defer.KEEP


def test_the_granted_token_is_the_runs_only():
    credentials = Credentials(ACCOUNT)
    credentials.grant(OPENREVIEW_TOKEN, API2, "tok-made-up")
    assert credentials.value(OPENREVIEW_TOKEN, f"https://{API2}/notes") == "tok-made-up"
    assert credentials.value(OPENREVIEW_TOKEN, f"https://{API1}/notes") is None
    assert Credentials(ACCOUNT).value(OPENREVIEW_TOKEN, f"https://{API2}/notes") is None
