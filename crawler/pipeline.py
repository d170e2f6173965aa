"""The one module that knows every stage, and only orchestrates them.

lists -> parse -> check (crawler.checking.stage) -> enrich (crawler.papers.enrich) -> history (crawler.store.history)
-> the run report (crawler.report.model). Several lists share one run: each distinct URL is checked
once, whichever lists hold it, and every place is named by its file and line.

The check stage makes each link's record once. What comes after only reads the records, and adds
advice of its own: the entry's paper for a broken or wrong link (the enrichment), an archived copy for
a dead one; each such record is made by crawler.checking.verdicts and stands beside the check's.
"""

from __future__ import annotations

import gc
import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crawler.checking.localrefs import link_key
from crawler.checking.progress import Progress
from crawler.checking.stage import CheckStage
from crawler.checking.verdicts import archived
from crawler.config import Settings
from crawler.listfile.parse import parse_list
from crawler.listfile.read import read_lists
from crawler.models import CheckResult, Enrichment, Link, ParsedList, RepoInfo
from crawler.net.pool import ClientPool
from crawler.papers.enrich import Enricher
from crawler.report.model import RUN_FIELDS, RunReport, RunRow, build_report
from crawler.sources.base import PaperSource, Verifier
from crawler.sources.gateway import SourceSet
from crawler.sources.wayback import archived_copies
from crawler.store import snapshot
from crawler.store.cache import Store
from crawler.store.history import LinkState, update_history

log = logging.getLogger("crawler")


@dataclass(frozen=True)
class Job:
    command: str  # run | check | enrich | report | pr
    lists: tuple[Path, ...]
    # The links the job is about, out of every list's (crawler.pullrequest.job: the lines a pull request
    # changed); None: all of them.
    selection: Callable[[ParsedList], ParsedList] | None = None

    def __init__(self, command: str, lists: Path | str | Sequence[Path | str], *,
                 selection: Callable[[ParsedList], ParsedList] | None = None):
        object.__setattr__(self, "command", command)
        many = [lists] if isinstance(lists, (str, Path)) else list(lists)
        object.__setattr__(self, "lists", tuple(Path(p) for p in many))
        object.__setattr__(self, "selection", selection)

    @property
    def names(self) -> tuple[str, ...]:
        """The lists as the user named them: how reports locate things (`README.md:12`)."""
        return tuple(str(p) for p in self.lists)


@dataclass(frozen=True)
class Document:
    """One list of the run: where it is, its text as read, and what it holds."""

    path: Path
    text: str
    parsed: ParsedList


# repr=False: asyncio.run builds the main task's repr, result included, when it restores the SIGINT handler
# (signal's enum conversion of the old handler fails and formats it): a dataclass repr of a whole run
# cost 0.12 s at 2000 links.
@dataclass(repr=False)
class Outcome:
    report: RunReport
    documents: list[Document]
    parsed: ParsedList  # every list's links and entries, each labelled with its file
    enrichment: Enrichment
    exit_code: int
    repos: dict[str, RepoInfo] = field(default_factory=dict)  # code link key -> what GitHub said


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
        # Answers about papers (ids, titles, abstracts) live longer than link results, never shorter.
        meta_age = max(settings.max_age, settings.metadata_max_age)
        self.sources = None if sources is None else SourceSet(
            sources, store, now=clock(), max_age=meta_age, offline=settings.offline,
            fallback_after=settings.fallback_after)
        self.checking = CheckStage(settings, store, pool=pool, sources=self.sources, clock=clock, progress=progress)

    async def aclose(self) -> None:
        if self.sources is not None:
            await self.sources.aclose()

    async def execute(self, job: Job) -> Outcome:
        started = self.clock()
        # An empty list among several is left out (with a warning): `names` are the lists read.
        documents = [Document(path, text, parse_list(text).in_file(str(path)))
                     for path, text in read_lists(job.lists)]
        names = tuple(str(d.path) for d in documents)
        parsed = ParsedList.join([d.parsed for d in documents])
        if job.selection is not None:
            parsed = job.selection(parsed)
        if log.isEnabledFor(logging.DEBUG):  # --verbose: why a block with links is not taken for a paper
            for entry in parsed.entries:
                if not entry.is_paper and entry.links:
                    log.debug("%s:%d is not a paper entry: %s", entry.file, entry.line, entry.why_not_paper)
        texts = [d.text for d in documents]
        by_key = _group(parsed)
        # What lives for the whole run (modules, the parsed lists) need not be walked by every garbage
        # collection while thousands of requests come and go: a sixth of the network phase's CPU at 20,000
        # links. Unfrozen after, so a process that runs many jobs (the tests) frees them.
        gc.collect()  # first the parser's garbage, or it would be frozen too and held to the end
        gc.freeze()
        try:
            checked = await self.checking.run(parsed, by_key, job.command)
        finally:
            gc.unfreeze()
        enrichment = await self._enrich(job.command, names, texts, parsed, checked)
        # The entry's paper suggested for broken and wrong links.
        records = {**checked, **enrichment.suggested}
        repos = self.store.repos(by_key)
        report = await self._record(job.command, names, parsed, by_key, records, enrichment, started, repos)
        return Outcome(report=report, documents=documents, parsed=parsed, enrichment=enrichment,
                       exit_code=report.exit_code(self.settings.fail_on), repos=repos)

    async def _enrich(self, command: str, names: tuple[str, ...], texts: list[str], parsed: ParsedList,
                      checked: dict[str, CheckResult]) -> Enrichment:
        """The entries' papers, abstracts and fills (`report`: as the last run left them)."""
        enrichment = Enrichment()
        if command in ("run", "enrich", "pr") and self.sources is not None:
            enrichment = await Enricher(self.sources).enrich(parsed, checked)
            self.store.save_results(enrichment.suggested.values())
            if command != "pr":  # a pull request's lines are not the list's yet
                snapshot.remember(self.store, names, texts, parsed, enrichment, self.clock())
        elif command == "report":
            enrichment = snapshot.recall(self.store, names, texts, parsed, self.clock())
        elif self.sources is not None:
            enrichment.sources = self.sources.states.all()
            enrichment.requests = self.sources.requests()
        return enrichment

    async def _record(self, command: str, names: tuple[str, ...], parsed: ParsedList,
                      by_key: dict[str, list[Link]], results: dict[str, CheckResult], enrichment: Enrichment,
                      started: float, repos: dict[str, RepoInfo]) -> RunReport:
        """History updated with tonight's results, the report built, the run recorded (not by `report`, and
        not by `pr`: a pull request's lines are not the list's yet, so they neither start nor end a failure)."""
        now = self.clock()
        rows, states = update_history(self.store.history(by_key), results, now,
                                      dead_after=self.settings.dead_after, dead_span=self.settings.dead_span)
        keeps = command not in ("report", "pr")
        if keeps:
            self.store.save_history(rows)  # first: what follows may be stopped, the night's history may not
            results = {**results, **await self._archived_copies(results, states,
                                                                {r["url"]: r["last_ok"] for r in rows}, now)}
        if self.sources is not None and command != "report":
            enrichment.sources = self.sources.states.all()
        report = build_report(command, names, parsed, by_key, results, states, enrichment, now, repos)
        if keeps:
            s = report.summary
            self.store.add_run({
                "started_at": started, "finished_at": now, "command": command, "list": "\n".join(names),
                "total": s.distinct_urls, "ok": s.healthy, "failing": s.failing, "new": len(s.new),
                "dead": len(s.dead), "fixed": len(s.fixed), "filled": s.fills,
                "counts": json.dumps({k.value: v for k, v in s.counts.items()}, sort_keys=True),
            })
        return report.with_runs(tuple(RunRow(**{k: r[k] for k in RUN_FIELDS}) for r in self.store.runs()))


    async def _archived_copies(self, results: dict[str, CheckResult], states: dict[str, LinkState],
                               last_ok: dict[str, float | None], now: float) -> dict[str, CheckResult]:
        """Dead links with nothing to suggest get the Wayback Machine's copy from when they last worked: key ->
        its record with the copy suggested.

        Each copy is saved as it comes, with its link's result, so a run stopped here keeps what it had."""
        if not self.settings.archive or self.pool is None or self.sources is None:
            return {}
        # Not a link inside the repository: its key is a path on this disk, which the archive has never seen.
        wanted = {k: last_ok.get(k) for k, st in states.items()
                  if st.dead and not results[k].suggestion and not results[k].in_repository}
        if not wanted:
            return {}
        found = await archived_copies(wanted, self.store, self.pool.client, now=now, timeout=self.settings.timeout,
                                      states=self.sources.states, offline=self.settings.offline)
        moved = {k: archived(results[k], url) for k, url in found.items()}
        self.store.save_results(moved.values())
        return moved


def _group(parsed: ParsedList) -> dict[str, list[Link]]:
    """Distinct targets, each with every place it is written: a web link's normalised URL, or what a link
    inside the repository names (crawler.checking.localrefs.link_key)."""
    by_key: dict[str, list[Link]] = defaultdict(list)
    for link in parsed.links:
        if not link.is_empty:
            by_key[link_key(link.file, link.url)].append(link)
    return dict(by_key)
