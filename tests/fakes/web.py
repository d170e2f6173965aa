"""The toolkit for fake sites: a site is written once, and a test serves it on a socket or in its own process.

A site is a handler from request to reply: a function `site(request) -> Reply`, or an object with
`handle(request) -> Reply` (a site that keeps state: what it was asked, a rate limit, a clock). `Request`
holds what a server sees (method, host, path with its query, headers, body, scheme); `Reply` what it sends
back, with the ways a real server misbehaves that tests need (a HEAD answer unlike GET's, a delay, a body
cut short).

Two ways to serve a site:
- on loopback, for end-to-end tests: `Loopback(site).start()` answers on 127.0.0.1 for any host name, and
  `FakeWeb`, itself a site, routes requests to the sites mounted per host (`host`) or per URL (`add`).
  `RoutingTransport` sends a client's requests there over the transport users run (aiohttp under httpx;
  httpcore for the tests about transports), keeping the URL's host in the Host header and its scheme in
  X-Forwarded-Proto, so a list full of real URLs (arxiv.org, github.com) is checked without the internet;
- in the test's process, for unit tests that need no socket: `InProcess(site)` is an httpx transport (async
  and sync) that hands each request to the site, the URL untouched.

The sites of tests/fakes are built from the real sites' recorded formats: sites.py (arXiv's API and abs
pages, CVF, github.com), venues.py (NeurIPS, PMLR, ECVA, ACL), github.py (GraphQL and github.com's pages),
openreview.py, crossref.py (Crossref, doi.org, walled publishers), wayback.py (the availability API),
limited.py (github.com's rate limit), venue_mocks.py (fixture folders served in-process to one source).
Canned answers for one URL stay respx routes (`respx.mock(using="httpx")`, which mocks at the client
whatever the transport).

Raw sockets are used only where a test is about broken HTTP or broken connections, which a server built on
an HTTP library cannot send (tests/checking/test_broken_servers.py: a body after a HEAD answer, bytes that
are no HTTP; tests/checking/test_failure_modes.py: a connection reset, a server that never answers).
"""

from __future__ import annotations

import asyncio
import http.server
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import urlsplit

import httpx


@dataclass
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    head_status: int | None = None  # a server whose HEAD answer differs from GET
    delay: float = 0.0
    close: bool = False  # hang up after the body: with a larger Content-Length header, a body cut short
    drip: float = 0.0  # on loopback, send the body 64 bytes at a time, this many seconds apart (never silent long)

    def status_for(self, method: str) -> int:
        return self.head_status if method == "HEAD" and self.head_status else self.status

    def declared_length(self) -> int:
        given = next((v for k, v in self.headers.items() if k.lower() == "content-length"), None)
        return int(given) if given is not None else len(self.body)


@dataclass(frozen=True)
class Request:
    """One request as a server sees it: `path` holds the query; `scheme` and `port` are what the client asked
    for (`port` None for the scheme's own)."""

    method: str
    host: str
    path: str
    headers: dict[str, str]
    body: bytes = b""
    scheme: str = "http"
    port: int | None = None

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self.host}{'' if self.port is None else f':{self.port}'}{self.path}"


class HandlesRequests(Protocol):
    def handle(self, request: Request) -> Reply: ...


Site = Callable[[Request], Reply] | HandlesRequests


def answer(site: Site | Reply, request: Request) -> Reply:
    """What `site` answers to `request` (a Reply answers every request alike)."""
    if isinstance(site, Reply):
        return site
    handle = getattr(site, "handle", None)
    return handle(request) if handle is not None else site(request)


_NOT_FOUND = Reply(404, b"<title>Not Found</title>")


class FakeWeb:
    """A site made of sites: each request goes to the one mounted for its URL, else for its host, else 404.

    Every request is logged: `log` as (method, host, path), `requests` whole. `start()` mounts it on loopback.
    """

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Reply | Site] = {}
        self.fallback: dict[str, Reply | Site] = {}  # host -> answer for any path
        self.log: list[tuple[str, str, str]] = []
        self.requests: list[Request] = []
        self._server: Loopback | None = None

    # -- routing ---------------------------------------------------------------------------------
    def add(self, url: str, reply: Reply | Site | None = None, **kw) -> None:
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        self.routes[(parts.hostname or "", path)] = reply if reply is not None else Reply(**kw)

    def host(self, host: str, reply: Reply | Site) -> None:
        self.fallback[host] = reply

    def handle(self, request: Request) -> Reply:
        self.log.append((request.method, request.host, request.path))
        self.requests.append(request)
        site = self.routes.get((request.host, request.path)) or self.fallback.get(request.host) or _NOT_FOUND
        return answer(site, request)

    def requests_to(self, host: str) -> list[tuple[str, str, str]]:
        return [r for r in self.log if r[1] == host]

    # -- serving ---------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.port

    def start(self) -> FakeWeb:
        self._server = Loopback(self).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None


class Loopback:
    """Serves one site on 127.0.0.1 over HTTP/1.1 with keep-alive, a thread per connection, for any host name."""

    def __init__(self, site: Site):
        self.site = site
        self._server: _Server | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def start(self) -> Loopback:
        site = self.site

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle on, each answer waits ~40 ms for the
            # client's delayed ACK (50 loopback requests: 2.2 s, 0.1 s without).
            disable_nagle_algorithm = True

            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                host, _, port = (self.headers.get("Host") or "").partition(":")
                request = Request(method, host, self.path, dict(self.headers),
                                  self.rfile.read(length) if length > 0 else b"",
                                  self.headers.get("X-Forwarded-Proto") or "http", int(port) if port else None)
                reply = answer(site, request)
                if reply.delay:
                    time.sleep(reply.delay)
                self.send_response(reply.status_for(method))
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                if not any(k.lower() == "content-length" for k in reply.headers):
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if method != "HEAD":
                    try:
                        self._write(reply)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                if reply.close:
                    self.close_connection = True

            def _write(self, reply: Reply) -> None:
                if not reply.drip:
                    self.wfile.write(reply.body)
                    return
                for i in range(0, len(reply.body), 64):
                    time.sleep(reply.drip)
                    self.wfile.write(reply.body[i : i + 64])
                    self.wfile.flush()

            def do_GET(self):  # noqa: N802
                self._serve("GET")

            def do_HEAD(self):  # noqa: N802
                self._serve("HEAD")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def log_message(self, *args):
                pass

        self._server = _Server(("127.0.0.1", 0), _Handler)
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    # socketserver listens with a backlog of 5: a client opening dozens of connections at once has the
    # rest of its SYNs dropped, and Linux resends them after 1, 3, 7, 15 s, so a test waits seconds.
    request_queue_size = 256


TRANSPORTS = ("aiohttp", "httpcore")


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends every request to the loopback server on `port`, keeping the URL's host and scheme in headers.

    `transport` is what does the I/O: aiohttp under httpx, as users run the crawler, unless a test about
    transports asks for httpx's own pool ("httpcore").
    """

    def __init__(self, port: int, limits: httpx.Limits | None = None, transport: str = "aiohttp"):
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
        self._port = port
        limits = limits or httpx.Limits()
        if transport == "aiohttp":
            from crawler.net.aiohttp_transport import AiohttpTransport

            # Plain HTTP to 127.0.0.1 only: no TLS context to build (certifi's bundle takes ~45 ms).
            self._inner: httpx.AsyncBaseTransport = AiohttpTransport(limits=limits, verify=False, allow_private=True)
        else:
            self._inner = httpx.AsyncHTTPTransport(limits=limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["X-Forwarded-Proto"] = request.url.scheme  # so a fake site can redirect http -> https
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


class InProcess(httpx.AsyncBaseTransport, httpx.BaseTransport):
    """Serves a site to an httpx client in the test's own process: no socket, no thread, the URL untouched.

    A reply's delay is waited (as the time limit for reading, when it is shorter: then httpx.ReadTimeout);
    a body shorter than its Content-Length raises httpx.RemoteProtocolError once read, as a server hanging
    up mid-body does; a site may raise an httpx.RequestError itself (a refused or reset connection).
    `requests` holds every request the site was handed.
    """

    def __init__(self, site: Site):
        self.site = site
        self.requests: list[Request] = []

    def _reply(self, request: httpx.Request, body: bytes) -> tuple[Reply, float, bool]:
        url = request.url
        ours = Request(request.method, url.host, url.raw_path.decode("ascii"),
                       {k.decode("latin-1"): v.decode("latin-1") for k, v in request.headers.raw}, body,
                       url.scheme, url.port)
        self.requests.append(ours)
        try:
            reply = answer(self.site, ours)
        except httpx.RequestError as exc:  # a site may fail the request as a broken connection would
            if not _has_request(exc):
                exc.request = request
            raise
        read = (request.extensions.get("timeout") or {}).get("read")
        times_out = bool(reply.delay) and read is not None and reply.delay > read
        return reply, (read if times_out else reply.delay), times_out

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        reply, wait, times_out = self._reply(request, await request.aread())
        if wait:
            await asyncio.sleep(wait)
        if times_out:
            raise httpx.ReadTimeout("timed out", request=request)
        return _response(reply, request)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        reply, wait, times_out = self._reply(request, request.read())
        if wait:
            time.sleep(wait)
        if times_out:
            raise httpx.ReadTimeout("timed out", request=request)
        return _response(reply, request)


def _has_request(exc: httpx.RequestError) -> bool:
    try:
        exc.request  # noqa: B018  (httpx raises RuntimeError for an error built without its request)
    except RuntimeError:
        return False
    return True


def _response(reply: Reply, request: httpx.Request) -> httpx.Response:
    headers = dict(reply.headers)
    if not any(k.lower() == "content-length" for k in headers):
        headers["Content-Length"] = str(len(reply.body))
    body = b"" if request.method == "HEAD" else reply.body
    cut = request.method != "HEAD" and len(body) < reply.declared_length()
    return httpx.Response(reply.status_for(request.method), headers=headers, stream=_Body(body, cut, request),
                          request=request)


class _Body(httpx.AsyncByteStream, httpx.SyncByteStream):
    def __init__(self, body: bytes, cut: bool, request: httpx.Request):
        self._body, self._cut, self._request = body, cut, request

    def _chunks(self) -> Iterator[bytes]:
        if self._body:
            yield self._body
        if self._cut:
            raise httpx.RemoteProtocolError("peer closed connection without sending complete message body",
                                            request=self._request)

    def __iter__(self) -> Iterator[bytes]:
        yield from self._chunks()

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self._chunks():
            yield chunk
