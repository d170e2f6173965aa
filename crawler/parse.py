"""Markdown list -> links and paper entries. Pure: text in, values out.

The Markdown is parsed by cmark-gfm (GitHub's own parser, through `cmarkgfm`) with the autolink
and table extensions and raw HTML kept, exactly as GitHub renders a README. We then read the
rendered HTML with a tokenizing HTML parser: every `<a href>` there is a link a reader can
click, whether it came from `[x](url)`, a reference definition, `<url>`, a bare URL or raw
`<a href>` HTML; nothing in code spans or fences survives as an anchor.

Line numbers come from cmark's `data-sourcepos` on blocks plus the soft line breaks inside
them; raw HTML blocks carry no sourcepos, so there we re-synchronise on the source text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html.parser import HTMLParser

import cmarkgfm
from cmarkgfm.cmark import Options

from crawler.models import Entry, Link, ParsedList

_OPTIONS = Options.CMARK_OPT_SOURCEPOS | Options.CMARK_OPT_UNSAFE
_ITEM_TAGS = frozenset({"p", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "dt", "dd"})
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_VOID = frozenset({"br", "img", "hr", "input", "meta", "link", "wbr", "source", "col", "area", "base"})
_SKIP_TEXT = frozenset({"script", "style", "code", "pre"})


def render(text: str) -> str:
    """The HTML GitHub would produce (before its sanitiser), with source positions."""
    return cmarkgfm.github_flavored_markdown_to_html(text, options=_OPTIONS)


@dataclass
class _Item:
    """A block of text that may be a paper entry: a list item, heading, paragraph or table row."""

    line: int
    tag: str
    level: int = 0  # heading level, 0 for others
    parts: list[tuple[str, int | None]] = field(default_factory=list)  # (text, link index or None)
    links: list[int] = field(default_factory=list)

    def text(self) -> str:
        return _squash("".join(t for t, _ in self.parts))

    def plain(self) -> str:
        """Text outside links."""
        return _squash("".join(t for t, i in self.parts if i is None))


@dataclass
class _Open:
    tag: str
    start: int | None  # sourcepos start line
    end: int | None


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
        self.items: list[_Item] = []
        self.item: _Item | None = None
        self.anchor: dict | None = None
        self.skip = 0  # inside <code>/<pre>/<script>

    # -- line tracking ----------------------------------------------------------------------
    def _enter_raw(self, tag_text: str | None) -> None:
        if self.md_depth == 0 and not self.raw:
            self.raw = True
            self.cursor = self._next_nonblank(self.last_end + 1)
        if self.raw and tag_text:
            self.cursor = self._find_forward(tag_text.split("\n", 1)[0])

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

    # -- items ------------------------------------------------------------------------------
    def _flush(self) -> None:
        if self.item is not None and (self.item.parts or self.item.links):
            self.items.append(self.item)
        self.item = None

    def _current(self) -> _Item:
        if self.item is None:
            self.item = _Item(line=self.cursor, tag="text")
        return self.item

    # -- HTMLParser callbacks ---------------------------------------------------------------
    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        text = self.get_starttag_text() or ""
        pos = attrs.get("data-sourcepos")
        start = end = None
        if pos:
            m = re.match(r"(\d+):\d+-(\d+):\d+", pos)
            if m:
                start, end = int(m.group(1)), int(m.group(2))
        if start is not None:
            self.raw = False
            self.md_depth += 1
            self.cursor = start
        else:
            self._enter_raw(text)
        if tag in _ITEM_TAGS:
            self._flush()
            self.item = _Item(line=self.cursor, tag=tag, level=_HEADINGS.get(tag, 0))
        if tag in _SKIP_TEXT:
            self.skip += 1
        if tag == "a" and "href" in attrs:
            self.anchor = {"href": attrs.get("href") or "", "line": self.cursor, "label": []}
        elif tag == "img" and self.anchor is not None:
            self.anchor["label"].append(attrs.get("alt") or "")
        elif tag == "br":
            self._data(" ")
        if tag not in _VOID:
            self.stack.append(_Open(tag, start, end))
        self.cursor += text.count("\n")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in _VOID and self.stack and self.stack[-1].tag == tag:
            self._close(self.stack.pop())

    def handle_endtag(self, tag):
        if tag == "a" and self.anchor is not None:
            self._finish_anchor()
        if not any(o.tag == tag for o in self.stack):
            return
        while self.stack:
            opened = self.stack.pop()
            self._close(opened)
            if opened.tag == tag:
                break

    def _close(self, opened: _Open) -> None:
        if opened.tag in _SKIP_TEXT and self.skip:
            self.skip -= 1
        if opened.tag in _ITEM_TAGS:
            self._flush()
        if opened.start is not None:
            self.md_depth -= 1
            self.last_end = opened.end or self.cursor
            self.cursor = self.last_end

    def handle_data(self, data):
        if self.md_depth == 0 and not self.raw and not data.strip():
            return  # newlines cmark puts between blocks
        if self.md_depth == 0 and data.strip():
            self._enter_raw(None)
        self._data(data)
        self.cursor += data.count("\n")

    def _data(self, data: str) -> None:
        if self.anchor is not None:
            self.anchor["label"].append(data)
        if not self.skip or self.anchor is not None:
            idx = len(self.links) if self.anchor is not None else None
            self._current().parts.append((data, idx))

    def _finish_anchor(self) -> None:
        a, self.anchor = self.anchor, None
        href = re.sub(r"[\t\n\r]", "", a["href"]).strip()  # as a browser's URL parser does
        label = _squash("".join(a["label"]))
        kind = "empty" if not href else ("autolink" if label in (href, href.removeprefix("mailto:")) else "link")
        self.links.append(Link(url=href, label=label, line=a["line"], kind=kind))
        self._current().links.append(len(self.links) - 1)
        if not label:
            self._current().parts.append(("", len(self.links) - 1))

    def close(self):
        super().close()
        if self.anchor is not None:
            self._finish_anchor()
        self._flush()


def _squash(text: str) -> str:
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


def parse_list(text: str) -> ParsedList:
    """Every clickable link (and empty link) of a Markdown list, with the paper entries."""
    text = text.lstrip("\ufeff")
    reader = _Reader(text.splitlines())
    reader.feed(render(text))
    reader.close()
    links = tuple(reader.links)
    entries = tuple(_entries(reader.items, links))
    return ParsedList(links=links, entries=entries)


# --- entries --------------------------------------------------------------------------------------

_GENERIC_LABEL = re.compile(
    r"^\W*(arxiv|paper|pdf|code|project|page|website|web|homepage|github|slides?|video|blog|poster|"
    r"supp(lementary)?|data(set)?|demo|link|html|abs|abstract|doi|bib(tex)?|openreview|official|"
    r"pytorch|tensorflow|caffe|keras|jax|mxnet|matlab|unofficial|talk|youtube|tweet|model|models|"
    r"torch|tf|notes?|review|reviews|proceedings|cvf|ieee|acm|springer|download|here|source)"
    r"([\s_-]*(paper|code|pdf|version|page|implementation|link|repo|v\d+))*\W*$",
    re.I,
)
_VENUES = (
    "CVPR|ICCV|ECCV|WACV|BMVC|ACCV|NeurIPS|NIPS|NIPSW|ICML|ICLR|AAAI|IJCAI|ACL|EMNLP|NAACL|COLING|KDD|"
    "WWW|SIGIR|CIKM|WSDM|ICDM|SDM|TPAMI|PAMI|IJCV|TIP|TNNLS|TMM|TCSVT|JMLR|TOG|SIGGRAPH|ICASSP|"
    "Interspeech|INTERSPEECH|MICCAI|ICRA|IROS|CoRL|RSS|UAI|AISTATS|COLT|MM|ACMMM|ACM MM|ICME|ICIP|"
    "ICPR|CVPRW|ICCVW|ECCVW|ICLRW|ICMLW|NeurIPSW|TACL|MLSys|SysML|DAC|ISCA|MICRO|HPCA|FPGA|ICCAD|"
    "Nature|Science|PR|Neurocomputing|arXiv|ArXiv|Arxiv|OpenReview|TMLR|CoLLAs|3DV|ICPRAM|BigData|TKDE|"
    "IEEE Access|Access|Sensors|Neural Networks|ICLR Workshop|NIPS Workshop|PRL|TCYB|TIFS|TVCG|"
    "TOMM|TPDS|TC|TCAD|JSTSP|JSAC|TASLP|TGRS|TITS|TIE|TII|TIM|TMI|MedIA|RAL|RA-L|T-RO|TRO|IJRR"
)
_VENUE_YEAR_END = re.compile(
    rf"[\s,.(\[]*\b(?P<venue>(?:{_VENUES})(?:[- ]?W(?:orkshops?)?)?)\s*['’]?(?P<year>(?:19|20)?\d\d)\b[)\].,\s]*$"
)
_YEAR_VENUE = re.compile(rf"\b(?P<year>(?:19|20)\d\d)\s*(?P<venue>{_VENUES})\b")
_VENUE_YEAR_ANY = re.compile(rf"\b(?P<venue>{_VENUES})\s*['’]?(?P<year>(?:19|20)\d\d)\b")
# Alone (without a year beside it) only an acronym is trusted: "Neural Networks" may be the title.
_VENUE_ANY = re.compile(r"\b(?P<venue>[A-Z][A-Za-z]*[A-Z]+W?)\b")
_YEAR_ANY = re.compile(r"(?<![\d.])(?P<year>(?:19|20)\d\d)(?![\d.])")
_SHORT_PREFIX = re.compile(r"^\s*(\([^()]{1,40}\)|\[[^\[\]]{1,40}\]|【[^【】]{1,40}】)\s*(?=\S)")
_LEAD_PUNCT = re.compile(r"^[\s•·*:：|,;–—-]+")
_TRAIL_PUNCT = re.compile(r"[\s•·*:：|,;–—\[\](-]+$")
_NONPAPER_HOSTS = re.compile(
    r"^https?://([^/]*\.)?(github\.com|gitlab\.com|bitbucket\.org|img\.shields\.io|shields\.io|"
    r"badge\.fury\.io|travis-ci\.(org|com)|colab\.research\.google\.com|huggingface\.co|twitter\.com|x\.com|"
    r"youtube\.com|youtu\.be|paperswithcode\.com)(/|$)",
    re.I,
)


def split_title(text: str) -> tuple[str, str | None, int | None]:
    """'(FitNets) Fitnets Hints for Thin Deep Nets ICLR 2015' -> ('Fitnets Hints for Thin Deep Nets', 'ICLR', 2015)."""
    title = _squash(unicodedata.normalize("NFC", text))
    venue: str | None = None
    year: int | None = None
    m = _VENUE_YEAR_END.search(title)
    if m and m.start() > 0:
        venue, year = m.group("venue"), _year(m.group("year"))
        title = title[: m.start()]
    title = _SHORT_PREFIX.sub("", title, count=1)
    title = _TRAIL_PUNCT.sub("", _LEAD_PUNCT.sub("", title))
    return title.strip(), venue, year


def _year(text: str) -> int:
    y = int(text)
    return y + 2000 if y < 100 else y


def _entries(items: list[_Item], links: tuple[Link, ...]) -> list[Entry]:
    out: list[Entry] = []
    headings: dict[int, str] = {}
    for item in items:
        text = item.text()
        if item.level:
            # A heading with links is an entry (the seed's `### Title VENUE YEAR [[paper]](url)`);
            # without links it names a section.
            for deeper in [lvl for lvl in headings if lvl >= item.level]:
                del headings[deeper]
            if not item.links:
                headings[item.level] = text
                continue
        section = headings[max(headings)] if headings else ""
        entry = _entry(item, links, section)
        if entry is not None:
            out.append(entry)
    return out


def _entry(item: _Item, links: tuple[Link, ...], section: str) -> Entry | None:
    own = tuple(links[i] for i in item.links)
    if not own and item.tag not in ("li", "dt"):
        return None
    if own and all(lk.url.startswith("#") for lk in own):
        return None  # a table of contents line
    plain = item.plain()
    title_src = ""
    # `- [Title](url), Authors, Year`: a long, non-generic link text is the title.
    for lk in own:
        if len(lk.label.split()) >= 3 and not _GENERIC_LABEL.match(lk.label) and not lk.url.startswith("#"):
            if lk.label.rstrip("/") != lk.url.rstrip("/"):
                title_src = lk.label
                break
    if not title_src:
        title_src = _strip_leftovers(plain)
        # `Title. Authors. Venue`: the title is the first sentence when more follows.
        head, sep, rest = title_src.partition(". ")
        if sep and len(head.split()) >= 3 and rest.strip():
            title_src = head
    title, venue, year = split_title(title_src)
    if venue is None or year is None:
        v2, y2 = _venue_year_anywhere(item.text())
        venue, year = venue or v2, year or y2
    words = len(title.split())
    has_empty = any(lk.is_empty for lk in own)
    if words < 2 and not has_empty:
        return None
    if not own and not (venue or year):
        return None  # a list item without links is a paper only when it names where it appeared
    web = [lk for lk in own if not lk.is_empty]
    is_paper = words >= 3 and (has_empty or not web or not all(_NONPAPER_HOSTS.match(lk.url) for lk in web))
    return Entry(
        line=item.line, section=section, title=title, venue=venue, year=year, links=own,
        is_paper=is_paper, raw=item.text(),
    )


def _strip_leftovers(text: str) -> str:
    # Bracket pairs left empty once link texts are removed (`[[paper]](url)` leaves "[]").
    prev = None
    while prev != text:
        prev = text
        text = re.sub(r"\[\s*\]|\(\s*\)|【\s*】", " ", text)
    return _squash(text)


def _venue_year_anywhere(text: str) -> tuple[str | None, int | None]:
    for pattern in (_VENUE_YEAR_ANY, _YEAR_VENUE):
        found = list(pattern.finditer(text))
        if found:
            return found[-1].group("venue"), int(found[-1].group("year"))
    venue = next((m for m in _VENUE_ANY.finditer(text) if re.fullmatch(_VENUES, m.group("venue"))), None)
    years = _YEAR_ANY.findall(text)
    return (venue.group("venue") if venue else None), (int(years[-1]) if years else None)
