"""Paper-aware verdicts, pure: a link to a paper's page judged against each entry it is written on.

One rule for every source (crawler.papers.judge, issue 13): a link is `wrong_paper` only when the evidence
says it is another paper. The same paper under a new title is `ok` with a note giving the current
title. The evidence used (title score, whether the authors matched) travels with the verdict.

A URL pasted under two entries is judged at each place against that place's entry: the right paper
under one is `ok` there and `wrong_paper` under the other. The URL's own verdict is its worst place's,
so it counts as failing once; the places whose verdicts differ are kept as its `occurrences`.

A judgement depends on the entries, which change between runs, so it is made every run. A verdict
from the cache is first turned back into what the page itself said (`page_verdict`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from crawler.checking.checker import page_loaded
from crawler.listfile.links import url_key
from crawler.models import CheckResult, Entry, LinkStatus, Occurrence, PaperMeta
from crawler.papers.judge import judge_paper


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


def fold(result: CheckResult, occurrences: Sequence[Occurrence]) -> CheckResult:
    """`result` with its places' verdicts: the URL's is the worst place's (the first failing one, else the
    first); the places are kept only when their verdicts differ."""
    if not occurrences:
        return result
    worst = next((o for o in occurrences if o.status.is_failure), occurrences[0])
    apart = len({_verdict(o) for o in occurrences}) > 1
    return dataclasses.replace(result, status=worst.status, error=worst.error, note=worst.note,
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


def page_verdict(result: CheckResult) -> CheckResult:
    """What the page itself said, before it was judged as a paper: a cached verdict is judged again against
    tonight's entries. A judged page loaded (only a page that loaded is judged), so a `wrong_paper` was an
    `ok`, or a `redirected` when a hop on the way was permanent (crawler.checking.checker's rule)."""
    if result.title_score is None and result.status is not LinkStatus.WRONG_PAPER:
        return result  # never judged
    status, suggestion = (page_loaded(result.redirects, result.final_url) if result.status is LinkStatus.WRONG_PAPER
                          else (result.status, result.suggestion))
    return dataclasses.replace(result, status=status, error=None if status.is_healthy else result.error, note=None,
                               suggestion=suggestion, title_score=None, authors_matched=None, occurrences=())


def with_suggestion(result: CheckResult, file: str, line: int, url: str) -> CheckResult | None:
    """`result` with `url` suggested at one place, when the verdict there is broken or wrong and suggests
    nothing yet; None otherwise."""
    here = result.at(file, line)
    if here.status not in (LinkStatus.BROKEN, LinkStatus.WRONG_PAPER) or here.suggestion:
        return None
    if not result.occurrences:
        return dataclasses.replace(result, suggestion=url)
    return fold(result, [dataclasses.replace(o, suggestion=url) if o is here else o for o in result.occurrences])
