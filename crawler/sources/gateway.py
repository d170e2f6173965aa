"""Every question to a paper source goes through here: the cache first, then the source, once per run.

One place for what every source needs, so a source module only fetches and parses:
- answers are cached in the store (`lookups` and `papers`) and reused for `max_age`
  (`--metadata-max-age`, a week by default): a rerun asks nothing (crawler.sources.answers);
- `--offline` asks nothing and answers from the cache alone;
- a source, or one scope of it, that raised `SourceUnavailable` is not asked again this run
  (SourceStates), and nothing is recorded from a failed question: the cache keeps its last answer;
- a venue-year's listing is read once per run, and kept here with the indexes built on it.

Cache keys: `<source>-id:<ref id>` (the paper's key, or null: the source said it does not exist),
`<source>-listing:<VENUE><YEAR>` (the papers' keys, or {"hosted": false}), `<source>-title:<normalised
title>` (candidates' keys). arXiv's keys are the ones the cache has always used.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from crawler.checking.verdicts import source_result
from crawler.config import DEFAULT_FALLBACK_AFTER
from crawler.models import PaperMeta
from crawler.papers.match import TitleIndex, normalize_title
from crawler.sources.answers import STALE, Asker, InLookups, Kept
from crawler.sources.base import WHOLE, Claim, Defer, PaperRef, PaperSource, SourceStates, Verification, Verifier
from crawler.store.cache import Store, paper_key

VenueYear = tuple[str, int]


@dataclass(frozen=True)
class Listing:
    """A venue-year's papers as far as one source can say this run, with the indexes built on them once."""

    papers: tuple[PaperMeta, ...] = ()
    hosted: bool = True  # False: the site does not have this venue-year (fall back to arXiv)
    available: bool = True  # False: the site could not be asked; nothing may be concluded
    # How the source finds a listed paper by a ref's id (PaperSource.index).
    indexer: Callable[[Sequence[PaperMeta]], dict[str, PaperMeta | None]] | None = field(
        default=None, compare=False, repr=False)

    @property
    def usable(self) -> bool:
        return self.hosted and self.available

    @functools.cached_property
    def by_id(self) -> dict[str, PaperMeta | None]:
        """ref id -> the listed paper (None: two papers share the id)."""
        return self.indexer(self.papers) if self.indexer is not None else {}

    @functools.cached_property
    def by_title(self) -> TitleIndex:
        """The listed papers worth scoring for a title."""
        return TitleIndex(self.papers)


NOT_HOSTED = Listing(hosted=False)
UNAVAILABLE = Listing(available=False)


def listing_scope(venue: str, year: int) -> str:
    return f"{venue} {year}"


# --- how the store keeps each kind of answer ----------------------------------------------------------


class _PaperIds(InLookups[str, "PaperMeta | None"]):
    def __init__(self, source: str):
        self.source = source

    def key(self, question: str) -> str:
        return f"{self.source}-id:{question}"

    def dump(self, answer: PaperMeta | None) -> Any:
        return {"key": paper_key(answer) if answer else None}

    def load(self, kept: Any, papers: Mapping[str, PaperMeta]) -> PaperMeta | None:
        if not isinstance(kept, dict):
            return STALE
        return papers.get(kept["key"], STALE) if kept.get("key") else None

    def papers(self, answer: PaperMeta | None) -> Iterable[PaperMeta]:
        return (answer,) if answer is not None else ()


class _Listings(InLookups[VenueYear, Listing]):
    def __init__(self, source: PaperSource):
        self.source = source

    def key(self, question: VenueYear) -> str:
        return f"{self.source.name}-listing:{question[0]}{question[1]}"

    def dump(self, answer: Listing) -> Any:
        return [paper_key(p) for p in answer.papers] if answer.hosted else {"hosted": False}

    def load(self, kept: Any, papers: Mapping[str, PaperMeta]) -> Listing:
        if isinstance(kept, dict) and kept.get("hosted") is False:
            return NOT_HOSTED
        if isinstance(kept, list) and all(k in papers for k in kept):
            return Listing(tuple(papers[k] for k in dict.fromkeys(kept)), indexer=self.source.index)
        return STALE

    def papers(self, answer: Listing) -> Iterable[PaperMeta]:
        return answer.papers


class _Titles(InLookups[str, list[PaperMeta]]):
    def __init__(self, source: str):
        self.source = source

    def key(self, question: str) -> str:
        return f"{self.source}-title:{normalize_title(question)}"

    def dump(self, answer: list[PaperMeta]) -> Any:
        return [paper_key(m) for m in answer]

    def load(self, kept: Any, papers: Mapping[str, PaperMeta]) -> list[PaperMeta]:
        if isinstance(kept, list) and all(k in papers for k in kept):
            return [papers[k] for k in kept]
        return STALE

    def papers(self, answer: list[PaperMeta]) -> Iterable[PaperMeta]:
        return answer


class _Abstracts(Kept[PaperMeta, PaperMeta]):
    """A paper's abstract is kept with the paper itself, as fresh as when it was read."""

    def recorded(self, store: Store, questions: Iterable[PaperMeta], now: float, max_age: float,
                 ) -> dict[PaperMeta, PaperMeta]:
        kept = {meta: store.paper(paper_key(meta)) for meta in questions}
        return {meta: full for meta, full in kept.items()
                if full is not None and full.abstract and full.fetched_at >= now - max_age}

    def record(self, store: Store, answers: Mapping[PaperMeta, PaperMeta], now: float) -> None:
        store.save_papers(full for full in answers.values() if full.abstract)


def _with_known_abstract(paper: PaperMeta, known: Mapping[str, PaperMeta]) -> PaperMeta:
    """A listed paper with the abstract (and authors) already read from its page: a listing may have none."""
    page = known.get(paper_key(paper))
    if page is None or not page.abstract:
        return paper
    return replace(paper, abstract=page.abstract, authors=page.authors or paper.authors)


# --- the gateway ------------------------------------------------------------------------------------------


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
        self.asker = Asker(source.name, store, states, now=now, max_age=max_age, offline=offline)
        self._ids = _PaperIds(source.name)
        self._kept_listings = _Listings(source)
        self._titles = _Titles(source.name)
        self._abstracts = _Abstracts()
        self._listings: dict[VenueYear, Listing] = {}  # the one copy of each listing this run
        self._papers: dict[str, PaperMeta | None] = {}  # ref id -> answer, for this run

    def can_ask(self, scope: str = WHOLE) -> bool:
        return self.asker.can_ask(scope)

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
                    out[ref.id] = self._papers[ref.id] = listing.by_id.get(ref.id)
                elif not listing.hosted:
                    want.append(ref)
            else:
                want.append(ref)
        out.update(await self._lookup(want, ask=ask))
        return out

    async def _lookup(self, refs: list[PaperRef], *, ask: bool = True) -> dict[str, PaperMeta | None]:
        by_id: dict[str, PaperRef] = {}
        for ref in refs:  # one URL's forms under several entries: a title search tries each entry's title
            seen = by_id.get(ref.id)
            titles = ref.titles if seen is None else tuple(dict.fromkeys(seen.titles + ref.titles))
            by_id[ref.id] = replace(ref, titles=titles)

        async def lookup_all(ids: list[str]) -> Mapping[str, PaperMeta | None]:
            return await self.source.lookup_all([by_id[i] for i in ids])

        found = await self.asker.answer(self._ids, by_id, lookup_all, may_ask=ask)
        self._papers.update(found)
        return found

    # -- listings ---------------------------------------------------------------------------------------
    async def listing(self, venue: str, year: int, *, ask: bool = True) -> Listing:
        """A venue-year's papers (cached for max_age), asked at most once per run (`ask=False`: not asked)."""
        if not self.source.lists(venue, year):
            return NOT_HOSTED
        key = (venue, year)
        if key in self._listings:
            return self._listings[key]
        found = await self.asker.answer(self._kept_listings, [key], self._read_listing,
                                        scope=listing_scope(venue, year), may_ask=ask)
        listing = found.get(key, UNAVAILABLE)
        if ask or listing is not UNAVAILABLE:  # not asked is not "could not be asked": a later caller may
            self._listings[key] = listing
        return listing

    async def _read_listing(self, keys: list[VenueYear]) -> dict[VenueYear, Listing]:
        ((venue, year),) = keys
        found = await self.source.listing(venue, year)
        if found is None:
            return {(venue, year): NOT_HOSTED}
        known = self.store.papers(paper_key(p) for p in found)
        papers = tuple(_with_known_abstract(p, known) for p in found)
        return {(venue, year): Listing(papers, indexer=self.source.index)}

    # -- title search -------------------------------------------------------------------------------------
    async def search(self, titles: Sequence[str]) -> dict[str, list[PaperMeta]]:
        """normalised title -> candidates (cached per title); titles the source could not answer are left out."""
        if not self.source.searches:
            return {}
        found = await self.asker.answer(self._titles, titles, self.source.search)
        return {normalize_title(t): metas for t, metas in found.items()}

    # -- abstracts ----------------------------------------------------------------------------------------
    async def abstract(self, meta: PaperMeta) -> PaperMeta:
        """`meta` with the abstract from its page (cached with the paper); `meta` itself when it cannot be had."""
        if meta.abstract:
            return meta
        scope = listing_scope(meta.venue, meta.year) if meta.venue and meta.year else WHOLE
        found = await self.asker.answer(self._abstracts, [meta], self._read_abstract,
                                        may_ask=self.asker.can_ask(scope))
        return found.get(meta, meta)

    async def _read_abstract(self, metas: list[PaperMeta]) -> dict[PaperMeta, PaperMeta]:
        out = {}
        for meta in metas:
            full = await self.source.abstract(meta)
            out[meta] = replace(full, fetched_at=self.now) if full.abstract else full
        return out


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
