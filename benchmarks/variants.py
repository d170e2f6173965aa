"""Run `crawler` with design alternatives switched on, to measure each one (issue 8).

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
  aiohttp    ClientPool's transports are crawler.fasttransport.AiohttpTransport, not httpcore's pool
  lean       Checker.check retries with a plain loop instead of building a tenacity AsyncRetrying per URL
  workers    Pipeline._check_network runs min(host limit, URLs) workers per host taking URLs from the
             host's queue, instead of one task per URL, all parked on the host's semaphore
  uvloop     the event loop is uvloop's
  procs      (issue 16) Pipeline._check_network hands the URLs to crawler.workers.CheckWorkers:
             BENCH_PROCESSES worker processes (2), forked when the URLs are known; the parent saves
  linksfirst procs, and Pipeline.execute reads the links first (parse.read_links), sends them to the
             workers and finds the entries while they check
  early      linksfirst, with the workers forked as Pipeline.execute begins (their start-up overlaps
             reading and parsing the list; unused, they are stopped)
  fastexit   crawler.cli.main ends with os._exit after the atexit handlers (no interpreter teardown)
  freeze     gc.freeze() in Pipeline.execute once the list is parsed (before linksfirst: its anchor)

BENCH_PHASES=path writes the wall time spent in each phase (imports, parse, network, ...) as JSON.
"""

from __future__ import annotations

import asyncio
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
    edit("crawler.check", "Checker._request",
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
    edit("crawler.check", "Checker._follow",
         '        method = "HEAD"\n',
         '        # With soft-404 detection every HTML page is read anyway: one GET, not HEAD then GET.\n'
         '        method = "GET" if self.settings.soft404 else "HEAD"\n')
    edit("crawler.check", "Checker._request",
         '                if method == "GET" and response.status_code < 300:\n',
         '                if method == "GET" and response.status_code < 300 and _is_html_ok(response):\n'
         '                    # Only an HTML page is judged by its content; a PDF is not read at all.\n')


def aiohttp() -> None:
    from crawler import net
    from crawler.fasttransport import AiohttpTransport

    def transport(*, limits, backend, verify):
        # What ClientPool passes to GuardedTransport, handed to the aiohttp transport instead.
        return AiohttpTransport(limits=limits, verify=verify, resolver=backend._resolve,
                                allow_private=backend._allow_private)

    net.GuardedTransport = transport


def lean() -> None:
    from crawler.check import Checker

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


async def _check_network_in_workers(self, urls):
    """Pipeline._check_network with the checks in crawler.workers: the same saving, progress, 304s,
    run-time limit and outage rule; the Checker's counters come from the workers."""
    from crawler.errors import NetworkDown
    from crawler.models import CheckResult, LinkStatus
    from crawler.pipeline import SAVE_BATCH, SAVE_EVERY, _is_outage
    from crawler.workers import CheckWorkers

    workers = getattr(self, "_workers", None) or CheckWorkers(
        self.settings, processes=int(os.environ.get("BENCH_PROCESSES", "2")), clock=self.clock)
    validators = self.store.validators(urls)
    done: dict = {}
    pending: list = []
    proven_online = False
    last_save = time.monotonic()
    self.progress.start("checking links", len(urls))
    await workers.submit(urls, validators)
    finish = getattr(self, "_finish_parse", None)
    if finish is not None:
        finish()  # the entries, found while the workers check

    async def consume() -> None:
        nonlocal proven_online, last_save
        async for result in workers.results():
            if result.http_status == 304:
                result = self._revalidated(result.url, result)
            done[result.url] = result
            pending.append(result)
            proven_online = proven_online or workers.stats.answers > 0
            if proven_online and (len(pending) >= SAVE_BATCH or time.monotonic() - last_save >= SAVE_EVERY):
                self.store.save_results(pending)
                pending.clear()
                last_save = time.monotonic()
            self.progress.advance()

    try:
        await asyncio.wait_for(consume(), self.settings.run_timeout)
    except TimeoutError:
        pass
    finally:
        await workers.aclose()
        if proven_online:
            self.store.save_results(pending)
            pending.clear()
    for url in urls:
        if url not in done:
            done[url] = CheckResult(url=url, status=LinkStatus.TIMEOUT, checked_at=self.clock(),
                                    error=f"not checked: the run's {self.settings.run_timeout:g} s were used up")
    self.progress.finish()
    if workers.stats.answers == 0 and workers.stats.network_failures > 0 and _is_outage(done):
        raise NetworkDown("the network is unavailable: no host could be resolved or reached; nothing was judged")
    self.store.save_results(pending)
    return done


def procs() -> None:
    from crawler.pipeline import Pipeline

    Pipeline._check_network = _check_network_in_workers


def _has_arxiv(reading) -> bool:
    from crawler.links import host_of
    from crawler.pipeline import ARXIV_HOSTS

    return any(host_of(lk.url) in ARXIV_HOSTS for lk in reading.links if lk.url.startswith("http"))


def linksfirst() -> None:
    from crawler import pipeline
    from crawler.parse import read_links

    procs()
    # Module globals, not edit()'s extras: BENCH_PHASES then times read_links as the parse.
    pipeline.read_links, pipeline._has_arxiv = read_links, _has_arxiv
    edit("crawler.pipeline", "Pipeline.execute",
         "        parsed = parse_list(text)\n"
         "        by_key = self._group(parsed)\n"
         "        results = await self._check(parsed, by_key, job.command)\n",
         "        # The links first: they go to the workers, and the entries are found while they check.\n"
         "        reading = read_links(text)\n"
         "        self._finish_parse = reading.parsed\n"
         "        by_key = self._group(reading)\n"
         "        # arXiv links are verified through the API with their entries' titles: those first, then.\n"
         "        results = await self._check(reading.parsed() if _has_arxiv(reading) else reading, by_key,\n"
         "                                    job.command)\n"
         "        parsed = reading.parsed()\n")


def early() -> None:
    """linksfirst, and the workers forked as Pipeline.execute begins: their own start (importing aiohttp,
    building the TLS context) overlaps reading and parsing the list. A run with nothing to check
    (all results fresh) stops them unused."""
    from crawler.pipeline import Pipeline
    from crawler.workers import CheckWorkers

    linksfirst()
    original = Pipeline.execute

    async def execute(self, job):
        if job.command in ("run", "check") and not self.settings.offline:
            self._workers = CheckWorkers(self.settings, processes=int(os.environ.get("BENCH_PROCESSES", "2")),
                                         clock=self.clock)
            self._workers.start()
        try:
            return await original(self, job)
        finally:
            if getattr(self, "_workers", None) is not None:
                await self._workers.aclose()

    Pipeline.execute = execute


def fastexit() -> None:
    """crawler.cli.main ends with os._exit once its work is done, the atexit handlers run and the
    streams flushed: the interpreter's own teardown (freeing every object of a big heap one by one,
    module by module) took 0.2 s of a 2000-link run. The cache is closed and the reports written
    before; nothing is lost."""
    import atexit

    from crawler import cli

    original = cli.main

    def main(argv=None):
        code = 0
        try:
            original(argv)
        except SystemExit as exc:
            code = exc.code
        if not isinstance(code, int):
            if code is not None:
                print(code, file=sys.stderr)
            code = 0 if code is None else 1
        atexit._run_exitfuncs()  # logging.shutdown and the like, as a normal exit would
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)

    cli.main = main


def freeze() -> None:
    """gc.freeze() once the list is parsed: the collector stops walking the modules and the parsed list
    on every collection (at 20,000 links about a sixth of the network phase's CPU went to it)."""
    import gc

    from crawler import pipeline

    pipeline.gc = gc
    edit("crawler.pipeline", "Pipeline.execute",
         "        by_key = self._group(parsed)\n",
         "        by_key = self._group(parsed)\n"
         "        gc.freeze()  # what lives for the whole run: the collector need not walk it again\n")


STEPS = {"nosniffio": nosniffio, "keepalive": keepalive, "getfirst": getfirst, "aiohttp": aiohttp, "lean": lean,
         "workers": workers, "uvloop": uvloop, "procs": procs, "linksfirst": linksfirst,
         "early": early, "fastexit": fastexit, "freeze": freeze}


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

    from crawler import cli, pipeline

    PHASES["imports"] = time.perf_counter() - STARTED
    PHASES["imports cpu"] = _cpu()
    _timed(pipeline, "parse_list", "parse")
    _timed(pipeline, "read_links", "parse")
    _timed(pipeline.Pipeline, "_check_network", "network")
    # The rest of the fixed cost, piece by piece (the network phase is inside "check").
    from crawler import enrich, net, store

    _timed(store.Store, "__init__", "open cache")
    _timed(net.ClientPool, "__init__", "client pool")
    _timed(enrich.Enricher, "__init__", "enricher")
    _timed(pipeline.Pipeline, "_group", "group")
    _timed(pipeline.Pipeline, "_check", "check")
    _timed(cli, "build_settings", "settings")
    _timed(pipeline.Pipeline, "_record", "history+report")
    _timed(cli, "_write_outputs", "write")

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
    from crawler.cli import main as crawler_main

    crawler_main(argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
