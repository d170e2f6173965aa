"""`crawler links`: every link of the lists, where it stands and what entry it is on, without checking any.

The text form is one link a line, tab-separated (`file:line`, kind, URL, entry title), for a reader or for
`cut` and `awk`; the JSON form is one object a line (JSON lines, like lychee's `--dump`). An empty link
`[label]()` is listed too, with an empty URL. Pure: parsed lists in, text out.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

from crawler.models import ParsedList


def records(parsed: ParsedList) -> Iterator[dict]:
    """One dict per link, in list order: file, line, kind, url, label, entry (its title, or None), paper."""
    entry_of = parsed.entries_by_place()
    for lk in parsed.links:
        entry = entry_of.get((lk.file, lk.line))
        yield {"file": lk.file, "line": lk.line, "kind": lk.kind, "url": lk.url, "label": lk.label,
               "entry": entry.title if entry else None, "paper": bool(entry and entry.is_paper)}


def _field(text: str | None) -> str:
    return re.sub(r"\s+", " ", text or "").strip()  # a tab or a newline in a title would break the columns


def render_text(parsed: ParsedList) -> Iterator[str]:
    for r in records(parsed):
        yield "\t".join((f"{r['file']}:{r['line']}", r["kind"], _field(r["url"]), _field(r["entry"]))) + "\n"


def render_json_lines(parsed: ParsedList) -> Iterator[str]:
    for r in records(parsed):
        yield json.dumps(r, ensure_ascii=False) + "\n"
