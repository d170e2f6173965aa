"""Soft 404s: a page that answers 200 but is really "not found". Pure: the URLs, the chain and the page.

Two signs, and only these (a page that merely mentions "404" is fine): a deep link redirected to the
site's home page, or a page whose own <title> or first <h1> says it is not there.
"""

from __future__ import annotations

import bisect
import html
import re
from urllib.parse import urlsplit

from crawler.models import Hop

# Only a page's own title or main heading counts: a page that merely mentions "404" is fine.
_NOT_FOUND = re.compile(
    r"\b404\b|\bnot\s+found\b|\b(?:does\s*n[o']t|no\s+longer)\s+exists?\b|\bno\s+longer\s+available\b|"
    r"\bcould\s*n[o']t\s+be\s+found\b|\bcannot\s+be\s+found\b|\bidentifier\s+not\s+recognized\b|"
    r"\bpage\s+(?:is\s+)?(?:missing|unavailable)\b",
    re.I,
)
_HOME_PATHS = frozenset({"", "/", "/index.html", "/index.htm", "/index.php", "/home", "/home/"})


def soft_404(origin: str, final: str, hops: tuple[Hop, ...], body: bytes, content_type: str) -> str | None:
    """Why a 200 answer is really 'not found', or None."""
    if hops:
        start, end = urlsplit(origin), urlsplit(final)
        if start.path.strip("/") and end.path in _HOME_PATHS and not end.query:
            return "a deep link redirected to the home page"
    if not body or "html" not in content_type.lower():
        return None
    for tag, words in page_heads(body).items():
        if words and _NOT_FOUND.search(words):
            return f"the page's {tag} says {words[:80]!r}"
    return None


# A page's <title> and <h1> are found by searching, not by parsing it: lxml takes ~3 ms of CPU for a
# 64 KiB page, more than the whole request costs.
_MARKUP = re.compile(rb"<[^>]*>")
_HIDERS = ((b"<!--", b"-->"), (b"<script", b"</script"), (b"<style", b"</style"), (b"<template", b"</template"))


def _hidden_spans(lower: bytes) -> list[tuple[int, int]]:
    """Where comments, scripts, styles and templates lie: text there is not the page's (bytes.find only:
    a regex scan of 64 KiB costs more than all of this)."""
    found = []
    for opener, closer in _HIDERS:
        pos = lower.find(opener)
        while pos >= 0:
            end = lower.find(closer, pos + len(opener))
            end = len(lower) if end < 0 else end + len(closer)
            found.append((pos, end))
            pos = lower.find(opener, end)
    found.sort()
    spans: list[tuple[int, int]] = []
    for start, end in found:
        if spans and start < spans[-1][1]:
            continue  # inside an earlier one ("<script" in a comment)
        spans.append((start, end))
    return spans


def _opening(lower: bytes, tag: bytes, spans: list[tuple[int, int]], starts: list[int]) -> int:
    """Where the first `<tag` of the page's own text opens (-1: none), past comments and scripts."""
    pos = lower.find(b"<" + tag)
    while pos >= 0:
        i = bisect.bisect_right(starts, pos) - 1
        if i >= 0 and pos < spans[i][1]:
            pos = lower.find(b"<" + tag, spans[i][1])  # inside a comment or script: look past it
            continue
        if lower[pos + len(tag) + 1 : pos + len(tag) + 2] in (b">", b" ", b"\t", b"\n", b"\r", b"/"):
            return pos
        pos = lower.find(b"<" + tag, pos + 1)  # <h10>, <titles>: not ours
    return -1


def page_heads(body: bytes) -> dict[str, str]:
    """The text of a page's first <title> and first <h1>, whitespace collapsed (absent ones left out).
    A truncated page yields what it has."""
    lower = body.lower()
    spans = _hidden_spans(lower)
    starts = [s for s, _ in spans]
    out = {}
    for tag in (b"title", b"h1"):
        pos = _opening(lower, tag, spans, starts)
        gt = lower.find(b">", pos) if pos >= 0 else -1
        if gt < 0:
            continue
        end = lower.find(b"</" + tag, gt)
        inner = body[gt + 1 : end if end >= 0 else len(body)]
        text = html.unescape(_MARKUP.sub(b" ", inner).decode("utf-8", "replace"))
        out[tag.decode()] = " ".join(text.split())
    return out
