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
from fakeweb import FakeWeb, Reply, RoutingTransport

from crawler.errors import SourceUnavailable
from crawler.sources.pages import PageFetcher

PAGE = b"<html><body><dt class='ptitle'><a href='/p.php'>A paper</a></dt></body></html>"


def fetch_all(web: FakeWeb, urls: list[tuple[str, str]], *, concurrency: int = 2, timeout: float = 5.0):
    """GET each (url, scope) concurrently through one fetcher; return answers (Page or exception)."""

    async def main():
        transport = RoutingTransport(web.port)
        async with httpx.AsyncClient(transport=transport, timeout=timeout) as client:
            fetcher = PageFetcher("site", client, own_content="//dt[@class='ptitle']", concurrency=concurrency)
            answers = await asyncio.gather(*(fetcher.get(u, s) for u, s in urls), return_exceptions=True)
            return answers, fetcher

    return asyncio.run(main())


def test_each_url_is_fetched_once_however_many_ask(web: FakeWeb):
    web.add("https://site.example/list", Reply(200, PAGE, {"Content-Type": "text/html"}, delay=0.05))
    answers, fetcher = fetch_all(web, [("https://site.example/list", "X 2020")] * 5)
    assert all(a.found and "A paper" in a.text for a in answers)
    assert len(web.requests_to("site.example")) == 1 and fetcher.requests_sent == 1


def test_at_most_concurrency_requests_are_in_flight(web: FakeWeb):
    lock = threading.Lock()
    state = {"now": 0, "most": 0}

    def slow(method, host, path, headers):
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

    async def main():
        async with httpx.AsyncClient(transport=RoutingTransport(web.port), timeout=5) as client:
            fetcher = PageFetcher("site", client)
            caught = []
            for url in ("https://site.example/first", "https://site.example/second"):
                try:
                    await fetcher.get(url, "X 2020")
                except SourceUnavailable as exc:
                    caught.append(exc)
            return caught

    caught = asyncio.run(main())
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
