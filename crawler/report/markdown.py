"""reports/health.md: a summary readable in thirty seconds, then the problems, each at its file:line.

With several lists the problems are grouped by list; a link written in two lists is shown under each, and
the lists with nothing to show are named on one line.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from crawler.models import LinkStatus
from crawler.report.model import LinkRow, Place, RunReport

HEADINGS = {LinkStatus(value): heading for value, heading in {
    "broken": "Broken", "wrong_paper": "Link to the wrong paper", "invalid": "Invalid URLs",
    "unreachable": "Unreachable", "timeout": "Timed out", "server_error": "Server errors",
    "rate_limited": "Rate limited (cannot judge, never dead)",
    "blocked": "Blocked (a bot or login wall, or a source that could not answer: cannot judge, never dead)",
    "redirected": "Permanently redirected (update the link)", "skipped": "Skipped",
}.items()}
# Failures first, then what could not be judged (apart from failures), then what only needs an update.
ORDER = tuple(s for s in LinkStatus.worst_first() if s in HEADINGS)
QUIET_SKIPS = ("in-page", "relative", "not a web link")  # expected skips: counted, not listed
MAX_ROWS = 200  # per table; the JSON report has everything


# Escaped only where Markdown would read them, so the file stays readable as text (`README.md:20`, not
# `README\.md\:20`): emphasis and code marks, brackets (links, images), the table's `|`, strikethrough; `_`
# only at a word's edge (GFM ignores it inside a word); `&` only before what reads as an entity; `<` only
# before what reads as a tag or an autolink; and the `:` of a URL scheme or the `.` of `www.`, which GitHub
# would otherwise turn into a link.
_MARKUP = re.compile(r"[\\`*\[\]|~]|(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])")
_ENTITY = re.compile(r"&(?=#?\w+;)")
_TAG = re.compile(r"<(?=[A-Za-z/!?])")
_AUTOLINK = re.compile(r"(?i)\b(https?|ftp)(?=://)|\b(www)(?=\.)")


def escape(text: object) -> str:
    """Untrusted text inside a Markdown table cell: no markup, no HTML, no link, no breaking the table."""
    s = re.sub(r"\s+", " ", str(text)).strip()
    s = _ENTITY.sub("&amp;", s)
    s = _TAG.sub("&lt;", s)
    s = _MARKUP.sub(lambda m: "\\" + m.group(0), s)
    return _AUTOLINK.sub(lambda m: m.group(0) + "\\", s)


def code(text: object) -> str:
    s = re.sub(r"\s+", " ", str(text)).replace("`", "'").replace("|", "%7C")
    return f"`{s}`"


def where(places: tuple[Place, ...], several: bool, cite=escape) -> str:
    """'12, 40' for one list; 'README.md:12, papers/a.md:3' for several, each through `cite` (escaped text,
    or `code` spans in the CI texts)."""
    return ", ".join(cite(str(p)) if several else str(p.line) for p in places)


def headline(report: RunReport) -> str:
    s = report.summary
    if s.failing:
        return f"{s.failing} of {s.distinct_urls} links failing"
    if s.not_judged:
        return f"no link failing, {s.not_judged} not judged"
    return "all links healthy"


def render(report: RunReport) -> str:
    s = report.summary
    several = len(s.lists) > 1
    out = _head(report)
    clean = []
    for file in (s.lists if several else ("",)):
        found = _problems(report, file if several else None, several)
        if several and not found:
            clean.append(file)  # a heading with nothing under it reads as a report cut short
            continue
        out += (["", f"## {escape(file)}"] if several else []) + found
    if clean:
        out += ["", f"No problems in {escape(', '.join(clean))}."]
    out += _fills(report, several) + _left_empty(report, several) + sources_down(report)
    out.append("")
    return "\n".join(out)


def _head(report: RunReport) -> list[str]:
    """The title, the headline, the counts, what could not be judged, and the URLs that died, failed anew or were
    fixed."""
    s = report.summary
    when = datetime.fromtimestamp(s.generated_at, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Link health", ""]
    out.append(f"**{escape(', '.join(s.lists))}** · {when} · {headline(report)}")
    out.append("")
    out.append("| links | healthy | failing | not judged | skipped | new | dead | fixed | empty | filled | unresolved "
               "| abstracts |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    out.append(f"| {s.distinct_urls} | {s.healthy} | {s.failing} | {s.not_judged} | {s.skipped} | {len(s.new)} | "
               f"{len(s.dead)} | {len(s.fixed)} | {s.empty_links} | {s.fills} | {s.unresolved} | {s.abstracts} |")
    out.append("")
    out.append("By status: " + ", ".join(f"{k.value} {v}" for k, v in sorted(s.counts.items(), key=lambda kv: -kv[1])))
    out += not_judged_section(report)
    for label, urls in (("Dead", s.dead), ("New failures", s.new), ("Fixed", s.fixed)):
        if urls:
            out += ["", f"**{label}:** " + ", ".join(code(u) for u in urls[:20]) + (" …" if len(urls) > 20 else "")]
    return out


def _fills(report: RunReport, several: bool) -> list[str]:
    if not report.fills:
        return []
    out = ["", f"## Filled ({len(report.fills)})", "",
           "| where | entry | url | source | confidence | matched title |", "|---|---|---|---|---:|---|"]
    for f in report.fills:
        source = f"{f.source}: {f.note}" if f.note else f.source  # why not the entry's venue
        out.append(f"| {where((Place(f.file, f.line),), several)} | {escape(f.entry)} | {code(f.url)} | "
                   f"{escape(source)} | {f.confidence:.2f} | {escape(f.matched_title)} |")
    return out


def _left_empty(report: RunReport, several: bool) -> list[str]:
    """The empty links no source could fill: with the reasons and candidates when enrichment ran, else listed."""
    if report.unresolved:
        out = ["", f"## Left empty ({len(report.unresolved)})", "", "| where | entry | why | best candidates |",
               "|---|---|---|---|"]
        for u in report.unresolved:
            cands = "; ".join(f"{escape(c.get('title', ''))} ({c.get('score', 0):.2f})" for c in u.candidates[:3])
            out.append(f"| {where((Place(u.file, u.line),), several)} | {escape(u.entry)} | {escape(u.reason)} | "
                       f"{cands} |")
        return out
    pending = [e for e in report.empty if not e.filled]
    if not pending:
        return []
    return ["", f"## Empty links ({len(pending)})", "",
            *(f"- {where((e.place,), several)}: {escape(e.entry or e.label)}" for e in pending)]


def not_judged_section(report: RunReport) -> list[str]:
    """The links not judged, by source or host and reason, in one place near the top."""
    s = report.summary
    if not s.not_judged:
        return []
    return ["", f"**Not judged: {s.not_judged} link{'s' if s.not_judged != 1 else ''}** (never failures, "
                "never dead):", "", *(f"- {escape(group)}" for group in s.not_judged_by)]


def sources_down(report: RunReport) -> list[str]:
    """The sources that could not answer: one short section after the tables, one line each."""
    down = report.summary.unavailable
    if not down:
        return []
    return ["", f"## Sources that could not answer ({len(down)})", "",
            "Nothing that depends on them was judged or filled this run.", "",
            *(f"- {escape(st.label)}: {escape(st.reason or 'no reason given')}" for st in down)]


def _problems(report: RunReport, file: str | None, several: bool) -> list[str]:
    """The tables of one list (or of all, when `file` is None): problems by status, then the notes."""
    level = "###" if several else "##"
    by_status = _by_status(report, file)
    out: list[str] = []
    for status in ORDER:
        rows = by_status.get(status, [])
        if status.is_skipped:
            rows = [(r, ps) for r, ps in rows if not (r.error or "").startswith(QUIET_SKIPS)]
        out += _status_table(f"{level} {HEADINGS[status]}", rows, several)
    return out + _notes_table(f"{level} Notes", _noted(report, file), several)


def _mine(places: tuple[Place, ...], file: str | None) -> tuple[Place, ...]:
    return tuple(p for p in places if file is None or p.file == file)


def _by_status(report: RunReport, file: str | None) -> dict[LinkStatus, list[tuple[LinkRow, tuple[Place, ...]]]]:
    """Each URL at its places in `file`, by status. A URL whose places are judged apart (one URL under two
    entries) is shown at each place under that place's own status: the wrong line in the failures, the right
    one nowhere."""
    by_status: dict[LinkStatus, list[tuple[LinkRow, tuple[Place, ...]]]] = {}
    for lo in report.links:
        for status, places in (lo.by_status().items() if lo.occurrences else ((lo.status, lo.places),)):
            if _mine(places, file):
                by_status.setdefault(status, []).append((lo, _mine(places, file)))
    return by_status


def _status_table(heading: str, rows: list[tuple[LinkRow, tuple[Place, ...]]], several: bool) -> list[str]:
    if not rows:
        return []
    out = ["", f"{heading} ({len(rows)})", "", "| where | entry | link | problem | suggestion |",
           "|---|---|---|---|---|"]
    for lo, places in sorted(rows, key=lambda r: r[1][0])[:MAX_ROWS]:
        own = lo.at(places[0])
        flags = " **dead**" if lo.dead else (" *new*" if lo.new else "")
        entry = escape(places[0].entry or (lo.entries[0] if lo.entries else ""))
        suggestion = code(own.suggestion) if own.suggestion else ""
        out.append(f"| {where(places, several)} | {entry} | {code(lo.url)} | "
                   f"{escape(own.error or own.status.value)}{flags} | {suggestion} |")
    if len(rows) > MAX_ROWS:
        out.append(f"\n… {len(rows) - MAX_ROWS} more in health.json")
    return out


def _noted(report: RunReport, file: str | None) -> list[tuple[LinkRow, tuple[Place, ...], str, str | None]]:
    """Each URL's places in `file`, grouped by the note they carry (a note may belong to one place)."""
    noted = []
    for lo in report.links:
        groups: dict[tuple[str, str | None], list[Place]] = {}
        for place in _mine(lo.places, file):
            own = lo.at(place)
            if own.note:
                groups.setdefault((own.note, own.suggestion), []).append(place)
        noted += [(lo, tuple(places), note, suggestion) for (note, suggestion), places in groups.items()]
    return noted


def _notes_table(heading: str, noted: list[tuple[LinkRow, tuple[Place, ...], str, str | None]],
                 several: bool) -> list[str]:
    if not noted:
        return []
    out = ["", f"{heading} ({len(noted)}): working links worth a look", "",
           "| where | entry | link | note | suggestion |", "|---|---|---|---|---|"]
    for lo, places, note, suggestion in sorted(noted, key=lambda r: r[1][0])[:MAX_ROWS]:
        entry = escape(places[0].entry or (lo.entries[0] if lo.entries else ""))
        out.append(f"| {where(places, several)} | {entry} | {code(lo.url)} | {escape(note)} | "
                   f"{code(suggestion) if suggestion else ''} |")
    return out
