"""The blocks of text a list is made of, and what one says of the paper it names: title, venue, year. Pure.

crawler.listfile.parse reads the rendered Markdown into blocks (list items, headings, paragraphs, table
rows, raw-HTML `<li>`), each with its pieces of text and its links; `read_block` reads one, `read_row` a
table row by the columns its header names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from crawler.listfile.titles import (
    GENERIC_LABEL,
    SHORT_PREFIX,
    dangles,
    first_sentence,
    is_author_list,
    is_url,
    split_title,
    squash,
    title_like_label,
)
from crawler.listfile.venues import YEAR, column_venue, column_year, dated_tag, is_venue_label, venue_tag
from crawler.models import Link

Piece = tuple[str, int | None]  # a piece of text and the index of the link it belongs to (None: outside links)


@dataclass
class Block:
    """A block of text that may be a paper entry: a list item, heading, paragraph or table row.

    `parts` keeps the pieces of text as the HTML tokenizer delivered them: a new piece starts at
    every tag, so a `<strong>Title</strong>Authors` item arrives as two pieces, and a table row's
    cells are separated by the newline pieces between `</td>` and `<td>`.
    """

    line: int
    tag: str
    level: int = 0  # heading level, 0 for others
    parts: list[Piece] = field(default_factory=list)
    links: list[int] = field(default_factory=list)

    def text(self) -> str:
        return squash("".join(t for t, _ in self.parts))

    def plain(self) -> str:
        """Text outside links."""
        return squash("".join(t for t, i in self.parts if i is None))


@dataclass
class Reading:
    """What a block's text says about the paper it names."""

    title: str = ""
    venue: str | None = None
    year: int | None = None
    title_link: Link | None = None  # the link whose text is the title (`[Title](url)`)
    from_column: bool = False  # title from a table's Model/Name column: a short name is fine there

    def add(self, venue: str | None, year: int | None) -> None:
        self.venue = self.venue or venue
        self.year = self.year or year


_LEAD_NOISE = re.compile(r"^(?::[a-z0-9_+\-]+:|[\s•·*:：|,;–—\->✓✔★⭐☆])+")
_BRACKET_HEAD = re.compile(r"^\s*\[([^\[\]]+)\]")
_BRACKET_TITLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(,|$)")
_OUTER_BRACKET = re.compile(r"^[\[\]](?![^\[\]]*\])")
_YEAR_ONLY = re.compile(rf"\s*{YEAR}\s*")


def read_block(parts: list[Piece], links: tuple[Link, ...]) -> Reading:
    """The title (and the link that carries it), venue and year a block's pieces of text say."""
    reading = Reading()
    segs = _cut_lead(_merge(parts))
    i = _skip_lead(segs, parts, links, reading)
    if i >= len(segs):
        return reading
    text, idx = segs[i]
    if idx is not None and not is_url(links[idx].label):
        title = _title_of_link(links[idx], segs[i + 1:], reading)
    elif idx is None and bracket_title(text):
        title = _BRACKET_HEAD.match(text).group(1)
    else:
        title = _title_before_links(segs[i:], links, reading)
    reading.title, venue, year = split_title(title)
    reading.add(venue, year)
    return reading


def _merge(parts: list[Piece]) -> list[Piece]:
    """Consecutive pieces of one link joined; text pieces kept apart (their seams are tag boundaries)."""
    out: list[Piece] = []
    for text, idx in parts:
        if idx is not None and out and out[-1][1] == idx:
            out[-1] = (out[-1][0] + text, idx)
        else:
            out.append((text, idx))
    return out


def _cut_lead(segs: list[Piece]) -> list[Piece]:
    """The text before the first link, with what `strip_lead` strips of it as a whole cut from its pieces: the
    tag patterns need it run together (`[**VoTr**] Title` arrives as "[", "VoTr", "] Title")."""
    run = next((k for k, (_, j) in enumerate(segs) if j is not None), len(segs))
    if run <= 1:
        return segs
    joined = "".join(t for t, _ in segs[:run])
    cut = len(joined) - len(strip_lead(joined, Reading()))
    pieces = []
    for t, _ in segs[:run]:
        take = min(cut, len(t))
        cut -= take
        if t[take:]:
            pieces.append((t[take:], None))
    return pieces + segs[run:]


def _skip_lead(segs: list[Piece], parts: list[Piece], links: tuple[Link, ...], reading: Reading) -> int:
    """Where the title starts, past the leading noise: bullets, emoji, `[Abbr]` tags, venue tags and links that
    name a venue or a generic target (`[[ECCV](url)] Title`, `[\\[arXiv:2206.04927\\]](abs) Title`). What
    those say of venue and year goes into `reading`; the first text piece loses its noise in `segs`."""
    i = 0
    while i < len(segs):
        text, idx = segs[i]
        if idx is None:
            rest = strip_lead(text, reading)
            if rest.strip():
                segs[i] = (rest, None)
                return i
        elif not _lead_link(segs, i, parts, links[idx].label, reading):
            return i
        i += 1
    return i


def _lead_link(segs: list[Piece], i: int, parts: list[Piece], label: str, reading: Reading) -> bool:
    """A link before the title that is not the title: an empty or generic label, or a venue."""
    if not label.strip() or GENERIC_LABEL.match(label) or is_venue_label(label):
        reading.add(*venue_tag(label))
        return True
    if _bracketed(segs, i, parts) and len(label.split()) <= 10:
        reading.add(label.strip(), None)  # `[[Cognitive Neurodynamics](url)] Title`: a venue we do not know
        return True
    return False


def _bracketed(segs: list[Piece], i: int, parts: list[Piece]) -> bool:
    """`[` link `]` followed by more text: the htqin form `- [[Venue](url)] Title.`"""
    if i == 0 or i + 1 >= len(segs) or segs[i - 1][1] is not None or segs[i + 1][1] is not None:
        return False
    before = next((t for t, j in parts if j is None and t.strip()), "")
    after = segs[i + 1][0]
    return before.strip() == "[" and after.lstrip().startswith("]") and len(after.split()) >= 3


def strip_lead(text: str, reading: Reading) -> str:
    """Leading bullets, emoji and `[Abbr]`/`[2024 TPAMI]`/`(FitNets)` tags; a venue tag gives venue and year."""
    while True:
        before = text
        text = _LEAD_NOISE.sub("", text)
        m = SHORT_PREFIX.match(text)
        if m and not bracket_title(text):
            tag = m.group(1)[1:-1]
            venue, year = venue_tag(tag)
            if venue is None and m.group(1).startswith("["):
                # `[IEEE Communications Surveys & Tutorials 2019]`: a venue we do not know, and its year
                venue, year = dated_tag(tag) or (venue, year)
            reading.add(venue, year)
            text = text[m.end():]
        elif _OUTER_BRACKET.match(text):
            text = text[1:]  # the outer bracket of `[[ECCV](url)]`, not the start of a tag
        elif _YEAR_ONLY.fullmatch(text):
            reading.add(None, int(text))  # `\[2019 [RA-L](url)\]`: the year before a venue link
            text = ""
        if text == before:
            return text


def bracket_title(text: str) -> bool:
    # `[A Comprehensive Survey on Knowledge Distillation], Amir M. Mansourian, …`: a link that never got
    # its URL; the bracket holds the title, not a tag.
    m = _BRACKET_TITLE.match(text)
    return bool(m and len(m.group(1).split()) >= 3)


def _texts_until_link(segs: list[Piece]) -> list[str]:
    out = []
    for text, idx in segs:
        if idx is not None:
            break
        out.append(text)
    return out


def _title_of_link(link: Link, after: list[Piece], reading: Reading) -> str:
    """`[Title](url), Authors, Year` / `[TextBrewer][18.12]: An Open-Source … Toolkit`: the link's text."""
    reading.title_link = link
    rest = "".join(_texts_until_link(after))
    if rest.lstrip().startswith(":") and len(rest.split()) >= 3:
        return f"{link.label}: {first_sentence([rest.lstrip()[1:]])}"
    return link.label


def _title_before_links(segs: list[Piece], links: tuple[Link, ...], reading: Reading) -> str:
    """The text before the first link: `Title. Authors. Venue`, `<strong>Title</strong>Authors`."""
    head = first_sentence(_texts_until_link(segs))
    dangling = dangles(head)
    if dangling or len(head.split()) < 2:
        # "… from Gou et al. (2020) [Knowledge Distillation Survey](url)": the link text is the title.
        named = next((links[j] for _, j in segs if j is not None and title_like_label(links[j].label)), None)
        if named is not None and (dangling or not head.strip()):
            reading.title_link = named
            head = named.label
        elif dangling:
            head = ""
    return "" if is_author_list(head) else head  # `<strong></strong>Heo, B., Lee, M. (2019)`: no title written


# -- tables -----------------------------------------------------------------------------------------
# Column headers of paper tables.
_COL_TITLE = re.compile(r"^(paper\s*)?(title|name)s?$|^papers?$|^(model|method|approach|algorithm|work)s?$", re.I)
_COL_DATASET = re.compile(r"^datasets?$", re.I)
_COL_VENUE = re.compile(r"^(venue|published|publication|conference|conf|journal|where|pub)s?$", re.I)
_COL_YEAR = re.compile(r"^(year|date|time)s?$", re.I)


@dataclass
class Table:
    header_line: int
    last_line: int
    roles: dict[str, int]  # role -> column


def cells(block: Block) -> list[list[Piece]]:
    """A table row's cells: the tokenizer delivers the newline between `</td>` and `<td>` as its own piece."""
    out: list[list[Piece]] = []
    current: list[Piece] | None = None
    for text, idx in block.parts:
        if idx is None and "\n" in text and not text.strip():
            if current is not None:
                out.append(current)
            current = []
            continue
        if current is None:
            current = []
        current.append((text, idx))
    if current:
        out.append(current)
    return out


def table_roles(header: Block) -> dict[str, int]:
    """Which column holds the title, the dataset, the venue, the year, from a table's header row."""
    roles: dict[str, int] = {}
    for col, cell in enumerate(cells(header)):
        name = squash("".join(t for t, _ in cell)).strip("*_ :")
        for role, pattern in (("title", _COL_TITLE), ("dataset", _COL_DATASET), ("venue", _COL_VENUE),
                              ("year", _COL_YEAR)):
            if role not in roles and pattern.match(name):
                roles[role] = col
    return roles


def read_row(block: Block, links: tuple[Link, ...], table: Table) -> Reading:
    """A table row: the title from its Title (or Dataset) column, venue and year from theirs."""
    row = cells(block)
    col = table.roles.get("dataset", table.roles.get("title"))
    if col is None or col >= len(row):
        return read_block(block.parts, links)
    reading = read_block(row[col], links)
    reading.from_column = "dataset" not in table.roles
    venue = _cell_text(row, table.roles.get("venue"))
    if venue is not None:
        reading.add(*column_venue(venue))
    year = _cell_text(row, table.roles.get("year"))
    if year is not None:
        reading.add(None, column_year(year))
    return reading


def _cell_text(row: list[list[Piece]], col: int | None) -> str | None:
    if col is None or col >= len(row):
        return None
    return squash("".join(t for t, _ in row[col]))
