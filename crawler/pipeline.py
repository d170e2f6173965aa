"""The one module that knows every stage: parse -> check / enrich -> store -> report."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import json
import logging
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

from crawler import __version__
from crawler.check import Checker
from crawler.config import Settings
from crawler.enrich import Enricher
from crawler.errors import NetworkDown
from crawler.history import LinkState, update_history
from crawler.links import host_of, precheck, url_key
from crawler.listfile import read_list
from crawler.models import (
    Availability,
    CheckResult,
    Enrichment,
    Entry,
    Fill,
    Link,
    LinkStatus,
    ParsedList,
    RepoInfo,
    SourceState,
    Unresolved,
)
from crawler.net import ClientPool
from crawler.parse import parse_list
from crawler.progress import Progress
from crawler.sources.base import Claim, PaperSource, Verifier
from crawler.sources.gateway import SourceSet
from crawler.store import Store, paper_key

log = logging.getLogger("crawler")

SAVE_BATCH = 200  # results per transaction while checking
SAVE_EVERY = 2.0  # seconds: a killed run loses at most this much finished work
REPORT_SCHEMA_VERSION = 1
RUN_FIELDS = ("id", "started_at", "command", "total", "ok", "failing", "new", "dead", "fixed", "filled")


@dataclass(frozen=True)
class Job:
    command: str  # run | check | enrich | report
    list_path: Path


@dataclass
class Outcome:
    report: dict
    parsed: ParsedList
    text: str
    enrichment: Enrichment
    exit_code: int
    repos: dict[str, RepoInfo] = dataclasses.field(default_factory=dict)  # code link key -> what GitHub said


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        pool: ClientPool | None = None,
        sources: list[PaperSource | Verifier] | None = None,
        clock: Callable[[], float] = time.time,
        progress: Progress | None = None,
    ):
        self.settings = settings
        self.store = store
        self.pool = pool
        self.clock = clock
        self.progress = progress or Progress(enabled=False)
        self.exclude = tuple(re.compile(p) for p in settings.exclude)
        # Answers about papers (ids, titles, abstracts) live longer than link results, never shorter.
        meta_age = max(settings.max_age, settings.metadata_max_age)
        self.sources = None if sources is None else SourceSet(
            sources, store, now=clock(), max_age=meta_age, offline=settings.offline)

    async def aclose(self) -> None:
        if self.sources is not None:
            await self.sources.aclose()

    async def execute(self, job: Job) -> Outcome:
        started = self.clock()
        text = read_list(job.list_path)
        parsed = parse_list(text)
        by_key = self._group(parsed)
        results = await self._check(parsed, by_key, job.command)
        enrichment = Enrichment()
        if job.command in ("run", "enrich") and self.sources is not None:
            enrichment = await Enricher(self.sources).enrich(parsed, results)
            results.update(enrichment.verdicts)  # the entry's paper suggested for broken and wrong links
            self.store.save_results(enrichment.verdicts.values())
            self._remember(job, text, parsed, enrichment)
        elif job.command == "report":
            enrichment = self._recall(job, text, parsed)
        elif self.sources is not None:
            enrichment.sources = self.sources.states.all()
            enrichment.requests = self.sources.requests()
        repos = self.store.repos(by_key)
        report = self._record(job, parsed, by_key, results, enrichment, started, repos)
        return Outcome(report=report, parsed=parsed, text=text, enrichment=enrichment,
                       exit_code=exit_code(report, self.settings.fail_on), repos=repos)

    # -- the last enrichment, for `crawler report` ------------------------------------------------
    def _remember(self, job: Job, text: str, parsed: ParsedList, enrichment: Enrichment) -> None:
        entries = {e.line: e for e in parsed.entries}
        snapshot = {
            "text_sha": hashlib.sha256(text.encode()).hexdigest(),
            "fills": [asdict(f) for f in enrichment.fills],
            "unresolved": [asdict(u) for u in enrichment.unresolved],
            "sources": [asdict(state) for state in enrichment.sources],
            # By section and title, not line: --write and --abstracts move lines.
            "papers": [[entries[line].section, entries[line].title, paper_key(meta)]
                       for line, meta in enrichment.metas.items() if line in entries],
        }
        self.store.save_lookups({f"last-enrichment:{job.list_path.resolve()}": snapshot}, self.clock())

    def _recall(self, job: Job, text: str, parsed: ParsedList) -> Enrichment:
        snapshot = self.store.lookup(f"last-enrichment:{job.list_path.resolve()}", self.clock(), float("inf"))
        if not snapshot:
            return Enrichment()
        keys = {(section, title): key for section, title, key in snapshot["papers"]}
        metas = self.store.papers(set(keys.values()))
        enrichment = Enrichment(sources=[SourceState(**{**state, "availability": Availability(state["availability"])})
                                         for state in snapshot["sources"]])
        for entry in parsed.entries:
            key = keys.get((entry.section, entry.title))
            if key in metas:
                enrichment.metas[entry.line] = metas[key]
        if snapshot["text_sha"] == hashlib.sha256(text.encode()).hexdigest():  # same list: same lines
            enrichment.fills = [Fill(**f) for f in snapshot["fills"]]
            enrichment.unresolved = [Unresolved(**{**u, "candidates": tuple(u["candidates"])})
                                     for u in snapshot["unresolved"]]
        return enrichment

    # -- grouping -------------------------------------------------------------------------------
    def _group(self, parsed: ParsedList) -> dict[str, list[Link]]:
        by_key: dict[str, list[Link]] = defaultdict(list)
        for link in parsed.links:
            if link.is_empty:
                continue
            by_key[url_key(link.url)].append(link)
        return dict(by_key)

    # -- checking -------------------------------------------------------------------------------
    async def _check(self, parsed: ParsedList, by_key: dict[str, list[Link]], command: str) -> dict[str, CheckResult]:
        now = self.clock()
        results: dict[str, CheckResult] = {}
        web: list[str] = []
        for key, links in by_key.items():
            verdict = precheck(links[0].url, self.exclude)
            if verdict.status is None:
                web.append(key)
            else:
                results[key] = CheckResult(url=key, status=verdict.status, error=verdict.reason, checked_at=now)
        if command in ("report", "enrich") or self.settings.offline:
            cached = self.store.cached_results(web)
            for key in web:
                results[key] = cached.get(key) or CheckResult(
                    url=key, status=LinkStatus.SKIPPED, error="offline: not in the cache", checked_at=now
                )
            return results
        fresh = self.store.fresh_results(web, now, self.settings.max_age)
        results.update(fresh)
        todo = [k for k in web if k not in fresh]
        claims = _claims(parsed, by_key)
        if self.sources is not None:
            todo = await self._verify(todo, claims, results, now)
        if todo:
            results.update(await self._check_network(todo))
            if self.sources is not None:
                await self._judge_pages(todo, claims, results)
        return results

    async def _verify(self, todo: list[str], claims: dict[str, Claim], results: dict[str, CheckResult],
                      now: float) -> list[str]:
        """URLs a verifier claims are judged in batches (arXiv ids, GitHub repositories), not page by page."""
        assert self.sources is not None
        for verifier in self.sources.verifiers:
            mine = [k for k in todo if verifier.claims(k)]
            if not mine:
                continue
            answer = await verifier.verify_all([claims[k] for k in mine])
            if answer.unavailable is not None:
                self.sources.states.failed(answer.unavailable)
            elif answer.requests:
                self.sources.states.answered(verifier.name)
            results.update(answer.results)
            self.store.save_results(answer.results.values())
            self.store.save_repos(answer.repos)
            # Nothing is judged on a source that did not answer: the last verdict we had stands.
            unjudged = [k for k in mine if k not in answer.results and k not in answer.to_web]
            stale = self.store.cached_results(unjudged)
            for key in unjudged:
                results[key] = stale.get(key) or CheckResult(
                    url=key, status=LinkStatus.SKIPPED, error=f"{verifier.name} unavailable this run", checked_at=now)
            done = set(mine) - answer.to_web
            todo = [k for k in todo if k not in done]
        return todo

    async def _judge_pages(self, checked: list[str], claims: dict[str, Claim], results: dict[str, CheckResult]) -> None:
        """Pages of paper sources that loaded are judged as papers: is it the entry's?"""
        assert self.sources is not None
        for gateway in self.sources.papers:
            if gateway.source.batch_verifies:
                continue
            mine = [claims[k] for k in checked if gateway.source.ref(k) is not None]
            verdicts = await gateway.judge_pages(mine, results) if mine else {}
            results.update(verdicts)
            self.store.save_results(verdicts.values())

    async def _check_network(self, urls: list[str]) -> dict[str, CheckResult]:
        assert self.pool is not None, "checking needs a client pool"
        checker = Checker(self.pool, self.settings, clock=self.clock)
        validators = self.store.validators(urls)
        done: dict[str, CheckResult] = {}
        pending: list[CheckResult] = []
        proven_online = False
        last_save = time.monotonic()
        self.progress.start("checking links", len(urls))

        async def one(url: str) -> None:
            nonlocal proven_online, last_save
            etag, modified = validators.get(url, (None, None))
            try:
                result = await checker.check(url, etag=etag, last_modified=modified)
            except Exception as exc:  # a crawler bug must not sink the whole night's run
                log.exception("checking %s failed", url)
                result = CheckResult(url=url, status=LinkStatus.UNREACHABLE, error=f"crawler error: {exc!r}",
                                     checked_at=self.clock())
            if result.http_status == 304:
                result = self._revalidated(url, result)
            done[url] = result
            pending.append(result)
            proven_online = proven_online or checker.answers > 0
            # Keep finished work even if the run dies, but only once we know the network is up:
            # a night without network must leave the cache exactly as it was.
            if proven_online and (len(pending) >= SAVE_BATCH or time.monotonic() - last_save >= SAVE_EVERY):
                self.store.save_results(pending)
                pending.clear()
                last_save = time.monotonic()
            self.progress.advance()

        # One queue per host and as many workers as the host may have requests in flight: a few
        # hundred tasks instead of one per URL parked on the host's semaphore (issue 8).
        queues: dict[str, deque[str]] = defaultdict(deque)
        for url in urls:
            queues[host_of(url)].append(url)

        async def worker(queue: deque[str]) -> None:
            while queue:
                await one(queue.popleft())

        tasks = [asyncio.ensure_future(worker(queue)) for host, queue in queues.items()
                 for _ in range(min(len(queue), self.pool.host_limit(host)))]
        try:
            _done, late = await asyncio.wait(tasks, timeout=self.settings.run_timeout)
        finally:
            # Stopped half-way (Ctrl-C, SIGTERM from CI) or out of time: keep what was finished.
            for task in tasks:
                task.cancel()
            if proven_online:
                self.store.save_results(pending)
                pending.clear()
        await asyncio.gather(*late, return_exceptions=True)
        for url in urls:
            if url not in done:  # out of run time: a timeout, transient, so never cached as fresh
                done[url] = CheckResult(url=url, status=LinkStatus.TIMEOUT, checked_at=self.clock(),
                                        error=f"not checked: the run's {self.settings.run_timeout:g} s were used up")
        self.progress.finish()
        if checker.answers == 0 and checker.network_failures > 0 and _is_outage(done):
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

    # -- history and report ---------------------------------------------------------------------
    def _record(self, job: Job, parsed: ParsedList, by_key: dict[str, list[Link]],
                results: dict[str, CheckResult], enrichment: Enrichment, started: float,
                repos: dict[str, RepoInfo]) -> dict:
        now = self.clock()
        history = self.store.history(by_key)
        rows, states = update_history(history, results, now, dead_after=self.settings.dead_after,
                                      dead_span=self.settings.dead_span)
        writes = job.command != "report"
        if writes:
            self.store.save_history(rows)
        report = build_report(job, parsed, by_key, results, states, enrichment, now, repos)
        summary = report["summary"]
        if writes:
            run_row = {
                "started_at": started, "finished_at": now, "command": job.command, "list": str(job.list_path),
                "total": summary["distinct_urls"], "ok": summary["healthy"], "failing": summary["failing"],
                "new": len(summary["new"]), "dead": len(summary["dead"]), "fixed": len(summary["fixed"]),
                "filled": summary["fills"], "counts": json.dumps(summary["counts"], sort_keys=True),
            }
            self.store.add_run(run_row)
        report["runs"] = [
            {k: r[k] for k in RUN_FIELDS} for r in self.store.runs()
        ]
        return report


def _is_outage(done: dict[str, CheckResult]) -> bool:
    """Every host failed at the network level, and there was more than one host to fail."""
    hosts = {(r.url.split("/")[2] if "//" in r.url else r.url) for r in done.values()}
    network = all(
        r.http_status is None and r.status in (LinkStatus.UNREACHABLE, LinkStatus.BROKEN, LinkStatus.TIMEOUT)
        for r in done.values()
    )
    return network and len(hosts) >= 2


def _claims(parsed: ParsedList, by_key: dict[str, list[Link]]) -> dict[str, Claim]:
    """Each distinct URL with the entries it is written on, for the sources that judge it."""
    entries: dict[int, Entry] = {}
    for entry in parsed.entries:
        for lk in entry.links:
            entries.setdefault(lk.line, entry)
    out = {}
    for key, links in by_key.items():
        on = tuple(dict.fromkeys(entries[lk.line] for lk in links if lk.line in entries))
        out[key] = Claim(key=key, url=links[0].url, entries=on)
    return out


def build_report(job: Job, parsed: ParsedList, by_key: dict[str, list[Link]], results: dict[str, CheckResult],
                 states: dict[str, LinkState], enrichment: Enrichment, now: float,
                 repos: dict[str, RepoInfo] | None = None) -> dict:
    repos = repos or {}
    entry_of_line = {}
    for entry in parsed.entries:
        for lk in entry.links:
            entry_of_line.setdefault(lk.line, entry)
    links_out = []
    counts: dict[str, int] = {s.value: 0 for s in LinkStatus}
    for key, links in by_key.items():
        r = results.get(key)
        if r is None:
            continue
        st = states.get(key) or LinkState()
        counts[r.status.value] += 1
        entries = sorted({entry_of_line[lk.line].title for lk in links if lk.line in entry_of_line})
        links_out.append({
            "url": links[0].url, "key": key, "status": r.status.value, "http_status": r.http_status,
            "final_url": r.final_url, "error": r.error, "lines": sorted({lk.line for lk in links}),
            "labels": sorted({lk.label for lk in links}), "entries": entries,
            "redirects": [{"url": h.url, "status": h.status} for h in r.redirects],
            "checked_at": r.checked_at, "from_cache": r.from_cache,
            "first_failed_at": st.first_failed_at, "consecutive_failures": st.consecutive_failures,
            "new": st.new, "dead": st.dead, "suggestion": r.suggestion, "note": r.note,
            "title_score": r.title_score, "authors_matched": r.authors_matched,
            "repo": asdict(repos[key]) if key in repos else None,
        })
    empties = [lk for lk in parsed.links if lk.is_empty]
    counts[LinkStatus.EMPTY.value] = len(empties)
    filled_lines = {f.line for f in enrichment.fills}
    failing = sum(1 for lo in links_out if LinkStatus(lo["status"]).is_failure)
    unjudged = sum(1 for lo in links_out if not LinkStatus(lo["status"]).is_judged
                   and lo["status"] != LinkStatus.SKIPPED)
    summary = {
        "list": str(job.list_path), "command": job.command, "generated_at": now, "version": __version__,
        "entries": len(parsed.entries), "paper_entries": sum(1 for e in parsed.entries if e.is_paper),
        "links": len(parsed.links), "distinct_urls": len(links_out), "empty_links": len(empties),
        "counts": {k: v for k, v in counts.items() if v},
        "healthy": sum(1 for lo in links_out if LinkStatus(lo["status"]).is_healthy),
        "failing": failing,
        "not_judged": unjudged,  # blocked or rate limited: could not say, shown apart from failures
        "notes": sum(1 for lo in links_out if lo["note"]),
        "new": [lo["url"] for lo in links_out if lo["new"]],
        "dead": [lo["url"] for lo in links_out if lo["dead"]],
        "fixed": [lo["url"] for lo in links_out if lo["key"] in states and states[lo["key"]].fixed],
        "fills": len(enrichment.fills), "unresolved": len(enrichment.unresolved),
        "abstracts": sum(1 for m in enrichment.metas.values() if m.abstract),
        "sources": [{"source": st.source, "scope": st.scope, "state": st.availability.value, "reason": st.reason}
                    for st in enrichment.sources],
        "requests": dict(enrichment.requests),
        "empty_unfilled_lines": sorted(lk.line for lk in empties if lk.line not in filled_lines),
    }
    return {
        "schema_version": REPORT_SCHEMA_VERSION,
        "summary": summary,
        "links": links_out,
        "empty": [{"line": lk.line, "label": lk.label,
                   "entry": entry_of_line[lk.line].title if lk.line in entry_of_line else None} for lk in empties],
        "fills": [f.__dict__ for f in enrichment.fills],
        "unresolved": [{"line": u.line, "entry": u.entry, "reason": u.reason, "candidates": list(u.candidates)}
                       for u in enrichment.unresolved],
        "runs": [],
    }


def exit_code(report: dict, fail_on: str) -> int:
    links = report["links"]
    if fail_on == "never":
        return 0
    if fail_on == "dead":
        return 1 if any(lo["dead"] for lo in links) else 0
    if fail_on == "new":
        definite = (LinkStatus.BROKEN, LinkStatus.WRONG_PAPER)
        return 1 if any(lo["new"] and lo["status"] in definite for lo in links) else 0
    return 1 if any(LinkStatus(lo["status"]).is_failure for lo in links) else 0
