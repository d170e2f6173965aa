"""The HTTP client, built in one place: every request of a run goes through one ClientPool.

The pool owns what every request shares, whoever sends it (link checks, venue pages, the APIs, the
archive; arXiv's synchronous client takes its turns at the same gate from its thread):
- the gate (crawler.net.pacing.HostGate): each host's slots, spacing and 429 pause, and the slots of all
  hosts. Every client's transport passes each request through it;
- the guard against private targets (crawler.net.guard), under either transport;
- the credentials table (crawler.net.credentials): each client attaches what the table allows for the
  request's URL, and nothing else;
- the transport users run: aiohttp under httpx (crawler.net.aiohttp_transport), `Settings.transport`'s
  default; httpx's own pool over the guarded backend ("httpcore") is the fallback, and what tests about
  transports compare it with.

Speed: httpcore's pool re-scans every connection for every queued request on each pool event, so a big
shared pool with a queue is quadratic (13 s for 2000 requests on the benchmark where lychee takes 1.1 s).
So each origin gets its own small client whose pool is exactly the host's concurrency, gated by the
host's slots of the same size: a pool never holds a queue.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from urllib.parse import urlsplit

import httpcore
import httpx

from crawler.config import TRANSPORT_CHOICES, Settings
from crawler.net.aiohttp_transport import AiohttpTransport
from crawler.net.credentials import Attach, Credentials
from crawler.net.guard import Guard, GuardedBackend, Resolver, system_resolver
from crawler.net.pacing import HostGate


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
    environment, about 0.1 ms a call, too much for every request.
    """
    parts = urlsplit(url)
    if proxies is None:
        proxies = urllib.request.getproxies()
    proxy = proxies.get(parts.scheme) or proxies.get("all")
    if proxy and not urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return proxy
    return None


TRANSPORTS = TRANSPORT_CHOICES  # what a ClientPool's `transport` may be; Settings.transport is its default


class ClientPool:
    """One small client per origin, all behind one gate (per-host slots, spacing and pauses, global slots).

    `transport` picks what does the I/O under httpx, `settings.transport` unless given: "aiohttp"
    (crawler.net.aiohttp_transport: a third of httpcore's CPU per request on the benchmark; the default) or
    "httpcore" (httpx's own pool over crawler.net.guard.GuardedBackend). Behind a proxy, or with a
    `transport_factory`, neither is used. `network_backend` is what connects under the guard on the
    httpcore path (tests pass a recorder; default: anyio's sockets). respx intercepts either transport
    when told to mock at the client (`respx.mock(using="httpx")`).
    `credentials` are the run's (default: from the environment and the settings); `monotonic` and `sleep`
    pace the gate (tests pass a fake pair).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        resolver: Resolver = system_resolver,
        transport_factory: Callable[[httpx.Limits], httpx.AsyncBaseTransport] | None = None,
        transport: str | None = None,
        network_backend: httpcore.AsyncNetworkBackend | None = None,
        credentials: Credentials | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        transport = transport or settings.transport
        if transport not in TRANSPORTS:
            raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}, not {transport!r}")
        if network_backend is not None and transport != "httpcore":
            raise ValueError("a network_backend is what connects under httpcore: pass transport='httpcore' with it")
        self.settings = settings
        self.transport = transport
        self._proxies = urllib.request.getproxies()  # once: the environment does not change under us
        self._backend = GuardedBackend(resolver, settings.allow_private, network_backend)
        self._resolver = resolver
        self._guard = Guard(resolver, settings.allow_private)
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
        poisoned (a server that sent a body with its HEAD answer), and the pool may hold more.
        """
        return self._build(url, (urlsplit(url).hostname or "").lower(), size=1)

    def _build(self, url: str, host: str, size: int | None = None) -> httpx.AsyncClient:
        size = size or self.host_limit(host)
        limits = httpx.Limits(max_connections=size, max_keepalive_connections=size, keepalive_expiry=30)
        # Only what crawler.net.body unpacks within its cap: brotli would arrive if httpx found it installed.
        headers = {"User-Agent": self.settings.agent, "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
                   "Accept-Encoding": "gzip, deflate"}
        rule = self.settings.host_rule(host)
        if rule:
            headers.update(dict(rule.headers))
        timeout = httpx.Timeout(self.settings.timeout, connect=self.settings.connect_timeout)
        # Credentials per request, from the table (crawler.net.credentials): exact hosts over https only.
        return httpx.AsyncClient(
            transport=GatedTransport(self._transport(url, limits), self.gate), headers=headers, timeout=timeout,
            auth=self._attach, follow_redirects=False, trust_env=False,
        )

    def _transport(self, url: str, limits: httpx.Limits) -> httpx.AsyncBaseTransport:
        if self._transport_factory is not None:
            return self._transport_factory(limits)
        proxy = proxy_for(url, self._proxies)
        if proxy:
            # Behind a proxy the proxy connects, so the guard can only look at DNS beforehand.
            return httpx.AsyncHTTPTransport(verify=self._ssl, limits=limits, proxy=proxy)
        if self.transport == "aiohttp":
            return AiohttpTransport(limits=limits, verify=self._ssl, resolver=self._resolver,
                                    allow_private=self.settings.allow_private)
        return GuardedTransport(limits=limits, backend=self._backend, verify=self._ssl)

    async def precheck_proxy_target(self, url: str) -> None:
        """With a proxy in the way, refuse private targets by resolving them ourselves first."""
        if proxy_for(url, self._proxies):
            await self._guard.refuse_private(urlsplit(url).hostname or "", 443)

    async def aclose(self) -> None:
        clients, self._clients = list(self._clients.values()), {}
        await asyncio.gather(*(c.aclose() for c in clients), return_exceptions=True)

    async def __aenter__(self) -> ClientPool:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()
