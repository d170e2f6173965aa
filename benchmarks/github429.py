"""How a check of many github.com links fares when github.com rate-limits, without waiting real minutes.

    python -m benchmarks.github429                       # this tree
    python -m benchmarks.github429 --tree old=/work/main  # side by side with another checkout

A loopback github.com allows `--allowed` HTML requests in any `--window` seconds (sliding, or fixed
minutes with `--fixed`) and answers the rest `429` with `Retry-After: 60`, as the real site does toward a
machine without a token. The crawler's Checker runs over a real ClientPool with the pipeline's per-host
workers; it and the fake share a clock on which one virtual second takes 1/`--speed` of a real one, so
"wall" below is virtual seconds, what a CI runner would wait. Each tree runs in its own process.
Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import inspect
import json
import os
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def _child(args: argparse.Namespace) -> dict:
    # The fake is this tree's, whichever tree's crawler is measured (PYTHONPATH names that one).
    sys.path.append(str(HERE))
    from crawler.checking.checker import Checker
    from crawler.config import Settings
    from crawler.net.pool import ClientPool
    from tests.fakes.limited import LimitedGitHub
    from tests.fakes.web import Loopback

    origin = time.monotonic()

    def now() -> float:
        return (time.monotonic() - origin) * args.speed

    async def sleep(seconds: float) -> None:
        await asyncio.sleep(seconds / args.speed)

    github = LimitedGitHub(now, allowed=args.allowed, window=args.window, fixed=args.fixed)
    web = Loopback(github).start()
    urls = [f"http://github.com:{web.port}/owner{i}/repo{i}" for i in range(args.links)]
    settings = Settings(allow_private=True, transport="aiohttp", timeout=600.0, run_timeout=1e9)

    async def resolver(host, port):
        return ["127.0.0.1"]

    async def main():
        # The pacing clock is the pool's gate's (older commits: the Checker's own pacer).
        clocked = {"monotonic": now, "sleep": sleep}
        in_pool = "monotonic" in inspect.signature(ClientPool).parameters
        async with ClientPool(settings, resolver=resolver, transport="aiohttp", **(clocked if in_pool else {})) as pool:
            kwargs = dict(sleep=sleep)
            if "monotonic" in inspect.signature(Checker).parameters:
                kwargs["monotonic"] = now
            checker = Checker(pool, settings, **kwargs)
            queue = deque(urls)
            results = []

            async def worker():  # as Pipeline._check_network runs each host's queue
                while queue:
                    results.append(await checker.check(queue.popleft()))

            started = now()
            await asyncio.gather(*(worker() for _ in range(min(len(urls), pool.host_limit("github.com")))))
            return results, now() - started, pool.requests_sent

    try:
        results, wall, sent = asyncio.run(main())
    finally:
        web.stop()
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r.status.value] = statuses.get(r.status.value, 0) + 1
    import crawler

    assert Path(crawler.__file__).resolve().is_relative_to(Path.cwd().resolve()), crawler.__file__
    return {"links": len(urls), "wall": round(wall), "requests": sent, "answers_429": len(github.times_of(429)),
            "statuses": statuses}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=300)
    parser.add_argument("--allowed", type=int, default=25, help="HTML requests github.com allows per window")
    parser.add_argument("--window", type=float, default=60.0)
    parser.add_argument("--fixed", action="store_true", help="fixed windows (minutes) instead of a sliding one")
    parser.add_argument("--speed", type=float, default=200.0, help="virtual seconds per real second")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH", help="another checkout to compare")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(_child(args)))
        return
    trees = [("this", str(HERE))] + [tuple(t.split("=", 1)) for t in args.tree]
    window = "fixed minutes" if args.fixed else f"any {args.window:g} s"
    print(f"{args.links} github.com links; github.com allows {args.allowed} requests in {window}, "
          "then 429 + Retry-After: 60")
    print(f"{'tree':<8} {'wall (virtual s)':>16} {'requests':>9} {'429s':>6} {'429s/link':>10}  statuses")
    for name, path in trees:
        env = {**os.environ, "PYTHONPATH": path}
        # Run as a file from the tree's own folder: `-m` would put this tree first on sys.path.
        argv = [sys.executable, str(Path(__file__).resolve()), "--child", "--links", str(args.links),
                "--allowed", str(args.allowed), "--window", str(args.window), "--speed", str(args.speed)]
        argv += ["--fixed"] if args.fixed else []
        out = subprocess.run(argv, env=env, cwd=path, capture_output=True, text=True, timeout=1800, check=True)
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{name:<8} {row['wall']:>16} {row['requests']:>9} {row['answers_429']:>6} "
              f"{row['answers_429'] / row['links']:>10.1%}  {row['statuses']}")


if __name__ == "__main__":
    main()
