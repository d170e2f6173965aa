"""Verdicts: the one place where what a look at a link found (crawler.findings) becomes its CheckResult.

Every worker says what it found (`Gone("HTTP 404")`, `Moved(to)`, `Walled(why)`, `Known(paper)`); here
alone that finding gets its LinkStatus, its error, its suggestion and its note. What a status means for
the list (a failure, not judged, healthy) is a property of LinkStatus (crawler.models).

Links to a paper's page are judged against each entry they are written on, by one rule for every source
(crawler.papers.judge): a link is `wrong_paper` only when the evidence says it is another paper. The same
paper under a new title is `ok` with a note giving the current title. The evidence used (title score,
whether the authors matched) travels with the verdict.

A URL pasted under two entries is judged at each place against that place's entry: the right paper
under one is `ok` there and `wrong_paper` under the other. The URL's own verdict is its worst place's,
so it counts as failing once; the places whose verdicts differ are kept as its `occurrences`.

A judgement depends on the entries, which change between runs, so it is made every run. A verdict
from the cache is first turned back into what the page itself said (`page_verdict`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from crawler.findings import (
    CrawlerError,
    Empty,
    Excluded,
    Exists,
    Finding,
    Gone,
    Invalid,
    Known,
    Moved,
    ServerError,
    Throttled,
    TimedOut,
    Unknown,
    Unreachable,
    Walled,
    Works,
    loaded,
)
from crawler.listfile.links import url_key
from crawler.models import CheckResult, Entry, Hop, LinkStatus, Occurrence, PaperMeta
from crawler.papers.judge import judge_paper

CRAWLER_ERROR = "crawler error"  # how a report tells the crawler's own failures apart from the links'

_STATUS: dict[type, LinkStatus] = {
    Works: LinkStatus.OK,
    Exists: LinkStatus.OK,
    Known: LinkStatus.OK,  # before it is judged against the entries (`paper_verdict`)
    Moved: LinkStatus.REDIRECTED,
    Gone: LinkStatus.BROKEN,
    Walled: LinkStatus.BLOCKED,
    Unknown: LinkStatus.BLOCKED,
    Throttled: LinkStatus.RATE_LIMITED,
    Excluded: LinkStatus.SKIPPED,
    Invalid: LinkStatus.INVALID,
    TimedOut: LinkStatus.TIMEOUT,
    Unreachable: LinkStatus.UNREACHABLE,
    ServerError: LinkStatus.SERVER_ERROR,
    Empty: LinkStatus.EMPTY,
    # Says nothing about the link, so it is never a failure and never dead; the check stage keeps the last
    # verdict instead (`after_crawler_error`).
    CrawlerError: LinkStatus.SKIPPED,
}


def status_of(finding: Finding) -> LinkStatus:
    return _STATUS[type(finding)]


def result(url: str, finding: Finding, now: float, **facts) -> CheckResult:
    """The verdict on `url` from what was found; `facts` are what the look saw besides (http_status,
    final_url, redirects, etag, last_modified, page_ids, in_repository)."""
    error = suggestion = note = None
    match finding:
        case Works(note=note):
            pass
        case Moved(to=suggestion, note=note):
            pass
        case Exists(url=where):
            facts = {"http_status": 200, "final_url": where, **facts}
        case Known(meta=meta):
            facts = {"http_status": 200, "final_url": meta.url, **facts}
        case CrawlerError(why=why):
            error = why if why.startswith(CRAWLER_ERROR) else f"{CRAWLER_ERROR}: {why}"
        case _:
            error = finding.why
    return CheckResult(url=url, status=_STATUS[type(finding)], error=error, suggestion=suggestion, note=note,
                       checked_at=now, finding=finding, **facts)


def source_result(key: str, entries: tuple[Entry, ...], finding: Finding, now: float) -> CheckResult:
    """The verdict on a link a source answered for: a paper it knows is judged against the link's entries."""
    if isinstance(finding, Known):
        return paper_verdict(key, entries, finding.meta, now)
    return result(key, finding, now)


# --- the crawler's own failures and the stage's bookkeeping --------------------------------------------------


def crawler_error(url: str, why: str, now: float) -> CheckResult:
    """The result for a URL the crawler failed to check (a bug, a worker that died)."""
    return result(url, CrawlerError(why), now)


def is_crawler_error(found: CheckResult) -> bool:
    return isinstance(found.finding, CrawlerError)


def after_crawler_error(found: CheckResult, last: CheckResult | None) -> CheckResult:
    """Our failure, not the link's: the last verdict stands, else the link is not judged (never `skipped`:
    nobody chose to leave it out)."""
    return last if last is not None else dataclasses.replace(found, status=LinkStatus.BLOCKED)


def reusable(stored: CheckResult | None) -> bool:
    """A stored verdict that may stand for a link to check: `skipped` was about a setting of its night (an
    exclusion, a private target refused without --allow-private), not about the link."""
    return stored is not None and not stored.status.is_skipped


def not_modified(url: str, stored: CheckResult | None, answer: CheckResult) -> CheckResult:
    """304 Not Modified: the stored verdict stands, re-dated."""
    if stored is None:
        return CheckResult(url=url, status=LinkStatus.OK, http_status=200, final_url=answer.final_url,
                           checked_at=answer.checked_at, etag=answer.etag, last_modified=answer.last_modified)
    return dataclasses.replace(stored, checked_at=answer.checked_at, from_cache=False)


# --- paper verdicts --------------------------------------------------------------------------------------


def _places(key: str, entries: Sequence[Entry]) -> list[tuple[str, int, Entry]]:
    """Each line the URL is written on, with the entry there (document order; one entry per line)."""
    places: dict[tuple[str, int], Entry] = {}
    for entry in entries:
        lines = [(lk.file, lk.line) for lk in entry.links if lk.url and url_key(lk.url) == key]
        for place in lines or [entry.place]:
            places.setdefault(place, entry)
    return [(file, line, entry) for (file, line), entry in places.items()]


def _judged(file: str, line: int, entry: Entry, meta: PaperMeta) -> Occurrence:
    judgement = judge_paper(entry, meta)
    evidence = dict(title_score=round(judgement.title_score, 3), authors_matched=judgement.authors_matched)
    if not judgement.same:
        return Occurrence(file, line, LinkStatus.WRONG_PAPER, error=f"this is {meta.title!r} ({judgement.reason})",
                          **evidence)
    note = f"title changed: now {meta.title!r}" if judgement.title_changed else None
    return Occurrence(file, line, LinkStatus.OK, note=note, **evidence)


def _verdict(occ: Occurrence) -> tuple:
    return (occ.status, occ.error, occ.note, occ.suggestion, occ.title_score, occ.authors_matched)


def fold(found: CheckResult, occurrences: Sequence[Occurrence]) -> CheckResult:
    """`found` with its places' verdicts: the URL's is the worst place's (the first failing one, else the
    first); the places are kept only when their verdicts differ."""
    if not occurrences:
        return found
    worst = next((o for o in occurrences if o.status.is_failure), occurrences[0])
    apart = len({_verdict(o) for o in occurrences}) > 1
    return dataclasses.replace(found, status=worst.status, error=worst.error, note=worst.note,
                               suggestion=worst.suggestion, title_score=worst.title_score,
                               authors_matched=worst.authors_matched, occurrences=tuple(occurrences) if apart else ())


def paper_verdict(key: str, entries: tuple[Entry, ...], meta: PaperMeta, now: float) -> CheckResult:
    """The verdict on a link whose paper the source knows, as if its page had answered 200."""
    base = CheckResult(url=key, status=LinkStatus.OK, http_status=200, final_url=meta.url, checked_at=now)
    judged = [_judged(file, line, entry, meta) for file, line, entry in _places(key, entries) if entry.is_paper]
    return fold(base, judged)  # not on a paper entry: the paper exists, and that is all there is to say


def _on_page(web: CheckResult, paper: Occurrence) -> Occurrence:
    """One place: a wrong paper wins over "it loads", anything else adds its evidence to the page's verdict."""
    evidence = dict(title_score=paper.title_score, authors_matched=paper.authors_matched)
    if paper.status is LinkStatus.WRONG_PAPER and web.status.is_healthy:
        return Occurrence(paper.file, paper.line, LinkStatus.WRONG_PAPER, error=paper.error, note=web.note,
                          **evidence)
    return Occurrence(paper.file, paper.line, web.status, error=web.error, note=paper.note or web.note,
                      suggestion=web.suggestion, **evidence)


def on_top_of(web: CheckResult, paper: CheckResult) -> CheckResult:
    """A page that loaded, judged as a paper at each place it is written."""
    if paper.occurrences:
        return fold(web, [_on_page(web, o) for o in paper.occurrences])
    return dataclasses.replace(fold(web, [_on_page(web, paper.at("", 0))]), occurrences=())


def _page_loaded(hops: tuple[Hop, ...], final: str | None) -> tuple[LinkStatus, str | None]:
    found = loaded(hops, final)
    return _STATUS[type(found)], found.to if isinstance(found, Moved) else None


def page_verdict(found: CheckResult) -> CheckResult:
    """What the page itself said, before it was judged as a paper: a cached verdict is judged again against
    tonight's entries. A judged page loaded (only a page that loaded is judged), so a `wrong_paper` was an
    `ok`, or a `redirected` when a hop on the way was permanent (the web check's rule, crawler.findings.loaded)."""
    if found.title_score is None and found.status is not LinkStatus.WRONG_PAPER:
        return found  # never judged
    status, suggestion = (_page_loaded(found.redirects, found.final_url) if found.status is LinkStatus.WRONG_PAPER
                          else (found.status, found.suggestion))
    return dataclasses.replace(found, status=status, error=None if status.is_healthy else found.error, note=None,
                               suggestion=suggestion, title_score=None, authors_matched=None, occurrences=())


def archived(found: CheckResult, copy: str) -> CheckResult:
    """A dead link's record with the archived copy of its page suggested."""
    return dataclasses.replace(found, suggestion=copy)


def with_suggestion(found: CheckResult, file: str, line: int, url: str) -> CheckResult | None:
    """`found` with `url` suggested at one place, when the verdict there is broken or wrong and suggests
    nothing yet; None otherwise."""
    here = found.at(file, line)
    if not here.status.is_definite or here.suggestion:
        return None
    if not found.occurrences:
        return dataclasses.replace(found, suggestion=url)
    return fold(found, [dataclasses.replace(o, suggestion=url) if o is here else o for o in found.occurrences])
