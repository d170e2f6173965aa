"""Reading an answer's body within a cap: the one reader for every caller (checks, venue pages, the APIs).

A body is read as it comes and never beyond its cap, so a PDF or an endless stream is never read whole.
gzip and deflate (what a pool's clients ask for: `Accept-Encoding: gzip, deflate`) are unpacked here rather
than by httpx, so that the cap bounds what is unpacked too: a small compressed chunk can hold megabytes.
Another encoding is read as it comes: the crawler never asks for one.
"""

from __future__ import annotations

import zlib

import httpx

from crawler.errors import BodyTooLarge


async def read_capped(response: httpx.Response, cap: int, *, whole: bool = False) -> bytes:
    """The body of a streamed `response`, unpacked, at most `cap` bytes of it.

    By default the read stops at `cap`, and a read error or a garbled packing ends it: what was read stands
    (a link check judges the status; a body cut short changes nothing). With `whole` the caller needs all of
    it: more than `cap` bytes raises BodyTooLarge, and errors go to the caller (a garbled packing as
    httpx.DecodingError, as httpx's own decoders raise it).
    """
    limit = cap + 1 if whole else cap  # one byte more tells "exactly cap" from "more than cap"
    if response.is_stream_consumed:  # read already (a response built from bytes): httpx has unpacked it
        out = bytearray(response.content[:limit])
    else:
        out = await _read(response, limit, whole)
    if whole and len(out) > cap:
        raise BodyTooLarge(cap)
    return bytes(out)


async def _read(response: httpx.Response, limit: int, whole: bool) -> bytearray:
    unpack = _unpacker(response.headers.get("content-encoding", ""))
    out = bytearray()
    try:
        async for chunk in response.aiter_raw():
            room = limit - len(out)
            out += unpack.decompress(chunk, room) if unpack is not None else chunk[:room]
            if len(out) >= limit:
                break
    except zlib.error as exc:
        if whole:
            raise httpx.DecodingError(f"garbled {response.headers.get('content-encoding')} body: {exc}",
                                      request=response.request) from exc
    except httpx.HTTPError:
        if whole:
            raise
    return out


def _unpacker(content_encoding: str):
    """A zlib stream for a gzip or deflate body (zlib or raw deflate, as servers differ), None for a plain one."""
    encoding = content_encoding.strip().lower()
    if encoding in ("gzip", "x-gzip"):
        return zlib.decompressobj(zlib.MAX_WBITS | 16)
    if encoding == "deflate":
        return _Deflate()
    return None


class _Deflate:
    """`Content-Encoding: deflate` is zlib-wrapped by the standard and raw by some servers: tell them apart on
    the first chunk."""

    def __init__(self) -> None:
        self._inner = None

    def decompress(self, data: bytes, max_length: int) -> bytes:
        if self._inner is None:
            wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and (data[0] << 8 | data[1]) % 31 == 0
            self._inner = zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return self._inner.decompress(data, max_length)
