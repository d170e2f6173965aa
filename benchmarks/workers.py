"""The network phase in one process or in worker processes (the second speed round), on the benchmark's loopback server.

    python -m benchmarks.workers                          # 2000 links, 20 hosts, the modes below, 5 rounds
    python -m benchmarks.workers --links 20000 --hosts 200 --latency 0.02 --modes inproc,linksfirst

Each mode runs in a fresh process that imports what `crawler check` imports, reads and parses the
generated list and checks every URL, but saves nothing: what is compared is how the checking is
spread over the cores. Rounds are interleaved; medians are printed, with wall time, CPU time of the
process and its workers, CPU per link, the peak summed PSS of the process tree, and when the first
result and the last one arrived.

  inproc      parse_list, then the pipeline's own loop: per-host workers over one Checker/ClientPool
  workers     parse_list, then crawler.checking.workers.CheckWorkers (--processes, --method fork|spawn)
  early       the workers started before the list is parsed, so their start overlaps the parsing
  linksfirst  early, and the URLs sent as soon as the links are read (parse.read_links); the
              entries are found while the workers check
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path

MODES = ("inproc", "workers", "early", "linksfirst")


# --- one run (in its own process) ---------------------------------------------------------------------------


def _one(mode: str, list_path: str, host_concurrency: int, concurrency: int, processes: int,
         method: str | None) -> dict:
    started = time.perf_counter()
    import asyncio
    import resource

    import crawler.cli.commands  # noqa: F401  what `crawler check` has imported before its network phase
    from crawler.checking.workers import CheckWorkers
    from crawler.config import Settings
    from crawler.listfile.parse import parse_list, read_links
    from crawler.pipeline import link_key

    settings = Settings(allow_private=True, host_concurrency=host_concurrency, concurrency=concurrency,
                        progress=False)
    marks = {"imports": time.perf_counter() - started}
    text = Path(list_path).read_text()

    def keys(links) -> list[str]:
        return list(dict.fromkeys(link_key(lk) for lk in links if not lk.is_empty))

    async def inproc(urls: list[str]) -> tuple[int, float | None]:
        from collections import defaultdict, deque

        from crawler.checking.checker import Checker
        from crawler.listfile.links import host_of
        from crawler.net.pool import ClientPool

        ok, first = 0, None
        async with ClientPool(settings, transport=settings.transport) as pool:
            checker = Checker(pool, settings)
            queues: dict[str, deque[str]] = defaultdict(deque)
            for url in urls:
                queues[host_of(url)].append(url)

            async def worker(queue: deque[str]) -> None:
                nonlocal ok, first
                while queue:
                    result = await checker.check(queue.popleft())
                    first = first or time.perf_counter() - started
                    ok += result.status.value == "ok"

            await asyncio.gather(*(worker(q) for h, q in queues.items()
                                   for _ in range(min(len(q), pool.host_limit(h)))))
        return ok, first

    async def in_workers(workers: CheckWorkers, urls: list[str], meanwhile=None) -> tuple[int, float | None]:
        ok, first = 0, None
        async with workers:
            results = workers.check(urls, {})
            async for result in results:
                if first is None:
                    first = time.perf_counter() - started
                    if meanwhile is not None:
                        meanwhile()  # the parent's own work, while the workers go on checking
                ok += result.status.value == "ok"
        return ok, first

    def run() -> tuple[int, float | None]:
        if mode == "inproc":
            parsed = parse_list(text)
            marks["parsed"] = time.perf_counter() - started
            return asyncio.run(inproc(keys(parsed.links)))
        workers = CheckWorkers(settings, processes=processes, method=method)
        if mode in ("early", "linksfirst"):
            workers.start()
            marks["started"] = time.perf_counter() - started
        if mode == "linksfirst":
            reading = read_links(text)
            marks["links"] = time.perf_counter() - started

            def entries() -> None:
                reading.parsed()
                marks["parsed"] = time.perf_counter() - started

            return asyncio.run(in_workers(workers, keys(reading.links), entries))
        parsed = parse_list(text)
        marks["parsed"] = time.perf_counter() - started
        return asyncio.run(in_workers(workers, keys(parsed.links)))

    ok, first = run()
    marks["first_result"] = first
    marks["checked"] = time.perf_counter() - started
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {"ok": ok, "marks": marks, "cpu_parent": own.ru_utime + own.ru_stime,
            "cpu_workers": children.ru_utime + children.ru_stime}


# --- the harness ------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--list", help=argparse.SUPPRESS)
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--host-concurrency", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--method", choices=("fork", "spawn"), default=None)
    parser.add_argument("--modes", default=",".join(MODES),
                        help="comma-separated; a mode may name its processes and method: workers:3:spawn")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    if args.one:
        mode, _, rest = args.one.partition(":")
        procs, _, method = rest.partition(":")
        out = _one(mode, args.list, args.host_concurrency, args.concurrency, int(procs or args.processes),
                   method or args.method)
        print(json.dumps(out))
        return

    from benchmarks.listgen import web_list
    from benchmarks.run import Server, _env, measure, median

    modes = [m.strip() for m in args.modes.split(",") if m.strip()]
    server = Server(args.hosts, args.latency, lifetime=1800)
    runs: dict[str, list[dict]] = {m: [] for m in modes}
    try:
        with tempfile.TemporaryDirectory(prefix="crawler-workers-") as tmp:
            base = Path(tmp)
            list_path = base / "list.md"
            list_path.write_text(web_list(args.links, args.hosts, server.port))

            def once(mode: str) -> dict:
                cmd = [sys.executable, "-m", "benchmarks.workers", "--one", mode, "--list", str(list_path),
                       "--host-concurrency", str(args.host_concurrency), "--concurrency", str(args.concurrency),
                       "--processes", str(args.processes)] + (["--method", args.method] if args.method else [])
                m = measure(cmd, cwd=base, server=server, env=_env())
                try:
                    inner = json.loads((base / "stdout.txt").read_text())
                except ValueError:
                    sys.exit(f"{mode} failed: {(base / 'stderr.txt').read_text()[-1500:]}")
                return {"wall": m.wall, "cpu": m.cpu, "rss_mb": m.rss_mb, "tree_mb": m.tree_mb,
                        "requests": m.requests, "connections": m.connections, "max_per_host": m.max_per_host, **inner}

            print("warming up ...", flush=True)
            for mode in modes:
                once(mode)
            for r in range(args.rounds):
                for mode in (modes if r % 2 == 0 else modes[::-1]):
                    run = once(mode)
                    runs[mode].append(run)
                    print(f"  round {r + 1}: {mode:22} {run['wall']:6.2f} s  cpu {run['cpu']:5.2f} s "
                          f"(workers {run['cpu_workers']:.2f})  pss {run['tree_mb']:5.0f} MB  ok {run['ok']}",
                          flush=True)
    finally:
        server.stop()

    per_host = math.ceil(args.links / args.hosts)
    floor = max(math.ceil(per_host / args.host_concurrency), math.ceil(args.links / args.concurrency)) * args.latency
    print(f"\n{args.links} links on {args.hosts} hosts, {args.latency * 1000:g} ms per answer, "
          f"{args.host_concurrency} per host, {args.concurrency} overall: floor {floor:.2f} s; "
          f"median of {args.rounds}; {os.cpu_count()} cores\n")
    print("| mode | wall s | / floor | CPU s | CPU ms/link | of it workers | PSS MB (tree) | RSS MB (largest) |"
          " parsed at s | first result s | last result s | max in flight/host | ok |")
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for mode, rs in runs.items():
        def med(key, rs=rs):
            return median(r[key] for r in rs)

        def mark(key, rs=rs):
            return median(r["marks"].get(key) for r in rs)

        row = {"wall": med("wall"), "cpu": med("cpu"), "cpu_workers": med("cpu_workers"), "tree_mb": med("tree_mb"),
               "rss_mb": med("rss_mb"), "parsed": mark("parsed"), "first": mark("first_result"),
               "last": mark("checked"), "max_per_host": max(r["max_per_host"] for r in rs),
               "ok": min(r["ok"] for r in rs), "walls": [round(r["wall"], 3) for r in rs]}
        summary[mode] = row
        print(f"| {mode} | {row['wall']:.2f} | {row['wall'] / floor:.2f} | {row['cpu']:.2f} | "
              f"{1000 * row['cpu'] / args.links:.3f} | {row['cpu_workers']:.2f} | {row['tree_mb']:.0f} | "
              f"{row['rss_mb']:.0f} | {row['parsed']:.2f} | {row['first']:.2f} | {row['last']:.2f} | "
              f"{row['max_per_host']} | {row['ok']} |")
    if args.json:
        args.json.write_text(json.dumps({"settings": vars(args) | {"json": str(args.json)}, "floor": floor,
                                         "summary": summary, "runs": runs}, indent=2, default=str))


if __name__ == "__main__":
    main()
