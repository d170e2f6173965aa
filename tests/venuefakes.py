"""Fake venue sites for the source tests: respx answers every request from a fixture map.

`serve(route, overrides)` builds a respx side effect: `overrides` (path+query -> a response or an
exception) first, then `route(path_with_query)` -> a fixture file served with 200, else the site's 404.
`run(make_source, body, ...)` runs `body(source)` against it and returns the result, the source and every
URL requested, so tests can count requests per listing.
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import respx

FIXTURES = Path(__file__).parent / "fixtures"
_TLS = ssl.create_default_context()  # built once: loading CA certificates per client costs ~50 ms

Override = httpx.Response | Exception
Route = Callable[[str], Path | None]
S = TypeVar("S")


def html(path: Path, status: int = 200) -> httpx.Response:
    return httpx.Response(status, html=path.read_text(encoding="utf-8"))


def serve(route: Route, overrides: dict[str, Override], not_found: Path | None = None):
    def answer(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode("ascii")  # path and query, as a server sees them
        if target in overrides:
            found = overrides[target]
            if isinstance(found, Exception):
                raise found
            return found
        file = route(target)
        if file is None or not file.is_file():
            if not_found is not None:
                return html(not_found, 404)
            return httpx.Response(404, html="<html><head><title>404 Not Found</title></head></html>")
        return html(file)

    return answer


def run(
    make_source: Callable[[httpx.AsyncClient], S],
    body: Callable[[S], Awaitable[Any]],
    route: Route,
    overrides: dict[str, Override] | None = None,
    not_found: Path | None = None,
) -> tuple[Any, S, list[str]]:
    """Run `body(source)` against the fake; return its result, the source and every URL requested."""
    with respx.mock(assert_all_called=False) as router:
        router.route().mock(side_effect=serve(route, overrides or {}, not_found))

        async def main() -> tuple[Any, S]:
            async with httpx.AsyncClient(verify=_TLS, timeout=5) as client:
                source = make_source(client)
                return await body(source), source

        result, source = asyncio.run(main())
        return result, source, [str(call.request.url) for call in router.calls]


def recased(title: str) -> str:
    """A title as another site or a list writes it: every word capitalised (case must not matter)."""
    return " ".join(w[:1].upper() + w[1:] for w in title.split())
