"""Canned answers for single URLs with respx, at the client level, for code that reads raw chunks.

`respx.mock(using="httpx")` answers at httpx's client, in front of any transport (aiohttp or httpcore),
but respx reads each mocked body whole before handing it over, so `Response.aiter_raw()` (how the
Checker reads a capped body) raises httpx.StreamConsumed. `respx.mock(using=STREAMED)` is the same
mocker with every answer given back unread: its body streamed afresh, its routes and calls as usual.
"""

from __future__ import annotations

import httpx
from respx.mocks import HTTPXMocker

STREAMED = "httpx-streamed"


def _unread(response: httpx.Response) -> httpx.Response:
    if not response.is_stream_consumed:
        return response
    return httpx.Response(response.status_code, headers=response.headers, stream=httpx.ByteStream(response.content),
                          extensions=dict(response.extensions))


class _StreamedMocker(HTTPXMocker):
    name = STREAMED

    @classmethod
    def handler(cls, httpx_request):
        return _unread(super().handler(httpx_request))

    @classmethod
    async def async_handler(cls, httpx_request):
        return _unread(await super().async_handler(httpx_request))
