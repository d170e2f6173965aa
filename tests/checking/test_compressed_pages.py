"""Pages sent compressed, as most servers send HTML: the checker reads the page, not its gzip bytes.

A real server on loopback answers with `Content-Encoding: gzip` (or deflate, zlib-wrapped or raw), on both
transports: a "not found" page served with 200 is still a soft 404, a page's ids are still found for
`--check-fragments`, and a small compressed body that unpacks to megabytes is unpacked only up to the cap.
"""

from __future__ import annotations

import asyncio
import gzip
import zlib

import pytest

from crawler.checking.checker import Checker
from crawler.config import Settings
from crawler.models import LinkStatus
from crawler.net.pool import TRANSPORTS, ClientPool
from tests.fakes.web import Reply

NOT_FOUND = b"<html><head><title>Page not found - Example University</title></head><body>gone</body></html>"
PAGE = b"<html><head><title>A paper</title></head><body><h2 id='results'>Results</h2></body></html>"


def _raw_deflate(data: bytes) -> bytes:
    packer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
    return packer.compress(data) + packer.flush()


ENCODINGS = {"gzip": gzip.compress, "deflate": zlib.compress, "raw-deflate": _raw_deflate}


async def _loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def check(web, transport: str, path: str, **changes):
    settings = Settings(**{"allow_private": True, "retries": 0, "timeout": 10.0, "transport": transport,
                           "progress": False, **changes})

    async def main():
        async with ClientPool(settings, resolver=_loopback, transport=transport) as pool:
            return await Checker(pool, settings).check(f"http://pages.test:{web.port}{path}")

    return asyncio.run(main())


def serve(web, path: str, body: bytes, encoding: str) -> None:
    packed = ENCODINGS[encoding](body)
    name = "deflate" if encoding == "raw-deflate" else encoding
    web.add(f"http://pages.test{path}", Reply(200, packed, {"Content-Type": "text/html; charset=utf-8",
                                                            "Content-Encoding": name}))


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_compressed_not_found_page_is_a_soft_404(web, transport, encoding):
    serve(web, "/gone", NOT_FOUND, encoding)
    serve(web, "/paper", PAGE, encoding)
    gone = check(web, transport, "/gone")
    assert gone.status is LinkStatus.BROKEN and "soft 404" in gone.error
    assert check(web, transport, "/paper").status is LinkStatus.OK
    # We ask only for what we can unpack ourselves.
    asked = {v for r in web.requests for k, v in r.headers.items() if k.lower() == "accept-encoding"}
    assert asked == {"gzip, deflate"}


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_compressed_page_gives_its_ids_to_the_fragment_check(web, transport):
    serve(web, "/paper", PAGE, "gzip")
    result = check(web, transport, "/paper", check_fragments=True)
    assert result.page_ids is not None and "results" in result.page_ids.ids and result.page_ids.complete


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_compressed_bomb_is_unpacked_only_up_to_the_cap(web, transport):
    # 50 MB of spaces after a title compress to about 50 KB: only max_body bytes are ever unpacked.
    serve(web, "/bomb", b"<title>A paper</title><p id='top-of-page'>" + b" " * 50_000_000, "gzip")
    result = check(web, transport, "/bomb", max_body=4096, check_fragments=True)
    assert result.status is LinkStatus.OK  # the title was read, and nothing failed
    assert result.page_ids is not None and "top-of-page" in result.page_ids.ids
    assert not result.page_ids.complete  # cut at the cap
