"""An httpx transport on aiohttp: httpx stays the client API, aiohttp does the I/O.

Why: on the 2000-link benchmark httpcore costs several times aiohttp's CPU per request (its pool
re-checks every connection's socket on every request, and each request passes through anyio
cancel scopes, events and locks), and with two cores shared that CPU is the limit long before the
network is. `benchmarks/README.md` has the measurements and the profile.

What it keeps from the httpcore path (crawler.net.guard.GuardedBackend):
- the private-address guard (crawler.net.guard). aiohttp connects to exactly the addresses its resolver
  returns, so the guarded resolver refuses forbidden answers there, and the address judged is the address
  connected to. aiohttp never asks the resolver about IP literals, so those are judged before the request
  (`Guard.judge_literal`). Each redirect hop is a new request through this transport (the client does not
  follow redirects itself), so every hop is judged.
- errors as httpx's exception tree (ConnectError, ReadTimeout, RemoteProtocolError, ...), and
  the guard's own PrivateAddressRefused / NameNotResolved unchanged, as the Checker expects.
- streaming: the body is read chunk by chunk as the caller asks; closing the response early
  closes the connection (a PDF is never downloaded whole), reading it to the end returns the
  connection to the pool.
- no decompression, cookies, redirects or proxies here: httpx does the first three itself, and a
  proxy is left to httpx's own transport (ClientPool's choice).

One transport holds one aiohttp session, created inside the running loop at the first request;
aiohttp itself is imported then too (~0.2 s), so a run that sends nothing never pays for it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import httpx

from crawler.errors import NameNotResolved, PrivateAddressRefused
from crawler.net.guard import Guard, Resolver, guarded_resolver, system_resolver

DEFAULT_LIMITS = httpx.Limits(max_connections=10, max_keepalive_connections=10, keepalive_expiry=30)
# Some sites send very long headers (Content-Security-Policy, Set-Cookie); aiohttp's default of
# 8190 bytes would fail them where httpcore (h11: 100 KB per head) does not.
MAX_FIELD_SIZE = 64 * 1024


class AiohttpTransport(httpx.AsyncBaseTransport):
    """httpx.AsyncBaseTransport over one aiohttp session with a guarded resolver.

    `limits.max_connections` becomes the connector's limit (per host and overall: ClientPool
    builds one transport per origin); `limits.keepalive_expiry` its keep-alive timeout.
    """

    def __init__(
        self,
        *,
        limits: httpx.Limits = DEFAULT_LIMITS,
        verify: bool | str | object = True,
        resolver: Resolver = system_resolver,
        allow_private: bool = False,
        ttl_dns_cache: int = 60,
    ):
        self._limits = limits
        self._ssl = httpx.create_ssl_context(verify=verify) if isinstance(verify, (bool, str)) else verify
        self._guard = Guard(resolver, allow_private)
        self._ttl_dns_cache = ttl_dns_cache
        self._session = None  # aiohttp.ClientSession, from the first request on
        self._timeouts: dict = {}
        self._closed = False

    def _open(self):
        if self._closed:
            raise RuntimeError("the transport is closed")
        import aiohttp
        from multidict import CIMultiDict
        from yarl import URL

        self._aiohttp, self._CIMultiDict, self._URL = aiohttp, CIMultiDict, URL

        size = self._limits.max_connections or 0
        connector = aiohttp.TCPConnector(
            limit=size,
            limit_per_host=size,
            keepalive_timeout=self._limits.keepalive_expiry or 0.0,
            resolver=guarded_resolver(self._guard),
            ssl=self._ssl,
            ttl_dns_cache=self._ttl_dns_cache,
        )
        self._session = aiohttp.ClientSession(
            connector=connector,
            auto_decompress=False,  # httpx decodes, as it does over httpcore
            cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            trust_env=False,  # proxies are ClientPool's business
            skip_auto_headers=("User-Agent", "Accept", "Accept-Encoding"),  # httpx sends its own
            max_line_size=MAX_FIELD_SIZE,
            max_field_size=MAX_FIELD_SIZE,
            timeout=aiohttp.ClientTimeout(total=None),
        )
        return self._session

    def _timeout(self, timeouts: dict):
        """httpx's timeouts as aiohttp's, one object per distinct set (they are immutable)."""
        key = (timeouts.get("connect"), timeouts.get("read"), timeouts.get("pool"))
        timeout = self._timeouts.get(key)
        if timeout is None:
            connect, read, pool = key
            timeout = self._timeouts[key] = self._aiohttp.ClientTimeout(
                total=None,
                connect=(connect + (pool or 0.0)) if connect is not None else None,  # a free slot, then connected
                sock_connect=connect,
                sock_read=read,
            )
        return timeout

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        session = self._session or self._open()
        url = request.url
        await self._guard.judge_literal(url.host, url.port or (443 if url.scheme == "https" else 80))
        # No body is b"" here; reading it costs less than asking httpx's headers about one.
        body = await request.aread()
        try:
            response = await session.request(
                request.method,
                self._URL(str(url), encoded=True),
                headers=self._CIMultiDict([(k.decode("latin-1"), v.decode("latin-1")) for k, v in request.headers.raw]),
                data=body or None,
                allow_redirects=False,
                timeout=self._timeout(request.extensions.get("timeout") or {}),
            )
        except (PrivateAddressRefused, NameNotResolved):
            raise
        except BaseException as exc:
            raise _translate(exc, request) from exc
        version = response.version
        return httpx.Response(
            status_code=response.status,
            headers=list(response.raw_headers),
            stream=_Body(response, request),
            extensions={
                "http_version": b"HTTP/1.1" if version == (1, 1) else f"HTTP/{version[0]}.{version[1]}".encode(),
                "reason_phrase": (response.reason or "").encode("latin-1", "replace"),
            },
        )

    async def aclose(self) -> None:
        self._closed = True
        session, self._session = self._session, None
        if session is not None:
            await session.close()


class _Body(httpx.AsyncByteStream):
    def __init__(self, response, request: httpx.Request):  # an aiohttp.ClientResponse
        self._response = response
        self._request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        content = self._response.content
        try:
            while chunk := await content.readany():
                yield chunk
        except BaseException as exc:
            translated = _translate(exc, self._request)
            if translated is exc:
                raise
            raise translated from exc

    async def aclose(self) -> None:
        # A body read to its end hands the connection back for reuse; one cut short closes it.
        self._response.release()


def _translate(exc: BaseException, request: httpx.Request) -> BaseException:
    """aiohttp's and asyncio's errors as the httpx errors httpcore would have raised."""
    import aiohttp

    if isinstance(exc, (asyncio.CancelledError, KeyboardInterrupt, SystemExit, httpx.HTTPError)):
        return exc
    message = str(exc) or type(exc).__name__
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message, request=request)
    if isinstance(exc, (aiohttp.ServerTimeoutError, TimeoutError)):
        return httpx.ReadTimeout(message, request=request)
    if isinstance(exc, aiohttp.InvalidURL):
        return httpx.UnsupportedProtocol(message, request=request)
    if isinstance(exc, aiohttp.ClientConnectorError):  # refused, unreachable, TLS, DNS as OSError
        return httpx.ConnectError(message, request=request)
    if isinstance(exc, (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError, aiohttp.ClientResponseError)):
        return httpx.RemoteProtocolError(message, request=request)
    if isinstance(exc, (aiohttp.ClientOSError, ConnectionError)):  # reset or broken after connecting
        return httpx.ReadError(message, request=request)
    if isinstance(exc, aiohttp.ClientError):
        return httpx.TransportError(message, request=request)
    return exc
