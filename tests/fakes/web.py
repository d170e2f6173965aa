"""A loopback web for end-to-end tests: one server on 127.0.0.1 that answers for any host name.

Tests route the crawler's requests here with `RoutingTransport` (the URL's host and scheme are
kept in the Host header; only the socket goes to loopback), so a list full of real URLs
(arxiv.org, openaccess.thecvf.com, github.com) is checked without touching the internet.
"""

from __future__ import annotations

import http.server
import threading
import time
from collections.abc import Callable
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


Handler = Callable[[str, str, str, dict], Reply]  # (method, host, path?query, headers) -> Reply


@dataclass(frozen=True)
class Request:
    """One request as the server saw it, body included (POST)."""

    method: str
    host: str
    path: str
    headers: dict[str, str]
    body: bytes = b""


class RequestHandler(Protocol):
    """A route that wants the whole request (a POST body): anything with `handle(request) -> Reply`."""

    def handle(self, request: Request) -> Reply: ...


class FakeWeb:
    def __init__(self):
        self.routes: dict[tuple[str, str], Reply | Handler | RequestHandler] = {}
        self.fallback: dict[str, Reply | Handler | RequestHandler] = {}  # host -> answer for any path
        self.log: list[tuple[str, str, str]] = []
        self.requests: list[Request] = []  # the same requests with their headers and bodies
        self._server: http.server.ThreadingHTTPServer | None = None

    # -- routing ---------------------------------------------------------------------------------
    def add(self, url: str, reply: Reply | Handler | RequestHandler | None = None, **kw) -> None:
        parts = urlsplit(url)
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        self.routes[(parts.hostname or "", path)] = reply if reply is not None else Reply(**kw)

    def host(self, host: str, reply: Reply | Handler | RequestHandler) -> None:
        self.fallback[host] = reply

    def answer(self, method: str, host: str, path: str, headers: dict, body: bytes = b"") -> Reply:
        self.log.append((method, host, path))
        request = Request(method, host, path, dict(headers), body)
        self.requests.append(request)
        reply = self.routes.get((host, path)) or self.fallback.get(host) or Reply(404, b"<title>Not Found</title>")
        if hasattr(reply, "handle"):
            return reply.handle(request)
        return reply(method, host, path, headers) if callable(reply) else reply

    def requests_to(self, host: str) -> list[tuple[str, str, str]]:
        return [r for r in self.log if r[1] == host]

    # -- server ----------------------------------------------------------------------------------
    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.server_address[1]

    def start(self) -> FakeWeb:
        web = self

        class _Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: with Nagle on, each answer waits ~40 ms for the
            # client's delayed ACK (50 loopback requests: 2.2 s, 0.1 s without).
            disable_nagle_algorithm = True

            def _serve(self, method: str) -> None:
                host = (self.headers.get("Host") or "").split(":")[0]
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
                reply = web.answer(method, host, self.path, dict(self.headers), body)
                if reply.delay:
                    time.sleep(reply.delay)
                status = reply.head_status if method == "HEAD" and reply.head_status else reply.status
                self.send_response(status)
                for k, v in reply.headers.items():
                    self.send_header(k, v)
                if not any(k.lower() == "content-length" for k in reply.headers):
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if method != "HEAD":
                    try:
                        self.wfile.write(reply.body)
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                if reply.close:
                    self.close_connection = True

            def do_GET(self):  # noqa: N802
                self._serve("GET")

            def do_HEAD(self):  # noqa: N802
                self._serve("HEAD")

            def do_POST(self):  # noqa: N802
                self._serve("POST")

            def log_message(self, *args):
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


class RoutingTransport(httpx.AsyncBaseTransport):
    """Sends every request to the fake web's socket, keeping the original Host header."""

    def __init__(self, port: int, limits: httpx.Limits | None = None):
        self._port = port
        self._inner = httpx.AsyncHTTPTransport(limits=limits or httpx.Limits())

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        request.headers["X-Forwarded-Proto"] = request.url.scheme  # so a fake site can redirect http -> https
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self._port)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()
