"""The web check of the chain: every link still open fetched, one queue per host (crawler.checking.checker).

Run in this process or in worker processes (crawler.checking.workers), which the check stage starts
before the verifiers do (a fork is only safe while the process has one thread). Results are saved as
they come, every 2 s or 200 results, and all that is finished is kept when the run is stopped (Ctrl-C,
SIGTERM) or out of time; but only once an answer proved the network is up: a night without network
raises NetworkDown and leaves the cache exactly as it was.

A page that loaded from a paper source's site goes on to the paper judge (crawler.checking.authorities);
the rest are done here.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping

from crawler.checking import verdicts
from crawler.checking.chain import Done, Handler, Next, Step
from crawler.checking.checker import Checker
from crawler.checking.fragments import with_fragment_notes
from crawler.checking.progress import Progress
from crawler.checking.workers import CheckWorkers
from crawler.config import Settings
from crawler.errors import NetworkDown
from crawler.findings import TimedOut
from crawler.models import CheckResult, Link
from crawler.net.pool import ClientPool
from crawler.store.cache import Store

SAVE_BATCH = 200  # results per transaction while checking
SAVE_EVERY = 2.0  # seconds: a killed run loses at most this much finished work


class StartWorkers(Handler):
    """Forks the worker processes when enough links are left for them to pay, before any source starts a
    thread (arXiv's client does). Decides nothing."""

    def __init__(self, web: WebCheck):
        self.web = web

    async def handle(self, keys: list[str], seen: Mapping[str, CheckResult]) -> Mapping[str, Step]:
        settings = self.web.settings
        if settings.processes > 1 and len(keys) >= settings.processes_from:
            pool = self.web.pool
            self.web.workers = CheckWorkers(settings, processes=settings.processes, clock=self.web.clock,
                                            gate=pool.gate if pool is not None else None)
            self.web.workers.start()
        return {}


class WebCheck(Handler):
    def __init__(self, settings: Settings, store: Store, pool: ClientPool | None, *, by_key: dict[str, list[Link]],
                 to_judge: Callable[[str], bool], clock: Callable[[], float], progress: Progress):
        self.settings = settings
        self.store = store
        self.pool = pool
        self.by_key = by_key
        self.to_judge = to_judge  # whether the paper judge has a say on a page that loaded
        self.clock = clock
        self.progress = progress
        self.workers: CheckWorkers | None = None  # worker processes, for lists big enough to pay for them

    async def aclose(self) -> None:
        if self.workers is not None:
            await self.workers.aclose()
            self.workers = None

    def finish(self, key: str, record: CheckResult) -> CheckResult:
        """A checked page's record as it is kept: a `#fragment` its page does not hold is a note."""
        if not self.settings.check_fragments:
            return record
        return with_fragment_notes(record, self.by_key.get(key, ()))

    async def handle(self, keys: list[str], seen: Mapping[str, CheckResult]) -> Mapping[str, Step]:
        found = await self._check(keys)
        return {key: Next(page) if self.to_judge(key) else Done(self.finish(key, page)) for key, page in found.items()}

    async def _check(self, urls: list[str]) -> dict[str, CheckResult]:
        """The ordinary per-URL check (Checker.check_many, or the same in worker processes), its results
        saved as they come."""
        assert self.pool is not None, "checking needs a client pool"
        validators = self.store.validators(urls)
        if self.workers is not None:
            await self.workers.submit(urls, validators)
            stream, counters = self.workers.results(), self.workers.stats
        else:
            checker = Checker(self.pool, self.settings, clock=self.clock)
            stream, counters = checker.check_many(urls, validators), checker
        saving = _Saving(self.store)
        done: dict[str, CheckResult] = {}
        self.progress.start("checking links", len(urls))
        try:
            async with asyncio.timeout(self.settings.run_timeout):
                async for found in stream:
                    done[found.url] = self._kept(found, saving, online=counters.answers > 0)
                    self.progress.advance()
        except TimeoutError:
            pass  # out of run time: what is not done is reported below
        finally:
            # Stopped half-way (Ctrl-C, SIGTERM from CI) or out of time: keep what was finished.
            await stream.aclose()
            saving.flush()
        for url in urls:
            if url not in done:  # out of run time: a timeout, transient, so never cached as fresh
                done[url] = verdicts.result(url, TimedOut(
                    f"not checked: the run's {self.settings.run_timeout:g} s were used up"), self.clock())
        self.progress.finish()
        if counters.answers == 0 and counters.network_failures > 0 and _is_outage(done):
            raise NetworkDown("the network is unavailable: no host could be resolved or reached; nothing was judged")
        saving.flush(force=True)
        return done

    def _kept(self, found: CheckResult, saving: _Saving, *, online: bool) -> CheckResult:
        """What a result from the stream stands for, saved when it is an observation of the link."""
        if found.http_status == 304:
            found = verdicts.not_modified(found.url, self._stored(found.url), found)
        if verdicts.is_crawler_error(found):
            # Our failure, not the link's: nothing is stored.
            last = self._stored(found.url)
            return verdicts.after_crawler_error(found, last if verdicts.reusable(last) else None)
        saving.add(found, online=online)
        return found

    def _stored(self, url: str) -> CheckResult | None:
        return self.store.cached_results([url]).get(url)


class _Saving:
    """Results saved in batches as they come, once the network is known to be up (a night without network
    must leave the cache exactly as it was)."""

    def __init__(self, store: Store):
        self.store = store
        self.pending: list[CheckResult] = []
        self.online = False
        self.last = time.monotonic()

    def add(self, found: CheckResult, *, online: bool) -> None:
        self.pending.append(found)
        self.online = self.online or online
        if self.online and (len(self.pending) >= SAVE_BATCH or time.monotonic() - self.last >= SAVE_EVERY):
            self.flush()

    def flush(self, *, force: bool = False) -> None:
        if self.online or force:
            self.store.save_results(self.pending)
            self.pending.clear()
            self.last = time.monotonic()


def _is_outage(done: dict[str, CheckResult]) -> bool:
    """Every host failed at the network level, and there was more than one host to fail."""
    hosts = {(r.url.split("/")[2] if "//" in r.url else r.url) for r in done.values()}
    network = all(r.http_status is None and r.status.may_mean_offline for r in done.values())
    return network and len(hosts) >= 2
