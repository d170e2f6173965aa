"""What the nightly workflow shows outside the reports: the job summary, the tracking issue, the fills' PR.

GitHub caps each of them: a step's job summary at 1 MiB, an issue or pull request body at 65,536
characters. `cut_to` keeps a Markdown report under such a cap the way a reader would want it cut: long
tables lose their tail rows first, with a line saying where the rest is (the run's `reports` artifact),
then, only if that is not enough, the text is cut at a line boundary with the same pointer.

The action (action.yml) runs them through `crawler ci job-summary`, `crawler ci counts` and `crawler ci texts`
(crawler.cli.ci); the issue and pull-request workflows read what `texts` wrote.
"""

from __future__ import annotations

import re
from pathlib import Path

from crawler.models import LinkStatus
from crawler.report.markdown import code, escape, where
from crawler.report.model import LinkRow, Place, RunReport

STEP_SUMMARY_LIMIT = 1024 * 1024  # bytes, per step (GitHub's limit for $GITHUB_STEP_SUMMARY)
BODY_LIMIT = 65_536  # characters in an issue or pull request body (GitHub's limit)
MARGIN = 4096  # room for what the workflow adds around the text
SUMMARY_ROWS = 50  # rows per table in the job summary; the artifact has them all
ISSUE_ROWS = 100
# A failure that opens the tracking issue at once is a definite one (LinkStatus.is_definite): the link is gone
# or points at another paper. Anything else that fails (a timeout, a 5xx) may be the host's bad night, and
# waits until it is dead (--dead-after). The issue's title counts them by status, in these words.
DEFINITE_WORDS = {"broken": "broken", "wrong_paper": "to the wrong paper"}

_SEPARATOR = re.compile(r"^\s*\|?\s*:?-+:?\s*(\|\s*:?-+:?\s*)*\|?\s*$")


def _is_row(line: str) -> bool:
    return line.lstrip().startswith("|")


def _size(text: str) -> int:
    return len(text.encode("utf-8"))


def cut_to(text: str, limit: int, *, pointer: str, max_rows: int | None = None) -> str:
    """`text` in at most `limit` UTF-8 bytes; tables cut to `max_rows` rows; every cut says where the rest is."""
    lines = text.split("\n")
    if max_rows is not None:
        out: list[str] = []
        i = 0
        while i < len(lines):
            if _is_row(lines[i]) and i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1]):
                out += lines[i:i + 2]
                i += 2
                body: list[str] = []
                while i < len(lines) and _is_row(lines[i]):
                    body.append(lines[i])
                    i += 1
                out += body[:max_rows]
                if len(body) > max_rows:
                    # The blank line ends the table: GFM would take a following text line as one more row.
                    out += ["", f"… {len(body) - max_rows} more rows in {pointer}"]
                continue
            out.append(lines[i])
            i += 1
        lines = out
    text = "\n".join(lines)
    if _size(text) <= limit:
        return text
    footer = f"\n\n… cut here to stay under GitHub's size limit: the whole report is in {pointer}\n"
    budget = limit - _size(footer)
    if budget < 0:
        raise ValueError(f"a limit of {limit} bytes leaves no room for the pointer to the rest")
    kept: list[str] = []
    used = 0
    for line in lines:
        n = _size(line) + 1
        if used + n > budget:
            break
        kept.append(line)
        used += n
    return "\n".join(kept) + footer


def pointer_to(url: str | None, what: str) -> str:
    url = (url or "").strip()
    if url.startswith("https://") and not re.search(r"[\s()<>\[\]]", url):
        return f"[{what}]({url})"
    return what


# -- the job summary -------------------------------------------------------------------------------
EXIT_NOTES = {
    "1": "",  # failures per --fail-on: the report says which
    "2": "> **crawler could not run** (exit 2: usage, input, config or cache error). The log has the line.",
    "3": "> **The network was unavailable** (exit 3): nothing was judged and the cache was left as it was.",
}


def job_summary(markdown: str | None, *, exit_code: str = "0", artifact_url: str | None = None,
                limit: int = STEP_SUMMARY_LIMIT - MARGIN) -> str:
    note = EXIT_NOTES.get(exit_code, f"> **crawler exited with {exit_code or 'nothing'}**: see the log.")
    if exit_code == "0":
        note = ""
    if markdown is None:
        return (note or "> crawler wrote no report.") + "\n"
    body = cut_to(markdown, limit - _size(note) - 2,
                  pointer=pointer_to(artifact_url, "the `reports` artifact of this run"), max_rows=SUMMARY_ROWS)
    return (note + "\n\n" if note else "") + body


# -- the tracking issue ----------------------------------------------------------------------------
def attention(report: RunReport) -> list[LinkRow]:
    """Links the tracking issue is about: dead ones, and any that are certainly gone or wrong."""
    return [lo for lo in report.links if lo.dead or lo.status.is_definite]


def issue_state(report: RunReport) -> str:
    """`open` (open the issue, or update it) while a link needs attention, else `close`."""
    return "open" if attention(report) else "close"


def issue_title(report: RunReport) -> str:
    links = attention(report)
    if not links:
        return "Link health: all links healthy"
    counted = [("dead", sum(1 for lo in links if lo.dead))]
    counted += [(DEFINITE_WORDS[status.value], sum(1 for lo in links if lo.status is status and not lo.dead))
                for status in LinkStatus.worst_first() if status.is_definite]
    parts = [f"{n} {label}" for label, n in counted if n]
    n = len(links)
    return f"Link health: {n} link{'s need' if n != 1 else ' needs'} attention ({', '.join(parts)})"


def issue_body(report: RunReport, markdown: str, *, run_url: str | None = None,
               limit: int = BODY_LIMIT - MARGIN) -> str:
    links = attention(report)
    run = pointer_to(run_url, "the nightly run")
    several = len(report.summary.lists) > 1
    lists = ", ".join(code(name) for name in report.summary.lists)
    s = report.summary
    head = [f"Found by {run} on {lists}. This issue is updated by every run and "
            "closed by the first run that finds these links fixed.", "",
            f"{s.tally()}. Listed here: the dead links, and any that are certainly gone or point at another "
            "paper; other failures wait until they are dead.", ""]
    if links:
        head += ["| where | entry | link | status | suggestion |", "|---|---|---|---|---|"]
        # At the failing places only: a URL right under one entry and wrong under another is wrong there.
        for lo in sorted(links, key=lambda lo: (lo.failing_places or (lo.first,))[0])[:ISSUE_ROWS]:
            places = lo.failing_places
            own = lo.at((places or (lo.first,))[0])
            status = own.status.value + (" **dead**" if lo.dead else (" *new*" if lo.new else ""))
            entry = escape((places[0].entry if places else None) or (lo.entries[0] if lo.entries else ""))
            head.append(f"| {where(places, several, code)} | {entry} | {code(lo.url)} | "
                        f"{status} | {code(own.suggestion) if own.suggestion else ''} |")
        if len(links) > ISSUE_ROWS:
            head += ["", f"… {len(links) - ISSUE_ROWS} more in {run}"]
    head += ["", "<details><summary>The whole report</summary>", ""]
    tail = "\n\n</details>\n"
    text = "\n".join(head) + "\n"
    room = limit - _size(text) - _size(tail)
    return text + cut_to(markdown, room, pointer=f"the `reports` artifact of {run}") + tail


# -- the fills' pull request -----------------------------------------------------------------------
def pull_request_body(report: RunReport, *, run_url: str | None = None, limit: int = BODY_LIMIT - MARGIN) -> str:
    run = pointer_to(run_url, "the nightly run")
    several = len(report.summary.lists) > 1
    lines = [f"Empty links filled by {run}. Each URL is the paper whose title matched the entry's, from the "
             "source named below; nothing else in the list changed.", "",
             "| where | entry | url | source | confidence | matched title |", "|---|---|---|---|---:|---|"]
    for f in report.fills:
        lines.append(f"| {where((Place(f.file, f.line),), several, code)} | {escape(f.entry)} | {code(f.url)} | "
                     f"{escape(f.source)} | {f.confidence:.2f} | {escape(f.matched_title or '')} |")
    if not report.fills:
        lines = [f"{run} filled no empty links."]
    return cut_to("\n".join(lines) + "\n", limit, pointer=f"the `reports` artifact of {run}")


# -- the action's outputs --------------------------------------------------------------------------
REPORT_FILES = {"report-markdown": "health.md", "report-json": "health.json", "report-html": "index.html"}


def counts(report: RunReport, reports: Path) -> dict[str, str]:
    """The action's outputs: how many links, healthy, failing, not judged, skipped, new, dead, filled; where each
    report is."""
    s = report.summary
    out = {"links": str(s.distinct_urls), "healthy": str(s.healthy), "failing": str(s.failing),
           "not-judged": str(s.not_judged), "skipped": str(s.skipped),
           "new": str(len(s.new)), "dead": str(len(s.dead)), "fills": str(s.fills)}
    for name, file in REPORT_FILES.items():
        out[name] = str(reports / file) if (reports / file).is_file() else ""
    return out
