"""The HTTP client, built in one place, and the guard against private targets.

Speed: httpcore's pool re-scans every connection for every queued request on each pool event,
so a big shared pool with a queue is quadratic (SOURCES.md measured 13 s for 2000 requests
where lychee takes 1.1 s). We therefore give each host its own small client whose pool is
exactly the host's concurrency, and gate it with a semaphore of the same size: a pool never
holds a queue.

Safety: the guard is an httpcore network backend. It resolves the name itself, refuses
loopback/private/link-local/multicast/unspecified addresses, and connects to the address it
checked, so a DNS answer that changes between check and connect cannot slip through. Every
redirect hop goes through it again because every connection does.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import urllib.request
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import httpcore
import httpx

from crawler.config import Settings
from crawler.links import token_allowed

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




def github_token() -> str | None:
    return os.environ.get("GITHUB_TOKEN") or os.environ.get("GH_TOKEN") or None


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
    """One small client per origin, one semaphore per host, one global semaphore.

    `transport` picks what does the I/O under httpx: "httpcore" (httpx's own pool over
    GuardedBackend; what respx intercepts, hence the library default) or "aiohttp"
    (crawler.fasttransport: a third of httpcore's CPU per request; what the CLI uses, issue 8).
    Behind a proxy, or with a `transport_factory`, neither is used. `network_backend` is what
    connects under the guard on the httpcore path (tests pass a recorder; default: anyio's sockets).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver = system_resolver,
        transport_factory: Callable[[httpx.Limits], httpx.AsyncBaseTransport] | None = None,
        transport: str = "httpcore",
        network_backend: httpcore.AsyncNetworkBackend | None = None,
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
        self._host_gates: dict[str, asyncio.Semaphore] = {}
        self.gate = asyncio.Semaphore(settings.concurrency)
        self.requests_sent = 0

    def host_limit(self, host: str) -> int:
        rule = self.settings.host_rule(host)
        return (rule.concurrency if rule and rule.concurrency else None) or self.settings.host_concurrency

    def host_gate(self, host: str) -> asyncio.Semaphore:
        gate = self._host_gates.get(host)
        if gate is None:
            gate = self._host_gates[host] = asyncio.Semaphore(self.host_limit(host))
        return gate

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
        headers = {"User-Agent": self.settings.agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}
        rule = self.settings.host_rule(host)
        if rule:
            headers.update(dict(rule.headers))
        token = github_token()
        # Exact hosts over https only (crawler.links.SITES): never another host, plain http, or a redirect
        # elsewhere (each origin has its own client).
        if token and token_allowed(url):
            headers["Authorization"] = f"Bearer {token}"  # lifts GitHub's anonymous rate limit
        proxy = proxy_for(url, self._proxies)
        if self._transport_factory is not None:
            transport = self._transport_factory(limits)
        elif proxy:
            # Behind a proxy the proxy connects, so the guard can only look at DNS beforehand.
            transport = httpx.AsyncHTTPTransport(verify=self._ssl, limits=limits, proxy=proxy)
        elif self.transport == "aiohttp":
            from crawler.fasttransport import AiohttpTransport

            transport = AiohttpTransport(limits=limits, verify=self._ssl, resolver=self._resolver,
                                         allow_private=self.settings.allow_private)
        else:
            transport = GuardedTransport(limits=limits, backend=self._backend, verify=self._ssl)
        timeout = httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout)
        return httpx.AsyncClient(
            transport=transport, headers=headers, timeout=timeout, follow_redirects=False, trust_env=False
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
