"""PageFetcher: one GET per URL, scoped failures, a refusing site asked no more, bounded concurrency.

Against a loopback FakeWeb (real sockets, real timeouts) rather than respx, so concurrency and timeouts are
those of an actual server.
"""

from __future__ import annotations

import asyncio
import threading
import time

import httpx
import pytest

from crawler.errors import SourceUnavailable
from crawler.models import PaperMeta
from crawler.sources.pages import PageFetcher, looks_like_challenge
from tests.fakes.venue_mocks import refusals
from tests.fakes.web import FakeWeb, InProcess, Reply, RoutingTransport

OWN = "//dt[@class='ptitle']"
PAGE = b"<html><body><dt class='ptitle'><a href='/p.php'>A paper</a></dt></body></html>"


def fetch_all(web: FakeWeb, urls: list[tuple[str, str]], *, concurrency: int = 2, timeout: float = 5.0):
    """GET each (url, scope) concurrently through one fetcher; return answers (Page or exception)."""

    async def main():
        transport = RoutingTransport(web.port)
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            fetcher = PageFetcher("site", client, own_content=OWN, concurrency=concurrency)
            answers = await asyncio.gather(*(fetcher.get(u, s) for u, s in urls), return_exceptions=True)
            return answers, fetcher

    return asyncio.run(main())


def with_fetcher(web: FakeWeb, body, **options):
    """Run `body(fetcher)` with one fetcher on a client routed to the loopback web."""

    async def main():
        async with httpx.AsyncClient(transport=RoutingTransport(web.port), timeout=5) as client:
            return await body(PageFetcher("site", client, **options))

    return asyncio.run(main())


def test_each_url_is_fetched_once_however_many_ask(web: FakeWeb):
    web.add("https://site.example/list", Reply(200, PAGE, {"Content-Type": "text/html"}, delay=0.05))
    answers, fetcher = fetch_all(web, [("https://site.example/list", "X 2020")] * 5)
    assert all(a.found and "A paper" in a.text for a in answers)
    assert len(web.requests_to("site.example")) == 1 and fetcher.requests_sent == 1


def test_at_most_concurrency_requests_are_in_flight(web: FakeWeb):
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def slow(request):
        with lock:
            state["now"] += 1
            state["most"] = max(state["most"], state["now"])
        time.sleep(0.05)
        with lock:
            state["now"] -= 1
        return Reply(200, PAGE, {"Content-Type": "text/html"})

    web.host("site.example", slow)
    answers, _ = fetch_all(web, [(f"https://site.example/{i}", "") for i in range(8)], concurrency=2)
    assert all(not isinstance(a, Exception) for a in answers)
    assert state["most"] == 2


def test_404_is_an_answer_and_5xx_or_a_timeout_is_unavailable_for_the_callers_scope(web: FakeWeb):
    web.add("https://site.example/gone", Reply(404, b"<title>Not Found</title>"))
    web.add("https://site.example/broken", Reply(500, b"oops"))
    web.add("https://site.example/slow", Reply(200, PAGE, delay=1.0))
    answers, _ = fetch_all(web, [("https://site.example/gone", "A 2020"), ("https://site.example/broken", "B 2021"),
                                 ("https://site.example/broken", "C 2022"), ("https://site.example/slow", "D 2023")],
                           timeout=0.3)
    gone, broken_b, broken_c, slow = answers
    assert gone.status == 404 and not gone.found
    assert isinstance(broken_b, SourceUnavailable) and broken_b.scope == "B 2021" and "HTTP 500" in broken_b.reason
    assert isinstance(broken_c, SourceUnavailable) and broken_c.scope == "C 2022"  # same failure, asker's scope
    assert isinstance(slow, SourceUnavailable) and slow.scope == "D 2023" and "timeout" in slow.reason
    assert len([r for r in web.requests_to("site.example") if r[2] == "/broken"]) == 1


def test_a_refusing_site_is_asked_nothing_more(web: FakeWeb):
    web.add("https://site.example/first", Reply(429, b"Too Many Requests", {"Retry-After": "60"}))
    web.add("https://site.example/second", Reply(200, PAGE))

    def body(fetcher: PageFetcher):
        return refusals(*(fetcher.get(u, "X 2020") for u in ("https://site.example/first", "https://site.example/second")))

    caught = with_fetcher(web, body)
    assert [exc.scope for exc in caught] == ["", ""] and "rate limited" in caught[1].reason
    assert [r[2] for r in web.requests_to("site.example")] == ["/first"]


def test_a_challenge_served_with_200_is_caught_but_the_sites_own_content_is_not(web: FakeWeb):
    wall = b"<html><head><title>Just a moment...</title></head><body>Verify you are human</body></html>"
    about_captchas = PAGE.replace(b"A paper", b"Verify you are human: CAPTCHA solvers")
    web.add("https://site.example/wall", Reply(200, wall))
    web.add("https://site.example/paper", Reply(200, about_captchas))
    answers, _ = fetch_all(web, [("https://site.example/paper", ""), ("https://site.example/wall", "")],
                           concurrency=1)
    assert answers[0].found
    assert isinstance(answers[1], SourceUnavailable) and "challenge" in answers[1].reason


def test_offline_fetcher_raises_without_a_client():
    fetcher = PageFetcher("site", None)
    with pytest.raises(SourceUnavailable) as caught:
        asyncio.run(fetcher.get("https://site.example/", "X 2020"))
    assert caught.value.scope == "" and fetcher.requests_sent == 0


def test_a_page_with_the_sites_own_content_is_never_a_challenge_whatever_its_title_or_widgets():
    # A paper page's <title> is the paper's; a comment form may carry a captcha widget.
    page = ("<html><head><title>Breaking CAPTCHAs at scale</title></head><body><dt class='ptitle'>x</dt>"
            "<div class='g-recaptcha'></div></body></html>")
    assert not looks_like_challenge(page, OWN)
    assert looks_like_challenge(page)  # the same page without knowing the site's markup


def test_404_is_an_answer_whatever_its_body_and_a_challenge_with_503_refuses_the_site(web: FakeWeb):
    wall = b"<html><head><title>Just a moment...</title></head><body></body></html>"
    web.add("https://site.example/gone", Reply(404, wall))
    web.add("https://site.example/busy", Reply(503, b"<html><body>Service Unavailable</body></html>"))
    web.add("https://site.example/walled", Reply(503, wall))
    web.add("https://site.example/after", Reply(200, PAGE))

    async def body(fetcher: PageFetcher):
        gone = await fetcher.get("https://site.example/gone", "A 2020")
        urls = [f"https://site.example/{p}" for p in ("busy", "walled", "after")]
        return gone, await refusals(*(fetcher.get(u, "B 2021") for u in urls))

    gone, (busy, walled, after) = with_fetcher(web, body, own_content=OWN)
    assert gone.status == 404 and not gone.found
    assert busy.scope == "B 2021" and "HTTP 503" in busy.reason
    assert walled.scope == after.scope == "" and "challenge page (HTTP 503)" in walled.reason
    assert [r[2] for r in web.requests_to("site.example")] == ["/gone", "/busy", "/walled"]  # not /after


def test_a_truncated_page_is_unavailable_for_the_callers_scope(web: FakeWeb):
    web.add("https://site.example/cut", Reply(200, PAGE.removesuffix(b"</body></html>")))

    async def body(fetcher: PageFetcher):
        return await refusals(fetcher.get("https://site.example/cut", "X 2020"))

    [cut] = with_fetcher(web, body, own_content=OWN)
    assert cut.scope == "X 2020" and "truncated" in cut.reason


def test_paper_reads_the_page_it_was_redirected_to_and_scopes_a_page_that_is_no_paper():
    # In-process rather than on the loopback web: RoutingTransport rewrites the URLs a response reports.
    html = {"Content-Type": "text/html; charset=utf-8"}
    pages = {
        "https://old.example/p/1": Reply(301, headers={"Location": "https://site.example/papers/1.html"}),
        "https://site.example/papers/1.html": Reply(200, PAGE, html),
        "https://site.example/papers/2.html": Reply(200, b"<html><body>Maintenance</body></html>", html),
    }
    site = InProcess(lambda request: pages.get(request.url, Reply(404)))

    def parse(html: str, url: str) -> PaperMeta:
        if "ptitle" not in html:
            raise ValueError(f"not a paper page at {url}")
        return PaperMeta(source="site", title="A paper", url=url)

    async def main():
        async with httpx.AsyncClient(transport=site) as client:
            fetcher = PageFetcher("site", client, clock=lambda: 1234.0)
            found = await fetcher.paper("https://old.example/p/1", parse, "X 2020")
            missing = await fetcher.paper("https://site.example/papers/3.html", parse, "X 2020")
            return found, missing, await refusals(fetcher.paper("https://site.example/papers/2.html", parse, "Y 2021"))

    found, missing, [odd] = asyncio.run(main())
    assert found == PaperMeta(source="site", title="A paper", url="https://site.example/papers/1.html",
                              fetched_at=1234.0)
    assert missing is None  # a 404
    assert odd.scope == "Y 2021" and "not a paper page" in odd.reason
