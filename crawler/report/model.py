"""The run report: one frozen, typed value, built once by `build_report`, read by every output.

health.md, health.json, index.html, the badge, the CI texts, the export and the exit code all read a
`RunReport`; none of them reaches back into the stages that made it. `to_json` is the
documented health.json (schema 2); `from_json` reads it back for the workflow's CI texts.

Schema 2 (from 1): every place in a list is `{"file", "line"}` (several lists share one report), so
`links[].lines` holds such objects and `fills`, `unresolved` and `empty` gain `file`; `summary.lists`
names the lists; `summary.sources` is a list of `{source, scope, state, reason}`; links gain `note`,
`title_score`, `authors_matched` and `repo`; `summary` gains `not_judged` and `notes`. Added within schema 2:
`summary.skipped` and `summary.not_judged_by`, so that every output gives the same count,
links = healthy + failing + not judged + skipped (`Summary.tally`).

Additive within schema 2: when a URL's places are judged apart (a URL under two entries, judged against
each; a `#fragment` missing on a page), each item of its `lines` names its `entry`, and an item whose own
verdict differs from the URL's carries it: `status`, `error`, `note`, `suggestion`, `title_score`,
`authors_matched`. The URL's own fields are then its worst place's.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import asdict, dataclass, field

from crawler import __version__
from crawler.errors import error_text, one_line
from crawler.listfile.links import host_of
from crawler.models import (
    Availability,
    CheckResult,
    Enrichment,
    Entry,
    Fill,
    Hop,
    Link,
    LinkStatus,
    Occurrence,
    ParsedList,
    RepoInfo,
    SourceState,
    Unresolved,
)
from crawler.store.history import LinkState

SCHEMA_VERSION = 2


@dataclass(frozen=True, order=True)
class Place:
    """Where something stands in the lists: a file (as the user named it) and a 1-based line."""

    file: str
    line: int
    entry: str | None = field(default=None, compare=False)  # the title of the entry written there

    def __str__(self) -> str:
        return f"{self.file}:{self.line}" if self.file else str(self.line)


@dataclass(frozen=True)
class LinkRow:
    """One distinct URL: its verdict, where it stands, and its history."""

    url: str  # as first written
    key: str  # normalised: the cache key
    status: LinkStatus
    places: tuple[Place, ...]
    labels: tuple[str, ...] = ()
    entries: tuple[str, ...] = ()  # titles of the entries it is written on
    http_status: int | None = None
    final_url: str | None = None
    error: str | None = None
    redirects: tuple[Hop, ...] = ()
    checked_at: float = 0.0
    from_cache: bool = False
    first_failed_at: float | None = None
    consecutive_failures: int = 0
    new: bool = False
    dead: bool = False
    fixed: bool = False
    suggestion: str | None = None
    note: str | None = None
    title_score: float | None = None
    authors_matched: bool | None = None
    repo: RepoInfo | None = None
    occurrences: tuple[Occurrence, ...] = ()  # the places whose own verdict differs from the URL's

    @property
    def first(self) -> Place:
        return self.places[0] if self.places else Place("", 0)

    def at(self, place: Place) -> Occurrence:
        """The verdict where `place` stands: its own, else the URL's."""
        for occ in self.occurrences:
            if occ.file == place.file and occ.line == place.line:
                return occ
        return Occurrence(place.file, place.line, self.status, self.error, self.note, self.suggestion,
                          self.title_score, self.authors_matched)

    def by_status(self) -> dict[LinkStatus, tuple[Place, ...]]:
        """The places grouped by their own status, so a failure is shown where it is and nowhere else."""
        out: dict[LinkStatus, list[Place]] = {}
        for place in self.places:
            out.setdefault(self.at(place).status, []).append(place)
        return {status: tuple(places) for status, places in out.items()}

    @property
    def failing_places(self) -> tuple[Place, ...]:
        """Where it fails (all its places when none is judged apart)."""
        return tuple(p for p in self.places if self.at(p).status.is_failure) or self.places


@dataclass(frozen=True)
class EmptyRow:
    place: Place
    label: str
    entry: str | None
    filled: bool


@dataclass(frozen=True)
class RunRow:
    """One past run, for trends."""

    id: int
    started_at: float
    command: str
    total: int
    ok: int
    failing: int
    new: int
    dead: int
    fixed: int
    filled: int


RUN_FIELDS = tuple(RunRow.__dataclass_fields__)


@dataclass(frozen=True)
class NotJudged:
    """Links the run could not judge for one reason: "arxiv: unavailable this run (233 links)"."""

    source: str  # the source or host that could not answer: "arxiv", "ieeexplore.ieee.org"
    reason: str  # short: "unavailable this run", "walls robots (HTTP 403)"
    links: int

    @property
    def label(self) -> str:
        return f"{self.source}: {self.reason}"

    def __str__(self) -> str:
        return f"{self.label} ({self.links} link{'s' if self.links != 1 else ''})"


@dataclass(frozen=True)
class Summary:
    lists: tuple[str, ...] = ()
    command: str = "run"
    generated_at: float = 0.0
    version: str = __version__
    entries: int = 0
    paper_entries: int = 0
    links: int = 0  # links written, empty ones included
    distinct_urls: int = 0
    empty_links: int = 0
    counts: dict[LinkStatus, int] = field(default_factory=dict)
    healthy: int = 0
    failing: int = 0
    not_judged: int = 0  # blocked or rate limited: could not say, shown apart from failures
    skipped: int = 0  # left out by the user, not a web link, or a private target refused
    not_judged_by: tuple[NotJudged, ...] = ()  # the not judged, by source or host and reason, most first
    notes: int = 0
    new: tuple[str, ...] = ()
    dead: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()
    fills: int = 0
    unresolved: int = 0
    abstracts: int = 0
    sources: tuple[SourceState, ...] = ()
    requests: dict[str, int] = field(default_factory=dict)

    @property
    def unavailable(self) -> tuple[SourceState, ...]:
        return tuple(s for s in self.sources if s.availability is Availability.UNAVAILABLE)

    def tally(self) -> str:
        """The one count every output gives: links = healthy + failing + not judged + skipped."""
        return (f"{self.distinct_urls} links: {self.healthy} healthy, {self.failing} failing, "
                f"{self.not_judged} not judged, {self.skipped} skipped")


@dataclass(frozen=True)
class RunReport:
    summary: Summary
    links: tuple[LinkRow, ...]
    empty: tuple[EmptyRow, ...] = ()
    fills: tuple[Fill, ...] = ()
    unresolved: tuple[Unresolved, ...] = ()
    runs: tuple[RunRow, ...] = ()

    def with_runs(self, runs: tuple[RunRow, ...]) -> RunReport:
        return RunReport(self.summary, self.links, self.empty, self.fills, self.unresolved, runs)

    def exit_code(self, fail_on: str) -> int:
        """0, or 1 when something `--fail-on` names is there: dead links, new definite failures, any failure."""
        if fail_on == "never":
            return 0
        if fail_on == "dead":
            failed = any(lo.dead for lo in self.links)
        elif fail_on == "new":
            failed = any(lo.new and lo.status.is_definite for lo in self.links)
        else:
            failed = any(lo.status.is_failure for lo in self.links)
        return 1 if failed else 0

    # -- health.json --------------------------------------------------------------------------------------
    def to_json(self, *, links: bool = True) -> dict:
        """health.json as a dict; `links=False` leaves the links out (json.render writes them one by one)."""
        s = self.summary
        summary = {
            **{k: v for k, v in asdict(s).items() if k not in ("counts", "sources", "lists")},
            "lists": list(s.lists), "list": ", ".join(s.lists),
            "counts": {st.value: n for st, n in s.counts.items() if n},
            "sources": [{"source": st.source, "scope": st.scope, "state": st.availability.value,
                         "reason": st.reason} for st in s.sources],
            "new": list(s.new), "dead": list(s.dead), "fixed": list(s.fixed),
            "empty_unfilled": [_place(e.place) for e in self.empty if not e.filled],
        }
        return {
            "schema_version": SCHEMA_VERSION,
            "summary": summary,
            **({"links": [link_json(lo) for lo in self.links]} if links else {}),
            "empty": [{**_place(e.place), "label": e.label, "entry": e.entry, "filled": e.filled} for e in self.empty],
            "fills": [asdict(f) for f in self.fills],
            "unresolved": [{**asdict(u), "candidates": list(u.candidates)} for u in self.unresolved],
            "runs": [asdict(r) for r in self.runs],
        }

    @classmethod
    def from_json(cls, data: dict) -> RunReport:
        """health.json back into a report (for the workflow's CI texts). Raises ValueError for another schema."""
        if data.get("schema_version") != SCHEMA_VERSION:
            raise ValueError(f"health.json has schema {data.get('schema_version')!r}, not {SCHEMA_VERSION}")
        s = data["summary"]
        summary = Summary(
            lists=tuple(s["lists"]), command=s["command"], generated_at=s["generated_at"], version=s["version"],
            entries=s["entries"], paper_entries=s["paper_entries"], links=s["links"],
            distinct_urls=s["distinct_urls"], empty_links=s["empty_links"],
            counts={LinkStatus(k): v for k, v in s["counts"].items()}, healthy=s["healthy"], failing=s["failing"],
            not_judged=s["not_judged"], skipped=s.get("skipped", 0),
            not_judged_by=tuple(NotJudged(**n) for n in s.get("not_judged_by", ())),
            notes=s["notes"], new=tuple(s["new"]), dead=tuple(s["dead"]),
            fixed=tuple(s["fixed"]), fills=s["fills"], unresolved=s["unresolved"], abstracts=s["abstracts"],
            sources=tuple(SourceState(st["source"], st["scope"], Availability(st["state"]), st["reason"])
                          for st in s["sources"]),
            requests=dict(s["requests"]),
        )
        links = tuple(LinkRow(
            url=lo["url"], key=lo["key"], status=LinkStatus(lo["status"]),
            places=tuple(Place(p["file"], p["line"], p.get("entry")) for p in lo["lines"]),
            labels=tuple(lo["labels"]),
            occurrences=tuple(Occurrence(p["file"], p["line"], LinkStatus(p["status"]),
                                         **{k: p.get(k) for k in _OWN if k != "status"})
                              for p in lo["lines"] if "status" in p),
            entries=tuple(lo["entries"]), http_status=lo["http_status"], final_url=lo["final_url"],
            error=lo["error"], redirects=tuple(Hop(h["url"], h["status"]) for h in lo["redirects"]),
            checked_at=lo["checked_at"], from_cache=lo["from_cache"], first_failed_at=lo["first_failed_at"],
            consecutive_failures=lo["consecutive_failures"], new=lo["new"], dead=lo["dead"], fixed=lo["fixed"],
            suggestion=lo["suggestion"], note=lo["note"], title_score=lo["title_score"],
            authors_matched=lo["authors_matched"], repo=RepoInfo(**lo["repo"]) if lo["repo"] else None,
        ) for lo in data["links"])
        return cls(
            summary=summary, links=links,
            empty=tuple(EmptyRow(Place(e["file"], e["line"]), e["label"], e["entry"], e["filled"])
                        for e in data["empty"]),
            fills=tuple(Fill(**f) for f in data["fills"]),
            unresolved=tuple(Unresolved(**{**u, "candidates": tuple(u["candidates"])}) for u in data["unresolved"]),
            runs=tuple(RunRow(**r) for r in data["runs"]),
        )


def _place(p: Place) -> dict:
    return {"file": p.file, "line": p.line}


_OWN = ("status", "error", "note", "suggestion", "title_score", "authors_matched")  # a place's own verdict in JSON


def _line(p: Place, lo: LinkRow) -> dict:
    """A place of a URL judged apart: with its entry, and with its own verdict where that differs."""
    for occ in lo.occurrences:
        if occ.file == p.file and occ.line == p.line:
            return {"file": p.file, "line": p.line, "entry": p.entry, "status": occ.status.value, "error": occ.error,
                    "note": occ.note, "suggestion": occ.suggestion, "title_score": occ.title_score,
                    "authors_matched": occ.authors_matched}
    return {"file": p.file, "line": p.line, "entry": p.entry}


def link_json(lo: LinkRow) -> dict:
    # By hand, not dataclasses.asdict: its deep copy cost a third of the time writing the reports took.
    repo = lo.repo
    return {
        "url": lo.url, "key": lo.key, "status": lo.status.value,
        "lines": [_line(p, lo) for p in lo.places] if lo.occurrences else [_place(p) for p in lo.places],
        "labels": list(lo.labels), "entries": list(lo.entries), "http_status": lo.http_status,
        "final_url": lo.final_url, "error": lo.error,
        "redirects": [{"url": h.url, "status": h.status} for h in lo.redirects],
        "checked_at": lo.checked_at, "from_cache": lo.from_cache, "first_failed_at": lo.first_failed_at,
        "consecutive_failures": lo.consecutive_failures, "new": lo.new, "dead": lo.dead, "fixed": lo.fixed,
        "suggestion": lo.suggestion, "note": lo.note, "title_score": lo.title_score,
        "authors_matched": lo.authors_matched,
        "repo": None if repo is None else {"name_with_owner": repo.name_with_owner, "stars": repo.stars,
                                           "archived": repo.archived, "pushed_at": repo.pushed_at,
                                           "checked_at": repo.checked_at},
    }


def _own_verdicts(r: CheckResult, links: list[Link]) -> tuple[Occurrence, ...]:
    """The places whose verdict differs from the URL's, as reports show them (one-line texts)."""
    if not r.occurrences:
        return ()
    url = r.at("", 0)
    out = {}
    for lk in links:
        occ = r.at(lk.file, lk.line)
        if occ != dataclasses.replace(url, file=lk.file, line=lk.line):
            out[(lk.file, lk.line)] = dataclasses.replace(
                occ, error=error_text(occ.error, "error") if occ.error else None, note=one_line(occ.note))
    return tuple(out.values())


def build_report(command: str, lists: tuple[str, ...], parsed: ParsedList, by_key: dict[str, list[Link]],
                 results: dict[str, CheckResult], states: dict[str, LinkState], enrichment: Enrichment, now: float,
                 repos: dict[str, RepoInfo] | None = None) -> RunReport:
    """The report of one run, from what the stages produced."""
    repos = repos or {}
    entry_of = parsed.entries_by_place()
    rows = [_link_row(key, links, r, states.get(key) or LinkState(), entry_of, repos.get(key))
            for key, links in by_key.items() if (r := results.get(key)) is not None]
    empties = [lk for lk in parsed.links if lk.is_empty]
    filled = {(f.file, f.line, f.label) for f in enrichment.fills}
    return RunReport(
        summary=_summary(command, lists, parsed, rows, len(empties), enrichment, now),
        links=tuple(rows),
        empty=tuple(EmptyRow(Place(lk.file, lk.line), lk.label, _title_at(entry_of, lk),
                             (lk.file, lk.line, lk.label) in filled) for lk in empties),
        fills=tuple(enrichment.fills),
        unresolved=tuple(Unresolved(**{**asdict(u), "reason": error_text(u.reason, "left empty"),
                                       "candidates": tuple(u.candidates)}) for u in enrichment.unresolved),
    )



def _title_at(entry_of: dict[tuple[str, int], Entry], lk: Link) -> str | None:
    entry = entry_of.get((lk.file, lk.line))
    return entry.title if entry is not None else None


def _link_row(key: str, links: list[Link], r: CheckResult, st: LinkState, entry_of: dict[tuple[str, int], Entry],
              repo: RepoInfo | None) -> LinkRow:
    """One URL's row: the check's verdict, its places with their entries, its history."""
    titles = [(lk, _title_at(entry_of, lk)) for lk in links]
    return LinkRow(
        url=links[0].url, key=key, status=r.status,
        places=tuple(sorted({Place(lk.file, lk.line, title) for lk, title in titles})),
        labels=tuple(sorted({lk.label for lk in links})),
        entries=tuple(sorted({title for _, title in titles if title is not None})),
        http_status=r.http_status, final_url=r.final_url, redirects=r.redirects,
        error=error_text(r.error, "error") if r.error else None,
        checked_at=r.checked_at, from_cache=r.from_cache, first_failed_at=st.first_failed_at,
        consecutive_failures=st.consecutive_failures, new=st.new, dead=st.dead, fixed=st.fixed,
        suggestion=r.suggestion, note=one_line(r.note), title_score=r.title_score,
        authors_matched=r.authors_matched, repo=repo, occurrences=_own_verdicts(r, links),
    )


def _summary(command: str, lists: tuple[str, ...], parsed: ParsedList, rows: list[LinkRow], empty_links: int,
             enrichment: Enrichment, now: float) -> Summary:
    return Summary(
        lists=lists, command=command, generated_at=now, version=__version__,
        entries=len(parsed.entries), paper_entries=sum(1 for e in parsed.entries if e.is_paper),
        links=len(parsed.links), distinct_urls=len(rows), empty_links=empty_links,
        counts=_counts(rows, empty_links), **_tally(rows), **_changes(rows),
        fills=len(enrichment.fills), unresolved=len(enrichment.unresolved),
        abstracts=sum(1 for m in enrichment.metas.values() if m.abstract),
        # A source's reason may quote what it was sent (GitHub's message, a garbled answer): one short line.
        sources=tuple(dataclasses.replace(st, reason=error_text(st.reason, "unavailable") if st.reason else None)
                      for st in enrichment.sources),
        requests=dict(enrichment.requests),
    )


def _counts(rows: list[LinkRow], empty_links: int) -> dict[LinkStatus, int]:
    """URLs by status, in the statuses' order; the empty links (which have no URL) counted as written."""
    counts: dict[LinkStatus, int] = dict.fromkeys(LinkStatus, 0)
    for lo in rows:
        counts[lo.status] += 1
    counts[LinkStatus.of_empty_link()] = empty_links
    return {s: n for s, n in counts.items() if n}


def _tally(rows: list[LinkRow]) -> dict:
    """The summary's count of URLs: links = healthy + failing + not judged + skipped."""
    return {
        "healthy": sum(1 for lo in rows if lo.status.is_healthy),
        "failing": sum(1 for lo in rows if lo.status.is_failure),
        "not_judged": sum(1 for lo in rows if lo.status.is_unjudged),
        "skipped": sum(1 for lo in rows if lo.status.is_skipped),
        "not_judged_by": not_judged_by(rows),
    }


def _changes(rows: list[LinkRow]) -> dict:
    """The URLs with a note, and those new, dead and fixed since the last runs."""
    return {
        "notes": sum(1 for lo in rows if lo.note or any(o.note for o in lo.occurrences)),
        "new": tuple(lo.url for lo in rows if lo.new), "dead": tuple(lo.url for lo in rows if lo.dead),
        "fixed": tuple(lo.url for lo in rows if lo.fixed),
    }


# -- what could not be judged, by reason ----------------------------------------------------------------------
# "arxiv: unavailable this run (HTTP 503)", "OpenReview: sign-in needed (...)", "offline: not in the cache": a
# one-word source, then its reason up to the first parenthesis or colon.
_SOURCE_REASON = re.compile(r"^(?P<source>[A-Za-z][\w.-]*): (?P<reason>[^(:;]+)")
_WALLS = {401: "asks for a login", 407: "asks for a login"}
REASON_MAX = 80


def why_not_judged(lo: LinkRow) -> tuple[str, str]:
    """(source or host, short reason) for a link not judged: the grouping the reports show, not raw errors."""
    error = (lo.error or "").strip()
    if error.startswith("crawler error"):
        return "crawler", "failed to check (its own error; see --verbose)"
    m = _SOURCE_REASON.match(error)
    if m:
        return m["source"], m["reason"].strip()[:REASON_MAX]
    host = host_of(lo.final_url or lo.url) or host_of(lo.url) or "?"
    code = lo.http_status
    if lo.status.is_rate_limited:
        return host, "rate limited (HTTP 429)"
    if code is not None and 400 <= code <= 599 or code == 999:
        wall = _WALLS.get(code, "walls robots" if code in (403, 451, 999) else "refuses our requests")
        return host, f"{wall} (HTTP {code})"
    reason = re.split(r"[(:;]", error, maxsplit=1)[0].removeprefix(host).strip() or "could not answer"
    return host, reason[:REASON_MAX]


def not_judged_by(rows: list[LinkRow]) -> tuple[NotJudged, ...]:
    groups = Counter(why_not_judged(lo) for lo in rows if lo.status.is_unjudged)
    return tuple(NotJudged(source, reason, n)
                 for (source, reason), n in sorted(groups.items(), key=lambda kv: (-kv[1], kv[0])))
