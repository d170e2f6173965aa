"""crawler.net.body.read_capped (the one body reader) and crawler.net.pacing.retry_after (the one Retry-After parser).

Responses are httpx's own, streamed from bytes handed over in chunks, as a transport hands them to the client.
"""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import zlib

import httpx
import pytest

from crawler.errors import BodyTooLarge
from crawler.net.body import read_capped
from crawler.net.pacing import retry_after

PAGE = b"<html><head><title>A paper</title></head><body>" + b"words " * 2000 + b"</body></html>"


class Chunks(httpx.AsyncByteStream):
    """The body in `size`-byte chunks, recording how many were read; `fail` raises after the chunks."""

    def __init__(self, data: bytes, size: int = 1024, fail: Exception | None = None):
        self.chunks = [data[i : i + size] for i in range(0, len(data), size)]
        self.fail = fail
        self.read = 0

    async def __aiter__(self):
        for chunk in self.chunks:
            self.read += 1
            yield chunk
        if self.fail is not None:
            raise self.fail


def read(data: bytes, cap: int, *, encoding: str | None = None, whole: bool = False, **kw) -> tuple[bytes, Chunks]:
    stream = Chunks(data, **kw)
    headers = {"Content-Encoding": encoding} if encoding else {}
    response = httpx.Response(200, headers=headers, stream=stream, request=httpx.Request("GET", "https://a.example/"))
    return asyncio.run(read_capped(response, cap, whole=whole)), stream


@pytest.mark.parametrize("encoding, packed", [
    (None, PAGE), ("gzip", gzip.compress(PAGE)), ("deflate", zlib.compress(PAGE)),
    ("deflate", zlib.compress(PAGE)[2:-4]),  # raw deflate, as some servers send it
])
def test_the_body_is_unpacked_and_cut_at_the_cap(encoding, packed):
    body, _ = read(packed, 100, encoding=encoding)
    assert body == PAGE[:100]
    whole, _ = read(packed, len(PAGE), encoding=encoding, whole=True)
    assert whole == PAGE


def test_the_cap_bounds_what_is_unpacked_and_what_is_read():
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))  # 50 MB in about 50 KB
    body, stream = read(bomb, 64 * 1024, encoding="gzip")
    assert len(body) == 64 * 1024 and stream.read < len(stream.chunks)  # stopped early, never unpacked it all


def test_a_body_that_must_be_whole_and_is_larger_than_the_cap_raises():
    with pytest.raises(BodyTooLarge, match="larger than 100 bytes"):
        read(PAGE, 100, whole=True)
    assert read(PAGE[:100], 100, whole=True)[0] == PAGE[:100]  # exactly the cap is fine


def test_errors_end_a_capped_read_but_reach_a_caller_who_needs_the_whole_body():
    cut = httpx.RemoteProtocolError("peer closed connection without sending complete message body")
    body, _ = read(PAGE[:3000], 10_000, fail=cut)
    assert body == PAGE[:3000]  # what came before the error stands
    with pytest.raises(httpx.RemoteProtocolError):
        read(PAGE[:3000], 10_000, fail=cut, whole=True)
    garbled = b"\x1f\x8b\x08\x00" + b"not gzip at all" * 10
    assert read(garbled, 10_000, encoding="gzip")[0] == b""
    with pytest.raises(httpx.DecodingError):  # what httpx's own decoders raise
        read(garbled, 10_000, encoding="gzip", whole=True)


def test_a_response_read_already_is_taken_as_httpx_unpacked_it():
    response = httpx.Response(200, content=PAGE)  # built from bytes: read on creation
    assert asyncio.run(read_capped(response, 100)) == PAGE[:100]
    with pytest.raises(BodyTooLarge):
        asyncio.run(read_capped(response, 100, whole=True))


def test_retry_after_is_seconds_or_an_http_date():
    now = 1_800_000_000.0
    assert retry_after("120", now) == 120.0 and retry_after(" 1.5 ", now) == 1.5
    assert retry_after(email.utils.formatdate(now + 90, usegmt=True), now) == 90.0
    assert retry_after(email.utils.formatdate(now - 90, usegmt=True), now) == 0.0  # a date past: no wait
    assert [retry_after(v, now) for v in (None, "", "soon", "-5", "1e3")] == [None] * 5
