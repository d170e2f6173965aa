"""A loopback HTTP/1.1 server for the benchmarks: many "hosts", fixed latency, counters.

One process, one port, one listening socket per loopback address (127.0.0.2, 127.0.0.3, ...):
each address is a distinct host to both link checkers, and nothing listens beyond 127/8.
Written on asyncio.Protocol rather than streams so that 2000 requests at 200 in flight cost it
well under a tenth of a second of CPU: the server must never be what a benchmark measures.

Paths (any host):
  /p/<n>             an HTML page (86 bytes, or --page-size), after `latency` seconds; HEAD and GET
  /pdf/<n>.pdf       application/pdf of `pdf_size` bytes; GET streams it in paced chunks, so the
                     body bytes sent before the client hangs up measure what the client read
  /nohead/pdf/<n>.pdf  the same, but HEAD is refused with 405 (forces a GET)
  /api/query?...     a fake arXiv API answering id_list queries with an Atom feed (no latency)
  /__stats           the counters as JSON (on the control address 127.0.0.1; not counted)
  /__reset           zero the counters
  /__config?latency=S&page_size=N  change the latency / the HTML page size from now on

It stops by itself: when its standard input closes (the harness died or finished) or after
`--lifetime` seconds, whichever comes first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import signal
import sys
import time
from collections import Counter, defaultdict
from urllib.parse import parse_qs, urlsplit

from benchmarks.listgen import arxiv_title, host_addresses

CHUNK = 16 * 1024  # PDF body chunk
PACE = 0.004  # seconds between PDF chunks (4 MB/s): a client that hangs up is seen within a chunk or two
PAGE = b"<!doctype html><html><head><title>A paper</title></head><body><p>ok</p></body></html>\n"
FILLER = (b'<div class="abstract"><p>Knowledge distillation transfers what a large <a href="/t">teacher</a>'
          b" knows.</p></div>\n")


def page(size: int) -> bytes:
    """The HTML page, padded with ordinary markup to `size` bytes (a real paper page is 30-300 KB)."""
    if size <= len(PAGE):
        return PAGE
    head, tail = PAGE.split(b"<p>ok</p>")
    filler = FILLER * ((size - len(PAGE)) // len(FILLER) + 1)
    return (head + b"<h1>A paper</h1>" + filler + tail)[: size - len(tail)] + tail


class Stats:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.requests = 0
        self.methods: Counter[str] = Counter()
        self.kinds: Counter[str] = Counter()
        self.statuses: Counter[int] = Counter()
        self.connections = 0
        self.pdf_body_bytes = 0  # body bytes of PDFs handed to the kernel before the client left
        self.pdf_gets = 0
        self.api_requests = 0
        self.api_ids = 0
        self.api_times: list[float] = []
        self.in_flight: dict[str, int] = defaultdict(int)
        self.max_in_flight: dict[str, int] = defaultdict(int)
        self.first = None
        self.last = None

    def as_dict(self) -> dict:
        peak = max(self.max_in_flight.values(), default=0)
        return {
            "requests": self.requests, "methods": dict(self.methods), "kinds": dict(self.kinds),
            "statuses": {str(k): v for k, v in self.statuses.items()}, "connections": self.connections,
            "pdf_body_bytes": self.pdf_body_bytes, "pdf_gets": self.pdf_gets,
            "api_requests": self.api_requests, "api_ids": self.api_ids,
            "api_min_gap": min((b - a for a, b in zip(self.api_times, self.api_times[1:], strict=False)),
                               default=None),
            "cpu": _cpu(),
            "max_in_flight_per_host": peak, "hosts_seen": len(self.max_in_flight),
            "span": (self.last - self.first) if self.first is not None else 0.0,
        }


STATS = Stats()


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _head(status: int, reason: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}"] + [f"{k}: {v}" for k, v in headers]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def arxiv_feed(ids: list[str]) -> bytes:
    """An Atom feed with one entry per id, shaped like arXiv's (see tests/fixtures/arxiv/papers.xml)."""
    entries = []
    for i in ids:
        entries.append(
            f"<entry><id>http://arxiv.org/abs/{i}v1</id><title>{arxiv_title(i)}</title>"
            "<updated>2020-01-01T00:00:00Z</updated><published>2020-01-01T00:00:00Z</published>"
            f"<link href=\"https://arxiv.org/abs/{i}v1\" rel=\"alternate\" type=\"text/html\"/>"
            f"<link href=\"https://arxiv.org/pdf/{i}v1\" rel=\"related\" type=\"application/pdf\" title=\"pdf\"/>"
            "<summary>An abstract.</summary><category term=\"cs.LG\" scheme=\"http://arxiv.org/schemas/atom\"/>"
            "<arxiv:primary_category term=\"cs.LG\"/><author><name>A. Author</name></author></entry>"
        )
    return (
        "<?xml version='1.0' encoding='UTF-8'?>"
        '<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" '
        'xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">'
        "<id>https://arxiv.org/api/bench</id><title>arXiv Query</title><updated>2020-01-01T00:00:00Z</updated>"
        f"<opensearch:itemsPerPage>{len(ids)}</opensearch:itemsPerPage>"
        f"<opensearch:totalResults>{len(ids)}</opensearch:totalResults>"
        "<opensearch:startIndex>0</opensearch:startIndex>" + "".join(entries) + "</feed>"
    ).encode()


class HttpProtocol(asyncio.Protocol):
    def __init__(self, config: argparse.Namespace):
        self.config = config
        self.buffer = b""
        self.transport: asyncio.Transport | None = None
        self.host = "?"
        self.busy = False  # one request at a time; clients here do not pipeline
        self.closed = False
        self.writable: asyncio.Future | None = None

    # -- asyncio.Protocol ---------------------------------------------------------------------------
    def connection_made(self, transport) -> None:
        self.transport = transport
        self.host = transport.get_extra_info("sockname")[0]
        transport.set_write_buffer_limits(high=CHUNK, low=0)
        if self.host != "127.0.0.1":
            STATS.connections += 1

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if len(self.buffer) > 64 * 1024:
            self.transport.close()
            return
        self._next()

    def eof_received(self) -> bool:
        return False  # close our side too

    def connection_lost(self, exc) -> None:
        self.closed = True
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    def pause_writing(self) -> None:
        self.writable = asyncio.get_running_loop().create_future()

    def resume_writing(self) -> None:
        if self.writable is not None and not self.writable.done():
            self.writable.set_result(None)

    # -- requests -----------------------------------------------------------------------------------
    def _next(self) -> None:
        if self.busy or self.closed:
            return
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        head, self.buffer = self.buffer[:end].decode("latin-1"), self.buffer[end + 4 :]
        lines = head.split("\r\n")
        try:
            method, target, _version = lines[0].split(" ", 2)
        except ValueError:
            self.transport.close()
            return
        keep = True
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "connection" and value.strip().lower() == "close":
                keep = False
        self.busy = True
        self.keep = keep
        path = urlsplit(target).path
        if path.startswith("/__"):
            self._control(target)
            return
        now = time.monotonic()
        STATS.first = STATS.first if STATS.first is not None else now
        STATS.requests += 1
        STATS.methods[method] += 1
        STATS.in_flight[self.host] += 1
        STATS.max_in_flight[self.host] = max(STATS.max_in_flight[self.host], STATS.in_flight[self.host])
        if path.startswith("/api/query"):
            STATS.kinds["api"] += 1
            self._api(target)
        elif "/pdf/" in path:
            STATS.kinds["pdf"] += 1
            refuse_head = path.startswith("/nohead/")
            asyncio.get_running_loop().call_later(self.config.latency, self._pdf_start, method, refuse_head)
        else:
            STATS.kinds["page"] += 1
            asyncio.get_running_loop().call_later(self.config.latency, self._page, method)

    def _done(self, status: int) -> None:
        STATS.in_flight[self.host] -= 1
        STATS.statuses[status] += 1
        STATS.last = time.monotonic()
        self.busy = False
        if not self.keep:
            self.transport.close()
            return
        if self.buffer:
            self._next()

    def _send(self, status: int, reason: str, body: bytes, ctype: str, method: str) -> None:
        if self.closed:
            self._done(status)
            return
        headers = [("Content-Type", ctype), ("Content-Length", str(len(body)))]
        if not self.keep:
            headers.append(("Connection", "close"))
        self.transport.write(_head(status, reason, headers) + (b"" if method == "HEAD" else body))
        self._done(status)

    def _page(self, method: str) -> None:
        self._send(200, "OK", self.config.page, "text/html; charset=utf-8", method)

    def _api(self, target: str) -> None:
        query = parse_qs(urlsplit(target).query)
        ids = [i for i in ",".join(query.get("id_list", [""])).split(",") if i]
        STATS.api_requests += 1
        STATS.api_times.append(time.monotonic())
        STATS.api_ids += len(ids)
        self._send(200, "OK", arxiv_feed(ids), "application/atom+xml; charset=utf-8", "GET")

    def _pdf_start(self, method: str, refuse_head: bool) -> None:
        if self.closed:
            self._done(0)
            return
        if method == "HEAD" and refuse_head:
            self._send(405, "Method Not Allowed", b"", "text/plain", "HEAD")
            return
        size = self.config.pdf_size
        headers = [("Content-Type", "application/pdf"), ("Content-Length", str(size))]
        self.transport.write(_head(200, "OK", headers))
        if method == "HEAD":
            self._done(200)
            return
        STATS.pdf_gets += 1
        asyncio.get_running_loop().create_task(self._stream_pdf(size))

    async def _stream_pdf(self, size: int) -> None:
        chunk = b"%PDF-1.4\n" + b"0" * (CHUNK - 9)
        sent = 0
        while sent < size and not self.closed:
            if self.writable is not None and not self.writable.done():
                await self.writable
                if self.closed:
                    break
            piece = chunk[: min(CHUNK, size - sent)]
            self.transport.write(piece)
            sent += len(piece)
            STATS.pdf_body_bytes += len(piece)
            await asyncio.sleep(PACE)
        if self.closed:
            # What never left our own buffer was not sent.
            STATS.pdf_body_bytes -= self.transport.get_write_buffer_size()
        self._done(200)

    def _control(self, target: str) -> None:
        path = urlsplit(target).path
        if path == "/__reset":
            STATS.reset()
        elif path == "/__config":  # /__config?latency=0.02
            for key, values in parse_qs(urlsplit(target).query).items():
                if key == "latency":
                    self.config.latency = float(values[0])
                elif key == "page_size":
                    self.config.page = page(int(values[0]))
        body = json.dumps(STATS.as_dict()).encode()
        self.transport.write(_head(200, "OK", [("Content-Type", "application/json"),
                                               ("Content-Length", str(len(body)))]) + body)
        self.busy = False
        if self.buffer:
            self._next()


async def serve(config: argparse.Namespace) -> None:
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def finish(*_args) -> None:
        if not stop.done():
            stop.set_result(None)

    addresses = ["127.0.0.1", *host_addresses(config.hosts)]
    first = await loop.create_server(lambda: HttpProtocol(config), addresses[0], config.port, backlog=1024)
    port = first.sockets[0].getsockname()[1]
    servers = [first]
    for address in addresses[1:]:
        servers.append(await loop.create_server(lambda: HttpProtocol(config), address, port, backlog=1024))
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, finish)
    try:  # a pipe from the harness: its closing means the harness is gone
        loop.add_reader(sys.stdin.fileno(), lambda: finish() if not sys.stdin.buffer.read1(1024) else None)
    except (OSError, ValueError):
        pass  # not pollable (a file, /dev/null): the lifetime alone bounds the server
    loop.call_later(config.lifetime, finish)
    print(json.dumps({"port": port, "addresses": addresses[1:]}), flush=True)
    await stop
    for server in servers:
        server.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20, help="loopback addresses to serve (127.0.0.2 on)")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds before each answer")
    parser.add_argument("--pdf-size", type=int, default=5 * 1024 * 1024)
    parser.add_argument("--page-size", type=int, default=0, help="pad HTML pages to this many bytes")
    parser.add_argument("--lifetime", type=float, default=600.0, help="stop after this many seconds")
    config = parser.parse_args(argv)
    config.page = page(config.page_size)
    asyncio.run(serve(config))


if __name__ == "__main__":
    main()
