"""CPU per request, layer by layer, inside one process (measured in the first speed round, 2026-11-26).

    python -m benchmarks.layers LIST [--host-concurrency 10] [--rounds 3] [--uvloop]

Runs the same URLs (HEAD) through progressively more of our stack, each behind per-host workers,
and prints wall time and CPU time per request for each layer:

  aiohttp         aiohttp.ClientSession.head, body read: the floor for Python here
  httpx+aiohttp   httpx.AsyncClient.stream over crawler.net.aiohttp_transport.AiohttpTransport
  httpx+httpcore  httpx.AsyncClient.stream over httpx's own transport (body read, so keep-alive works)
  checker+aiohttp crawler.checking.checker.Checker.check through ClientPool over crawler.net.aiohttp_transport
  checker+httpcore  the same over httpcore (--steps applies benchmarks.variants changes first)

The server must be running (benchmarks.server); LIST is a generated list of its URLs.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import time
from collections import defaultdict
from urllib.parse import urlsplit


def _urls(path: str) -> list[str]:
    return re.findall(r"\((http://[^)\s]+)\)", open(path).read())


async def _run(urls: list[str], per_host: int, fetch) -> tuple[float, float, int]:
    queues: dict[str, list[str]] = defaultdict(list)
    for url in urls:
        queues[urlsplit(url).netloc].append(url)
    ok = 0

    async def worker(queue: list[str]) -> None:
        nonlocal ok
        while queue:
            status = await fetch(queue.pop())  # awaited first: `ok += await ...` would lose updates
            ok += status == 200

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(worker(q) for q in queues.values() for _ in range(per_host)))
    return time.perf_counter() - wall, time.process_time() - cpu, ok


async def layer_aiohttp(urls, per_host):
    import aiohttp

    connector = aiohttp.TCPConnector(limit=0, limit_per_host=per_host)
    async with aiohttp.ClientSession(connector=connector) as session:
        async def fetch(url):
            async with session.head(url, allow_redirects=False) as response:
                await response.read()
                return response.status

        return await _run(urls, per_host, fetch)


async def _httpx(urls, per_host, make_transport):
    import httpx

    clients: dict[str, httpx.AsyncClient] = {}

    def client(url):
        netloc = urlsplit(url).netloc
        if netloc not in clients:
            clients[netloc] = httpx.AsyncClient(transport=make_transport(), follow_redirects=False)
        return clients[netloc]

    async def fetch(url):
        async with client(url).stream("HEAD", url) as response:
            async for _ in response.aiter_raw():
                pass
            return response.status_code

    try:
        return await _run(urls, per_host, fetch)
    finally:
        for c in clients.values():
            await c.aclose()


async def layer_httpx_aiohttp(urls, per_host):
    import httpx

    from crawler.net.aiohttp_transport import AiohttpTransport

    limits = httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host)
    context = httpx.create_ssl_context()  # one for all, as ClientPool does: each costs tens of ms
    return await _httpx(urls, per_host, lambda: AiohttpTransport(limits=limits, verify=context, allow_private=True))


async def layer_httpx_httpcore(urls, per_host):
    import httpx

    limits = httpx.Limits(max_connections=per_host, max_keepalive_connections=per_host)
    context = httpx.create_ssl_context()
    return await _httpx(urls, per_host, lambda: httpx.AsyncHTTPTransport(limits=limits, verify=context))


async def _checker(urls, per_host, transport: str):
    import inspect

    from crawler.checking.checker import Checker
    from crawler.config import Settings
    from crawler.net.pool import ClientPool

    settings = Settings(allow_private=True, host_concurrency=per_host, concurrency=10_000)
    if "transport" in inspect.signature(ClientPool).parameters:
        pool = ClientPool(settings, transport=transport)
    else:  # before the first speed round (commit cabc759): the benchmarks.variants step does the same
        if transport == "aiohttp":
            from benchmarks.variants import aiohttp

            aiohttp()
        pool = ClientPool(settings)
    async with pool:
        checker = Checker(pool, settings)

        async def fetch(url):
            result = await checker.check(url)
            return result.http_status

        return await _run(urls, per_host, fetch)


async def layer_checker_aiohttp(urls, per_host):
    return await _checker(urls, per_host, "aiohttp")


async def layer_checker_httpcore(urls, per_host):
    return await _checker(urls, per_host, "httpcore")


LAYERS = {"aiohttp": layer_aiohttp, "httpx+aiohttp": layer_httpx_aiohttp, "httpx+httpcore": layer_httpx_httpcore,
          "checker+aiohttp": layer_checker_aiohttp, "checker+httpcore": layer_checker_httpcore}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("list")
    parser.add_argument("--host-concurrency", type=int, default=10)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--layers", default=",".join(LAYERS))
    parser.add_argument("--uvloop", action="store_true")
    parser.add_argument("--steps", default="", help="benchmarks.variants steps to apply first (e.g. aiohttp,lean)")
    args = parser.parse_args()
    if args.uvloop:
        import uvloop

        uvloop.install()
    from benchmarks.variants import STEPS

    for step in filter(None, args.steps.split(",")):
        STEPS[step]()
    urls = _urls(args.list)
    names = args.layers.split(",")
    results: dict[str, list[tuple[float, float, int]]] = {n: [] for n in names}
    for _ in range(args.rounds):
        for name in names:  # interleaved, so drift in the machine's load hits every layer alike
            results[name].append(asyncio.run(LAYERS[name](urls, args.host_concurrency)))
    print(f"{len(urls)} URLs, {args.host_concurrency} per host, median of {args.rounds}")
    print(f"{'layer':16} {'wall s':>7} {'CPU s':>7} {'CPU ms/request':>15} {'ok':>6}")
    for name in names:
        runs = sorted(results[name], key=lambda r: r[1])
        wall = sorted(r[0] for r in runs)[len(runs) // 2]
        cpu = runs[len(runs) // 2][1]
        print(f"{name:16} {wall:7.2f} {cpu:7.2f} {1000 * cpu / len(urls):15.3f} {runs[0][2]:6d}")


if __name__ == "__main__":
    main()
