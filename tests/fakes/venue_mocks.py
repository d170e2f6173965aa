"""Fake venue sites for the source tests: respx answers every request of a source from its site's fixtures.

A site is a function from request to response: `fixtures(route, not_found)` builds one from a fixture map
(`route(path_with_query)` -> a file served with 200, else the site's 404 page); a test whose site needs the
host or a redirect writes its own. `run(make_source, body, site, overrides)` runs `body(source)` against
it, with `overrides` (a URL, or a path with its query -> a response or an exception) answered first, and
returns the result, the source and every URL requested, so tests can count requests per listing.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import respx

from crawler.errors import SourceUnavailable
from tests import paths

FIXTURES = paths.FIXTURES
_TLS = ssl.create_default_context()  # built once: loading CA certificates per client costs ~50 ms

Override = httpx.Response | Exception
Route = Callable[[str], Path | None]
Site = Callable[[httpx.Request], httpx.Response]
S = TypeVar("S")


def html(path: Path, status: int = 200) -> httpx.Response:
    return httpx.Response(status, html=path.read_text(encoding="utf-8"))


def _target(request: httpx.Request) -> str:
    return request.url.raw_path.decode("ascii")  # path and query, as a server sees them


def fixtures(route: Route, not_found: Path | None = None) -> Site:
    """A site that serves `route(path_with_query)` with 200, and anything it does not map with its 404 page."""

    def answer(request: httpx.Request) -> httpx.Response:
        file = route(_target(request))
        if file is None or not file.is_file():
            if not_found is not None:
                return html(not_found, 404)
            return httpx.Response(404, html="<html><head><title>404 Not Found</title></head></html>")
        return html(file)

    return answer


def run(
    make_source: Callable[[httpx.AsyncClient], S],
    body: Callable[[S], Awaitable[Any]],
    site: Site,
    overrides: dict[str, Override] | None = None,
) -> tuple[Any, S, list[str]]:
    """Run `body(source)` against the fake; return its result, the source and every URL requested."""
    overrides = overrides or {}

    def answer(request: httpx.Request) -> httpx.Response:
        found = overrides.get(str(request.url), overrides.get(_target(request)))
        if isinstance(found, Exception):
            raise found
        return found if found is not None else site(request)

    with respx.mock(assert_all_called=False) as router:
        router.route().mock(side_effect=answer)

        async def main() -> tuple[Any, S]:
            async with httpx.AsyncClient(verify=_TLS, timeout=5) as client:
                source = make_source(client)
                return await body(source), source

        result, source = asyncio.run(main())
        return result, source, [str(call.request.url) for call in router.calls]


async def refusals(*calls: Awaitable[Any]) -> list[SourceUnavailable]:
    """Await each call in turn; the SourceUnavailable each one raised (a call that answers adds nothing)."""
    caught = []
    for call in calls:
        try:
            await call
        except SourceUnavailable as exc:
            caught.append(exc)
    return caught


def recased(title: str) -> str:
    """A title as another site or a list writes it: every word capitalised (case must not matter)."""
    return " ".join(w[:1].upper() + w[1:] for w in title.split())
