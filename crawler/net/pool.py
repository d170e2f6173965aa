"""The HTTP client, built in one place: the guard against private targets, the gate and the credentials.

Speed: httpcore's pool re-scans every connection for every queued request on each pool event,
so a big shared pool with a queue is quadratic (SOURCES.md measured 13 s for 2000 requests
where lychee takes 1.1 s). We therefore give each host its own small client whose pool is
exactly the host's concurrency, and gate it with a semaphore of the same size: a pool never
holds a queue.

Safety: the guard is an httpcore network backend. It resolves the name itself, refuses
loopback/private/link-local/multicast/unspecified addresses, and connects to the address it
checked, so a DNS answer that changes between check and connect cannot slip through. Every
redirect hop goes through it again because every connection does.

Manners: every client's transport passes each request through the pool's one HostGate
(crawler.net.pacing): link checks, venue pages, the APIs and the archive share each host's slots,
spacing and 429 pause. Credentials: every client attaches what the table of crawler.net.credentials
allows for the request's URL, and nothing else.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import httpcore
import httpx

from crawler.config import Settings
from crawler.net.credentials import Attach, Credentials
from crawler.net.pacing import HostGate

Resolver = Callable[[str, int], Awaitable[list[str]]]


class PrivateAddressRefused(Exception):
    """The target resolves only to addresses the crawler must not touch."""

    def __init__(self, host: str, address: str):
        super().__init__(f"refused private address {address} for {host}")
        self.host = host
        self.address = address


class NameNotResolved(Exception):
    """DNS has no answer. `transient` when the resolver failed rather than said 'no such name'."""

    def __init__(self, host: str, transient: bool, detail: str):
        super().__init__(f"cannot resolve {host}: {detail}")
        self.host = host
        self.transient = transient


_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


def is_forbidden(address: str) -> bool:
    """True for any address that is not a public unicast address (IPv4 and IPv6, mapped too)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        elif ip.sixtofour is not None:
            ip = ip.sixtofour
        elif ip in _NAT64:  # 64:ff9b::a9fe:a9fe is 169.254.169.254 behind a NAT64 gateway
            ip = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return ip.is_multicast or ip.is_unspecified or not ip.is_global


async def system_resolver(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except socket.gaierror as exc:
        permanent = exc.errno in (socket.EAI_NONAME, getattr(socket, "EAI_NODATA", -5))
        raise NameNotResolved(host, transient=not permanent, detail=exc.strerror or str(exc)) from None
    return list(dict.fromkeys(info[4][0] for info in infos))


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and judges the name, then has `inner` (anyio's sockets by default) connect to the address."""

    def __init__(self, resolver: Resolver = system_resolver, allow_private: bool = False,
                 inner: httpcore.AsyncNetworkBackend | None = None):
        self._inner = inner or httpcore.AnyIOBackend()
        self._resolve = resolver
        self._allow_private = allow_private

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = await self._resolve(host, port)
        if not self._allow_private:
            allowed = [a for a in addresses if not is_forbidden(a)]
            if not allowed:
                raise PrivateAddressRefused(host, addresses[0] if addresses else "?")
            addresses = allowed
        last: Exception | None = None
        for address in addresses:
            try:
                # TLS still verifies against `host`: httpcore passes the original name as SNI.
                return await self._inner.connect_tcp(
                    address, port, timeout=timeout, local_address=local_address, socket_options=socket_options
                )
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):  # pragma: no cover
        raise httpcore.ConnectError("unix sockets are not used")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def ssl_context() -> ssl.SSLContext:
    """Honours SSL_CERT_FILE / SSL_CERT_DIR (via httpx) and REQUESTS_CA_BUNDLE."""
    bundle = os.environ.get("REQUESTS_CA_BUNDLE")
    if bundle and not os.environ.get("SSL_CERT_FILE"):
        return httpx.create_ssl_context(verify=bundle)
    return httpx.create_ssl_context(trust_env=True)


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport with the guarded backend under its connection pool."""

    def __init__(self, *, limits: httpx.Limits, backend: httpcore.AsyncNetworkBackend, verify: ssl.SSLContext):
        super().__init__(verify=verify, limits=limits)
        # httpx offers no public hook for the network backend; rebuild its pool with ours.
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=verify,
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=backend,
        )


# A request extension: the sender took the request's turn at the gate itself (the Checker, which paces
# every hop of a redirect chain on its own and waits outside its time limit): the transport lets it by.
ADMITTED = "crawler.admitted"


class _Releasing(httpx.AsyncByteStream):
    """A response body that gives its slots back when it is closed (once)."""

    def __init__(self, inner: httpx.AsyncByteStream, release: Callable[[], None]):
        self._inner = inner
        self._release: Callable[[], None] | None = release

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._inner:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._inner.aclose()
        finally:
            release, self._release = self._release, None
            if release is not None:
                release()


class GatedTransport(httpx.AsyncBaseTransport):
    """Sends each request through the gate: the host's slot, its turn, a global slot, held until the response
    is closed; the answer tells the gate whether the host wants a pause (429)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, gate: HostGate):
        self._inner = inner
        self._gate = gate

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.extensions.get(ADMITTED):
            return await self._inner.handle_async_request(request)
        host = request.url.host
        await self._gate.enter(host)  # HostPaused (an httpx.TransportError) when the host asked for a long pause
        try:
            response = await self._inner.handle_async_request(request)
        except BaseException:
            self._gate.leave(host)
            raise
        self._gate.heard(host, response.status_code, response.headers)
        stream = response.stream
        assert isinstance(stream, httpx.AsyncByteStream)
        response.stream = _Releasing(stream, lambda: self._gate.leave(host))
        return response

    async def aclose(self) -> None:
        await self._inner.aclose()


def proxy_for(url: str, proxies: dict[str, str] | None = None) -> str | None:
    """The proxy the environment names for this URL (HTTP(S)_PROXY, NO_PROXY), if any.

    `proxies` is `urllib.request.getproxies()` read once by the caller: reading it scans the whole
    environment, about 0.1 ms a call, too much for every request (issue 8).
    """
    parts = urlsplit(url)
    if proxies is None:
        proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return proxy
    return None


TRANSPORTS = ("aiohttp", "httpcore")


class ClientPool:
    """One small client per origin, all behind one gate (per-host slots, spacing and pauses, global slots).

    `transport` picks what does the I/O under httpx: "httpcore" (httpx's own pool over
    GuardedBackend; what respx intercepts, hence the library default) or "aiohttp"
    (crawler.net.aiohttp_transport: a third of httpcore's CPU per request; what the CLI uses, issue 8).
    Behind a proxy, or with a `transport_factory`, neither is used. `network_backend` is what
    connects under the guard on the httpcore path (tests pass a recorder; default: anyio's sockets).
    `credentials` are the run's (default: from the environment and the settings); `monotonic` and `sleep`
    pace the gate (tests pass a fake pair).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver = system_resolver,
        transport_factory: Callable[[httpx.Limits], httpx.AsyncBaseTransport] | None = None,
        transport: str = "httpcore",
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        credentials: Credentials | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
        self.settings = settings
        self.transport = transport
        self._proxies = urllib.request.getproxies()  # once: the environment does not change under us
        self._backend = GuardedBackend(resolver, settings.allow_private, network_backend)
        self._resolver = resolver
        self._transport_factory = transport_factory
        self._ssl = ssl_context()
        self._clients: dict[str, httpx.AsyncClient] = {}
        self.gate = HostGate(settings, now=monotonic, sleep=sleep)
        self.credentials = credentials if credentials is not None else Credentials.from_environment(settings)
        self._attach = Attach(self.credentials)
        self.requests_sent = 0

    def host_limit(self, host: str) -> int:
        return self.gate.limit(host)

    def host_gate(self, host: str) -> asyncio.Semaphore:
        """The host's slots (its concurrency)."""
        return self.gate.slots(host)

    def client(self, url: str) -> httpx.AsyncClient:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        origin = f"{parts.scheme.lower()}://{parts.netloc.lower()}"
        client = self._clients.get(origin)
        if client is None:
            client = self._clients[origin] = self._build(url, host)
        return client

    def fresh_client(self, url: str) -> httpx.AsyncClient:
        """A one-off client for `url` that shares no connection with any other: the caller closes it.

        For the one retry after a connection broke mid-answer: a kept-alive connection can be
        poisoned (a server that sent a body with its HEAD answer), and the pool may hold more (issue 13).
        """
        return self._build(url, (urlsplit(url).hostname or "").lower(), size=1)

    def _build(self, url: str, host: str, size: int | None = None) -> httpx.AsyncClient:
        size = size or self.host_limit(host)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30)
        # Only what the checker can unpack itself (crawler.checking.checker): brotli would arrive if httpx found
        # it installed.
        headers = {"User-Agent": self.settings.agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                   "Accept-Encoding": "gzip, deflate"}
        rule = self.settings.host_rule(host)
        if rule:
            headers.update(dict(rule.headers))
        proxy = proxy_for(url, self._proxies)
        if self._transport_factory is not None:
            transport = self._transport_factory(limits)
        elif proxy:
            # Behind a proxy the proxy connects, so the guard can only look at DNS beforehand.
            transport = httpx.AsyncHTTPTransport(verify=self._ssl, limits=limits, proxy=proxy)
        elif self.transport == "aiohttp":
            from crawler.net.aiohttp_transport import AiohttpTransport

            transport = AiohttpTransport(limits=limits, verify=self._ssl, resolver=self._resolver,
                                         allow_private=self.settings.allow_private)
        else:
            transport = GuardedTransport(limits=limits, backend=self._backend, verify=self._ssl)
        timeout = httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout)
        # Credentials per request, from the table (crawler.net.credentials): exact hosts over https only.
        return httpx.AsyncClient(
            transport=GatedTransport(transport, self.gate), headers=headers, timeout=timeout, auth=self._attach,
            follow_redirects=False, trust_env=False,
        )

    async def precheck_proxy_target(self, url: str) -> None:
        """With a proxy in the way, refuse private targets by resolving them ourselves first."""
        if self.settings.allow_private or not proxy_for(url, self._proxies):
            return
        host = urlsplit(url).hostname or ""
        addresses = await self._resolver(host, 443)
        if any(is_forbidden(a) for a in addresses):
            raise PrivateAddressRefused(host, addresses[0])

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()
