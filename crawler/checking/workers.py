"""The per-URL checks in worker processes, to use more than one core.

The network phase is CPU-bound on one core (about 0.6 ms of CPU per link in httpx, aiohttp and the
Checker, where the network itself needs a tenth of that), so the hosts are split between worker
processes and each checks its share exactly as the pipeline does in-process:

- **Hosts sharded.** Every URL of a host goes to the same worker, so each worker's ClientPool keeps
  that host's limit (`--host-concurrency`, `[hosts."x"] concurrency`) by itself. The overall
  `--concurrency` is divided between the workers, so the total in flight never exceeds it.
- **One gate per host, across processes.** Given the run's gate (the main process's pool, which the
  sources use), the workers borrow each host from it with what it knows of the host, and the slots of
  all hosts, and give them back with what they learned (crawler.net.loans): a host's limit, spacing and
  429 pause hold for the checks and the sources' requests together.
- **The same checks.** Each worker builds its own ClientPool and Checker from the same Settings
  (the default: `ClientPool(settings, transport=settings.transport)`): the private-address guard,
  proxies, the token rule (only to GitHub's origins, from the environment) and retries are those of
  the in-process path because they are the same code.
- **One writer.** Workers never open the cache. They stream results back in small batches; the
  parent saves them, handles 304s, counts progress. Validators go out with the URLs.
- **Stopping.** Workers ignore SIGINT (a Ctrl-C reaches the whole process group; the parent decides).
  When the parent stops reading (Ctrl-C, SIGTERM turned into KeyboardInterrupt by the CLI, the run's
  time limit) it closes the workers' command pipes, which makes them exit at once, and kills what
  is still there a moment later. A parent that dies outright closes those pipes too.

Processes are forked when the parent has no other thread (a fork copies only the calling thread, and
a lock held by another one would stay locked forever in the child): the workers then share the
parent's imported modules and start in milliseconds. Otherwise (or with `method="spawn"`) they are
started as `python -m crawler.checking.worker_process`, which costs each about 0.3 s of CPU for its imports.

URLs may be given as a list or as an async iterable (the workers check them as they come; the check
stage gives a finished list, since the verifiers need every entry first); a host is given to the least
loaded worker when its first URL arrives.

Messages are length-prefixed pickles over pipes, only between this process and its own children.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import pickle
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Mapping
from pathlib import Path

from crawler.checking.worker_process import Frames, PoolFactory, forked_main, frame
from crawler.config import Settings
from crawler.listfile.links import host_of
from crawler.models import CheckResult
from crawler.net.loans import Loans
from crawler.net.pacing import HostGate, HostState

log = logging.getLogger("crawler")

FEED_BATCH = 64  # URLs from an async iterable sent on together
STOP_GRACE = 1.0  # seconds a stopped worker gets to exit before SIGKILL

Validators = Mapping[str, tuple[str | None, str | None]]


def default_pool(settings: Settings):
    from crawler.net.pool import ClientPool

    return ClientPool(settings, transport=settings.transport)


@dataclasses.dataclass
class WorkerStats:
    """What the pipeline reads off its Checker and ClientPool, summed over the workers."""

    answers: int = 0
    network_failures: int = 0
    requests_sent: int = 0


# --- the parent side --------------------------------------------------------------------------------------


@dataclasses.dataclass
class _Proc:
    pid: int
    popen: subprocess.Popen | None
    command: asyncio.WriteTransport | None = None
    sent: set[str] = dataclasses.field(default_factory=set)  # URLs given and not yet answered
    share: int = 0  # of the overall concurrency
    load: int = 0
    done: bool = False
    exit_code: int | None = None

    def poll(self) -> int | None:
        if self.exit_code is not None:
            return self.exit_code
        if self.popen is not None:
            self.exit_code = self.popen.poll()
            return self.exit_code
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            self.exit_code = -1
            return self.exit_code
        if pid:
            self.exit_code = os.waitstatus_to_exitcode(status)
        return self.exit_code

    def signal(self, signum: int) -> None:
        if self.poll() is None:
            try:
                os.kill(self.pid, signum)
            except ProcessLookupError:
                pass


class CheckWorkers:
    """Worker processes that check URLs; the results come back as they are found.

        async with CheckWorkers(settings, processes=2) as workers:
            async for result in workers.check(urls, validators):
                ...
            workers.stats.answers  # as Checker.answers would be in-process

    `start()` may be called early (before the list is parsed) so that the workers' own start-up
    overlaps with the parent's work; `check()` starts them if it was not. One `check()` per object.
    """

    def __init__(self, settings: Settings, *, processes: int = 2, pool_factory: PoolFactory | None = None,
                 clock: Callable[[], float] = time.time, method: str | None = None, gate: HostGate | None = None):
        if processes < 1:
            raise ValueError("processes must be at least 1")
        self.settings = settings
        self.processes = max(1, min(processes, settings.concurrency))
        self.pool_factory = pool_factory or default_pool
        self.clock = clock
        self.method = method
        self.stats = WorkerStats()
        self._loans = Loans(gate)  # what the run's gate lends the workers
        self._procs: list[_Proc] = []
        self._stats: dict[int, tuple[int, int, int]] = {}
        self._owner: dict[str, _Proc] = {}  # host -> worker
        self._results: asyncio.Queue | None = None
        self._feeder: asyncio.Future | None = None
        self._pending_fds: list[tuple[_Proc, int, int]] = []

    # -- starting -------------------------------------------------------------------------------
    def start(self) -> None:
        if self._procs:
            return
        method = self.method or ("fork" if hasattr(os, "fork") and threading.active_count() == 1 else "spawn")
        shares = _split(self.settings.concurrency, self.processes)
        keep: list[int] = []  # the parent's ends so far: a later child must not hold them open
        for share in shares:
            settings = dataclasses.replace(self.settings, concurrency=share)
            if method == "fork":
                proc, command_fd, result_fd = self._fork(settings, keep)
            else:
                proc, command_fd, result_fd = self._spawn(settings)
            keep += [command_fd, result_fd]
            proc.share = share
            self._procs.append(proc)
            self._pending_fds.append((proc, command_fd, result_fd))

    def _fork(self, settings: Settings, keep: list[int]) -> tuple[_Proc, int, int]:
        command_r, command_w = os.pipe()
        result_r, result_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the child
            for fd in (command_w, result_r, *keep):
                try:
                    os.close(fd)
                except OSError:
                    pass
            forked_main(command_r, result_w, settings, self.pool_factory, self.clock)
        os.close(command_r)
        os.close(result_w)
        return _Proc(pid, None), command_w, result_r

    def _spawn(self, settings: Settings) -> tuple[_Proc, int, int]:
        try:
            start = frame((settings, self.pool_factory, self.clock, log.getEffectiveLevel()))
        except (pickle.PicklingError, AttributeError, TypeError) as exc:
            raise ValueError(f"a spawned check worker needs a picklable pool factory and clock: {exc}") from None
        here = str(Path(__file__).resolve().parent.parent)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))}
        popen = subprocess.Popen([sys.executable, "-m", "crawler.checking.worker_process"], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, env=env, close_fds=True)
        command_fd, result_fd = os.dup(popen.stdin.fileno()), os.dup(popen.stdout.fileno())
        popen.stdin.close()
        popen.stdout.close()
        os.write(command_fd, start)  # small: fits the pipe's buffer
        return _Proc(popen.pid, popen), command_fd, result_fd

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        self._results = asyncio.Queue()
        for proc, command_fd, result_fd in self._pending_fds:
            proc.command, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(command_fd, "wb", buffering=0))
            await loop.connect_read_pipe(lambda p=proc: Frames(lambda m, p=p: self._arrived(p, m)),
                                         os.fdopen(result_fd, "rb", buffering=0))
        self._pending_fds = []

    def _arrived(self, proc: _Proc, message) -> None:
        if message is None or message[0] == "done":  # the worker is done with what it borrowed
            self._loans.back(proc.pid, message[2] if message is not None else None)
        self._results.put_nowait((proc, message))

    # -- checking -------------------------------------------------------------------------------
    async def check(self, urls: Iterable[str] | AsyncIterable[str],
                    validators: Validators) -> AsyncIterator[CheckResult]:
        """submit() and results() in one."""
        await self.submit(urls, validators)
        async for result in self.results():
            yield result

    async def submit(self, urls: Iterable[str] | AsyncIterable[str], validators: Validators) -> None:
        """Hand the URLs to the workers (starting them if need be) and return: a list is on its way
        when this returns, an async iterable is fed from a task. The caller may do other work now
        (find the entries, say) while the workers check; results() then collects."""
        if self._feeder is not None:
            raise RuntimeError("one submit() per CheckWorkers")
        self.start()
        await self._connect()
        for proc in self._procs:
            await self._loans.slots(proc.pid, proc.share)
        self._feeder = asyncio.ensure_future(self._feed(urls, validators))
        if not isinstance(urls, AsyncIterable):
            await asyncio.shield(self._feeder)

    async def results(self) -> AsyncIterator[CheckResult]:
        """Each CheckResult as it arrives; the workers are stopped and reaped when this ends, however."""
        assert self._feeder is not None, "submit() first"
        try:
            live = len(self._procs)
            while live:
                proc, message = await self._results.get()
                if message is None or message[0] == "done":
                    if proc.done:
                        continue  # the end of the pipe after "done"
                    if message is None and self._feeder.done() and not self._feeder.cancelled():
                        self._feeder.result()  # the URLs' source failed and the workers were stopped: say why
                    proc.done = True
                    live -= 1
                    if message is not None:
                        self._stats[proc.pid] = message[1]
                        self._sum()
                    for result in self._lost(proc):
                        yield result
                    continue
                _, batch, stats = message
                self._stats[proc.pid] = stats
                self._sum()
                for result in batch:
                    proc.sent.discard(result.url)
                    yield result
            if self._feeder.done() and not self._feeder.cancelled() and self._feeder.exception() is not None:
                raise self._feeder.exception()
        finally:
            self._feeder.cancel()
            await self.aclose()

    async def _feed(self, urls: Iterable[str] | AsyncIterable[str], validators: Validators) -> None:
        batches: dict[int, list[tuple[str, str | None, str | None]]] = defaultdict(list)
        lent: dict[int, dict[str, HostState]] = defaultdict(dict)  # hosts lent since the worker's last batch

        def give(url: str) -> tuple[_Proc, str] | None:
            """Queue `url` for its host's worker; the worker and the host when the host is new."""
            host = host_of(url)
            proc = new = self._owner.get(host)
            if proc is None:
                proc = self._owner[host] = min(self._procs, key=lambda p: p.load)
            proc.load += 1
            proc.sent.add(url)
            etag, modified = validators.get(url, (None, None))
            batches[proc.pid].append((url, etag, modified))
            return (proc, host) if new is None else None

        async def lend(proc: _Proc, host: str) -> None:
            state = await self._loans.host(proc.pid, host)
            if state is not None:
                lent[proc.pid][host] = state

        def send() -> None:
            for proc in self._procs:
                batch = batches.pop(proc.pid, None)
                if batch and not proc.command.is_closing():
                    proc.command.write(frame(("urls", batch, lent.pop(proc.pid, {}))))

        try:
            if isinstance(urls, AsyncIterable):
                async for url in urls:
                    if new := give(url):
                        await lend(*new)
                    if sum(map(len, batches.values())) >= FEED_BATCH:
                        send()
                send()
            else:
                for url in urls:
                    if new := give(url):
                        await lend(*new)
                send()
        except BaseException:
            # No "end" will come: close the command pipes, the workers stop, results() ends and raises.
            for proc in self._procs:
                if proc.command is not None and not proc.command.is_closing():
                    proc.command.abort()
            raise
        for proc in self._procs:
            if not proc.command.is_closing():
                proc.command.write(frame(("end",)))

    def _sum(self) -> None:
        answers = failures = sent = 0
        for a, f, s in self._stats.values():
            answers, failures, sent = answers + a, failures + f, sent + s
        self.stats = WorkerStats(answers, failures, sent)

    def _lost(self, proc: _Proc) -> list[CheckResult]:
        """The URLs of a worker that ended without answering them: a crawler error each, never silence."""
        if not proc.sent:
            return []
        code = proc.poll()
        from crawler.checking.verdicts import CRAWLER_ERROR, crawler_error

        why = f"{CRAWLER_ERROR}: a check worker exited" + (f" (code {code})" if code not in (None, 0) else "")
        now = self.clock()
        lost = [crawler_error(url, why, now) for url in proc.sent]
        log.error("%s with %d URLs unchecked", why, len(lost))
        proc.sent.clear()
        return lost

    # -- stopping -------------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Stop every worker (closing its command pipe makes it exit) and reap it; SIGKILL after a grace."""
        for _proc, command_fd, result_fd in self._pending_fds:
            for fd in (command_fd, result_fd):
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._pending_fds = []
        for proc in self._procs:
            if proc.command is not None:
                if not proc.command.is_closing():
                    proc.command.abort()
                proc.command = None
        deadline = time.monotonic() + STOP_GRACE
        while any(p.poll() is None for p in self._procs) and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        for proc in self._procs:
            proc.signal(signal.SIGKILL)
        for proc in self._procs:
            if proc.poll() is None:
                if proc.popen is not None:
                    proc.popen.wait()
                else:
                    try:
                        os.waitpid(proc.pid, 0)
                    except ChildProcessError:
                        pass
        self._loans.all_back()  # what a worker that ended without saying so had borrowed

    async def __aenter__(self) -> CheckWorkers:
        return self

    async def __aexit__(self, *exc) -> None:
        await self.aclose()


def _split(total: int, parts: int) -> list[int]:
    """`total` as `parts` near-equal positive shares: the overall limit divided, never exceeded."""
    base, extra = divmod(total, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]

