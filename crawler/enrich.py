"""Paper-aware work: verify arXiv links through the API, fill empty links, collect abstracts.

Sources are asked through the cache first (store.lookup); a rerun within --max-age asks
nothing. A source that fails is *unavailable* for the rest of the run: whatever depends on it
is left undecided, never guessed, and nothing cached is touched.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import TYPE_CHECKING

from crawler.config import Settings
from crawler.entries import is_venue_label
from crawler.errors import SourceUnavailable
from crawler.links import abs_url, normalize_url, parse_arxiv_id
from crawler.match import Match, best_match, normalize_title, title_score
from crawler.models import CheckResult, Enrichment, Entry, Fill, Link, LinkStatus, PaperMeta, ParsedList, Unresolved
from crawler.net import ClientPool
from crawler.sources import cvf as cvf_mod
from crawler.store import Store, paper_key

if TYPE_CHECKING:
    from crawler.sources.arxiv import ArxivSource

log = logging.getLogger("crawler")

# Below this title score a working link is about another paper. Far below ACCEPT on purpose:
# list titles are abbreviated and re-punctuated, and a false "wrong paper" is an insult to the curator.
WRONG_BELOW = 0.5
CVF_FILL_VENUES = frozenset({"CVPR", "ICCV", "WACV"})


def _arxiv_ids_of(entry: Entry) -> list[str]:
    return [i for i in (parse_arxiv_id(lk.url) for lk in entry.links if lk.url) if i]


def _cvf_refs_of(entry: Entry) -> list[tuple[str, cvf_mod.CvfRef]]:
    out = []
    for lk in entry.links:
        ref = cvf_mod.parse_cvf_url(lk.url) if lk.url else None
        if ref is not None:
            out.append((lk.url, ref))
    return out


# An empty link is filled with the paper only when its label asks for the paper: `[[code]]()`,
# `[[video]]()` or an author's `[Ming Li]()` are left for a human.
_PAPER_LABEL = re.compile(
    r"^\W*(?:(?:arxiv|cvf|openaccess|official|full|camera[- ]ready)?\s*(?:paper|pdf|abs|abstract|link|url|html|"
    r"arxiv|preprint|proceedings|publication|article))?\W*$",
    re.I,
)


def _fillable(entry: Entry) -> tuple[Link, ...]:
    return tuple(lk for lk in entry.empty_links
                 if _PAPER_LABEL.match(lk.label) or is_venue_label(lk.label)
                 or normalize_title(lk.label) == normalize_title(entry.title))


def _venue_key(venue: str | None) -> str | None:
    if not venue:
        return None
    v = venue.upper().replace(" ", "")
    return v if v in CVF_FILL_VENUES else None


class Enricher:
    """Asks arXiv and CVF, through the cache. One instance per run."""

    def __init__(
        self,
        *,
        settings: Settings,
        pool: ClientPool | None = None,
        arxiv: ArxivSource | None = None,  # built on first use: the arxiv package costs ~0.1 s to import
        cvf: cvf_mod.CvfSource | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.settings = settings
        self._arxiv = arxiv
        if cvf is None and pool is not None:
            cvf = cvf_mod.CvfSource(pool.client(settings.cvf_base), base=settings.cvf_base)
        self.cvf = cvf
        self.clock = clock
        # Answers about papers (ids, titles, abstracts) live longer than link results, never shorter.
        self.meta_age = max(settings.max_age, settings.metadata_max_age)
        self.sources: dict[str, str] = {}

    @property
    def arxiv(self) -> ArxivSource:
        if self._arxiv is None:
            from crawler.sources.arxiv import ArxivSource

            s = self.settings
            self._arxiv = ArxivSource(url_format=s.arxiv_url, delay=s.arxiv_delay, timeout=s.arxiv_timeout,
                                      user_agent=s.agent)
        return self._arxiv

    # -- availability -----------------------------------------------------------------------------
    def _down(self, name: str) -> bool:
        return self.sources.get(name, "").startswith("unavailable")

    def _mark_down(self, exc: SourceUnavailable) -> None:
        log.warning("%s", exc)
        self.sources[exc.source] = f"unavailable: {exc.reason}"

    def _mark_used(self, name: str) -> None:
        self.sources.setdefault(name, "ok")

    # -- arXiv ids ---------------------------------------------------------------------------------
    async def arxiv_metas(self, ids: Iterable[str], store: Store, now: float) -> dict[str, PaperMeta | None]:
        """id -> meta (None: arXiv does not know it). Ids arXiv could not be asked about are absent."""
        ids = list(dict.fromkeys(ids))
        out: dict[str, PaperMeta | None] = {}
        ask = []
        for arxiv_id in ids:
            cached = store.lookup(f"arxiv-id:{arxiv_id}", now, self.meta_age)
            if cached is None:
                ask.append(arxiv_id)
            elif cached.get("key"):
                meta = store.paper(cached["key"])
                if meta is None:
                    ask.append(arxiv_id)
                else:
                    out[arxiv_id] = meta
            else:
                out[arxiv_id] = None
        if ask and not self._down("arxiv") and not self.settings.offline:
            from crawler.sources.arxiv import ArxivQueryRejected

            try:
                found = await self.arxiv.lookup_ids_async(ask)
                self._mark_used("arxiv")
            except ArxivQueryRejected as exc:  # carries what the other batches found
                found = exc.partial
                self._mark_down(exc)
                ask = [i for i in ask if i not in set(exc.rejected)]
            except SourceUnavailable as exc:
                self._mark_down(exc)
                return out
            store.save_papers(found.values())
            answers = {}
            for arxiv_id in ask:
                meta = found.get(arxiv_id)
                out[arxiv_id] = meta
                answers[f"arxiv-id:{arxiv_id}"] = {"key": paper_key(meta) if meta else None}
            store.save_lookups(answers, now)
        return out

    async def verify_arxiv(self, parsed: ParsedList, keys: dict[str, str], store: Store,
                           now: float) -> dict[str, CheckResult]:
        """Paper-aware verdicts for arXiv links (key -> id). Unsettled keys are left out.

        An id arXiv does not return is left out too: arXiv sometimes answers an empty page for a
        known id, so only the abs page's own 404 (the ordinary check) may call it broken.
        """
        metas = await self.arxiv_metas(keys.values(), store, now)
        titles = _titles_by_url(parsed)
        out = {}
        for key, arxiv_id in keys.items():
            meta = metas.get(arxiv_id)
            if meta is None:
                continue
            out[key] = self._judge(key, meta, titles.get(key, []), now, canonical=abs_url(arxiv_id))
        return out

    def _judge(self, key: str, meta: PaperMeta, entry_titles: list[str], now: float, canonical: str) -> CheckResult:
        scores = [title_score(t, meta.title) for t in entry_titles if len(t.split()) >= 3]
        if scores and max(scores) < WRONG_BELOW:
            return CheckResult(url=key, status=LinkStatus.WRONG_PAPER, http_status=200, final_url=canonical,
                               error=f"this is {meta.title!r} (title score {max(scores):.2f})", checked_at=now)
        return CheckResult(url=key, status=LinkStatus.OK, http_status=200, final_url=canonical, checked_at=now)

    # -- CVF ---------------------------------------------------------------------------------------
    async def cvf_listing(self, conf: str, year: int, store: Store, now: float) -> list[PaperMeta] | None:
        """A conference year's papers (cached), or None when CVF cannot be asked."""
        key = f"cvf-listing:{conf}{year}"
        cached = store.lookup(key, now, self.meta_age)
        if cached is not None:
            papers = store.papers(cached)
            if len(papers) == len(cached):
                return list(papers.values())
        if self.cvf is None or self._down("cvf") or self.settings.offline:
            return None
        try:
            papers = await self.cvf.listing(conf, year)
            self._mark_used("cvf")
        except SourceUnavailable as exc:
            self._mark_down(exc)
            return None
        # Keep abstracts already fetched from paper pages: a listing has none.
        known = store.papers(paper_key(p) for p in papers)
        merged = [replace(p, abstract=known[paper_key(p)].abstract) if paper_key(p) in known else p for p in papers]
        store.save_papers(merged)
        store.save_lookups({key: [paper_key(p) for p in merged]}, now)
        return merged

    async def cvf_abstract(self, meta: PaperMeta, store: Store, now: float) -> PaperMeta:
        """The paper page's abstract for a CVF meta (cached with the paper)."""
        if meta.abstract:
            return meta
        cached = store.paper(paper_key(meta))
        if cached and cached.abstract and cached.fetched_at >= now - self.meta_age:
            return cached
        if self.cvf is None or self._down("cvf") or self.settings.offline:
            return meta
        try:
            page = await self.cvf.paper(meta.url)
            self._mark_used("cvf")
        except SourceUnavailable as exc:
            self._mark_down(exc)
            return meta
        except ValueError:
            return meta
        if page is None:
            return meta
        full = replace(meta, abstract=page.abstract, authors=page.authors or meta.authors,
                       arxiv_id=meta.arxiv_id or page.arxiv_id, pdf_url=meta.pdf_url or page.pdf_url, fetched_at=now)
        store.save_papers([full])
        return full

    # -- arXiv title search ------------------------------------------------------------------------
    async def arxiv_candidates(self, titles: list[str], store: Store, now: float) -> dict[str, list[PaperMeta]]:
        """normalised title -> candidates arXiv returned for it (cached per title)."""
        out: dict[str, list[PaperMeta]] = {}
        ask = []
        for title in dict.fromkeys(titles):
            norm = normalize_title(title)
            cached = store.lookup(f"arxiv-title:{norm}", now, self.meta_age)
            if cached is None:
                ask.append(title)
            else:
                out[norm] = list(store.papers(cached).values())
        if not ask or self._down("arxiv") or self.settings.offline:
            return out
        from crawler.sources.arxiv import TITLES_PER_QUERY, ArxivQueryRejected

        answers: dict[str, list[str]] = {}
        for i in range(0, len(ask), TITLES_PER_QUERY):
            chunk = ask[i : i + TITLES_PER_QUERY]
            try:
                found = await self.arxiv.search_titles_async(chunk)
                self._mark_used("arxiv")
            except SourceUnavailable as exc:
                if isinstance(exc, ArxivQueryRejected):
                    store.save_papers(exc.partial.values())
                self._mark_down(exc)
                break  # which titles a partial answer covers is unknown: record none of them
            store.save_papers(found)
            for title in chunk:
                # The candidates of this query that resemble this title; the rest belong to the other
                # titles ORed into the same query.
                mine = [m for m in found if title_score(title, m.title) >= WRONG_BELOW]
                out[normalize_title(title)] = mine
                answers[f"arxiv-title:{normalize_title(title)}"] = [paper_key(m) for m in mine]
        store.save_lookups(answers, now)
        return out

    # -- the enrichment stage ----------------------------------------------------------------------
    async def enrich(self, parsed: ParsedList, results: dict[str, CheckResult], store: Store,
                     now: float) -> Enrichment:
        papers = [e for e in parsed.entries if e.is_paper]
        metas: dict[int, PaperMeta] = {}
        fills: list[Fill] = []
        unresolved: list[Unresolved] = []
        verdicts: dict[str, CheckResult] = {}

        # 1. Entries with an arXiv link: the id lookup gives the paper and its abstract.
        ids = {e.line: _arxiv_ids_of(e) for e in papers}
        by_id = await self.arxiv_metas([i for v in ids.values() for i in v], store, now)
        for entry in papers:
            for arxiv_id in ids[entry.line]:
                meta = by_id.get(arxiv_id)
                if meta and title_score(entry.title, meta.title) >= WRONG_BELOW:
                    metas[entry.line] = meta
                    break

        # 2. Entries with a CVF link: the listing confirms the paper, the page gives the abstract.
        for entry in papers:
            refs = _cvf_refs_of(entry)
            if not refs:
                continue
            for url, ref in refs:
                listing = await self.cvf_listing(ref.conf, ref.year, store, now)
                hit = next((m for m in listing or () if _page_name(m.url) == ref.name.lower()), None)
                if hit is None:
                    continue  # not in the listing: the ordinary check of the URL decides
                if title_score(entry.title, hit.title) < WRONG_BELOW:
                    verdicts[normalize_url(url)] = self._judge(normalize_url(url), hit, [entry.title], now,
                                                               canonical=hit.url)
                    continue
                if entry.line not in metas or not metas[entry.line].abstract:
                    metas[entry.line] = await self.cvf_abstract(hit, store, now)

        # 3. Empty links: CVF listing for CVF venues, then arXiv by title.
        need_search: list[Entry] = []
        cvf_found: dict[int, Match] = {}
        waiting_for_cvf: set[int] = set()  # a CVF venue's fill is CVF's page: without CVF, no fill
        for entry in papers:
            if not _fillable(entry) and entry.line in metas:
                continue
            conf = _venue_key(entry.venue)
            if conf and entry.year:
                listing = await self.cvf_listing(conf, entry.year, store, now)
                if listing is None:
                    if _fillable(entry):
                        waiting_for_cvf.add(entry.line)
                        continue
                elif listing:
                    match = best_match(entry.title, listing, venue=entry.venue, year=entry.year)
                    cvf_found[entry.line] = match
                    if match.meta is not None:
                        if not _fillable(entry):  # its paper, for the abstract and for suggestions
                            metas[entry.line] = await self.cvf_abstract(match.meta, store, now)
                        continue
            # Entries with no known paper yet are searched too: their abstracts are wanted.
            need_search.append(entry)
        candidates = await self.arxiv_candidates([e.title for e in need_search], store, now)
        for entry in papers:
            if not _fillable(entry):
                if entry.line not in metas:
                    match = best_match(entry.title, candidates.get(normalize_title(entry.title), []),
                                       venue=entry.venue, year=entry.year)
                    if match.meta is not None:
                        metas[entry.line] = match.meta
                continue
            if entry.line in waiting_for_cvf:
                unresolved.append(Unresolved(line=entry.line, entry=entry.title,
                                             reason=f"cvf {self.sources.get('cvf', 'unavailable')} (nothing guessed)"))
                continue
            match = cvf_found.get(entry.line)
            if match is None or match.meta is None:
                arxiv_match = best_match(entry.title, candidates.get(normalize_title(entry.title), []),
                                         venue=entry.venue, year=entry.year)
                match = arxiv_match if arxiv_match.meta is not None or match is None else match
            if match.meta is None:
                unresolved.append(Unresolved(
                    line=entry.line, entry=entry.title, reason=self._why(match, entry),
                    candidates=tuple({"title": t, "url": u, "score": round(s, 3)} for t, u, s in match.candidates),
                ))
                continue
            meta = match.meta
            if meta.source == "cvf":
                meta = await self.cvf_abstract(meta, store, now)
            metas[entry.line] = meta
            for link in _fillable(entry):
                fills.append(Fill(line=link.line, entry=entry.title, label=link.label, url=meta.url,
                                  source=meta.source, confidence=round(match.confidence, 3), matched_title=meta.title))
        self._suggest(papers, metas, results, verdicts)
        requests = {"arxiv": self.arxiv.requests_sent}
        if self.cvf is not None:
            requests["cvf"] = self.cvf.requests_sent
        return Enrichment(fills=fills, unresolved=unresolved, metas=metas, verdicts=verdicts,
                          sources=dict(self.sources), requests=requests)

    @staticmethod
    def _suggest(papers: list[Entry], metas: dict[int, PaperMeta], results: dict[str, CheckResult],
                 verdicts: dict[str, CheckResult]) -> None:
        """A broken or wrong link gets the entry's paper as its suggestion, when the title found it."""
        for entry in papers:
            meta = metas.get(entry.line)
            if meta is None:
                continue
            for lk in entry.links:
                key = normalize_url(lk.url) if lk.url else ""
                current = verdicts.get(key) or results.get(key)
                if (current is not None and current.status in (LinkStatus.BROKEN, LinkStatus.WRONG_PAPER)
                        and not current.suggestion and normalize_url(meta.url) != key):
                    verdicts[key] = replace(current, suggestion=meta.url)

    def _why(self, match: Match, entry: Entry) -> str:
        down = [f"{name} {state}" for name, state in self.sources.items() if state.startswith("unavailable")]
        if down and not match.candidates:
            return "; ".join(down) + " (nothing guessed)"
        return match.reason


def _page_name(url: str) -> str:
    """'…/html/Yim_A_Gift_From_CVPR_2017_paper.html' -> 'yim_a_gift_from_cvpr_2017_paper'."""
    name = url.rsplit("/", 1)[-1].lower()
    for ext in (".html", ".pdf"):
        name = name.removesuffix(ext)
    return name


def _titles_by_url(parsed: ParsedList) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for entry in parsed.entries:
        if not entry.is_paper:
            continue
        for lk in entry.links:
            if lk.url:
                out.setdefault(normalize_url(lk.url), []).append(entry.title)
    return out

