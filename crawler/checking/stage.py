"""The check stage: every distinct URL of the lists gets a verdict, as cheaply as it can be had.

In order: what can be said without the network (invalid, skipped, and the links inside the repository,
judged from its files: crawler.checking.localrefs); what the cache says (younger than --max-age, never a
transient failure); what the verifiers judge in batches (arXiv ids, GitHub repositories: never page by
page); the ordinary per-URL check for the rest (crawler.checking.checker, one queue per host); and, for pages of
paper sources that loaded, whether they are the entry's paper at each place they are written. A paper
verdict from the cache is judged again against tonight's entries, from the cached papers.

A night without network raises NetworkDown and leaves the cache as it was; a run stopped half-way
(Ctrl-C, SIGTERM) keeps every finished result.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
import time
from collections.abc import Callable

from crawler.checking.checker import Checker, is_crawler_error
from crawler.checking.fragments import fragment_notes
from crawler.checking.localrefs import Repository
from crawler.checking.progress import Progress
from crawler.checking.verdicts import with_suggestion
from crawler.checking.workers import CheckWorkers
from crawler.config import Settings
from crawler.errors import NetworkDown
from crawler.listfile.exclusions import disabled_index, disabled_reason
from crawler.listfile.links import Precheck, host_of, precheck
from crawler.models import CheckResult, Link, LinkStatus, ParsedList
from crawler.net.pool import ClientPool
from crawler.sources.base import Claim
from crawler.sources.gateway import SourceSet
from crawler.store.cache import Store

log = logging.getLogger("crawler")

SAVE_BATCH = 200  # results per transaction while checking
SAVE_EVERY = 2.0  # seconds: a killed run loses at most this much finished work


class CheckStage:
    def __init__(self, settings: Settings, store: Store, *, pool: ClientPool | None, sources: SourceSet | None,
                 clock: Callable[[], float] = time.time, progress: Progress | None = None):
        self.settings = settings
        self.store = store
        self.pool = pool
        self.sources = sources
        self.clock = clock
        self.progress = progress or Progress(enabled=False)
        self.exclude = settings.url_rules()
        self.workers: CheckWorkers | None = None  # worker processes, for lists big enough to pay for them

    async def run(self, parsed: ParsedList, by_key: dict[str, list[Link]], command: str) -> dict[str, CheckResult]:
        """key -> verdict for every distinct URL (`report` and `enrich` take them from the cache)."""
        try:
            return await self._check(parsed, by_key, command)
        finally:
            if self.workers is not None:
                await self.workers.aclose()
                self.workers = None

    async def _check(self, parsed: ParsedList, by_key: dict[str, list[Link]], command: str) -> dict[str, CheckResult]:
        now = self.clock()
        results, web, excluded = self._precheck(parsed, by_key, now)
        claims = _claims(parsed, by_key)
        if command in ("report", "enrich") or self.settings.offline:
            self._from_cache(by_key, results, web, excluded, now)
            cached = [k for k in web if results[k].status.is_judged]
            await self._rejudge(cached, claims, results, now, save=command != "report")
            return results
        # The verdicts that needed no network, for report and enrich; an exclusion is not stored, so it never
        # hides the link's last verdict, nor outlives the rule.
        self.store.save_results(r for k, r in results.items() if k not in excluded)
        fresh = {k: r for k, r in self.store.fresh_results(web, now, self.settings.max_age).items() if _reusable(r)}
        results.update(fresh)
        await self._rejudge(list(fresh), claims, results, now, save=True)
        todo = [k for k in web if k not in fresh]
        if self.settings.processes > 1 and len(todo) >= self.settings.processes_from:
            # Forked now, before the verifiers start a thread (arXiv's), while a fork is safe
            # (crawler.checking.workers).
            self.workers = CheckWorkers(self.settings, processes=self.settings.processes, clock=self.clock,
                                        gate=self.pool.gate if self.pool is not None else None)
            self.workers.start()
        if self.sources is not None:
            todo = await self._verify(todo, claims, results, now)
        if todo:
            results.update(await self._check_network(todo))
            if self.sources is not None:
                await self._judge_pages(todo, claims, results)
            if self.settings.check_fragments:
                fragment_notes(todo, by_key, results)
        return results

    async def _rejudge(self, keys: list[str], claims: dict[str, Claim], results: dict[str, CheckResult],
                       now: float, *, save: bool) -> None:
        """Paper verdicts from the cache, judged again against tonight's entries from the cached papers (no
        request): a pull request that moved a URL to another entry, or fixed the line, changes the verdict
        though the page is the same. A verdict that changed is an observation made now."""
        if self.sources is None or not keys:
            return
        changed = []
        for gateway in self.sources.papers:
            hosts = gateway.source.claimed_hosts
            mine = [claims[k] for k in on_hosts(keys, hosts) if gateway.source.ref(k) is not None]
            verdicts = await gateway.judge_pages(mine, results, ask=False) if mine else {}
            for key, verdict in verdicts.items():
                old = results[key]
                if (verdict.status, verdict.error) != (old.status, old.error):
                    verdict = dataclasses.replace(verdict, checked_at=now, from_cache=False)
                    changed.append(verdict)
                elif old.suggestion and not verdict.occurrences:  # what the enrichment suggested still stands
                    verdict = with_suggestion(verdict, "", 0, old.suggestion) or verdict
                results[key] = verdict
        if save:
            self.store.save_results(changed)

    def _precheck(self, parsed: ParsedList, by_key: dict[str, list[Link]],
                  now: float) -> tuple[dict[str, CheckResult], list[str], set[str]]:
        """What needs no network: (verdicts, the keys to check on the web, the keys the user excluded)."""
        results: dict[str, CheckResult] = {}
        web: list[str] = []
        excluded: set[str] = set()  # by the user: a verdict about tonight's settings, not about the link
        disabled = disabled_index(parsed.disabled)
        repository = Repository(parsed.anchors)
        for key, links in by_key.items():
            reason = disabled_reason(links, disabled)
            verdict = Precheck(LinkStatus.SKIPPED, reason, by_user=True) if reason else precheck(links[0].url,
                                                                                                 self.exclude)
            if verdict.local and not verdict.by_user:
                results[key] = repository.judge(key, links[0], now)
                continue
            if verdict.status is None:
                web.append(key)
                continue
            results[key] = CheckResult(url=key, status=verdict.status, error=verdict.reason, checked_at=now)
            if verdict.by_user:
                excluded.add(key)
        return results, web, excluded

    def _from_cache(self, by_key: dict[str, list[Link]], results: dict[str, CheckResult], web: list[str],
                    excluded: set[str], now: float) -> dict[str, CheckResult]:
        """`report`, `enrich` and --offline: the verdicts the cache holds; a link it has none for is not judged."""
        cached = self.store.cached_results(by_key)
        # What needed no network is the observation stored when it was made, if the verdict is the same:
        # re-dated now, a report or an enrich would count an invalid link's failure once more.
        for key, result in list(results.items()):
            if key in cached and cached[key].status is result.status and key not in excluded:
                results[key] = dataclasses.replace(result, checked_at=cached[key].checked_at, from_cache=True)
        why = "offline: not in the cache" if self.settings.offline else "cache: no result yet (run crawler check)"
        for key in web:
            found = cached.get(key)
            results[key] = found if _reusable(found) else CheckResult(
                url=key, status=LinkStatus.BLOCKED, error=why, checked_at=now)
        return results

    async def _verify(self, todo: list[str], claims: dict[str, Claim], results: dict[str, CheckResult],
                      now: float) -> list[str]:
        """URLs a verifier claims are judged in batches (arXiv ids, GitHub repositories), not page by page."""
        assert self.sources is not None
        for verifier in self.sources.verifiers:
            mine = [k for k in on_hosts(todo, verifier.claimed_hosts) if verifier.claims(k)]
            if not mine:
                continue
            answer = await verifier.verify_all([claims[k] for k in mine])
            if answer.unavailable is not None:
                self.sources.states.failed(answer.unavailable)
            elif answer.requests:
                self.sources.states.answered(verifier.name)
            results.update(answer.results)
            # A source that could not answer (no sign-in, a challenge) says so tonight; the next run asks again.
            self.store.save_results(r for r in answer.results.values() if r.status.is_judged)
            self.store.save_repos(answer.repos)
            # Nothing is judged on a source that did not answer: the last verdict we had stands, else the link is
            # not judged, with the source's reason (rate limited when the source answered 429).
            unjudged = [k for k in mine if k not in answer.results and k not in answer.to_web]
            stale = self.store.cached_results(unjudged)
            down = answer.unavailable or self.sources.states.down(verifier.name)
            why = f" ({down.reason})" if down is not None and down.reason else ""
            status = LinkStatus.RATE_LIMITED if re.search(r"\b429\b", why) else LinkStatus.BLOCKED
            for key in unjudged:
                found = stale.get(key)
                results[key] = found if _reusable(found) else CheckResult(
                    url=key, status=status, error=f"{verifier.name}: unavailable this run{why}", checked_at=now)
            done = set(mine) - answer.to_web
            todo = [k for k in todo if k not in done]
        return todo

    async def _judge_pages(self, checked: list[str], claims: dict[str, Claim], results: dict[str, CheckResult]) -> None:
        """Pages of paper sources that loaded are judged as papers: is it the entry's?"""
        assert self.sources is not None
        for gateway in self.sources.papers:
            if gateway.source.batch_verifies:
                continue
            mine = [claims[k] for k in on_hosts(checked, gateway.source.claimed_hosts)
                    if gateway.source.ref(k) is not None]
            verdicts = await gateway.judge_pages(mine, results) if mine else {}
            results.update(verdicts)
            self.store.save_results(verdicts.values())

    async def _check_network(self, urls: list[str]) -> dict[str, CheckResult]:
        """The ordinary per-URL check (Checker.check_many, or the same in worker processes), its results
        saved as they come: every 2 s or 200 results, and all that is finished when the run is stopped."""
        assert self.pool is not None, "checking needs a client pool"
        validators = self.store.validators(urls)
        if self.workers is not None:
            await self.workers.submit(urls, validators)
            stream, counters = self.workers.results(), self.workers.stats
        else:
            checker = Checker(self.pool, self.settings, clock=self.clock)
            stream, counters = checker.check_many(urls, validators), checker
        done: dict[str, CheckResult] = {}
        pending: list[CheckResult] = []
        proven_online = False
        last_save = time.monotonic()
        self.progress.start("checking links", len(urls))
        try:
            async with asyncio.timeout(self.settings.run_timeout):
                async for result in stream:
                    if result.http_status == 304:
                        result = self._revalidated(result.url, result)
                    if is_crawler_error(result):
                        # Our failure, not the link's: the last verdict stands, else the link is not judged
                        # (never `skipped`: nobody chose to leave it out), and nothing is stored.
                        last = self.store.cached_results([result.url]).get(result.url)
                        done[result.url] = last if _reusable(last) else dataclasses.replace(
                            result, status=LinkStatus.BLOCKED)
                        self.progress.advance()
                        continue
                    done[result.url] = result
                    pending.append(result)
                    proven_online = proven_online or counters.answers > 0
                    # Keep finished work even if the run dies, but only once we know the network is up:
                    # a night without network must leave the cache exactly as it was.
                    if proven_online and (len(pending) >= SAVE_BATCH or time.monotonic() - last_save >= SAVE_EVERY):
                        self.store.save_results(pending)
                        pending.clear()
                        last_save = time.monotonic()
                    self.progress.advance()
        except TimeoutError:
            pass  # out of run time: what is not done is reported below
        finally:
            # Stopped half-way (Ctrl-C, SIGTERM from CI) or out of time: keep what was finished.
            await stream.aclose()
            if proven_online:
                self.store.save_results(pending)
                pending.clear()
        for url in urls:
            if url not in done:  # out of run time: a timeout, transient, so never cached as fresh
                done[url] = CheckResult(url=url, status=LinkStatus.TIMEOUT, checked_at=self.clock(),
                                        error=f"not checked: the run's {self.settings.run_timeout:g} s were used up")
        self.progress.finish()
        if counters.answers == 0 and counters.network_failures > 0 and _is_outage(done):
            raise NetworkDown("the network is unavailable: no host could be resolved or reached; nothing was judged")
        self.store.save_results(pending)
        return done

    def _revalidated(self, url: str, result: CheckResult) -> CheckResult:
        """304 Not Modified: the stored verdict stands, re-dated."""
        old = self.store.cached_results([url]).get(url)
        if old is None:
            return CheckResult(url=url, status=LinkStatus.OK, http_status=200, final_url=result.final_url,
                               checked_at=result.checked_at, etag=result.etag, last_modified=result.last_modified)
        return CheckResult(**{**old.__dict__, "checked_at": result.checked_at, "from_cache": False})


def _reusable(result: CheckResult | None) -> bool:
    """A stored verdict that may stand for a link to check: `skipped` was about a setting of its night (an
    exclusion, a private target refused without --allow-private), not about the link."""
    return result is not None and result.status is not LinkStatus.SKIPPED


def _is_outage(done: dict[str, CheckResult]) -> bool:
    """Every host failed at the network level, and there was more than one host to fail."""
    hosts = {(r.url.split("/")[2] if "//" in r.url else r.url) for r in done.values()}
    network = all(
        r.http_status is None and r.status in (LinkStatus.UNREACHABLE, LinkStatus.BROKEN, LinkStatus.TIMEOUT)
        for r in done.values()
    )
    return network and len(hosts) >= 2


def on_hosts(keys: list[str], hosts: frozenset[str] | None) -> list[str]:
    """The keys on these hosts (all of them for None): a source is asked only about URLs it could claim,
    which spares a URL parse per source and link (issue 16)."""
    return keys if hosts is None else [k for k in keys if host_of(k) in hosts]


def _claims(parsed: ParsedList, by_key: dict[str, list[Link]]) -> dict[str, Claim]:
    """Each distinct URL with the entries it is written on, for the sources that judge it."""
    entries = parsed.entries_by_place()
    out = {}
    for key, links in by_key.items():
        on = tuple(dict.fromkeys(entries[(lk.file, lk.line)] for lk in links if (lk.file, lk.line) in entries))
        out[key] = Claim(key=key, url=links[0].url, entries=on)
    return out
