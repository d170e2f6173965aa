"""What `crawler pr` writes: the pull request's comment (pull-request.md) and its suggestions (suggestions.json).

The comment names the problems the pull request brings, each at its file:line with the fix when one is
known, then one line about the lists' older problems, which are not the contributor's to fix.
suggestions.json holds one object per change a reviewer can accept with one click: `{file, line, original,
replacement, reason}`, where `original` and `replacement` are the whole line's text (without its line
ending), so that a review comment's suggestion block replaces exactly that line.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from crawler.report.markdown import code, escape, where
from crawler.report.model import LinkRow, Place, RunReport

MAX_ROWS = 100  # per table: GitHub caps a comment at 65,536 characters


@dataclass(frozen=True)
class Suggestion:
    """One line's fix, as a GitHub review comment's suggestion block applies it."""

    file: str  # from the repository's root: what a review comment names
    line: int
    original: str
    replacement: str
    reason: str


@dataclass(frozen=True)
class Elsewhere:
    """The rest of the lists, outside the pull request's lines, as the cache last saw it."""

    links: int = 0  # distinct URLs outside the selection
    known: int = 0  # of them, with a verdict in the cache
    failing: int = 0  # of those, failing at their last check
    checked_at: float | None = None  # the latest of those checks


@dataclass(frozen=True)
class PullRequestReport:
    report: RunReport  # the run over the pull request's links only
    lists: tuple[str, ...]  # the lists the pull request changes
    suggestions: tuple[Suggestion, ...] = ()
    elsewhere: Elsewhere = Elsewhere()

    @property
    def failing(self) -> tuple[LinkRow, ...]:
        return tuple(lo for lo in self.report.links if lo.status.is_failure)

    @property
    def exit_code(self) -> int:
        """1 when the pull request adds a failing link; what could not be judged fails nothing."""
        return 1 if self.failing else 0


def suggestions_json(pr: PullRequestReport) -> str:
    return json.dumps([asdict(s) for s in pr.suggestions], indent=2, ensure_ascii=False) + "\n"


def render(pr: PullRequestReport) -> str:
    s = pr.report.summary
    out = ["## Link check of this pull request", ""]
    if not pr.lists:
        out.append("This pull request changes none of the lists.")
    elif not s.distinct_urls and not s.empty_links:
        out.append(f"This pull request changes no line with a link in {_names(pr.lists)}.")
    else:
        out.append(_headline(pr))
    if pr.failing:
        out += ["", f"### Failing links ({len(pr.failing)})", "", "| where | entry | link | problem | fix |",
                "|---|---|---|---|---|"]
        out += [_row(lo) for lo in sorted(pr.failing, key=lambda lo: lo.first)[:MAX_ROWS]]
        out += _more(len(pr.failing))
    if pr.suggestions:
        out += ["", f"### Suggested changes ({len(pr.suggestions)})", "",
                "Each is also a review comment on its line, to accept with one click.", "",
                "| where | change | why |", "|---|---|---|"]
        for sg in pr.suggestions[:MAX_ROWS]:
            out.append(f"| {code(f'{sg.file}:{sg.line}')} | {code(sg.replacement)} | {escape(sg.reason)} |")
        out += _more(len(pr.suggestions))
    unjudged = [lo for lo in pr.report.links if lo.status.is_unjudged]
    if unjudged:
        out += ["", f"### Not judged ({len(unjudged)}): a bot wall or a rate limit, not a failure", ""]
        out += [f"- {code(str(lo.first))} {code(lo.url)}: {escape(lo.error or lo.status.value)}"
                for lo in unjudged[:MAX_ROWS]]
    if pr.report.unresolved:
        out += ["", f"### Left empty ({len(pr.report.unresolved)})", ""]
        out += [f"- {code(str(Place(u.file, u.line)))} {escape(u.entry)}: {escape(u.reason)}"
                for u in pr.report.unresolved[:MAX_ROWS]]
    out += ["", older_line(pr.elsewhere), ""]
    return "\n".join(out)


def _names(lists: tuple[str, ...]) -> str:
    return ", ".join(code(name) for name in lists)


def _headline(pr: PullRequestReport) -> str:
    s = pr.report.summary
    parts = [f"{len(pr.failing)} failing", f"{s.healthy} healthy"]
    if s.not_judged:
        parts.append(f"{s.not_judged} not judged")
    skipped = sum(n for status, n in s.counts.items() if status.is_skipped)
    if skipped:
        parts.append(f"{skipped} skipped")
    # Its links: those on the lines it adds or changes, and those pointing at a heading it changes.
    text = f"Checked the {s.distinct_urls} link{'s' if s.distinct_urls != 1 else ''} this pull request touches in " \
           f"{_names(pr.lists)}: {', '.join(parts)}."
    if s.empty_links:
        text += f" Empty links: {s.empty_links}, of which {s.fills} filled."
    return text


def _row(lo: LinkRow) -> str:
    entry = escape(lo.first.entry or (lo.entries[0] if lo.entries else ""))
    return (f"| {where(lo.places, True, code)} | {entry} | {code(lo.url)} | "
            f"{escape(lo.error or lo.status.value)} | {code(lo.suggestion) if lo.suggestion else ''} |")


def _more(n: int) -> list[str]:
    return ["", f"… {n - MAX_ROWS} more in the run's log"] if n > MAX_ROWS else []


def older_line(e: Elsewhere) -> str:
    """The one line about what was wrong before this pull request."""
    if not e.links:
        return "The lists have no other links."
    if not e.known:
        return f"The lists' other {e.links} links were not checked here (the cache holds no verdict on them)."
    when = datetime.fromtimestamp(e.checked_at, tz=UTC).strftime("%Y-%m-%d") if e.checked_at else "?"
    if not e.failing:
        return f"Older problems: none among the lists' other {e.known} checked links (last check {when})."
    return (f"Older problems, not this pull request's: {e.failing} of the lists' other {e.known} checked links "
            f"were failing at their last check ({when}).")
