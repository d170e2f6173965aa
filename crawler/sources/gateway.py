"""Every question to a paper source goes through here: the cache first, then the source, once per run.

One place for what every source needs, so a source module only fetches and parses:
- answers are cached in the store (`lookups` and `papers`) and reused for `max_age`
  (`--metadata-max-age`, a week by default): a rerun asks nothing;
- `--offline` asks nothing and answers from the cache alone;
- a source, or one scope of it, that raised `SourceUnavailable` is not asked again this run
  (SourceStates), and nothing is recorded from a failed question: the cache keeps its last answer.

Cache keys: `<source>-id:<ref id>` (the paper's key, or null: the source said it does not exist),
`<source>-listing:<VENUE><YEAR>` (the papers' keys, or {"hosted": false}), `<source>-title:<normalised
title>` (candidates' keys). arXiv's keys are the ones the cache has always used.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from crawler.checking.verdicts import source_result
from crawler.config import DEFAULT_FALLBACK_AFTER
from crawler.errors import SourceUnavailable
from crawler.models import PaperMeta
from crawler.papers.match import normalize_title
from crawler.sources.base import WHOLE, Claim, Defer, PaperRef, PaperSource, SourceStates, Verification, Verifier
from crawler.store.cache import Store, paper_key

log = logging.getLogger("crawler")


@dataclass(frozen=True)
class Listing:
    """A venue-year's papers as far as one source can say this run."""

    papers: tuple[PaperMeta, ...] = ()
    hosted: bool = True  # False: the site does not have this venue-year (fall back to arXiv)
    available: bool = True  # False: the site could not be asked; nothing may be concluded

    @property
    def usable(self) -> bool:
        return self.hosted and self.available


NOT_HOSTED = Listing(hosted=False)
UNAVAILABLE = Listing(available=False)


def listing_scope(venue: str, year: int) -> str:
    return f"{venue} {year}"


class Gateway(Verifier):
    """One paper source asked through the cache and the run's availability states.

    For a source that verifies in batches (arXiv) it is also the verifier of that source's links.
    """

    def __init__(self, source: PaperSource, store: Store, states: SourceStates, *, now: float, max_age: float,
                 offline: bool = False):
        self.source = source
        self.name = source.name
        self.store = store
        self.states = states
        self.now = now
        self.max_age = max_age
        self.offline = offline
        self._listings: dict[tuple[str, int], Listing] = {}
        self._indexes: dict[tuple[str, int], dict[str, PaperMeta | None]] = {}  # id -> listed paper
        self._papers: dict[str, PaperMeta | None] = {}  # ref id -> answer, for this run

    # -- availability -------------------------------------------------------------------------------
    def can_ask(self, scope: str = WHOLE) -> bool:
        return not self.offline and self.states.down(self.name, scope) is None

    def _failed(self, exc: SourceUnavailable) -> None:
        log.warning("%s", exc)
        self.states.failed(exc)

    # -- verifying links ------------------------------------------------------------------------------
    @property
    def claimed_hosts(self) -> frozenset[str] | None:  # type: ignore[override]
        return self.source.claimed_hosts

    def claims(self, url: str) -> bool:
        return self.source.batch_verifies and self.source.ref(url) is not None

    @property
    def requests_sent(self) -> int:
        return self.source.requests_sent

    async def verify_all(self, claims: Sequence[Claim]) -> Verification:
        """Judge links from the source's answers instead of fetching their pages (arXiv's terms).

        A link whose paper the source did not return goes to the ordinary check (arXiv sometimes
        answers an empty page for a known id: only the page's own 404 may call it broken); a link the
        source could not be asked about is left unjudged.
        """
        refs = {c.key: self.source.claim_ref(c) for c in claims}
        metas = await self.papers(r for r in refs.values() if r)
        out = Verification()
        for claim in claims:
            ref = refs[claim.key]
            if ref is None:
                continue
            if ref.id in metas:
                found = self.source.verdict(claim, metas[ref.id])
            else:
                down = self.states.down(self.name)
                found = self.source.unsettled(claim, ref, down.reason if down else None)
            if found is Defer.WEB:
                out.to_web.add(claim.key)
            elif found is not Defer.KEEP:
                out.results[claim.key] = source_result(claim.key, claim.entries, found, self.now)
        return out

    # -- papers by ref ----------------------------------------------------------------------------------
    async def papers(self, refs: Iterable[PaperRef], *, ask: bool = True) -> dict[str, PaperMeta | None]:
        """ref.id -> the paper (None: the source says there is none). Unsettled refs are left out.

        A ref of a site that lists its papers by venue-year is found in that listing (one request per
        listing); the others are looked up, in one batch. `ask=False` answers from the cache alone.
        """
        out: dict[str, PaperMeta | None] = {}
        want: list[PaperRef] = []
        for ref in dict.fromkeys(refs):
            if ref.id in self._papers:
                out[ref.id] = self._papers[ref.id]
            elif ref.venue and ref.year and self.source.lists(ref.venue, ref.year):
                listing = await self.listing(ref.venue, ref.year, ask=ask)
                if listing.usable:
                    found = self._index(ref.venue, ref.year, listing).get(ref.id)
                    out[ref.id] = self._papers[ref.id] = found
                elif not listing.hosted:
                    want.append(ref)
            else:
                want.append(ref)
        out.update(await self._lookup(want, ask=ask))
        return out

    async def _lookup(self, refs: list[PaperRef], *, ask: bool = True) -> dict[str, PaperMeta | None]:
        out: dict[str, PaperMeta | None] = {}
        want: list[PaperRef] = []
        cached = self.store.lookups([f"{self.name}-id:{r.id}" for r in refs], self.now, self.max_age)
        metas = self.store.papers({a["key"] for a in cached.values() if a.get("key")})
        for ref in refs:
            answer = cached.get(f"{self.name}-id:{ref.id}")
            if answer is None or (answer.get("key") and answer["key"] not in metas):
                want.append(ref)
            else:
                out[ref.id] = metas[answer["key"]] if answer.get("key") else None
        if want and ask and self.can_ask():
            try:
                found = await self.source.lookup_all(want)
                self.states.answered(self.name)
            except SourceUnavailable as exc:
                self._failed(exc)
                found = exc.partial or {}
            asked = {r.id for r in want}
            found = {i: m for i, m in found.items() if i in asked}
            self.store.save_papers(m for m in found.values() if m is not None)
            self.store.save_lookups({f"{self.name}-id:{i}": {"key": paper_key(m) if m else None}
                                     for i, m in found.items()}, self.now)
            out.update(found)
        self._papers.update(out)
        return out

    def _index(self, venue: str, year: int, listing: Listing) -> dict[str, PaperMeta | None]:
        key = (venue, year)
        if key not in self._indexes:
            self._indexes[key] = self.source.index(listing.papers)
        return self._indexes[key]

    # -- listings ---------------------------------------------------------------------------------------
    async def listing(self, venue: str, year: int, *, ask: bool = True) -> Listing:
        """A venue-year's papers (cached for max_age), asked at most once per run (`ask=False`: not asked)."""
        if not self.source.lists(venue, year):
            return NOT_HOSTED
        key = (venue, year)
        if key not in self._listings:
            found = await self._listing(venue, year, ask=ask)
            if ask or found is not UNAVAILABLE:  # not asked is not "could not be asked": a later caller may
                self._listings[key] = found
            return found
        return self._listings[key]

    async def _listing(self, venue: str, year: int, *, ask: bool = True) -> Listing:
        key = f"{self.name}-listing:{venue}{year}"
        cached = self.store.lookup(key, self.now, self.max_age)
        if isinstance(cached, dict) and cached.get("hosted") is False:
            return NOT_HOSTED
        if isinstance(cached, list):
            papers = self.store.papers(cached)
            if len(papers) == len(set(cached)):
                return Listing(tuple(papers[k] for k in dict.fromkeys(cached)))
        scope = listing_scope(venue, year)
        if not ask or not self.can_ask(scope):
            return UNAVAILABLE
        try:
            found = await self.source.listing(venue, year)
            self.states.answered(self.name, scope)
        except SourceUnavailable as exc:
            self._failed(exc)
            return UNAVAILABLE
        if found is None:
            self.store.save_lookups({key: {"hosted": False}}, self.now)
            return NOT_HOSTED
        # Keep abstracts already read from paper pages: a listing has none.
        known = self.store.papers(paper_key(p) for p in found)
        merged = [replace(p, abstract=known[paper_key(p)].abstract, authors=known[paper_key(p)].authors or p.authors)
                  if paper_key(p) in known and known[paper_key(p)].abstract else p for p in found]
        self.store.save_papers(merged)
        self.store.save_lookups({key: [paper_key(p) for p in merged]}, self.now)
        return Listing(tuple(merged))

    # -- title search -------------------------------------------------------------------------------------
    async def search(self, titles: Sequence[str]) -> dict[str, list[PaperMeta]]:
        """normalised title -> candidates (cached per title); titles the source could not answer are left out."""
        if not self.source.searches:
            return {}
        out: dict[str, list[PaperMeta]] = {}
        keys = {t: f"{self.name}-title:{normalize_title(t)}" for t in dict.fromkeys(titles)}
        cached = self.store.lookups(keys.values(), self.now, self.max_age)
        metas = self.store.papers({k for answer in cached.values() for k in answer})
        ask = []
        for title, key in keys.items():
            answer = cached.get(key)
            if answer is None or any(k not in metas for k in answer):
                ask.append(title)
            else:
                out[normalize_title(title)] = [metas[k] for k in answer]
        if not ask or not self.can_ask():
            return out
        try:
            found = await self.source.search(ask)
            self.states.answered(self.name)
        except SourceUnavailable as exc:
            self._failed(exc)
            found = exc.partial or {}
        self.store.save_papers({paper_key(m): m for ms in found.values() for m in ms}.values())
        self.store.save_lookups({keys[t]: [paper_key(m) for m in ms] for t, ms in found.items() if t in keys},
                                self.now)
        out.update({normalize_title(t): ms for t, ms in found.items()})
        return out

    # -- abstracts ----------------------------------------------------------------------------------------
    async def abstract(self, meta: PaperMeta) -> PaperMeta:
        """`meta` with the abstract from its page (cached with the paper); `meta` itself when it cannot be had."""
        if meta.abstract:
            return meta
        cached = self.store.paper(paper_key(meta))
        if cached and cached.abstract and cached.fetched_at >= self.now - self.max_age:
            return cached
        scope = listing_scope(meta.venue, meta.year) if meta.venue and meta.year else WHOLE
        if not self.can_ask(scope):
            return meta
        try:
            full = await self.source.abstract(meta)
            self.states.answered(self.name)
        except SourceUnavailable as exc:
            self._failed(exc)
            return meta
        if full.abstract:
            full = replace(full, fetched_at=self.now)
            self.store.save_papers([full])
        return full


class SourceSet:
    """The run's sources: paper sources behind their gateways, verifiers, and the states they share."""

    def __init__(self, sources: Sequence[PaperSource | Verifier], store: Store, *, now: float, max_age: float,
                 offline: bool = False, fallback_after: int = DEFAULT_FALLBACK_AFTER):
        self.states = SourceStates()
        self.sources = list(sources)
        self.store = store
        self.now = now
        # Nights in a row a venue listing may be unreadable before its entries are searched on arXiv instead.
        self.fallback_after = fallback_after
        self.papers = [Gateway(s, store, self.states, now=now, max_age=max_age, offline=offline)
                       for s in sources if isinstance(s, PaperSource)]
        # Batch-verifying paper sources first: their links never need a page fetched.
        self.verifiers: list[Verifier] = [g for g in self.papers if g.source.batch_verifies]
        self.verifiers += [s for s in sources if isinstance(s, Verifier)]
        for source in self.sources:
            self.states.mention(source.name)

    def requests(self) -> dict[str, int]:
        return {s.name: s.requests_sent for s in self.sources}

    async def aclose(self) -> None:
        for source in self.sources:
            await source.aclose()
