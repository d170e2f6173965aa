"""The chain's handlers that ask the run's authorities: the verifiers and the paper judge.

- The verifiers judge the links they claim in batches, without fetching their pages: arXiv ids, GitHub
  repositories, OpenReview notes, DOIs. A link a verifier leaves to the web goes on; a link it could not
  judge this run keeps its last verdict, else it is not judged, with the source's reason (rate limited
  when the source answered 429).
- The paper judge takes the pages of paper sources that loaded (CVF, NeurIPS, PMLR, ACL, ...) and asks
  whether each is the paper of the entry it is written on, at each place (crawler.checking.verdicts).
  A paper verdict from the cache is judged again the same way, from the cached papers with no request:
  it was made against the entries of its night, and a pull request may have changed them since.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Mapping, Sequence

from crawler.checking import verdicts
from crawler.checking.chain import Done, Handler, Step
from crawler.findings import Throttled, Unknown
from crawler.listfile.links import host_of
from crawler.models import CheckResult
from crawler.sources.base import Claim, Verification, Verifier
from crawler.sources.gateway import Gateway, SourceSet
from crawler.store.cache import Store


def on_hosts(keys: list[str], hosts: frozenset[str] | None) -> list[str]:
    """The keys on these hosts (all of them for None): a source is asked only about URLs it could claim,
    which spares a URL parse per source and link."""
    return keys if hosts is None else [k for k in keys if host_of(k) in hosts]


class Verifiers(Handler):
    def __init__(self, sources: SourceSet, store: Store, claims: Mapping[str, Claim], now: float):
        self.sources = sources
        self.store = store
        self.claims = claims
        self.now = now

    async def handle(self, keys: list[str], seen: Mapping[str, CheckResult]) -> Mapping[str, Step]:
        steps: dict[str, Step] = {}
        todo = keys
        for verifier in self.sources.verifiers:
            mine = [k for k in on_hosts(todo, verifier.claimed_hosts) if verifier.claims(k)]
            if not mine:
                continue
            answer = await verifier.verify_all([self.claims[k] for k in mine])
            if answer.unavailable is not None:
                self.sources.states.failed(answer.unavailable)
            elif answer.requests:
                self.sources.states.answered(verifier.name)
            # A source that could not answer (no sign-in, a challenge) says so tonight; the next run asks again.
            self.store.save_results(r for r in answer.results.values() if r.status.is_judged)
            self.store.save_repos(answer.repos)
            steps.update((key, Done(record)) for key, record in answer.results.items())
            steps.update(self._unjudged(verifier, answer, mine))
            done = set(mine) - answer.to_web
            todo = [k for k in todo if k not in done]
        return steps

    def _unjudged(self, verifier: Verifier, answer: Verification, mine: list[str]) -> dict[str, Step]:
        """Nothing is judged on a source that did not answer: the last verdict we had stands, else the link is
        not judged, with the source's reason."""
        unjudged = [k for k in mine if k not in answer.results and k not in answer.to_web]
        if not unjudged:
            return {}
        stale = self.store.cached_results(unjudged)
        down = answer.unavailable or self.sources.states.down(verifier.name)
        why = f" ({down.reason})" if down is not None and down.reason else ""
        said = f"{verifier.name}: unavailable this run{why}"
        finding = Throttled(said) if re.search(r"\b429\b", why) else Unknown(said)
        return {key: Done(found if verdicts.reusable(found := stale.get(key)) else
                          verdicts.result(key, finding, self.now)) for key in unjudged}


class PaperJudge(Handler):
    """Pages of paper sources that loaded, judged as papers: is it the entry's?"""

    def __init__(self, sources: SourceSet, store: Store, claims: Mapping[str, Claim], *,
                 finish: Callable[[str, CheckResult], CheckResult] = lambda key, record: record):
        self.sources = sources
        self.store = store
        self.claims = claims
        self.finish = finish  # what the web check adds to a page's record (fragment notes)

    def judges(self, key: str) -> bool:
        """Whether a page that loaded is one a source knows papers of (a source asked instead of its pages,
        such as arXiv, never sees one)."""
        return any(g.source.ref(key) is not None for g in self._page_sources(key))

    def _page_sources(self, key: str) -> list[Gateway]:
        host = host_of(key)
        return [g for g in self.sources.papers if not g.source.batch_verifies
                and (g.source.claimed_hosts is None or host in g.source.claimed_hosts)]

    async def handle(self, keys: list[str], seen: Mapping[str, CheckResult]) -> Mapping[str, Step]:
        pages = {key: seen[key] for key in keys}
        gateways = [g for g in self.sources.papers if not g.source.batch_verifies]
        judged = await self._judged(gateways, pages, ask=True)
        self.store.save_results(judged.values())
        return {key: Done(self.finish(key, judged.get(key, page))) for key, page in pages.items()}

    async def again(self, records: dict[str, CheckResult], now: float, *, save: bool) -> dict[str, CheckResult]:
        """Paper verdicts from the cache, judged again against tonight's entries from the cached papers (no
        request): a pull request that moved a URL to another entry, or fixed the line, changes the verdict
        though the page is the same. A verdict that changed is an observation made now."""
        out = dict(records)
        changed = []
        for gateway in self.sources.papers:
            for key, verdict in (await self._judged([gateway], out, ask=False)).items():
                old = out[key]
                if (verdict.status, verdict.error) != (old.status, old.error):
                    verdict = dataclasses.replace(verdict, checked_at=now, from_cache=False)
                    changed.append(verdict)
                elif old.suggestion and not verdict.occurrences:  # what the enrichment suggested still stands
                    verdict = verdicts.with_suggestion(verdict, "", 0, old.suggestion) or verdict
                out[key] = verdict
        if save:
            self.store.save_results(changed)
        return out

    async def _judged(self, gateways: Sequence[Gateway], records: Mapping[str, CheckResult], *,
                      ask: bool) -> dict[str, CheckResult]:
        """key -> the verdict to keep, for the pages among `records` each gateway's source knows."""
        out: dict[str, CheckResult] = {}
        current = dict(records)
        for gateway in gateways:
            mine = [self.claims[k] for k in on_hosts(list(current), gateway.source.claimed_hosts)
                    if gateway.source.ref(k) is not None]
            found = await judged_as_papers(gateway, mine, current, ask=ask) if mine else {}
            current.update(found)
            out.update(found)
        return out


async def judged_as_papers(gateway: Gateway, claims: Sequence[Claim], records: Mapping[str, CheckResult], *,
                           ask: bool = True) -> dict[str, CheckResult]:
    """Links to the gateway's source's pages that loaded, judged as papers at each place: key -> the verdict
    to keep. A verdict judged before is first turned back into what the page said; `ask=False` judges
    from the cached papers alone, and a page with no paper to judge it by keeps its last verdict."""
    refs = {c.key: gateway.source.ref(c.url) for c in claims}
    pages = {c.key: verdicts.page_verdict(records[c.key]) for c in claims if refs[c.key] and c.key in records}
    out = {key: page for key, page in pages.items() if page is not records[key]}  # judged before, not now
    loaded = [c for c in claims if c.key in pages and pages[c.key].status.is_healthy
              and any(e.is_paper for e in c.entries)]
    if not loaded:
        return out
    metas = await gateway.papers((refs[c.key] for c in loaded), ask=ask)
    for claim in loaded:
        meta = metas.get(refs[claim.key].id)
        if meta is not None:
            paper = verdicts.paper_verdict(claim.key, claim.entries, meta, gateway.now)
            out[claim.key] = verdicts.on_top_of(pages[claim.key], paper)
        elif not ask:
            out.pop(claim.key, None)  # no paper to judge it by: the last verdict stands
    return out
