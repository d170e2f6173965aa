"""Servers that break HTTP, on both transports: the links are still judged right, the errors stay readable.

The server here is a raw socket, written by hand, because a well-behaved HTTP library cannot misbehave
the way real servers do (issue 13): one sends its PDF's body with its answer to HEAD, which poisons the
kept-alive connection for the next request; others answer with bytes that are no HTTP at all.
Names resolve to 127.0.0.1 through a fake resolver (`allow_private` lets loopback through the guard).
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import httpx
import pytest

from crawler.checking.checker import Checker
from crawler.config import Settings
from crawler.errors import ERROR_MAX, NameNotResolved, error_text
from crawler.models import LinkStatus
from crawler.net.pool import ClientPool

TRANSPORTS = ("aiohttp", "httpcore")
PDF = b"%PDF-1.5\n%\xe2\xe3\xcf\xd3\n" + b"0" * (8 * 1024 * 1024)
PAGE = b"<html><head><title>A paper</title></head><body>Hello</body></html>"


class RawServer:
    """One thread per connection, answering by path; every request is logged with its connection number.

    - `/paper.pdf`: the bug. HEAD gets the headers and then the whole 8 MiB body anyway, `body_delay`
      seconds later and slowly (256 KiB at a time), as a slow server streaming a big PDF does.
    - `/page`: a small HTML page, by the book.
    - `/garbage`: bytes that are no HTTP at all (a PDF where the status line should be).
    - `/long-status`: a status line of 600 characters that no parser accepts.
    """

    def __init__(self, body_delay: float = 0.0):
        self.body_delay = body_delay
        self.log: list[tuple[int, str, str]] = []
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(32)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._count = 0
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def requests(self, path: str) -> list[tuple[int, str]]:
        return [(conn, method) for conn, method, p in self.log if p == path]

    def close(self) -> None:
        self._stop.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            self._count += 1
            threading.Thread(target=self._serve, args=(conn, self._count), daemon=True).start()

    def _serve(self, conn: socket.socket, number: int) -> None:
        buffer = b""
        try:
            while True:
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                method, path, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ")
                self.log.append((number, method, path))
                self._answer(conn, method, path.split("?")[0])
        except OSError:
            pass  # the client hung up mid-body: what a client that reads no PDF does
        finally:
            conn.close()

    def _answer(self, conn: socket.socket, method: str, path: str) -> None:
        if path == "/paper.pdf":
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/pdf\r\n"
                         b"Content-Length: %d\r\n\r\n" % len(PDF))
            if method == "HEAD":
                time.sleep(self.body_delay)
            for i in range(0, len(PDF), 256 * 1024):
                conn.sendall(PDF[i : i + 256 * 1024])
                time.sleep(0.005)
        elif path == "/page":
            body = PAGE if method == "GET" else b""
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n"
                         % len(PAGE) + body)
        elif path == "/garbage":
            conn.sendall(b"%PDF-1.5\r\n%\xe2\xe3\xcf\xd3\r\n\r\n" + PDF[:4096])
        elif path == "/long-status":
            conn.sendall(b"HTTP/1.1 2000 " + b"A" * 600 + b"\r\nContent-Length: 0\r\n\r\n")
        else:
            conn.sendall(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")


@pytest.fixture
def raw_server(request):
    server = RawServer(getattr(request, "param", 0.0))
    yield server
    server.close()


async def _loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def check_in_order(transport: str, urls: list[str], resolver=_loopback, **changes):
    """Check `urls` one after the other over one connection per host (as a host with one slot does)."""
    values = dict(allow_private=True, retries=0, timeout=10.0, host_concurrency=1, transport=transport)
    values.update(changes)
    settings = Settings(**values)

    async def main():
        async with ClientPool(settings, resolver=resolver, transport=transport) as pool:
            checker = Checker(pool, settings)
            results = [await checker.check(url) for url in urls]
            return results, pool.requests_sent

    return asyncio.run(main())


# --- a body sent with the answer to HEAD --------------------------------------------------------------


@pytest.mark.parametrize("raw_server", [0.0, 0.3], indirect=True, ids=["body-at-once", "body-later"])
@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_body_sent_with_the_answer_to_head_breaks_neither_link(raw_server, transport):
    """Both links ok, with no retries allowed: only the immediate retry on a new connection may save them.

    Body at once: the PDF's first bytes arrive with HEAD's headers; aiohttp's parser then fails HEAD
    itself. Body later: HEAD is answered cleanly, its connection goes back to the pool, and the next
    request on it reads the PDF where its status line should be.
    """
    site = f"http://papers.test:{raw_server.port}"
    (pdf, page), sent = check_in_order(transport, [f"{site}/paper.pdf", f"{site}/page"])
    assert (pdf.status, pdf.http_status, pdf.error) == (LinkStatus.OK, 200, None)
    assert (page.status, page.http_status, page.error) == (LinkStatus.OK, 200, None)
    assert sent <= 4  # at most one extra request per link
    page_requests = raw_server.requests("/page")
    assert page_requests[-1][1] == "GET"
    if len(page_requests) == 2:  # poisoned connection first, then a new one
        assert page_requests[0][0] != page_requests[1][0]
    if raw_server.body_delay:
        # The page was first asked on HEAD's poisoned connection, unless the transport saw the PDF
        # bytes waiting on it and never reused it (httpcore checks an idle connection for that).
        assert raw_server.requests("/paper.pdf")[0][1] == "HEAD"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_links_after_a_poisoned_connection_are_judged_on_a_busy_host(raw_server, transport):
    """Several PDFs and pages mixed on one host with two slots: every link ok, nothing unreachable."""
    site = f"http://papers.test:{raw_server.port}"
    urls = [f"{site}/paper.pdf", f"{site}/page", f"{site}/paper.pdf?v=2", f"{site}/page?v=2"]
    settings = Settings(allow_private=True, retries=0, timeout=10.0, host_concurrency=2, transport=transport)

    async def main():
        async with ClientPool(settings, resolver=_loopback, transport=transport) as pool:
            checker = Checker(pool, settings)
            return await asyncio.gather(*(checker.check(u) for u in urls))

    raw_server.log.clear()
    results = asyncio.run(main())
    assert [(r.status, r.error) for r in results] == [(LinkStatus.OK, None)] * 4


# --- readable errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_answer_of_binary_garbage_is_one_readable_line(raw_server, transport):
    (result,), _ = check_in_order(transport, [f"http://papers.test:{raw_server.port}/garbage"])
    assert result.status is LinkStatus.UNREACHABLE
    assert result.error == "malformed HTTP response (bad status line)"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_a_parser_complaint_longer_than_the_limit_is_a_short_phrase(raw_server, transport):
    (result,), _ = check_in_order(transport, [f"http://papers.test:{raw_server.port}/long-status"])
    assert result.status is LinkStatus.UNREACHABLE
    assert result.error == "malformed HTTP response (bad status line)"


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_an_error_longer_than_200_characters_is_cut_to_one_line(transport):
    """A transient DNS failure names the host; a host name of 250 characters makes the text too long."""
    host = ".".join(["a" * 60] * 4) + ".test"  # 249 characters, a valid name

    async def flaky_dns(name: str, port: int) -> list[str]:
        raise NameNotResolved(name, transient=True, detail="Temporary failure in name resolution\nretry later")

    (result,), _ = check_in_order(transport, [f"http://{host}/paper"], resolver=flaky_dns)
    assert result.status is LinkStatus.UNREACHABLE
    assert len(result.error) == ERROR_MAX and result.error.endswith("\u2026")
    assert result.error.startswith("DNS failure: cannot resolve aaaa") and "\n" not in result.error


# --- error_text, the helper reports apply too ---------------------------------------------------------


def test_error_text_maps_parser_complaints_of_both_transports():
    h11 = httpx.RemoteProtocolError("illegal status line: bytearray(b'%PDF-1.5\\n%\\xe2\\xe3 0000')")
    llhttp = httpx.RemoteProtocolError('400, message="Bad status line:\n  Expected HTTP/:\n\n  b\'%PDF-1.5\\n\'"')
    header = httpx.RemoteProtocolError("400, message=\"Invalid header token:\n\n  b'\\x01\\x02bad'\n    ^\"")
    chunk = httpx.RemoteProtocolError("illegal chunk header: bytearray(b'ZZZ\\r\\n')")
    short = httpx.RemoteProtocolError("peer closed connection without sending complete message body "
                                      "(received 14 bytes, expected 100000)")
    assert error_text(h11, "connection broken") == "malformed HTTP response (bad status line)"
    assert error_text(llhttp, "connection broken") == "malformed HTTP response (bad status line)"
    assert error_text(header, "connection broken") == "malformed HTTP response (bad header)"
    assert error_text(chunk, "connection broken") == "malformed HTTP response (bad chunked body)"
    assert error_text(short, "connection broken") == "connection closed before the whole body arrived"


def test_error_text_cleans_texts_stored_by_older_versions():
    stored = "connection broken: 400, message=\"Bad status line:\n  b'%PDF-1.5\\n" + "0" * 5000 + "'\""
    assert error_text(stored, "error") == "malformed HTTP response (bad status line)"
    binary = "request failed: \x00\x01%PDF\ufffd\ufffd garbage"
    assert error_text(binary, "error") == "request failed"
    assert error_text("x" * 1000, "error") == "x" * (ERROR_MAX - 1) + "\u2026"
    assert error_text("line one\nline two\r\n  three", "error") == "line one line two three"
    assert error_text("", "request failed") == "request failed"
    assert error_text(None, "request failed") == "request failed"


def test_error_text_keeps_readable_messages_as_they_are():
    for text in ("HTTP 404", "soft 404: the page's title says 'Page not found'", "redirect loop",
                 "connection failed: Connection refused", "invalid URL: Invalid IPv4 address: '0177.0.0.1'"):
        assert error_text(text, "error") == text
        assert error_text(error_text(text, "error"), "error") == text  # safe to apply twice
    assert error_text(httpx.ConnectError("Connection refused"), "connection failed") == \
        "connection failed: Connection refused"
    assert error_text(httpx.ReadTimeout(""), "timed out") == "timed out"
    # A message that quotes bytes loses them and what led up to them, not the part before.
    assert error_text(OSError("unexpected data b'\\x89PNG\\r\\n'"), "connection failed") == \
        "connection failed: unexpected data"


def test_error_text_is_always_one_printable_line_within_the_limit():
    samples = ["\x00" * 300, "a\u2028b", "tab\there", "b'" + "x" * 500, "\ufffd" * 10, "é" * 400, " ", "::::"]
    for sample in samples:
        for value in (sample, httpx.RemoteProtocolError(sample), ValueError(sample)):
            text = error_text(value, "request failed")
            assert text and len(text) <= ERROR_MAX and text.isprintable(), (sample, text)
