"""GitHub's heading anchors: the slug of a heading's text, unique within a document. Pure.

GitHub names each heading of a rendered Markdown file after its text as github-slugger does
(Flet/github-slugger, whose fixtures were rendered by GitHub): lower-case the text, remove every
character that is not a letter, a mark, a decimal or letter number, a connector (`_`), `-` or a plain
space, then turn each space into `-` without collapsing. The second heading with the same slug gets
`-1`, the third `-2`; a slug taken by an earlier `-1` moves on to the next free number.
"""

from __future__ import annotations

import unicodedata

# Unicode general categories github-slugger removes (its script/generate-regex.js): other numbers,
# punctuation but connectors, symbols, controls, format, private use, unassigned, and separators.
_REMOVED = frozenset({"No", "Pd", "Ps", "Pe", "Pi", "Pf", "Po", "Sm", "Sc", "Sk", "So", "Cc", "Cf", "Co", "Cn",
                      "Zs", "Zl", "Zp"})
# ... except what is Alphabetic: among the removed categories only these Other_Symbol letters are
# (Unicode's PropList, Other_Alphabetic: circled, parenthesised and squared Latin letters).
_ALPHABETIC_SYMBOLS = ((0x24B6, 0x24E9), (0x1F130, 0x1F149), (0x1F150, 0x1F169), (0x1F170, 0x1F189))
_KEPT = frozenset({" ", "-"})


def _removed(ch: str) -> bool:
    if ch in _KEPT or unicodedata.category(ch) not in _REMOVED:
        return False
    point = ord(ch)
    return not any(lo <= point <= hi for lo, hi in _ALPHABETIC_SYMBOLS)


class _Table(dict):
    """A str.translate table filled as characters come: each is classified once, then translated in C."""

    def __missing__(self, point: int) -> int | None:
        self[point] = None if _removed(chr(point)) else point
        return self[point]


_TABLE = _Table()


def slug(text: str) -> str:
    """The anchor GitHub gives a heading with this text, before it is made unique."""
    return text.lower().translate(_TABLE).replace(" ", "-")


class Slugger:
    """Slugs made unique in document order, as GitHub numbers repeated headings."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def slug(self, text: str) -> str:
        base = result = slug(text)
        while result in self._seen:
            self._seen[base] += 1
            result = f"{base}-{self._seen[base]}"
        self._seen[result] = 0
        return result


def heading_slugs(texts: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    """The anchors of a document's headings, given their texts in document order."""
    slugger = Slugger()
    return tuple(slugger.slug(t) for t in texts)
