"""Paper-aware enrichment: each paper entry's paper, its abstract, and the fills of its empty links.

It asks the run's paper sources (crawler.sources, through their gateways: cache first, each
question once) in one loop that knows no source by name:

1. an entry's paper comes from its links: the first link whose source knows a paper that is the
   entry's (crawler.papers.judge), in registry order (arXiv first: its answers carry abstracts);
2. an empty paper link is filled from the listing of the source that hosts the entry's venue-year
   (CVF for CVPR, NeurIPS for NeurIPS, ...); a venue-year no source hosts falls back to the title
   search (arXiv); a listing that could not be read leaves the entry waiting, never guessed, until it
   has been unreadable `fallback_after` nights in a row (crawler.sources.nights): then the entry falls
   back to arXiv too, and its fill or its reason says why;
3. abstracts come with the paper, or from its venue page when the source's listing had none.

A source that cannot answer leaves what depends on it undecided; nothing cached is touched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from crawler.checking.verdicts import with_suggestion
from crawler.listfile.links import PAPER_URL, host_of, url_key
from crawler.listfile.venues import is_venue_label
from crawler.models import CheckResult, Enrichment, Entry, Fill, Link, PaperMeta, ParsedList, Unresolved
from crawler.papers.judge import judge_paper
from crawler.papers.match import Match, best_match, normalize_title
from crawler.sources.base import PaperRef
from crawler.sources.gateway import Gateway, Listing, SourceSet, listing_scope
from crawler.sources.nights import Outages

# An empty link is filled with the paper only when its label asks for the paper: `[[code]]()`,
# `[[video]]()` or an author's `[Ming Li]()` are left for a human.
_FILLABLE_LABEL = re.compile(
    r"^\W*(?:(?:arxiv|cvf|openaccess|official|full|camera[- ]ready)?\s*(?:paper|pdf|abs|abstract|link|url|html|"
    r"arxiv|preprint|proceedings|publication|article))?\W*$",
    re.I,
)


def names_the_paper(link: Link, entry: Entry) -> bool:
    """The link is meant to be the paper: `[[paper]]`, `[pdf]`, `[[CVPR]]`, the title itself, or a paper site's
    page (crawler.listfile.links.PAPER_URL). `[[code]]`, `[project]` or an author's `[Ming Li]` are not."""
    return bool(_FILLABLE_LABEL.match(link.label) or is_venue_label(link.label)
                or normalize_title(link.label) == normalize_title(entry.title)
                or (link.url and PAPER_URL.search(link.url)))


def fillable_links(entry: Entry) -> tuple[Link, ...]:
    return tuple(lk for lk in entry.empty_links if names_the_paper(lk, entry))


Place = tuple[str, int]  # an entry's (file, line)


@dataclass
class _AtVenues:
    """What the venue listings said of the entries: a match, or why an entry waits or falls back to arXiv."""

    match: dict[Place, Match] = field(default_factory=dict)
    waiting: dict[Place, str] = field(default_factory=dict)  # entry -> why its venue's answer is missing
    fallback: dict[Place, str] = field(default_factory=dict)  # entry -> why it is searched on arXiv though hosted


class Enricher:
    """One run's enrichment over the run's paper sources."""

    def __init__(self, sources: SourceSet):
        self.sources = sources
        self.gateways = sources.papers
        self.outages = Outages(sources.store, sources.now) if sources.store is not None else None

    def hosts(self, entry: Entry) -> list[tuple[Gateway, str]]:
        """The sources whose listings hold the entry's venue, each with its name for it (empty: arXiv alone)."""
        return [(g, key) for g in self.gateways if (key := g.source.venue_key(entry.venue))]

    async def enrich(self, parsed: ParsedList, results: dict[str, CheckResult]) -> Enrichment:
        papers = [e for e in parsed.entries if e.is_paper]
        metas = await self._papers_of_links(papers)
        # Venue listings first: an exact title at the entry's own venue is the best fill.
        venues = _AtVenues()
        for entry in papers:
            if fillable_links(entry) or entry.place not in metas:
                await self._at_venue(entry, venues)
        # Then the title search (arXiv) for everything the venues did not settle.
        candidates = await self._search(papers, metas, venues)
        fills, unresolved = self._settle(papers, metas, venues, candidates)
        if self.outages is not None:
            self.outages.save()
        await self._abstracts(metas)
        return Enrichment(fills=fills, unresolved=unresolved, metas=metas,
                          suggested=_suggestions(papers, metas, results), sources=self.sources.states.all(),
                          requests=self.sources.requests())

    async def _at_venue(self, entry: Entry, venues: _AtVenues) -> None:
        """The entry's match in the listing of the first source that hosts its venue-year, or why there is none."""
        for gateway, venue in self.hosts(entry) if entry.year else ():
            listing = await self._listing(gateway, venue, entry.year or 0)
            if not listing.hosted:
                continue
            if not listing.available:
                why, gave_up = self._unavailable(gateway, venue, entry.year or 0)
                (venues.fallback if gave_up else venues.waiting)[entry.place] = why
                return
            match = best_match(entry.title, listing.by_title.near(entry.title), venue=entry.venue, year=entry.year)
            venues.match[entry.place] = match
            if match.meta is not None:
                return

    async def _search(self, papers: Sequence[Entry], metas: dict[Place, PaperMeta],
                      venues: _AtVenues) -> dict[str, list[PaperMeta]]:
        """normalised title -> candidates, for the entries the venues did not settle."""
        # Entries with no known paper are searched too (their abstracts are wanted), but an empty link
        # whose venue could not be asked waits for it.
        need = [e for e in papers if (venues.match.get(e.place) is None or venues.match[e.place].meta is None)
                and (e.place not in venues.waiting if fillable_links(e) else e.place not in metas)]
        candidates: dict[str, list[PaperMeta]] = {}
        for gateway in self.gateways:
            for title, found in (await gateway.search([e.title for e in need])).items():
                candidates.setdefault(title, []).extend(found)
        return candidates

    def _settle(self, papers: Sequence[Entry], metas: dict[Place, PaperMeta], venues: _AtVenues,
                candidates: dict[str, list[PaperMeta]]) -> tuple[list[Fill], list[Unresolved]]:
        """Each entry's paper (into `metas`), the fills of its empty links, and why the others stay empty."""
        fills: list[Fill] = []
        unresolved: list[Unresolved] = []
        for entry in papers:
            wanted = fillable_links(entry)
            match = _chosen(entry, venues.match.get(entry.place), candidates)
            if not wanted:
                if entry.place not in metas and match.meta is not None:
                    metas[entry.place] = match.meta
            elif entry.place in venues.waiting:
                unresolved.append(Unresolved(line=entry.line, entry=entry.title, reason=venues.waiting[entry.place],
                                             file=entry.file))
            elif match.meta is None:
                unresolved.append(self._unresolved(entry, match, venues.fallback.get(entry.place)))
            else:
                metas[entry.place] = match.meta
                fills += [Fill(line=link.line, file=link.file, entry=entry.title, label=link.label,
                               url=match.meta.url, source=match.meta.source, confidence=round(match.confidence, 3),
                               matched_title=match.meta.title, note=venues.fallback.get(entry.place, ""))
                          for link in wanted]
        return fills, unresolved

    def _unresolved(self, entry: Entry, match: Match, fallback: str | None) -> Unresolved:
        why = self._why(match)
        return Unresolved(
            line=entry.line, file=entry.file, entry=entry.title, reason=f"{fallback}; {why}" if fallback else why,
            candidates=tuple({"title": t, "url": u, "score": round(s, 3)} for t, u, s in match.candidates),
        )

    async def _listing(self, gateway: Gateway, venue: str, year: int) -> Listing:
        listing = await gateway.listing(venue, year)
        if listing.available and self.outages is not None:
            self.outages.available(gateway.name, listing_scope(venue, year))
        return listing

    def _unavailable(self, gateway: Gateway, venue: str, year: int) -> tuple[str, bool]:
        """Why an entry of a venue-year whose listing could not be read is not filled from it, and whether it
        falls back to arXiv: after `fallback_after` nights in a row, a site that changed or blocks the runner
        must not keep its entries waiting for ever."""
        scope = listing_scope(venue, year)
        state = self.sources.states.down(gateway.name, scope)
        why = f"{state.label} unavailable: {state.reason}" if state else f"{gateway.name} unavailable"
        if self.outages is None or state is None:  # offline: nothing was asked, no night counts
            return why + " (nothing guessed)", False
        nights = self.outages.unavailable(gateway.name, scope)
        limit = self.sources.fallback_after
        if nights >= limit:
            return f"{why} ({nights} nights in a row: searched arXiv instead)", True
        return f"{why} (nothing guessed; night {nights} of {limit} before arXiv)", False

    async def _papers_of_links(self, papers: Sequence[Entry]) -> dict[Place, PaperMeta]:
        """entry -> the paper its links point at, when a source knows it and it is the entry's."""
        refs = self._refs_of_links(papers)
        answers: dict[str, dict[str, PaperMeta | None]] = {}
        for gateway in self.gateways:
            mine = [ref for _, g, ref in refs if g is gateway]
            if mine:
                answers[gateway.name] = await gateway.papers(mine)
        out: dict[Place, PaperMeta] = {}
        for entry, gateway, ref in refs:
            meta = answers.get(gateway.name, {}).get(ref.id)
            if meta is None or (entry.place in out and out[entry.place].abstract):
                continue
            if judge_paper(entry, meta).same:
                out.setdefault(entry.place, meta)
                if not out[entry.place].abstract and meta.abstract:
                    out[entry.place] = meta
        return out

    def _refs_of_links(self, papers: Sequence[Entry]) -> list[tuple[Entry, Gateway, PaperRef]]:
        """Each paper link a source names a paper by, with its entry and that source, in registry order."""
        refs: list[tuple[Entry, Gateway, PaperRef]] = []
        for entry in papers:
            for link in entry.links:
                for gateway in self.gateways:
                    hosts = gateway.source.claimed_hosts
                    if not link.url or (hosts is not None and host_of(link.url) not in hosts):
                        continue
                    ref = gateway.source.ref(link.url)
                    if ref is not None:
                        refs.append((entry, gateway, ref))
        return refs

    async def _abstracts(self, metas: dict[tuple[str, int], PaperMeta]) -> None:
        """Papers without an abstract get their venue page's (asked once per paper, cached with it)."""
        by_name = {g.name: g for g in self.gateways}
        for line, meta in metas.items():
            gateway = by_name.get(meta.source)
            if not meta.abstract and gateway is not None:
                metas[line] = await gateway.abstract(meta)

    def _why(self, match: Match) -> str:
        # Only a search source that could not answer explains an empty search; a venue-year that failed
        # elsewhere has nothing to do with this entry.
        searching = {g.name for g in self.gateways if g.source.searches}
        down = [s for s in self.sources.states.unavailable() if s.source in searching and not s.scope]
        if down and not match.candidates:
            return "; ".join(f"{s.label} unavailable: {s.reason}" for s in down) + " (nothing guessed)"
        return match.reason


def _chosen(entry: Entry, at_venue: Match | None, candidates: dict[str, list[PaperMeta]]) -> Match:
    """The venue's own answer wins, and its near misses say more than a search that found nothing."""
    searched = best_match(entry.title, candidates.get(normalize_title(entry.title), []),
                          venue=entry.venue, year=entry.year)
    return searched if at_venue is None or (at_venue.meta is None and searched.meta is not None) else at_venue


def _suggestions(papers: Sequence[Entry], metas: dict[tuple[str, int], PaperMeta],
                 results: dict[str, CheckResult]) -> dict[str, CheckResult]:
    """A broken or wrong paper link gets the entry's paper as its suggestion, when a source found it.

    Only a link meant to be the paper: a dead project page or code link is not replaced by the paper
    (an archived copy may be suggested for it once it is dead, crawler.sources.wayback). A URL under two entries
    gets it where it fails: the entry of that line names the paper."""
    out: dict[str, CheckResult] = {}
    for entry in papers:
        meta = metas.get(entry.place)
        if meta is None:
            continue
        for lk in entry.links:
            if not names_the_paper(lk, entry):
                continue
            key = url_key(lk.url)
            current = out.get(key) or results.get(key)
            if current is not None and url_key(meta.url) != key:
                suggested = with_suggestion(current, lk.file, lk.line, meta.url)
                if suggested is not None:
                    out[key] = suggested
    return out
