"""Apply fills (and optionally abstracts) to the list text, changing nothing else, byte for byte."""

from __future__ import annotations

import html
import re
from pathlib import Path

from crawler.errors import UsageError
from crawler.files import write_atomic
from crawler.models import ParsedList

# An empty destination: `](` then only spaces or `<>` then `)`.
_EMPTY_DEST = re.compile(r"\]\(\s*(?:<\s*>)?\s*\)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)*?\1")
MARK_OPEN = "<!-- crawler:abstract -->"
MARK_CLOSE = "<!-- /crawler:abstract -->"


def apply(text: str, parsed: ParsedList, enrichment, *, abstracts: bool = False) -> str:
    lines = text.splitlines(keepends=True)
    fills_by_line: dict[int, list] = {}
    for fill in enrichment.fills:
        fills_by_line.setdefault(fill.line, []).append(fill)
    empties_by_line: dict[int, list] = {}
    for link in parsed.links:
        if link.is_empty:
            empties_by_line.setdefault(link.line, []).append(link)
    for line_no, fills in fills_by_line.items():
        idx = line_no - 1
        if not 0 <= idx < len(lines):
            continue
        lines[idx] = _fill_line(lines[idx], empties_by_line.get(line_no, []), fills)
    if abstracts:
        lines = _insert_abstracts(lines, parsed, enrichment)
    return "".join(lines)


def _fill_line(line: str, empties: list, fills: list) -> str:
    """Replace the k-th empty destination outside code spans with the k-th empty link's fill."""
    code = [m.span() for m in _CODE_SPAN.finditer(line)]
    spots = [m for m in _EMPTY_DEST.finditer(line) if not any(a <= m.start() < b for a, b in code)]
    if len(spots) != len(empties):
        return line  # the text and the parse disagree: change nothing rather than guess
    wanted = {id(f): f for f in fills}
    out, last = [], 0
    for spot, link in zip(spots, empties):
        fill = next((f for f in wanted.values() if f.label == link.label), None)
        if fill is None:
            continue
        del wanted[id(fill)]
        out.append(line[last:spot.start()])
        out.append(f"]({_safe_url(fill.url)})")
        last = spot.end()
    out.append(line[last:])
    return "".join(out)


def _safe_url(url: str) -> str:
    # A URL from a remote source must not close the link or open another one.
    return re.sub(r"[\s()<>\[\]`]", lambda m: f"%{ord(m.group()):02X}", url)


def _insert_abstracts(lines: list[str], parsed: ParsedList, enrichment) -> list[str]:
    by_line = {e.line: e for e in parsed.entries}
    for line_no in sorted(enrichment.metas, reverse=True):  # bottom up: earlier line numbers stay valid
        meta = enrichment.metas[line_no]
        if not meta.abstract or line_no not in by_line or line_no > len(lines):
            continue
        idx = line_no - 1
        eol = "\r\n" if lines[idx].endswith("\r\n") else "\n"
        if not lines[idx].endswith(("\n", "\r")):
            lines[idx] += eol
        block = [MARK_OPEN + eol, "<details><summary>Abstract</summary>" + eol, eol,
                 escape_abstract(meta.abstract) + eol, eol, "</details>" + eol, MARK_CLOSE + eol]
        # Replace our own block when it is already there, so a rerun changes nothing.
        end = idx + 1
        if end < len(lines) and lines[end].strip() == MARK_OPEN:
            close = next((j for j in range(end, len(lines)) if lines[j].strip() == MARK_CLOSE), None)
            if close is not None:
                lines[end : close + 1] = block
                continue
        lines[end:end] = block
    return lines


def escape_abstract(text: str) -> str:
    """Remote text as inert Markdown: no HTML, no links, no headings, no list or quote markers."""
    text = html.escape(re.sub(r"\s+", " ", text).strip(), quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+!|~<>-])", r"\\\1", text)


def write_list(target: Path, text: str, *, original: Path, original_text: str) -> None:
    """Write atomically; refuse when the list changed on disk while we worked on it."""
    if Path(target).resolve() == Path(original).resolve():
        current = original.read_bytes().decode("utf-8", errors="replace") if original.exists() else None
        if current != original_text:
            raise UsageError(f"{original} changed on disk during the run; not overwriting it (rerun to apply fills)")
        if text == original_text:
            return
    write_atomic(Path(target), text.encode("utf-8"))

