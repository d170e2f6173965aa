"""The one module that knows every stage: parse -> check / enrich -> store -> report."""

from __future__ import annotations

import asyncio
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
from crawler.errors import NetworkDown
from crawler.links import host_of, normalize_url, parse_arxiv_id, precheck
from crawler.listfile import read_list
from crawler.models import CheckResult, Enrichment, Fill, Link, LinkStatus, ParsedList, Unresolved
from crawler.net import ClientPool
from crawler.parse import parse_list
from crawler.progress import Progress
from crawler.store import Store, paper_key

log = logging.getLogger("crawler")

SAVE_BATCH = 200  # results per transaction while checking
SAVE_EVERY = 2.0  # seconds: a killed run loses at most this much finished work
ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})
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


def link_key(link: Link) -> str:
    return normalize_url(link.url) if link.url.strip() else ""


class Pipeline:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        pool: ClientPool | None = None,
        enricher=None,
        clock: Callable[[], float] = time.time,
        progress: Progress | None = None,
    ):
        self.settings = settings
        self.store = store
        self.pool = pool
        self.enricher = enricher
        self.clock = clock
        self.progress = progress or Progress(enabled=False)
        self.exclude = tuple(re.compile(p) for p in settings.exclude)

    async def execute(self, job: Job) -> Outcome:
        started = self.clock()
        text = read_list(job.list_path)
        parsed = parse_list(text)
        by_key = self._group(parsed)
        results = await self._check(parsed, by_key, job.command)
        enrichment = Enrichment()
        if job.command in ("run", "enrich") and self.enricher is not None:
            enrichment = await self.enricher.enrich(parsed, results, self.store, self.clock())
            # The paper-aware verdict wins over "the page loads" (a wrong paper loads fine), and a
            # verdict of the same status only adds its suggestion.
            for key, verdict in enrichment.verdicts.items():
                old = results.get(key)
                if old is None or old.status in (LinkStatus.OK, LinkStatus.REDIRECTED) or old.status == verdict.status:
                    results[key] = verdict
            self.store.save_results(enrichment.verdicts.values())
            self._remember(job, text, parsed, enrichment)
        elif job.command == "report":
            enrichment = self._recall(job, text, parsed)
        elif self.enricher is not None:
            enrichment.sources = dict(self.enricher.sources)
        report = self._record(job, parsed, by_key, results, enrichment, started)
        return Outcome(report=report, parsed=parsed, text=text, enrichment=enrichment,
                       exit_code=exit_code(report, self.settings.fail_on))

    # -- the last enrichment, for `crawler report` ------------------------------------------------
    def _remember(self, job: Job, text: str, parsed: ParsedList, enrichment: Enrichment) -> None:
        entries = {e.line: e for e in parsed.entries}
        snapshot = {
            "text_sha": hashlib.sha256(text.encode()).hexdigest(),
            "fills": [asdict(f) for f in enrichment.fills],
            "unresolved": [asdict(u) for u in enrichment.unresolved],
            "sources": enrichment.sources,
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
        enrichment = Enrichment(sources={k: f"{v} (last run)" for k, v in snapshot["sources"].items()})
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
            by_key[link_key(link)].append(link)
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
        if self.enricher is not None:
            todo = await self._check_arxiv(parsed, todo, results, now)
        if todo:
            results.update(await self._check_network(todo))
        return results

    async def _check_arxiv(self, parsed: ParsedList, todo: list[str], results: dict[str, CheckResult],
                           now: float) -> list[str]:
        """arXiv links are verified in batches through the API, not page by page (SPEC, Manners)."""
        ids = {k: i for k in todo if host_of(k) in ARXIV_HOSTS and (i := parse_arxiv_id(k))}
        if not ids:
            return todo
        verdicts = await self.enricher.verify_arxiv(parsed, ids, self.store, now)
        results.update(verdicts)
        self.store.save_results(verdicts.values())
        if self.enricher.sources.get("arxiv", "").startswith("unavailable"):
            # Nothing is judged on a source that did not answer: keep the last verdict we had.
            stale = self.store.cached_results(k for k in ids if k not in verdicts)
            for key in ids:
                if key not in verdicts:
                    results[key] = stale.get(key) or CheckResult(
                        url=key, status=LinkStatus.SKIPPED, error="arXiv unavailable this run", checked_at=now)
            return [k for k in todo if k not in ids]
        # Ids arXiv did not return go to the ordinary check: only the abs page's 404 proves them gone.
        return [k for k in todo if k not in verdicts]

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
                results: dict[str, CheckResult], enrichment: Enrichment, started: float) -> dict:
        now = self.clock()
        history = self.store.history(by_key)
        rows, states = update_history(history, results, now, self.settings)
        writes = job.command != "report"
        if writes:
            self.store.save_history(rows)
        report = build_report(job, parsed, by_key, results, states, enrichment, now)
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


@dataclass(frozen=True)
class LinkState:
    new: bool
    dead: bool
    fixed: bool
    first_failed_at: float | None
    consecutive_failures: int


def can_die(status: LinkStatus) -> bool:
    # A bot wall says nothing about the link; it is never dead by default.
    return status.is_failure and status is not LinkStatus.BLOCKED


def update_history(history: dict[str, dict], results: dict[str, CheckResult], now: float, settings: Settings):
    rows: list[dict] = []
    states: dict[str, LinkState] = {}
    for key, result in results.items():
        old = history.get(key) or {}
        failing = result.status.is_failure
        was_failing = (old.get("consecutive_failures") or 0) > 0
        # A result reused from the cache is the same observation: it must not count twice.
        same_observation = bool(old) and old.get("last_checked") == result.checked_at
        consecutive = old.get("consecutive_failures") or 0
        first_failed = old.get("first_failed")
        if not same_observation:
            if failing:
                consecutive += 1
                first_failed = first_failed or result.checked_at or now
            else:
                consecutive, first_failed = 0, None
        dead = (
            can_die(result.status)
            and consecutive >= settings.dead_after
            and first_failed is not None
            and now - first_failed >= settings.dead_span
        )
        states[key] = LinkState(
            new=failing and consecutive == 1 and not same_observation,
            dead=dead,
            fixed=not failing and was_failing and not same_observation,
            first_failed_at=first_failed if failing else None,
            consecutive_failures=consecutive if failing else 0,
        )
        rows.append({
            "url": key, "first_seen": old.get("first_seen") or now,
            "last_ok": now if not failing and not same_observation else old.get("last_ok"),
            "first_failed": first_failed if failing else None, "consecutive_failures": consecutive if failing else 0,
            "last_status": result.status.value, "last_checked": result.checked_at,
        })
    return rows, states


def build_report(job: Job, parsed: ParsedList, by_key: dict[str, list[Link]], results: dict[str, CheckResult],
                 states: dict[str, LinkState], enrichment: Enrichment, now: float) -> dict:
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
        st = states.get(key) or LinkState(False, False, False, None, 0)
        counts[r.status.value] += 1
        entries = sorted({entry_of_line[lk.line].title for lk in links if lk.line in entry_of_line})
        links_out.append({
            "url": links[0].url, "key": key, "status": r.status.value, "http_status": r.http_status,
            "final_url": r.final_url, "error": r.error, "lines": sorted({lk.line for lk in links}),
            "labels": sorted({lk.label for lk in links}), "entries": entries,
            "redirects": [{"url": h.url, "status": h.status} for h in r.redirects],
            "checked_at": r.checked_at, "from_cache": r.from_cache,
            "first_failed_at": st.first_failed_at, "consecutive_failures": st.consecutive_failures,
            "new": st.new, "dead": st.dead, "suggestion": r.suggestion,
        })
    empties = [lk for lk in parsed.links if lk.is_empty]
    counts[LinkStatus.EMPTY.value] = len(empties)
    filled_lines = {f.line for f in enrichment.fills}
    failing = sum(1 for lo in links_out if LinkStatus(lo["status"]).is_failure)
    summary = {
        "list": str(job.list_path), "command": job.command, "generated_at": now, "version": __version__,
        "entries": len(parsed.entries), "paper_entries": sum(1 for e in parsed.entries if e.is_paper),
        "links": len(parsed.links), "distinct_urls": len(links_out), "empty_links": len(empties),
        "counts": {k: v for k, v in counts.items() if v},
        "healthy": sum(1 for lo in links_out if lo["status"] in ("ok", "redirected")),
        "failing": failing,
        "new": [lo["url"] for lo in links_out if lo["new"]],
        "dead": [lo["url"] for lo in links_out if lo["dead"]],
        "fixed": [lo["url"] for lo in links_out if lo["key"] in states and states[lo["key"]].fixed],
        "fills": len(enrichment.fills), "unresolved": len(enrichment.unresolved),
        "abstracts": sum(1 for m in enrichment.metas.values() if m.abstract),
        "sources": dict(enrichment.sources),
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
        return 1 if any(lo["new"] and lo["status"] in ("broken", "wrong_paper") for lo in links) else 0
    return 1 if any(LinkStatus(lo["status"]).is_failure for lo in links) else 0
