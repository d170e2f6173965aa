"""crawler.sources.wayback: the availability API's answers, parsed, and the one request, against fakes.

The answers are written in the API's real format (archive.org/help/wayback_api.php, and what it is seen to
send: string statuses, http:// snapshot URLs, an empty `archived_snapshots` when busy, HTML when down).
"""

import asyncio
from urllib.parse import parse_qs

import httpx
import pytest
import respx

from crawler.errors import SourceUnavailable
from crawler.sources.wayback import (
    API_URL,
    MAX_BODY,
    Snapshot,
    closest_snapshot,
    parse_availability,
    query_params,
    wayback_timestamp,
)
from tests.fakes.wayback import FakeWayback, answer, capture
from tests.fakes.web import RoutingTransport

DOCUMENTED = """{
    "archived_snapshots": {
        "closest": {
            "available": true,
            "url": "http://web.archive.org/web/20130919044612/http://example.com/",
            "timestamp": "20130919044612",
            "status": "200"
        }
    }
}"""


# -- the parser ----------------------------------------------------------------------------------------
def test_the_documented_answer_gives_its_snapshot_over_https():
    assert parse_availability(DOCUMENTED) == Snapshot(
        url="https://web.archive.org/web/20130919044612/http://example.com/", timestamp="20130919044612", status=200)


def test_no_capture_is_no_suggestion():
    assert parse_availability('{"archived_snapshots":{}}') is None  # the documented "not available"
    assert parse_availability(answer("https://lab.example.edu/project", None)) is None


@pytest.mark.parametrize("status", ["404", "302", "301", "500", "-", ""])
def test_a_capture_of_an_error_or_a_redirect_is_no_copy_of_the_page(status):
    text = answer("https://lab.example.edu/p", capture("https://lab.example.edu/p", status=status))
    assert parse_availability(text) is None


def test_an_unavailable_capture_is_no_suggestion():
    text = answer("https://lab.example.edu/p", capture("https://lab.example.edu/p", available=False))
    assert parse_availability(text) is None


def test_only_a_wayback_address_is_ever_suggested():
    closest = {**capture("https://lab.example.edu/p"), "url": "https://evil.example/web/20210304050607/x"}
    assert parse_availability(answer("https://lab.example.edu/p", closest)) is None
    closest = {**capture("https://lab.example.edu/p"), "url": "javascript:alert(1)"}
    assert parse_availability(answer("https://lab.example.edu/p", closest)) is None


def test_a_snapshot_of_a_url_with_a_query_keeps_it():
    original = "https://lab.example.edu/view.php?id=7&lang=en"
    snap = parse_availability(answer(original, capture(original)))
    assert snap is not None and snap.url == f"https://web.archive.org/web/20210304050607/{original}"


@pytest.mark.parametrize("text", [
    "<html><head><title>503 Service Temporarily Unavailable</title></head></html>",
    '{"archived_snapshots": {"closest": {"available": tr',  # cut off mid-answer
    '["archived_snapshots"]',
    '{"url": "https://x.example/"}',
    '{"archived_snapshots": {"closest": "none"}}',
    "",
])
def test_what_is_not_an_answer_is_an_error(text):
    with pytest.raises(ValueError):
        parse_availability(text)


def test_the_request_parameters():
    assert query_params("https://lab.example.edu/") == {"url": "https://lab.example.edu"}
    assert query_params("https://lab.example.edu/project/") == {"url": "https://lab.example.edu/project/"}
    assert query_params("https://x.example/p", near=1379566000.0) == {"url": "https://x.example/p",
                                                                      "timestamp": "20130919044640"}
    assert wayback_timestamp(0) == "19700101000000"


# -- the request, through respx ------------------------------------------------------------------------
def ask(url: str, **kw):
    async def go():
        async with httpx.AsyncClient() as client:
            return await closest_snapshot(client, url, timeout=2.0, **kw)

    return asyncio.run(go())


@respx.mock(using="httpx", assert_all_mocked=True)
def test_one_request_with_the_url_encoded_and_the_snapshot_back(respx_mock):
    original = "https://lab.example.edu/view.php?id=7&lang=en"
    route = respx_mock.get(API_URL).mock(return_value=httpx.Response(200, text=answer(original, capture(original))))
    assert ask(original) == f"https://web.archive.org/web/20210304050607/{original}"
    assert route.call_count == 1
    sent = route.calls.last.request.url
    assert parse_qs(sent.query.decode()) == {"url": [original]}  # its & and = did not leak into our query
    assert "lang=en" not in sent.query.decode().split("&")


@respx.mock(using="httpx", assert_all_mocked=True)
def test_an_empty_answer_is_none_and_not_an_error(respx_mock):
    respx_mock.get(API_URL).mock(return_value=httpx.Response(200, json={"url": "x", "archived_snapshots": {}}))
    assert ask("https://lab.example.edu/gone") is None


@pytest.mark.parametrize("response, reason", [
    (httpx.Response(503, text="<html><title>503 Service Temporarily Unavailable</title></html>"), "HTTP 503"),
    (httpx.Response(429, text="Too Many Requests"), "rate limited"),
    (httpx.Response(502), "HTTP 502"),
    (httpx.Response(200, text="<!DOCTYPE html><title>Internet Archive: maintenance</title>"), "unreadable"),
    (httpx.Response(200, text="x" * (MAX_BODY + 1)), "over"),
])
def test_a_service_that_cannot_answer_is_unavailable(response, reason):
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(API_URL).mock(return_value=response)
        with pytest.raises(SourceUnavailable) as info:
            ask("https://lab.example.edu/gone")
    assert info.value.source == "wayback" and reason in info.value.reason


@pytest.mark.parametrize("error", [httpx.ConnectTimeout("slow"), httpx.ReadTimeout("slow"),
                                   httpx.ConnectError("refused"), httpx.RemoteProtocolError("reset")])
def test_a_network_failure_is_unavailable_never_none(error):
    with respx.mock(using="httpx", assert_all_mocked=True) as mock:
        mock.get(API_URL).mock(side_effect=error)
        with pytest.raises(SourceUnavailable):
            ask("https://lab.example.edu/gone")


# -- the request, against a loopback Wayback -----------------------------------------------------------
@pytest.fixture
def wayback(web):
    fake = FakeWayback({
        "https://lab.example.edu/project": [("20190101000000", "200"), ("20240601000000", "404")],
        "https://lab.example.edu/only-a-404": [("20240601000000", "404")],
    })
    web.host("archive.org", fake)
    return fake


def ask_loopback(web, url, timeout=2.0, **kw):
    async def go():
        async with httpx.AsyncClient(transport=RoutingTransport(web.port)) as client:
            return await closest_snapshot(client, url, timeout=timeout, **kw)

    return asyncio.run(go())


def test_a_dead_project_page_gets_its_copy_from_before_it_died(web, wayback):
    before_death = 1_546_300_800.0  # 2019-01-01, when the page was last seen healthy
    got = ask_loopback(web, "https://lab.example.edu/project", near=before_death)
    assert got == "https://web.archive.org/web/20190101000000/https://lab.example.edu/project"
    assert wayback.asked == [{"url": "https://lab.example.edu/project", "timestamp": "20190101000000"}]
    # Asked for the newest capture, the archive has only the 404 it saw after the page died: no suggestion.
    assert ask_loopback(web, "https://lab.example.edu/project") is None
    assert ask_loopback(web, "https://lab.example.edu/only-a-404") is None
    assert ask_loopback(web, "https://lab.example.edu/never-archived") is None


def test_a_busy_archive_gives_none_and_a_down_or_slow_one_is_unavailable(web, wayback):
    wayback.mode = "busy"
    assert ask_loopback(web, "https://lab.example.edu/project", near=1_546_300_800.0) is None
    wayback.mode = "down"
    with pytest.raises(SourceUnavailable, match="HTTP 503"):
        ask_loopback(web, "https://lab.example.edu/project")
    wayback.mode = "slow"
    with pytest.raises(SourceUnavailable, match="timeout after 0.2 s"):
        ask_loopback(web, "https://lab.example.edu/project", timeout=0.2)
