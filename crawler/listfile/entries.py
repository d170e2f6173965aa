"""Paper entries from the parsed list's blocks: which blocks are entries, which entries are papers. Pure.

crawler.listfile.parse turns Markdown into blocks (crawler.listfile.blocks: list items, headings,
paragraphs, table rows, raw-HTML `<li>`) with their links; this module decides which blocks are entries
and which of them are papers, for every list style seen in the wild:

- `- [Title](url), Authors, Year`: the leading link's text is the title;
- `1. Title. Authors. Venue [[code]][1.43]`: the first sentence is the title, often no link at all;
- `<li>Title<a href>[paper]</a>`, `<li><strong>Title.</strong>Authors (2019). In: ICCV.`;
- `##### • [\\[arXiv:id\\]](abs) Title. [\\[PDF\\]](url)` headings, each followed by an author line;
- `- [[Venue](url)] Title. [[code](url)]`: a link whose text is a venue names the venue, not the title;
- `- **[Abbr]** Title [[paper](url)]`, with the links sometimes on the next line;
- GFM tables, the title in the column the header calls Title (or Model, Name…).

Every block with a link becomes an entry, so each link belongs to one; `is_paper` is False for what
is not a paper (code repositories, videos, tools, blogs, badges, tables of contents, author lines,
section headings that carry a link): those links are checked but never enriched.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field

from crawler.listfile.blocks import Block, Reading, Table, read_block, read_row, table_roles
from crawler.listfile.links import NO_EVIDENCE_URL, NOT_PAPER_URL, PAPER_URL
from crawler.listfile.titles import GENERIC_LABEL, LEAD_PUNCT, PAPER_LABEL
from crawler.listfile.venues import scope_venue_year, venue_year_anywhere
from crawler.models import Entry, Link

# What a link's site says about its entry comes from the table of site rules (crawler.listfile.links.SITES):
# PAPER_URL (a paper and nothing else, or a PDF), NOT_PAPER_URL (code, videos, badges), NO_EVIDENCE_URL.
_PDF_URL = re.compile(r"\.pdf([?#]|$)", re.I)
_PAPER_TAG_TEXT = re.compile(r"\[\s*(pdf|paper|arxiv)\b[^\[\]]*\]", re.I)
# A section whose head word says its items are not papers ("## PyTorch" under "### Implementations").
_NONPAPER_SECTION = re.compile(
    r"^(blogs?|articles?|howtos?|tutorials?|courses?|lectures?|talks?|videos?|podcasts?|books?|tools?|toolkits?|"
    r"toolbox(es)?|libra\w*|frameworks?|implementations?|codes?|repos?|repositor(y|ies)|software|packages?|"
    r"projects?|demos?|licen[cs]es?|contribut\w*|acknowledge?ments?|thanks|contact|citation|cite|workshops?|"
    r"challenges?|competitions?|datasets?|resources?|news|contents|about|faq|sponsors?)$"
)
_LOCAL_SECTIONS = frozenset({"contents", "about", "faq", "news"})
_FRAMEWORKS = frozenset({
    "pytorch", "tensorflow", "tf", "caffe", "caffe2", "keras", "mxnet", "theano", "lasagne", "torch", "lua",
    "chainer", "jax", "flax", "paddle", "paddlepaddle", "mindspore", "matlab", "onnx", "tensorrt",
})
_BRACKETED = re.compile(r"\[[^\[\]]*\]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_HEADING_TAGS = ("h1", "h2", "h3", "h4", "h5", "h6")


@dataclass
class _Scope:
    """Where we are in the list: the headings above, a bold line acting as one, the current table."""

    headings: dict[int, str] = field(default_factory=dict)
    label: str = ""  # `**WACV**` under `### 2022`
    table: Table | None = None
    last: Entry | None = None  # the previous block's entry (for author lines)
    last_tag: str = ""
    paper_levels: set[int] = field(default_factory=set)  # heading levels that hold papers (`#####`)

    @property
    def section(self) -> str:
        return self.headings[max(self.headings)] if self.headings else ""

    def above(self, level: int) -> str:
        """The nearest heading above `level`."""
        return next((self.headings[lvl] for lvl in sorted(self.headings, reverse=True) if lvl < level), "")

    def heading(self, level: int, text: str) -> None:
        for deeper in [lvl for lvl in self.headings if lvl >= level]:
            del self.headings[deeper]
        self.headings[level] = text
        self.label = ""
        self.table = None

    def enter(self, block: Block) -> bool:
        """Follow the table a row belongs to (a row not right under the last starts a table); False for a
        table's header row, which is not an entry unless it has links."""
        if block.tag == "tr":
            table = self.table
            if table is None or block.line not in (table.last_line + 1, table.header_line + 2):
                self.table = Table(block.line, block.line, table_roles(block))
                return bool(block.links)
            table.last_line = block.line
        elif block.tag != "text":
            self.table = None
        return True

    def non_paper(self) -> bool:
        # `## Videos` covers its `### Talks`; `# Contents` only itself (lists put `## Papers` under it).
        deepest = max(self.headings, default=0)
        return any(_nonpaper_heading(h, inherited=lvl != deepest) for lvl, h in self.headings.items())

    def venue_year(self) -> tuple[str | None, int | None]:
        venue = year = None
        for text in [self.label, *(self.headings[lvl] for lvl in sorted(self.headings, reverse=True))]:
            v, y = scope_venue_year(text)
            venue, year = venue or v, year or y
        return venue, year


@functools.lru_cache(maxsize=1024)
def _nonpaper_heading(text: str, inherited: bool = False) -> bool:
    text = _BRACKETED.sub(" ", text)  # `[Code]` on a heading is a link, not its head word
    words = [w for w in _NON_ALNUM.split(text.lower()) if w]
    if not words:
        return False
    if inherited and words[-1] in _LOCAL_SECTIONS:
        return False
    return bool(_NONPAPER_SECTION.match(words[-1])) or any(w in _FRAMEWORKS for w in words)


def find_entries(blocks: list[Block], links: tuple[Link, ...]) -> list[Entry]:
    out: list[Entry] = []
    scope = _Scope()
    for block in blocks:
        if not scope.enter(block):
            continue
        entry = _scoped(block, _entry(block, links, scope), links, scope)
        if entry is not None:
            out.append(entry)
        scope.last, scope.last_tag = entry, block.tag
    return out


def _scoped(block: Block, entry: Entry | None, links: tuple[Link, ...], scope: _Scope) -> Entry | None:
    """A heading that is not a paper opens a section; a short line naming a venue or a year stands for one."""
    is_paper = entry is not None and entry.is_paper
    if block.level and is_paper:
        scope.paper_levels.add(block.level)
    if block.level and not is_paper:
        # A heading names a section unless it is itself a paper (the seed's
        # `### Title VENUE YEAR [[paper]](url)`); a link on it still belongs to an entry.
        parent = scope.above(block.level)
        scope.heading(block.level, LEAD_PUNCT.sub("", block.text()))
        if entry is not None:
            entry = dataclasses.replace(entry, section=parent)
    elif block.tag == "p" and _is_label(block, links):
        # `**WACV**`, `<strong>[IEEE ICKG 2020](url)</strong>`: a line standing in for a heading.
        scope.label = block.text()
        if entry is not None:
            entry = dataclasses.replace(entry, is_paper=False)
    return entry


def _is_label(block: Block, links: tuple[Link, ...]) -> bool:
    text = block.text()
    if not block.links:
        short = len(text.split()) <= 3
    else:
        short = len(block.links) == 1 and links[block.links[0]].label == text and len(text.split()) <= 8
    return short and scope_venue_year(text.rstrip(":")) != (None, None)


@dataclass(frozen=True)
class _Candidate:
    """A block that may be a paper entry, with what its text and its links say."""

    block: Block
    text: str  # its visible text
    own: tuple[Link, ...]  # the links written on it
    reading: Reading
    scope: _Scope
    table: Table | None  # the table it is a row of
    paper_heading: bool  # a heading at a level that holds papers in this list (`##### • Title.`)
    dated_title: bool  # a venue or a year stands beside the title (not only somewhere in the text)

    @functools.cached_property
    def web(self) -> tuple[Link, ...]:
        return tuple(lk for lk in self.own if lk.url.lower().startswith(("http://", "https://")))

    @property
    def words(self) -> int:
        return len(self.reading.title.split())

    @property
    def has_empty(self) -> bool:
        return any(lk.is_empty for lk in self.own)

    @property
    def written(self) -> bool:
        """A venue or a year is written on it."""
        return (self.reading.venue, self.reading.year) != (None, None)

    @property
    def has_title(self) -> bool:
        words, reading = self.words, self.reading
        return (words >= 2 or (words == 1 and (reading.from_column or reading.title_link is not None))
                or self.has_empty or (words == 0 and self.strong and self.block.tag == "li"))

    @property
    def evidence(self) -> bool:
        """Something says it is a paper: an empty link to fill, a link that may be the paper, a paper label,
        a venue or year, a heading among paper headings, a `[\\[PDF\\]]` whose URL is missing."""
        return (self.has_empty
                or any(_PDF_URL.search(lk.url) or not (NOT_PAPER_URL.match(lk.url) or NO_EVIDENCE_URL.match(lk.url))
                       for lk in self.web)
                or any(PAPER_LABEL.match(lk.label) for lk in self.own)
                or self.written
                or (self.paper_heading and not self.own)
                or bool(_PAPER_TAG_TEXT.search(self.block.plain())))

    @property
    def strong(self) -> bool:
        """A link that can only be a paper (an arXiv abs page, a CVF page, a PDF, `[paper]()`): it outweighs
        the section's name (`### FL open question & useful framework` holds papers, `## Datasets` a list of
        their papers)."""
        return any(PAPER_URL.search(lk.url) or (PAPER_LABEL.match(lk.label) and not NOT_PAPER_URL.match(lk.url))
                   for lk in self.web) or any(lk.is_empty and PAPER_LABEL.match(lk.label) for lk in self.own)

    @property
    def title_links_elsewhere(self) -> bool:
        """`- [Repo name](github)`: the title links to code, a video or a site that is not a paper."""
        link = self.reading.title_link
        return link is not None and bool(NOT_PAPER_URL.match(link.url)) and not _PDF_URL.search(link.url)


def _candidate(block: Block, links: tuple[Link, ...], scope: _Scope) -> _Candidate | None:
    """The block read, or None when it cannot be an entry: without links, only a list item, a heading where
    the list writes one heading per paper (`##### • Title.` among `##### • Title. [\\[PDF\\]](…)`) or a row
    of a table of papers can be a paper."""
    own = tuple(links[i] for i in block.links)
    paper_heading = bool(block.level) and block.level in scope.paper_levels
    table = scope.table if block.tag == "tr" else None
    paper_row = table is not None and "title" in table.roles
    if not own and block.tag not in ("li", "dt") and not paper_heading and not paper_row:
        return None
    reading = read_row(block, links, table) if table is not None else read_block(block.parts, links)
    text = block.text()
    dated_title = (reading.venue, reading.year) != (None, None)
    if reading.venue is None or reading.year is None:
        reading.add(*venue_year_anywhere(text))
    return _Candidate(block, text, own, reading, scope, table, paper_heading, dated_title)


def _entry(block: Block, links: tuple[Link, ...], scope: _Scope) -> Entry | None:
    c = _candidate(block, links, scope)
    if c is None or not c.own and not (c.written or (c.paper_heading and c.words >= 3)):
        return None  # a list item without links is a paper only when it says where it appeared
    why_not = _why_not_a_paper(c)
    if not c.reading.title and not c.has_empty and not c.own:
        return None
    if why_not is None:
        c.reading.add(*scope.venue_year())  # `### 2024` / `### [NAACL 2021](…)` / `**WACV**` above it
    reading = c.reading
    return Entry(
        line=block.line, section=scope.section, title=reading.title, venue=reading.venue, year=reading.year,
        links=c.own, is_paper=why_not is None, raw=c.text, why_not_paper=why_not,
    )


def _why_not_a_paper(c: _Candidate) -> str | None:
    """Why a block is not a paper entry, in words a maintainer can act on; None when it is one."""
    if not c.has_title:
        return "no title"
    if not c.evidence:
        return "nothing says it is a paper: no paper link, venue or year"
    if c.scope.non_paper() and not (c.strong and c.words >= 3):
        return f"in a section that does not hold papers ({c.scope.section})"
    if c.own and not c.web and not c.has_empty:
        return "only in-page or relative links (a table of contents)"
    if c.title_links_elsewhere:
        return "its title links to code, a video or a site that is not a paper"
    if _byline(c):
        return "a line of authors under a paper"
    if c.table is not None and "dataset" in c.table.roles:
        return "a row of a table of datasets"
    if c.block.level and not c.paper_heading and not _heading_is_paper(c):
        return "a section heading"
    return None


def _heading_is_paper(c: _Candidate) -> bool:
    # A heading is a paper when it reads like one: a title of some length and a paper-like link
    # (`[[paper]](…)`, `[\[PDF\]](…)`, an empty link) or a venue written beside it. `### [NAACL 2021](url)`,
    # `#### [1] [HANDS19 Challenge](url)` and `# Read [Online Version](url)` are sections.
    if c.words < 3:
        return False
    return any(lk.is_empty or PAPER_LABEL.match(lk.label) or GENERIC_LABEL.match(lk.label) for lk in c.own) or (
        c.dated_title and c.reading.title_link is None)


def _byline(c: _Candidate) -> bool:
    # The `_Authors_` line under a heading-per-paper entry, or the author paragraph under a bold
    # title: `[Nie Lin*](https://…), [Ming Li](), …`. Its empty links are authors', not the paper's.
    scope = c.scope
    if c.block.tag != "p" or scope.last is None or not scope.last.is_paper or scope.last_tag not in (
            *_HEADING_TAGS, "p"):
        return False
    return not any(PAPER_LABEL.match(lk.label) or GENERIC_LABEL.match(lk.label) for lk in c.own if lk.label)
