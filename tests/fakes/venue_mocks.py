"""Venue sites for the source tests, served in-process (tests/fakes/web.py's InProcess): no socket.

A site is the toolkit's handler from request to reply: `fixtures(route, not_found)` builds one from a fixture
map (`route(path_with_query)` -> a file served with 200, else the site's 404 page); a test whose site needs the
host or a redirect writes its own. `run(make_source, body, site, overrides)` runs `body(source)` against it,
with `overrides` (a URL, or a path with its query -> a Reply, an httpx.Response or an exception) answered
first, and returns the result, the source and every URL requested, so tests can count requests per listing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from crawler.errors import SourceUnavailable
from tests import paths
from tests.fakes.web import InProcess, Reply, Request, Site, answer

FIXTURES = paths.FIXTURES
HTML = {"Content-Type": "text/html; charset=utf-8"}

Override = Reply | httpx.Response | Exception
Route = Callable[[str], Path | None]
S = TypeVar("S")


def html(path: Path, status: int = 200) -> Reply:
    return Reply(status, path.read_text(encoding="utf-8").encode("utf-8"), dict(HTML))


def fixtures(route: Route, not_found: Path | None = None) -> Site:
    """A site that serves `route(path_with_query)` with 200, and anything it does not map with its 404 page."""

    def serve(request: Request) -> Reply:
        file = route(request.path)
        if file is None or not file.is_file():
            if not_found is not None:
                return html(not_found, 404)
            return Reply(404, b"<html><head><title>404 Not Found</title></head></html>", dict(HTML))
        return html(file)

    return serve


def _as_reply(found: Reply | httpx.Response) -> Reply:
    if isinstance(found, Reply):
        return found
    return Reply(found.status_code, found.content, dict(found.headers))


def run(
    make_source: Callable[[httpx.AsyncClient], S],
    body: Callable[[S], Awaitable[Any]],
    site: Site,
    overrides: dict[str, Override] | None = None,
) -> tuple[Any, S, list[str]]:
    """Run `body(source)` against the site; return its result, the source and every URL requested."""
    overrides = overrides or {}

    def overridden(request: Request) -> Reply:
        found = overrides.get(request.url, overrides.get(request.path))
        if isinstance(found, Exception):
            raise found
        return _as_reply(found) if found is not None else answer(site, request)

    transport = InProcess(overridden)

    async def main() -> tuple[Any, S]:
        async with httpx.AsyncClient(transport=transport, timeout=5) as client:
            source = make_source(client)
            return await body(source), source

    result, source = asyncio.run(main())
    return result, source, [r.url for r in transport.requests]


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
