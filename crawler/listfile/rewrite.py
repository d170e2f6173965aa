"""Apply fixes to the list text, changing nothing else, byte for byte.

Three kinds of change, nothing more: an empty destination `[label]()` gains a URL; with
`abstracts`, a marked `<details>` block is inserted (or updated) under an entry; with
`redirects`, a permanently redirected URL is replaced by its final URL. Line endings, trailing
spaces, tabs, a missing final newline, raw HTML, tables and code stay as they were.
"""

from __future__ import annotations

import difflib
import html
import re
from pathlib import Path

from crawler.errors import UsageError
from crawler.models import Enrichment, ParsedList
from crawler.store.files import write_atomic

# An empty destination: `](` then only spaces or `<>` then `)`.
_EMPTY_DEST = re.compile(r"\]\(\s*(?:<\s*>)?\s*\)")
_CODE_SPAN = re.compile(r"(`+)(?:(?!\1).)*?\1")
_LIST_ITEM = re.compile(r"^(\s*(?:[-*+]|\d{1,9}[.)])\s+)")
MARK_OPEN = "<!-- crawler:abstract -->"
MARK_CLOSE = "<!-- /crawler:abstract -->"


def apply(text: str, parsed: ParsedList, enrichment: Enrichment, *, abstracts: bool = False,
          redirects: dict[str, str] | None = None) -> str:
    lines = text.splitlines(keepends=True)
    empties_by_line: dict[int, list] = {}
    for link in parsed.links:
        if link.is_empty:
            empties_by_line.setdefault(link.line, []).append(link)
    fills_by_line: dict[int, list] = {}
    for fill in enrichment.fills:
        if fill.file == parsed.file:  # one run may fill several lists
            fills_by_line.setdefault(fill.line, []).append(fill)
    for line_no, fills in fills_by_line.items():
        if 0 < line_no <= len(lines):
            lines[line_no - 1] = _fill_line(lines[line_no - 1], empties_by_line.get(line_no, []), fills)
    if redirects:  # a URL written twice on a line is two links: the line is rewritten once for it
        for line_no, url in dict.fromkeys((lk.line, lk.url) for lk in parsed.links):
            target = redirects.get(url)
            if target and 0 < line_no <= len(lines):
                lines[line_no - 1] = _replace_url(lines[line_no - 1], url, target)
    if abstracts:
        lines = _insert_abstracts(lines, parsed, enrichment)
    return "".join(lines)


def _code_spans(line: str) -> list[tuple[int, int]]:
    """Where inline code lies on the line: nothing there is a link."""
    return [m.span() for m in _CODE_SPAN.finditer(line)]


def _fill_line(line: str, empties: list, fills: list) -> str:
    """Replace the k-th empty destination outside code spans with the k-th empty link's fill."""
    code = _code_spans(line)
    spots = [m for m in _EMPTY_DEST.finditer(line) if not any(a <= m.start() < b for a, b in code)]
    if len(spots) != len(empties):
        return line  # the text and the parse disagree: change nothing rather than guess
    remaining = list(fills)
    out, last = [], 0
    for spot, link in zip(spots, empties, strict=True):
        fill = next((f for f in remaining if f.label == link.label), None)
        if fill is None:
            continue
        remaining.remove(fill)
        out.append(line[last : spot.start()])
        out.append(f"]({safe_url(fill.url)})")
        last = spot.end()
    out.append(line[last:])
    return "".join(out)


def _replace_url(line: str, old: str, new: str) -> str:
    """Swap every place this URL is written whole on the line, outside code: the same URL on one line is the
    same link twice (`[paper](u) … <u>`), and it moved for both."""
    code = _code_spans(line)

    def whole(start: int) -> bool:  # not part of a longer URL (an archive's copy ends with it), not code
        end = start + len(old)
        longer = end < len(line) and re.match(r"[\w/%.#?=&-]", line[end])
        token = line[max(line.rfind(c, 0, start) for c in " \t(<[\"'") + 1 : start]
        inside = "://" in token  # `…/web/2020/http://a.org/p`, `?url=https://…`; not `Paper:https://…`
        return not longer and not inside and not any(a <= start < b for a, b in code)

    hits = [m.start() for m in re.finditer(re.escape(old), line) if whole(m.start())]
    for at in reversed(hits):  # from the right, so the earlier places keep their offsets
        line = line[:at] + safe_url(new) + line[at + len(old) :]
    return line


def safe_url(url: str) -> str:
    """A URL from a remote source must not close the link, open another one or break the line."""
    return re.sub(r"[\s()<>\[\]`\"']", lambda m: f"%{ord(m.group()):02X}", url)


def _insert_abstracts(lines: list[str], parsed: ParsedList, enrichment: Enrichment) -> list[str]:
    entries = {e.line for e in parsed.entries}
    mine = sorted(line for file, line in enrichment.metas if file == parsed.file)
    for line_no in reversed(mine):  # bottom up: earlier line numbers stay valid
        meta = enrichment.metas[(parsed.file, line_no)]
        if meta.abstract and line_no in entries and line_no <= len(lines):
            _insert_abstract(lines, line_no - 1, meta.abstract)
    return lines


def _insert_abstract(lines: list[str], idx: int, abstract: str) -> None:
    """The abstract's block under the entry that starts at lines[idx], in place of our own block if it is there."""
    indent = _block_indent(lines[idx])
    if indent is None:
        return  # a table row or raw HTML: a block cannot go there without breaking it
    end = _item_end(lines, idx)
    eol = "\r\n" if lines[end].endswith("\r\n") else "\n"
    unterminated = not lines[end].endswith(("\n", "\r"))
    if unterminated:
        lines[end] += eol
    block = _abstract_block(abstract, indent, eol)
    start = end + 1
    close = _own_block_end(lines, start)
    if close is not None:  # our own block already there: replace it, so a rerun changes nothing
        if close + 1 < len(lines) and not lines[close + 1].strip():
            close += 1
        elif not lines[close].endswith(("\n", "\r")):
            block = _without_final_newline(block)
        lines[start : close + 1] = block
        return
    if unterminated and start == len(lines):  # the file's last line: its missing final newline stays missing
        block = _without_final_newline(block)
    lines[start:start] = block


def _abstract_block(abstract: str, indent: str, eol: str) -> list[str]:
    # One raw-HTML block: Markdown is not processed inside it, so remote text cannot become a
    # link, even a bare URL; the blank line ends it before the next entry.
    return [indent + MARK_OPEN + eol, indent + "<details><summary>Abstract</summary>" + eol,
            indent + "<p>" + escape_abstract(abstract) + "</p>" + eol, indent + "</details>" + eol,
            indent + MARK_CLOSE + eol, eol]


def _own_block_end(lines: list[str], start: int) -> int | None:
    """The line of our block's closing mark when our block starts at `start`, else None."""
    if start < len(lines) and lines[start].strip() == MARK_OPEN:
        return next((j for j in range(start, len(lines)) if lines[j].strip() == MARK_CLOSE), None)
    return None


def _without_final_newline(block: list[str]) -> list[str]:
    """The block as the file's end: no blank line after it, no newline on its last line."""
    return [*block[:-2], block[-2].rstrip("\r\n")]


def _block_indent(line: str) -> str | None:
    stripped = line.lstrip()
    if stripped.startswith("#"):
        return ""
    m = _LIST_ITEM.match(line)
    if m:
        return " " * len(m.group(1))  # inside the list item, so the list is not split
    if stripped.startswith(("|", "<")):
        return None
    return ""


def _item_end(lines: list[str], idx: int) -> int:
    """Last line of the block that starts at idx (a heading is one line; an item runs to a blank)."""
    if lines[idx].lstrip().startswith("#"):
        return idx
    j = idx
    while j + 1 < len(lines):
        nxt = lines[j + 1]
        if not nxt.strip() or _LIST_ITEM.match(nxt) or nxt.lstrip().startswith(("#", "<", "|", ">")):
            break
        j += 1
    return j


def escape_abstract(text: str) -> str:
    """Remote text as inert HTML on one line: no tags, no entities of its own, no blank line."""
    return html.escape(re.sub(r"\s+", " ", text).strip(), quote=True)


def unified_diff(old: str, new: str, name: str) -> str:
    lines = difflib.unified_diff(old.splitlines(keepends=True), new.splitlines(keepends=True),
                                 fromfile=f"a/{name}", tofile=f"b/{name}")
    # A last line without its newline says so, as diff and git do: else the next file's header joins it.
    return "".join(line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines)


def read_back(original: Path) -> str:
    """The list as it is on disk now, to see whether someone edited it while we worked."""
    try:
        return Path(original).read_bytes().decode("utf-8", errors="replace")
    except OSError as exc:
        raise UsageError(f"cannot re-read {original}: {exc.strerror or exc}") from None


def write_list(target: Path, text: str, *, original: Path, original_text: str) -> bool:
    """Write atomically; refuse when the list changed on disk while we worked. True if written."""
    target = Path(target)
    if target.resolve() == Path(original).resolve():
        if read_back(original) != original_text:
            raise UsageError(f"{original} changed on disk during the run; not overwriting it (rerun to apply fills)")
        if text == original_text:
            return False
    write_atomic(target, text.encode("utf-8"))
    return True
