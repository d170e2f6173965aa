"""The guard against private targets, for both transports: one judgement of an address, one resolver.

A list may name any host, and a host may resolve, or redirect, anywhere: to the CI runner's own services
(127.0.0.1, 169.254.169.254) or the machines beside it. Unless `allow_private` is set the crawler connects
only to public unicast addresses, and it connects to the very address it judged, so a DNS answer that
changes between the check and the connect cannot slip through. Every redirect hop is a new connection
or a new request, so every hop is judged again.

- `is_forbidden`: the judgement of one address.
- `system_resolver`: getaddrinfo in the loop's thread pool; `NameNotResolved` tells "no such name" from a
  resolver that failed.
- `Guard.addresses`: a name's addresses the crawler may connect to (raises `PrivateAddressRefused`).
- `GuardedBackend`: an httpcore network backend that connects only through the guard (httpx's own pool).
- `guarded_resolver`: an aiohttp resolver that answers only what the guard allows (aiohttp connects to
  exactly the addresses its resolver returns); `Guard.judge_literal` judges what aiohttp never resolves.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpcore

from crawler.errors import NameNotResolved, PrivateAddressRefused

Resolver = Callable[[str, int], Awaitable[list[str]]]

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


class Guard:
    """The private-address judgement over a resolver, shared by both transports."""

    def __init__(self, resolver: Resolver = system_resolver, allow_private: bool = False):
        self.resolve = resolver
        self.allow_private = allow_private

    async def addresses(self, host: str, port: int) -> list[str]:
        """The addresses the crawler may connect to for `host` (raises when there are none)."""
        addresses = await self.resolve(host, port)
        if self.allow_private:
            return addresses
        allowed = [a for a in addresses if not is_forbidden(a)]
        if not allowed:
            raise PrivateAddressRefused(host, addresses[0] if addresses else "?")
        return allowed

    async def judge_literal(self, host: str, port: int) -> None:
        """An IP literal in a URL, judged before anything is sent (aiohttp never asks its resolver about one).

        All-digit spellings (`2130706433`, `127.1`), which aiohttp would reject as invalid, are resolved and
        judged too: what getaddrinfo makes of them is what would be connected to."""
        if self.allow_private or not host:
            return
        bare = host[1:-1] if host.startswith("[") else host
        try:
            address = ipaddress.ip_address(bare.split("%", 1)[0])
        except ValueError:
            if bare.replace(".", "").isdigit():
                await self.addresses(bare, port)
            return
        if is_forbidden(str(address)):
            raise PrivateAddressRefused(bare, str(address))

    async def refuse_private(self, host: str, port: int) -> None:
        """Behind a proxy the proxy connects: all the guard can do is look at DNS first, and refuse the name
        when any of its addresses is private."""
        if self.allow_private:
            return
        addresses = await self.resolve(host, port)
        if any(is_forbidden(a) for a in addresses):
            raise PrivateAddressRefused(host, addresses[0])


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves and judges the name, then has `inner` (anyio's sockets by default) connect to the address."""

    def __init__(self, resolver: Resolver = system_resolver, allow_private: bool = False,
                 inner: httpcore.AsyncNetworkBackend | None = None):
        self._inner = inner or httpcore.AnyIOBackend()
        self._guard = Guard(resolver, allow_private)

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        last: Exception | None = None
        for address in await self._guard.addresses(host, port):
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


def guarded_resolver(guard: Guard):
    """An aiohttp resolver answering only what `guard` allows: aiohttp connects to exactly these.

    aiohttp is imported here, at the first request of an aiohttp transport (about 0.2 s)."""
    from aiohttp.abc import AbstractResolver

    class GuardedResolver(AbstractResolver):
        async def resolve(self, host: str, port: int = 0, family: int = socket.AF_UNSPEC) -> list:
            return [
                {
                    "hostname": host,
                    "host": address,
                    "port": port,
                    "family": socket.AF_INET6 if ":" in address else socket.AF_INET,
                    "proto": 0,
                    "flags": socket.AI_NUMERICHOST,
                }
                for address in await guard.addresses(host, port)
            ]

        async def close(self) -> None:
            pass

    return GuardedResolver()
