"""crawler.net.aiohttp_transport: httpx over aiohttp, with the private-address guard, on loopback only.

(Proposed as tests/net/test_aiohttp_transport.py; it relies on tests/conftest.py's safety net, which lets
nothing resolve or connect beyond loopback. Addresses such as 8.8.8.8 below are labels: the safety
net refuses the connect, and the test only looks at what was attempted.)
"""

from __future__ import annotations

import asyncio
import gzip
import socket
import time

import httpx
import pytest

from crawler.checking.checker import Checker
from crawler.config import Settings
from crawler.errors import NameNotResolved, PrivateAddressRefused
from crawler.models import LinkStatus
from crawler.net.aiohttp_transport import AiohttpTransport
from crawler.net.guard import system_resolver
from crawler.net.pool import ClientPool


class Server:
    """HTTP/1.1 on 127.0.0.1 with keep-alive; answers from a table of paths; counts connections."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str], bytes]] | None = None, *, silent: bool = False):
        self.routes = routes or {}
        self.silent = silent
        self.connections = 0
        self.requests: list[tuple[str, str, str]] = []  # method, path, Host
        self.sent = 0

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._server.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if line)}
                self.requests.append((method, path, headers.get("host", "")))
                if self.silent:
                    await asyncio.sleep(10)
                    return
                status, extra, body = self.routes.get(path, (404, {}, b"<title>Not Found</title>"))
                fields = {"Content-Length": str(len(body)), **extra}
                out = (f"HTTP/1.1 {status} Answer\r\n" + "".join(f"{k}: {v}\r\n" for k, v in fields.items())
                       + "\r\n").encode("latin-1")
                writer.write(out)
                if method != "HEAD":
                    for i in range(0, len(body), 16384):  # in pieces, so a client that leaves is noticed
                        writer.write(body[i : i + 16384])
                        await writer.drain()
                        self.sent += len(body[i : i + 16384])
                        await asyncio.sleep(0.001)
                await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()


class Resolver:
    def __init__(self, table: dict[str, list[str] | Exception]):
        self.table = table
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        answer = self.table[host]
        if isinstance(answer, Exception):
            raise answer
        return list(answer)


@pytest.fixture
def attempts(monkeypatch) -> list[tuple]:
    """Every address a socket was asked to connect to (on top of conftest's loopback-only guard)."""
    seen: list[tuple] = []
    guarded = socket.socket.connect

    def connect(self, address):
        seen.append(address[:2])
        return guarded(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)
    return seen


async def fetch(transport: AiohttpTransport, url: str, method: str = "GET", **kw) -> httpx.Response:
    async with httpx.AsyncClient(transport=transport, **kw) as client:
        return await client.request(method, url)


# --- the guard ----------------------------------------------------------------------------------------


def test_private_answers_are_refused_before_connecting(attempts):
    resolver = Resolver({"intranet.example": ["10.0.0.1", "192.168.1.1", "::1"]})
    with pytest.raises(PrivateAddressRefused) as info:
        asyncio.run(fetch(AiohttpTransport(resolver=resolver), "http://intranet.example/"))
    assert (info.value.host, info.value.address) == ("intranet.example", "10.0.0.1")
    assert attempts == []


def test_only_public_answers_are_attempted(attempts):
    resolver = Resolver({"mixed.example": ["10.0.0.1", "8.8.8.8", "169.254.169.254"]})
    with pytest.raises(httpx.ConnectError):  # conftest refuses 8.8.8.8: nothing leaves the machine
        asyncio.run(fetch(AiohttpTransport(resolver=resolver), "http://mixed.example/"))
    assert attempts == [("8.8.8.8", 80)]


@pytest.mark.parametrize("host", ["127.0.0.1", "[::1]", "[::ffff:127.0.0.1]", "169.254.169.254"])
def test_ip_literals_are_judged_although_aiohttp_skips_the_resolver(host, attempts):
    resolver = Resolver({})
    with pytest.raises(PrivateAddressRefused):
        asyncio.run(fetch(AiohttpTransport(resolver=resolver), f"http://{host}:8080/"))
    assert attempts == [] and resolver.calls == []


@pytest.mark.parametrize("host", ["2130706433", "127.1", "0x7f000001", "0x7f.0.0.1"])
def test_numeric_spellings_are_refused_as_the_address_they_mean(host, attempts):
    with pytest.raises(PrivateAddressRefused) as info:
        asyncio.run(fetch(AiohttpTransport(resolver=system_resolver), f"http://{host}/"))
    assert info.value.address == "127.0.0.1"
    assert attempts == []


def test_name_that_does_not_resolve_is_reported_as_such():
    gone = NameNotResolved("gone.example", transient=False, detail="Name or service not known")
    with pytest.raises(NameNotResolved):
        asyncio.run(fetch(AiohttpTransport(resolver=Resolver({"gone.example": gone})), "http://gone.example/"))


def test_allow_private_connects_to_the_address_checked_with_the_name_as_host():
    async def main():
        async with Server({"/paper": (200, {}, b"ok")}) as server:
            resolver = Resolver({"papers.example": ["127.0.0.1"]})
            refused = AiohttpTransport(resolver=resolver)
            with pytest.raises(PrivateAddressRefused):
                await fetch(refused, f"http://papers.example:{server.port}/paper")
            seen_while_refused = list(server.requests)
            response = await fetch(AiohttpTransport(resolver=resolver, allow_private=True),
                                   f"http://papers.example:{server.port}/paper")
            return server, seen_while_refused, response

    server, seen_while_refused, response = asyncio.run(main())
    assert seen_while_refused == []
    assert (response.status_code, response.content) == (200, b"ok")
    assert server.requests == [("GET", "/paper", f"papers.example:{server.port}")]


# --- HTTP behaviour ------------------------------------------------------------------------------------


def test_connections_are_reused_when_bodies_are_read():
    async def main():
        async with Server({"/a": (200, {"Content-Type": "text/html"}, b"<title>A</title>")}) as server:
            transport = AiohttpTransport(allow_private=True)
            async with httpx.AsyncClient(transport=transport) as client:
                for method in ("HEAD", "GET", "HEAD", "GET"):
                    async with client.stream(method, f"http://127.0.0.1:{server.port}/a") as response:
                        assert response.status_code == 200
                        await response.aread()
            return server

    server = asyncio.run(main())
    assert server.connections == 1 and len(server.requests) == 4


def test_a_body_left_unread_is_not_downloaded():
    big = b"%PDF" + b"0" * (5 * 1024 * 1024)

    async def main():
        async with Server({"/paper.pdf": (200, {"Content-Type": "application/pdf"}, big)}) as server:
            transport = AiohttpTransport(allow_private=True)
            async with httpx.AsyncClient(transport=transport) as client:
                async with client.stream("GET", f"http://127.0.0.1:{server.port}/paper.pdf") as response:
                    read = 0
                    async for chunk in response.aiter_raw():
                        read += len(chunk)
                        if read >= 64 * 1024:
                            break
                await asyncio.sleep(0.2)  # give the server time to notice
            return server, read

    server, read = asyncio.run(main())
    assert read < 256 * 1024
    assert server.sent < 2 * 1024 * 1024  # the client hung up long before 5 MB


def test_redirects_come_back_unfollowed_and_long_headers_are_accepted():
    headers = {"Location": "/elsewhere", "Content-Security-Policy": "a" * 30_000}

    async def main():
        async with Server({"/old": (301, headers, b"")}) as server:
            return await fetch(AiohttpTransport(allow_private=True), f"http://127.0.0.1:{server.port}/old"), server

    response, server = asyncio.run(main())
    assert response.status_code == 301 and response.headers["location"] == "/elsewhere"
    assert len(server.requests) == 1


def test_content_encoding_is_left_to_httpx():
    body = gzip.compress(b"<title>A paper</title>" * 50)

    async def main():
        async with Server({"/z": (200, {"Content-Encoding": "gzip"}, body)}) as server:
            transport = AiohttpTransport(allow_private=True)
            async with httpx.AsyncClient(transport=transport) as client:
                async with client.stream("GET", f"http://127.0.0.1:{server.port}/z") as response:
                    raw = b"".join([chunk async for chunk in response.aiter_raw()])
                decoded = (await client.get(f"http://127.0.0.1:{server.port}/z")).content
            return raw, decoded

    raw, decoded = asyncio.run(main())
    assert raw == body and decoded == b"<title>A paper</title>" * 50


def test_errors_are_httpx_errors():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]

    async def main():
        transport = AiohttpTransport(allow_private=True)
        timeout = httpx.Timeout(0.3)
        with pytest.raises(httpx.ConnectError):
            await fetch(transport, f"http://127.0.0.1:{closed}/", timeout=timeout)
        async with Server(silent=True) as server:
            started = time.monotonic()
            with pytest.raises(httpx.ReadTimeout):
                await fetch(AiohttpTransport(allow_private=True), f"http://127.0.0.1:{server.port}/", timeout=timeout)
            assert time.monotonic() - started < 2

    asyncio.run(main())


# --- through ClientPool and Checker ----------------------------------------------------------------------


def test_checker_over_the_aiohttp_transport():
    settings = Settings(allow_private=True, retries=0, timeout=3.0)

    async def main():
        routes = {"/ok": (200, {"Content-Type": "text/html"}, b"<title>A paper</title>"),
                  "/moved": (301, {"Location": "/ok"}, b"")}
        async with Server(routes) as server:
            factory = lambda limits: AiohttpTransport(limits=limits, allow_private=True)  # noqa: E731
            async with ClientPool(settings, transport_factory=factory) as pool:
                checker = Checker(pool, settings)
                base = f"http://127.0.0.1:{server.port}"
                results = [await checker.check(f"{base}{path}") for path in ("/ok", "/moved", "/gone")]
            return results, server

    (ok, moved, gone), server = asyncio.run(main())
    assert (ok.status, ok.http_status) == (LinkStatus.OK, 200)
    assert moved.status is LinkStatus.REDIRECTED and moved.suggestion.endswith("/ok")
    assert (gone.status, gone.http_status) == (LinkStatus.BROKEN, 404)
    assert server.connections == 1  # one keep-alive connection for every request
