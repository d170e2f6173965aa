"""Paper-aware verdicts, pure: a link to a paper's page judged against the entries it is written on.

One rule for every source (crawler.judge, issue 13): a link is `wrong_paper` only when the evidence
says it is another paper. The same paper under a new title is `ok` with a note giving the current
title. The evidence used (title score, whether the authors matched) travels with the verdict.
"""

from __future__ import annotations

import dataclasses

from crawler.judge import PaperJudgement, judge_paper
from crawler.models import CheckResult, Entry, LinkStatus, PaperMeta

HEALTHY = (LinkStatus.OK, LinkStatus.REDIRECTED)


def _best(entries: tuple[Entry, ...], meta: PaperMeta) -> PaperJudgement | None:
    """The most favourable judgement over the paper entries a link is written on (a URL listed twice
    is the right paper if it is right for one of them)."""
    judgements = [judge_paper(e, meta) for e in entries if e.is_paper]
    return max(judgements, key=lambda j: (j.same, j.title_score), default=None)


def paper_verdict(key: str, entries: tuple[Entry, ...], meta: PaperMeta, now: float) -> CheckResult:
    """The verdict on a link whose paper the source knows, as if its page had answered 200."""
    judgement = _best(entries, meta)
    base = CheckResult(url=key, status=LinkStatus.OK, http_status=200, final_url=meta.url, checked_at=now)
    if judgement is None:  # not on a paper entry: the paper exists, and that is all there is to say
        return base
    evidence = dict(title_score=round(judgement.title_score, 3), authors_matched=judgement.authors_matched)
    if not judgement.same:
        return dataclasses.replace(base, status=LinkStatus.WRONG_PAPER, error=f"this is {meta.title!r} "
                                   f"({judgement.reason})", **evidence)
    note = f"title changed: now {meta.title!r}" if judgement.title_changed else None
    return dataclasses.replace(base, note=note, **evidence)


def on_top_of(web: CheckResult, paper: CheckResult) -> CheckResult:
    """A page that loaded, judged as a paper: a wrong paper wins over "it loads", anything else adds its evidence."""
    evidence = dict(title_score=paper.title_score, authors_matched=paper.authors_matched)
    if paper.status is LinkStatus.WRONG_PAPER and web.status in HEALTHY:
        return dataclasses.replace(web, status=LinkStatus.WRONG_PAPER, error=paper.error, suggestion=None,
                                   **evidence)
    return dataclasses.replace(web, note=paper.note or web.note, **evidence)
