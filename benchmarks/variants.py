"""Run `crawler` with design alternatives switched on, to measure each one.

    python -m benchmarks.variants STEPS -- check LIST --db ...     (the crawler's own arguments after --)
    python -m benchmarks.variants --show STEPS                     (print the source edits as a diff)

STEPS is a comma-separated list of the changes below, applied in order on top of the code as it is
(`asis` applies none). They change the running process only. Most are source edits: the current
source of one function, one anchor string replaced, recompiled; an edit whose anchor is gone fails
loudly instead of measuring something else. `--show` prints them, which is also the proposed change.

  nosniffio  hide an installed `sniffio`, as on a machine with only today's dependencies: httpcore
             then retries the failed import on every lock, event and shield (encode/httpcore#1103)
  keepalive  the Checker reads out a short body it does not need (HEAD's empty one, a small error
             page); today a streamed response closed unread makes httpcore close its connection
  getfirst   with soft-404 detection on, ask with GET first (HEAD then GET cost two round trips per
             HTML link), and read a body only when it is HTML, the only kind soft_404 looks at
  aiohttp    ClientPool's transports are crawler.net.aiohttp_transport.AiohttpTransport, not httpcore's pool
  lean       Checker.check retries with a plain loop instead of building a tenacity AsyncRetrying per URL
  workers    Pipeline._check_network runs min(host limit, URLs) workers per host taking URLs from the
             host's queue, instead of one task per URL, all parked on the host's semaphore
  uvloop     the event loop is uvloop's
  procs      the checks in crawler.checking.workers whatever the list's size (`processes`, 2); the
             crawler itself does so from `processes-from` URLs (5000). The second round's `fastexit`
             (crawler.cli.commands.entry) and `freeze` (gc.freeze in Pipeline.execute) are built in now;
             `linksfirst` and `early` measured the old pipeline (benchmarks/README.md has their figures).

BENCH_PHASES=path writes the wall time spent in each phase (imports, parse, network, ...) as JSON.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.machinery
import inspect
import json
import os
import sys
import textwrap
import time
from collections import defaultdict, deque

STARTED = time.perf_counter()
PHASES: dict[str, float] = {}
_EDITED: dict[tuple[str, str], tuple[str, str]] = {}  # (module, qualname) -> (original source, edited source)
_SHOW = False


def edit(module_name: str, qualname: str, old: str, new: str, **extra_globals) -> None:
    """Replace `old` by `new` in the source of module.qualname and install the recompiled function."""
    module = importlib.import_module(module_name)
    owner_name, _, name = qualname.rpartition(".")
    owner = getattr(module, owner_name) if owner_name else module
    key = (module_name, qualname)
    original, source = _EDITED.get(key) or (None, None)
    if source is None:
        original = source = textwrap.dedent(inspect.getsource(getattr(owner, name)))
    # Anchors are written as they stand in the file; the function's source is dedented.
    indent = " " * (4 if owner_name else 0)
    old, new = (_dedent(text, indent) for text in (old, new))
    if old not in source:
        raise SystemExit(f"benchmarks.variants is out of date: {module_name}.{qualname} no longer contains\n{old}")
    source = source.replace(old, new, 1)
    _EDITED[key] = (original, source)
    namespace: dict = {}
    globals_ = vars(module) if not extra_globals else {**vars(module), **extra_globals}
    exec(compile(source, f"<{module_name}.{qualname} (edited)>", "exec"), globals_, namespace)
    setattr(owner, name, namespace[name])


def _dedent(text: str, indent: str) -> str:
    return "".join(line[len(indent):] if line.startswith(indent) else line for line in text.splitlines(True))


def show() -> str:
    out = []
    for (module_name, qualname), (original, source) in _EDITED.items():
        path = module_name.replace(".", "/") + ".py"
        out += difflib.unified_diff(original.splitlines(True), source.splitlines(True),
                                    f"a/{path} ({qualname})", f"b/{path} ({qualname})")
    return "".join(out)


# --- the steps ---------------------------------------------------------------------------------------


def nosniffio() -> None:
    class Hide:
        """Fails `import sniffio` after the same path search a missing package costs."""

        @staticmethod
        def find_spec(name, path=None, target=None):
            if name == "sniffio":
                importlib.machinery.PathFinder.find_spec("sniffio_absent_for_the_benchmark", path)
                raise ModuleNotFoundError("No module named 'sniffio'", name="sniffio")
            return None

    sys.modules.pop("sniffio", None)
    sys.meta_path.insert(0, Hide)


def keepalive() -> None:
    edit("crawler.checking.checker", "Checker._request",
         "                    body = await self._read_capped(response)\n                return response, body\n",
         "                    body = await self._read_capped(response)\n"
         "                elif _short(response, self.settings.max_body):\n"
         "                    # Read out (HEAD: nothing) so the connection goes back to the pool; an\n"
         "                    # unread body makes the transport close it, and the next request reconnects.\n"
         "                    await self._read_capped(response)\n"
         "                return response, body\n",
         _short=_short)


def _short(response, limit: int) -> bool:
    """A body known to be empty or small: cheaper to read out than to reconnect."""
    if response.request.method == "HEAD" or response.status_code in (204, 304):
        return True
    length = response.headers.get("content-length", "")
    return length.isdigit() and int(length) <= limit


def getfirst() -> None:
    edit("crawler.checking.checker", "Checker._follow",
         '        method = "HEAD"\n',
         '        # With soft-404 detection every HTML page is read anyway: one GET, not HEAD then GET.\n'
         '        method = "GET" if self.settings.soft404 else "HEAD"\n')
    edit("crawler.checking.checker", "Checker._request",
         '                if method == "GET" and response.status_code < 300:\n',
         '                if method == "GET" and response.status_code < 300 and _is_html_ok(response):\n'
         '                    # Only an HTML page is judged by its content; a PDF is not read at all.\n')


def aiohttp() -> None:
    from crawler.net import pool as net
    from crawler.net.aiohttp_transport import AiohttpTransport

    def transport(*, limits, backend, verify):
        # What ClientPool passes to GuardedTransport, handed to the aiohttp transport instead.
        return AiohttpTransport(limits=limits, verify=verify, resolver=backend._guard.resolve,
                                allow_private=backend._guard.allow_private)

    net.GuardedTransport = transport


def lean() -> None:
    from crawler.checking.checker import Checker

    async def check(self, url, *, etag=None, last_modified=None):
        attempts = self.settings.retries + 1
        for number in range(1, attempts + 1):
            outcome = await self._attempt(url, etag, last_modified)
            if not outcome.retry or number == attempts:
                break  # out of retries: the last answer is the verdict
            await self._sleep(self._backoff(outcome, number))
        return self._result(url, outcome)

    def _backoff(self, outcome, number):
        if outcome.retry_after is not None:
            return min(outcome.retry_after, self.settings.retry_after_ceiling)
        # Exponential backoff with full jitter: spread retries so a flaky host is not hit in lockstep.
        base = self.settings.backoff_base * (2 ** (number - 1))
        return self._rng.uniform(base / 2, base)

    Checker.check = check
    Checker._backoff = _backoff


def workers() -> None:
    edit("crawler.pipeline", "Pipeline._check_network",
         "        tasks = [asyncio.ensure_future(one(u)) for u in urls]\n",
         "        # One queue per host and as many workers as the host may have requests in flight: a\n"
         "        # few hundred tasks instead of one per URL, none of them parked on a semaphore.\n"
         "        queues: dict[str, deque[str]] = defaultdict(deque)\n"
         "        for url in urls:\n"
         "            queues[host_of(url)].append(url)\n"
         "\n"
         "        async def worker(queue: deque[str]) -> None:\n"
         "            while queue:\n"
         "                await one(queue.popleft())\n"
         "\n"
         "        tasks = [asyncio.ensure_future(worker(queue)) for host, queue in queues.items()\n"
         "                 for _ in range(min(len(queue), self.pool.host_limit(host)))]\n",
         deque=deque, defaultdict=defaultdict)


def uvloop() -> None:
    import uvloop as _uvloop

    _uvloop.install()


def procs() -> None:
    """The checks in crawler.checking.workers whatever the list's size (the crawler forks them from `processes-from`
    URLs on, 5000 by default), in `processes` workers (2)."""
    edit("crawler.checking.webcheck", "StartWorkers.handle",
         "        if settings.processes > 1 and len(keys) >= settings.processes_from:",
         "        if settings.processes > 1 and keys:")


STEPS = {"nosniffio": nosniffio, "keepalive": keepalive, "getfirst": getfirst, "aiohttp": aiohttp, "lean": lean,
         "workers": workers, "uvloop": uvloop, "procs": procs}


def apply(steps: str) -> None:
    for step in filter(None, steps.split(",")):
        if step == "all":
            for name in ("keepalive", "getfirst", "aiohttp", "lean", "workers"):
                STEPS[name]()
        elif step != "asis":
            STEPS[step]()


# --- phases ------------------------------------------------------------------------------------------


def _cpu() -> float:
    """CPU of this process and of the children it has reaped (worker processes)."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _add(label: str, wall: float, cpu: float) -> None:
    PHASES[label] = PHASES.get(label, 0.0) + wall
    PHASES[f"{label} cpu"] = PHASES.get(f"{label} cpu", 0.0) + cpu


def _timed(owner, name: str, label: str) -> None:
    original = getattr(owner, name, None)
    if original is None:
        return
    if inspect.iscoroutinefunction(original):
        async def wrapper(*args, **kwargs):
            t, c = time.perf_counter(), _cpu()
            try:
                return await original(*args, **kwargs)
            finally:
                _add(label, time.perf_counter() - t, _cpu() - c)
    else:
        def wrapper(*args, **kwargs):
            t, c = time.perf_counter(), _cpu()
            try:
                return original(*args, **kwargs)
            finally:
                _add(label, time.perf_counter() - t, _cpu() - c)
    setattr(owner, name, wrapper)


def instrument(path: str) -> None:
    import atexit

    from crawler import pipeline
    from crawler.cli import commands as cli

    PHASES["imports"] = time.perf_counter() - STARTED
    PHASES["imports cpu"] = _cpu()
    from crawler import sources as registry
    from crawler.checking import stage as checking
    from crawler.checking import webcheck
    from crawler.net import pool as net
    from crawler.papers import enrich
    from crawler.store import cache as store

    _timed(pipeline, "parse_list", "parse")
    _timed(webcheck.WebCheck, "_check", "network")
    # The rest of the fixed cost, piece by piece (the network phase is inside "check").
    _timed(store.Store, "__init__", "open cache")
    _timed(net.ClientPool, "__init__", "client pool")
    _timed(registry, "build", "sources")
    _timed(enrich.Enricher, "enrich", "enrich")
    _timed(pipeline, "_group", "group")
    _timed(checking.CheckStage, "run", "check")
    _timed(cli, "build_settings", "settings")
    _timed(pipeline.Pipeline, "_record", "history+report")
    _timed(cli, "write_outputs", "write")

    def write() -> None:
        PHASES["total"] = time.perf_counter() - STARTED
        PHASES["total cpu"] = _cpu()
        with open(path, "w") as fh:
            json.dump(PHASES, fh)

    atexit.register(write)


def main(argv: list[str]) -> None:
    if argv and argv[0] == "--show":
        apply(argv[1] if len(argv) > 1 else "all")
        print(show())
        return
    if len(argv) < 2 or argv[1] != "--":
        sys.exit("usage: python -m benchmarks.variants STEPS -- CRAWLER-ARGS | --show STEPS")
    apply(argv[0])
    if os.environ.get("BENCH_PHASES"):
        instrument(os.environ["BENCH_PHASES"])
    from crawler.cli.commands import main as crawler_main

    crawler_main(argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
