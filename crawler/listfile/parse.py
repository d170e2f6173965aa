"""Markdown list -> links and paper entries. Pure: text in, values out.

The Markdown is parsed by cmark-gfm (GitHub's own parser, through `cmarkgfm`) with the autolink
and table extensions and raw HTML kept, exactly as GitHub renders a README. We then read the
rendered HTML with a tokenizing HTML parser: every `<a href>` there is a link a reader can
click, whether it came from `[x](url)`, a reference definition, `<url>`, a bare URL or raw
`<a href>` HTML; nothing in code spans or fences survives as an anchor.

Line numbers come from cmark's `data-sourcepos` on blocks plus the soft line breaks inside
them; raw HTML blocks carry no sourcepos, so there we re-synchronise on the source text.

The same pass collects what a `#fragment` may name (crawler.models.Anchors): each heading's text as
rendered (link text and code spans count, markup does not), slugged the way GitHub does
(crawler.listfile.slugs), and the `id=` and `name=` values of raw HTML.
"""

from __future__ import annotations

import html
import html.entities
import re
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

from crawler.listfile.blocks import Block
from crawler.listfile.entries import find_entries
from crawler.listfile.slugs import heading_slugs
from crawler.listfile.titles import squash
from crawler.models import Anchors, Disabled, Link, ParsedList

_OPTIONS = Options.CMARK_OPT_SOURCEPOS | Options.CMARK_OPT_UNSAFE
_ITEM_TAGS = frozenset({"p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd"})
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr", "source", "col", "area", "base"})
_SKIP_TEXT = frozenset({"script", "style", "code", "pre"})
_SOURCEPOS = re.compile(r"(\d+):\d+-(\d+):\d+")
_URL_WHITESPACE = str.maketrans("", "", "\t\n\r")
# Inline directives: ours, and markdown-link-check's, so lists that already use them keep working.
_DIRECTIVE = re.compile(r"\s*(crawler|markdown-link-check)-(disable-next-line|disable-line|disable|enable)\s*")


def render(text: str) -> str:
    """The HTML GitHub would produce (before its sanitiser), with source positions."""
    return cmarkgfm.github_flavored_markdown_to_html(text, options=_OPTIONS)


class _Open:
    __slots__ = ("tag", "start", "end")

    def __init__(self, tag: str, start: int | None, end: int | None):
        self.tag = tag
        self.start = start  # sourcepos start line
        self.end = end


class _Reader(HTMLParser):
    def __init__(self, source_lines: list[str]):
        super().__init__(convert_charrefs=True)
        self.src = source_lines
        self.stack: list[_Open] = []
        self.md_depth = 0  # open elements that carry data-sourcepos
        self.cursor = 1
        self.last_end = 0
        self.raw = False
        self.links: list[Link] = []
        self.blocks: list[Block] = []
        self.block: Block | None = None
        self.anchor: dict | None = None
        self.skip = 0  # inside <code>/<pre>/<script>
        self.heading: list[str] | None = None  # the text of the heading being read
        self.headings: list[str] = []  # every heading's text, in document order
        self.heading_lines: list[tuple[int, int]] = []  # each heading's first and last source line
        self.heading_start = 0
        self.ids: set[str] = set()  # id= and name= values: fragment targets in raw HTML
        self.directives: list[tuple[str, str, int]] = []  # (prefix, verb, line) of each directive comment

    # -- line tracking ----------------------------------------------------------------------
    def _enter_raw(self, tag_text: str | None) -> None:
        if self.md_depth == 0 and not self.raw:
            self.raw = True
            self.cursor = self._next_nonblank(self.last_end + 1)
        if self.raw and tag_text:
            self.cursor = self._find_forward(tag_text.split("\n", 1)[0])

    def _advance(self, newlines: int) -> None:
        # Line breaks cmark adds to the HTML (before a closing tag an unfinished raw tag swallowed) are not
        # lines of the source: never count past its last line.
        self.cursor = min(self.cursor + newlines, max(len(self.src), 1))

    def _next_nonblank(self, line: int) -> int:
        while line <= len(self.src) and not self.src[line - 1].strip():
            line += 1
        return min(line, max(len(self.src), 1))

    def _find_forward(self, needle: str) -> int:
        # Blank lines between raw blocks are not in the HTML, so the cursor can only lag: look ahead.
        needle = needle.strip()
        if not needle:
            return self.cursor
        for i in range(self.cursor, min(len(self.src), self.cursor + 200) + 1):
            if needle in self.src[i - 1]:
                return i
        return self.cursor

    # -- blocks -----------------------------------------------------------------------------
    def _flush(self) -> None:
        if self.block is not None and (self.block.parts or self.block.links):
            self.blocks.append(self.block)
        self.block = None

    def _current(self) -> Block:
        if self.block is None:
            self.block = Block(line=self.cursor, tag="text")
        return self.block

    # -- HTMLParser callbacks ---------------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        text = self.get_starttag_text() or ""
        start, end, alt = self._attributes(attrs)
        if start is not None:
            self.raw = False
            self.md_depth += 1
            self.cursor = start
        else:
            self._enter_raw(text)
        self._open_block(tag)
        self._open_inline(tag, text, alt)
        if tag not in _VOID:
            self.stack.append(_Open(tag, start, end))
        if "\n" in text:
            self._advance(text.count("\n"))

    def _attributes(self, attrs: list[tuple[str, str | None]]) -> tuple[int | None, int | None, str | None]:
        """The first and last source line cmark's `data-sourcepos` gives (None for raw HTML), and an image's
        alt text; `id=` and `name=` values are kept as fragment targets."""
        pos = alt = None
        for name, value in attrs:  # the last of duplicated attributes wins, as in dict(attrs)
            if name == "data-sourcepos":
                pos = value
            elif name == "alt":
                alt = value
            elif name in ("id", "name") and value:
                self.ids.add(value)
        m = _SOURCEPOS.match(pos) if pos else None
        if m is None:
            return None, None, alt
        return int(m.group(1)), int(m.group(2)), alt

    def _open_block(self, tag: str) -> None:
        """A block that may be an entry, a heading (its text is slugged), or code whose text is no entry's."""
        if tag in _ITEM_TAGS:
            self._flush()
            self.block = Block(line=self.cursor, tag=tag, level=_HEADINGS.get(tag, 0))
        if tag in _HEADINGS:
            self._end_heading()
            self.heading = []
            self.heading_start = self.cursor
        if tag in _SKIP_TEXT:
            self.skip += 1

    def _open_inline(self, tag: str, text: str, alt: str | None) -> None:
        """A link starts; an image inside one adds its alt text to the link's text; a line break is a space."""
        if tag == "a":
            if self.anchor is not None:
                self._finish_anchor()  # HTML5: a new <a> closes the open one
            href = raw_href(text)
            if href is not None:
                self.anchor = {"href": href, "line": self.cursor, "label": []}
        elif tag == "img":
            if self.anchor is not None:
                self.anchor["label"].append(alt or "")
        elif tag == "br":
            self._data(" ")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1].tag == tag:
            self._close(self.stack.pop())

    def handle_endtag(self, tag):
        if tag == "a" and self.anchor is not None:
            self._finish_anchor()
        for opened in self.stack:
            if opened.tag == tag:
                break
        else:
            return
        while self.stack:
            opened = self.stack.pop()
            self._close(opened)
            if opened.tag == tag:
                break

    def _close(self, opened: _Open) -> None:
        if opened.tag in _SKIP_TEXT and self.skip:
            self.skip -= 1
        if opened.tag in _HEADINGS:
            self._end_heading(opened.end)
        if opened.tag in _ITEM_TAGS:
            self._flush()
        if opened.start is not None:
            self.md_depth -= 1
            self.last_end = opened.end or self.cursor
            self.cursor = self.last_end

    def _end_heading(self, end: int | None = None) -> None:
        if self.heading is not None:
            self.headings.append("".join(self.heading))
            self.heading_lines.append((self.heading_start, max(end or self.cursor, self.heading_start)))
            self.heading = None

    def handle_comment(self, data):
        # A comment in a code span or fence reaches us escaped, as text: only real comments are directives.
        if self.md_depth == 0:
            self._enter_raw(f"<!--{data}")
        if m := _DIRECTIVE.fullmatch(data):
            self.directives.append((m.group(1), m.group(2), self.cursor))
        if "\n" in data:
            self._advance(data.count("\n"))

    def handle_data(self, data):
        if self.heading is not None:
            self.heading.append(data)  # code spans too: GitHub slugs the heading's whole text
        if self.md_depth == 0:
            if not data.strip():
                if not self.raw:
                    return  # newlines cmark puts between blocks
            else:
                self._enter_raw(None)
        self._data(data)
        if "\n" in data:
            self._advance(data.count("\n"))

    def _data(self, data: str) -> None:
        if self.anchor is not None:
            self.anchor["label"].append(data)
        if not self.skip or self.anchor is not None:
            idx = len(self.links) if self.anchor is not None else None
            self._current().parts.append((data, idx))

    def _finish_anchor(self) -> None:
        a, self.anchor = self.anchor, None
        href = a["href"].translate(_URL_WHITESPACE).strip()  # as a browser's URL parser does
        label = squash("".join(a["label"]))
        kind = "empty" if not href else ("autolink" if label in (href, href.removeprefix("mailto:")) else "link")
        self.links.append(Link(url=href, label=label, line=a["line"], kind=kind))
        self._current().links.append(len(self.links) - 1)
        if not label:
            self._current().parts.append(("", len(self.links) - 1))

    def close(self):
        super().close()
        if self.anchor is not None:
            self._finish_anchor()
        self._end_heading()
        self._flush()

    def anchors(self) -> Anchors:
        slugs = heading_slugs(self.headings)
        return Anchors(slugs=frozenset(slugs), ids=frozenset(self.ids), lines=len(self.src),
                       headings=tuple((first, last, s) for (first, last), s in zip(self.heading_lines, slugs,
                                                                                     strict=True)))


_TAG_NAME = re.compile(r"<\s*[A-Za-z][^\s/>]*")
_ATTR = re.compile(r"""([^\s/>"'=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
_CHARREF = re.compile(r"&(#[0-9]+;?|#[xX][0-9a-fA-F]+;?|[A-Za-z][A-Za-z0-9]*;?)")


def raw_href(start_tag: str) -> str | None:
    """The href of an `<a ...>` start tag as an HTML5 parser (a browser, GitHub) reads it.

    html.parser differs in two ways that matter for links: it keeps the *last* of duplicated
    attributes (HTML5 keeps the first), and it decodes `&copy` in `?a=1&copy=2` (HTML5 leaves an
    unterminated reference before `=` or an alphanumeric as written).
    """
    m = _TAG_NAME.match(start_tag)
    body = start_tag[m.end() if m else 0 :]
    for attr in _ATTR.finditer(body):
        if attr.group(1).lower() == "href":
            value = next((g for g in attr.groups()[1:] if g is not None), "")
            return _attr_unescape(value)
    return None


def _attr_unescape(value: str) -> str:
    def one(m: re.Match) -> str:
        ref = m.group(0)
        if ref.startswith("&#") or ref.endswith(";"):
            return html.unescape(ref)
        name, following = ref[1:], value[m.end() : m.end() + 1]
        if name in html.entities.html5 and following != "=":
            return html.entities.html5[name]
        return ref

    return _CHARREF.sub(one, value)


class LinksRead:
    """A list read as far as its links: the cheaper part of parsing, enough to start checking.

    `parsed()` does the rest, the entries (about twice the CPU of reading), and keeps the answer:
    a caller can send the links off to be checked and find the entries while they are.
    """

    def __init__(self, links: tuple[Link, ...], blocks: list[Block], anchors: Anchors | None = None,
                 disabled: tuple[Disabled, ...] = ()):
        self.links = links
        self.anchors = anchors or Anchors()
        self._blocks = blocks
        self.disabled = disabled
        self._parsed: ParsedList | None = None

    def parsed(self) -> ParsedList:
        if self._parsed is None:
            self._parsed = ParsedList(links=self.links, entries=tuple(find_entries(self._blocks, self.links)),
                                      anchors=(self.anchors,), disabled=self.disabled)
            self._blocks = []
        return self._parsed


def read_links(text: str) -> LinksRead:
    """Every clickable link (and empty link) of a Markdown list; `.parsed()` adds the paper entries."""
    text = text.lstrip("\ufeff")
    lines = text.splitlines()
    reader = _Reader(lines)
    reader.feed(render(text))
    reader.close()
    return LinksRead(tuple(reader.links), reader.blocks, reader.anchors(),
                     disabled_lines(reader.directives, len(lines)))


def disabled_lines(directives: list[tuple[str, str, int]], last_line: int) -> tuple[Disabled, ...]:
    """The spans of lines the directive comments disable, as markdown-link-check reads them: `disable-next-line`
    the line after the comment, `disable-line` the comment's own, `disable` every line up to the next `enable`
    (or the end of the list)."""
    out: list[Disabled] = []
    opened: tuple[str, int] | None = None
    for prefix, verb, line in directives:
        comment = f"<!-- {prefix}-{verb} -->"
        if verb == "disable-next-line":
            out.append(Disabled(line + 1, line + 1, comment, line))
        elif verb == "disable-line":
            out.append(Disabled(line, line, comment, line))
        elif verb == "disable" and opened is None:
            opened = (comment, line)
        elif verb == "enable" and opened is not None:
            out.append(Disabled(opened[1], line, opened[0], opened[1]))
            opened = None
    if opened is not None:
        out.append(Disabled(opened[1], max(last_line, opened[1]), opened[0], opened[1]))
    return tuple(out)


def parse_list(text: str) -> ParsedList:
    """Every clickable link (and empty link) of a Markdown list, with the paper entries."""
    return read_links(text).parsed()
