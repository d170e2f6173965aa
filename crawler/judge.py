"""Is this the entry's paper? (placeholder: the title rule alone, until the evidence rule lands)."""

from __future__ import annotations

from dataclasses import dataclass

from crawler.match import title_score
from crawler.models import Entry, PaperMeta

WRONG_BELOW = 0.5


@dataclass(frozen=True)
class PaperJudgement:
    same: bool
    title_changed: bool
    title_score: float
    authors_matched: bool | None
    year_ok: bool | None
    reason: str


def entry_authors(entry: Entry) -> tuple[str, ...]:
    return ()


def judge_paper(entry: Entry, meta: PaperMeta) -> PaperJudgement:
    score = title_score(entry.title, meta.title)
    if len(entry.title.split()) < 3:
        return PaperJudgement(True, False, score, None, None, "title too short to judge")
    same = score >= WRONG_BELOW
    return PaperJudgement(same, False, score, None, None, f"title score {score:.2f}")
