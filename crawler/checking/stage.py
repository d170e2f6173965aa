"""The check stage: every distinct URL of the lists gets a verdict, as cheaply as it can be had.

One chain decides it (crawler.checking.chain), in order: what can be said without the network (invalid,
excluded, and the links inside the repository, judged from its files: crawler.checking.localrefs); what
the cache says (younger than --max-age, never a transient failure); what the verifiers judge in batches
(arXiv ids, GitHub repositories: never page by page, crawler.checking.authorities); the ordinary per-URL
check for the rest (crawler.checking.webcheck, one queue per host); and, for pages of paper sources that
loaded, whether they are the entry's paper at each place they are written. A paper verdict from the
cache is judged again against tonight's entries, from the cached papers.

`report`, `enrich` and --offline take every verdict from the cache: a link it has none for is not judged.
A night without network raises NetworkDown and leaves the cache as it was; a run stopped half-way
(Ctrl-C, SIGTERM) keeps every finished result.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from collections.abc import Callable, Mapping

from crawler.checking import verdicts
from crawler.checking.authorities import PaperJudge, Verifiers
from crawler.checking.chain import Chain, Done, Handler, Step
from crawler.checking.localrefs import Repository
from crawler.checking.progress import Progress
from crawler.checking.webcheck import StartWorkers, WebCheck
from crawler.config import Settings
from crawler.findings import Excluded, Unknown
from crawler.listfile.exclusions import disabled_index, disabled_reason
from crawler.listfile.links import Precheck, precheck
from crawler.models import CheckResult, Link, ParsedList
from crawler.net.pool import ClientPool
from crawler.sources.base import Claim
from crawler.sources.gateway import SourceSet
from crawler.store.cache import Store

log = logging.getLogger("crawler")


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

    async def run(self, parsed: ParsedList, by_key: dict[str, list[Link]], command: str) -> dict[str, CheckResult]:
        """key -> verdict for every distinct URL (`report` and `enrich` take them from the cache)."""
        now = self.clock()
        claims = _claims(parsed, by_key)
        judge = PaperJudge(self.sources, self.store, claims) if self.sources is not None else None
        recall = command in ("report", "enrich") or self.settings.offline
        handlers: list[Handler] = [Prechecked(self, parsed, by_key, now, recall=recall)]
        if recall:
            handlers.append(FromCache(self, judge, now, save=command != "report"))
            return await Chain(handlers).decide(list(by_key))
        web = WebCheck(self.settings, self.store, self.pool, by_key=by_key, clock=self.clock, progress=self.progress,
                       to_judge=judge.judges if judge is not None else lambda key: False)
        handlers += [FreshFromCache(self, judge, now), StartWorkers(web)]
        if self.sources is not None and judge is not None:
            judge.finish = web.finish
            handlers += [Verifiers(self.sources, self.store, claims, now), web, judge]
        else:
            handlers.append(web)
        try:
            return await Chain(handlers).decide(list(by_key))
        finally:
            await web.aclose()


class Prechecked(Handler):
    """What needs no network: invalid and excluded links, and the links inside the repository."""

    def __init__(self, stage: CheckStage, parsed: ParsedList, by_key: dict[str, list[Link]], now: float, *,
                 recall: bool):
        self.stage = stage
        self.by_key = by_key
        self.disabled = disabled_index(parsed.disabled)
        self.repository = Repository(parsed.anchors)
        self.now = now
        self.recall = recall

    async def handle(self, keys: list[str], seen: Mapping[str, CheckResult]) -> Mapping[str, Step]:
        records: dict[str, CheckResult] = {}
        excluded: set[str] = set()  # by the user: a verdict about tonight's settings, not about the link
        for key in keys:
            links = self.by_key[key]
            reason = disabled_reason(links, self.disabled)
            verdict = Precheck(Excluded(reason), by_user=True) if reason else precheck(links[0].url,
                                                                                       self.stage.exclude)
            if verdict.local and not verdict.by_user:
                records[key] = self.repository.check(key, links[0], self.now)
            elif verdict.finding is not None:
                records[key] = verdicts.result(key, verdict.finding, self.now)
                if verdict.by_user:
                    excluded.add(key)
        kept = {k: r for k, r in records.items() if k not in excluded}
        if self.recall:
            records.update(self._as_stored(kept))
        else:
            # For report and enrich; an exclusion is not stored, so it never hides the link's last verdict, nor
            # outlives the rule.
            self.stage.store.save_results(kept.values())
        return {key: Done(record) for key, record in records.items()}

    def _as_stored(self, records: dict[str, CheckResult]) -> dict[str, CheckResult]:
        """What needed no network is the observation stored when it was made, if the verdict is the same:
        re-dated now, a report or an enrich would count an invalid link's failure once more."""
        cached = self.stage.store.cached_results(records)
        return {key: dataclasses.replace(record, checked_at=cached[key].checked_at, from_cache=True)
                for key, record in records.items() if key in cached and cached[key].status is record.status}


class FreshFromCache(Handler):
    """A verdict younger than --max-age stands (never a transient failure: those are not stored as fresh)."""

    def __init__(self, stage: CheckStage, judge: PaperJudge | None, now: float):
        self.stage = stage
        self.judge = judge
        self.now = now

    async def handle(self, keys: list[str], seen: Mapping[str, CheckResult]) -> Mapping[str, Step]:
        stage = self.stage
        fresh = {k: r for k, r in stage.store.fresh_results(keys, self.now, stage.settings.max_age).items()
                 if verdicts.reusable(r)}
        if self.judge is not None and fresh:
            fresh = await self.judge.again(fresh, self.now, save=True)
        return {key: Done(record) for key, record in fresh.items()}


class FromCache(Handler):
    """`report`, `enrich` and --offline: the verdicts the cache holds; a link it has none for is not judged."""

    def __init__(self, stage: CheckStage, judge: PaperJudge | None, now: float, *, save: bool):
        self.stage = stage
        self.judge = judge
        self.now = now
        self.save = save

    async def handle(self, keys: list[str], seen: Mapping[str, CheckResult]) -> Mapping[str, Step]:
        stage = self.stage
        cached = {k: r for k, r in stage.store.cached_results(keys).items() if verdicts.reusable(r)}
        if self.judge is not None and cached:
            cached = await self.judge.again(cached, self.now, save=self.save)
        why = Unknown("offline: not in the cache" if stage.settings.offline else
                      "cache: no result yet (run crawler check)")
        return {key: Done(cached[key] if key in cached else verdicts.result(key, why, self.now)) for key in keys}


def _claims(parsed: ParsedList, by_key: dict[str, list[Link]]) -> dict[str, Claim]:
    """Each distinct URL with the entries it is written on, for the sources that judge it."""
    entries = parsed.entries_by_place()
    out = {}
    for key, links in by_key.items():
        on = tuple(dict.fromkeys(entries[(lk.file, lk.line)] for lk in links if (lk.file, lk.line) in entries))
        out[key] = Claim(key=key, url=links[0].url, entries=on)
    return out
