"""Reading the venue sites' HTML: pure helpers, no I/O.

Documents (with the bare `<` sites fail to escape kept as text), an element's text and prose, the
elements these sites' lists are built of, author names, and a paper page's title and `citation_*` meta
tags: the tags Google Scholar asks publishers for, which every venue site writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urljoin

import lxml.etree
import lxml.html
import lxml.html.defs

# Markup these sites write. A `<` that starts none of it is text the site failed to escape: its abstracts
# are pasted in raw (PMLR's Jekyll `{{ page.abstract }}`, NeurIPS' templates), so `$W<d$`, `a<b and c>d`
# and `<human, action, object>` reach the page as they were typed.
_TAG_NAMES = frozenset(lxml.html.defs.tags | lxml.html.defs.html5_tags) | {
    "main", "template", "picture", "dialog", "slot", "data", "search", "frame", "noframes", "bdi", "nobr",
    "path", "g", "circle", "rect", "line", "polyline", "polygon", "use", "symbol", "defs", "text", "tspan",
    "mi", "mo", "mn", "mrow", "msub", "msup", "msubsup", "mfrac", "msqrt", "mtext", "semantics", "annotation",
}
# An attribute without a value must be one HTML has: in `a<b and c>d`, "and" and "c" are words.
_VALUELESS = frozenset(lxml.html.defs.safe_attrs | lxml.html.defs.event_attrs | lxml.html.defs.link_attrs) | {
    "async", "defer", "autofocus", "autoplay", "controls", "default", "formnovalidate", "hidden", "inert",
    "itemscope", "loop", "muted", "nomodule", "novalidate", "open", "playsinline", "required", "reversed",
    "allowfullscreen", "crossorigin", "download", "integrity",
}
_ATTR = r"""[^\s"'<>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?"""
_MARKUP = re.compile(
    r"<(?:!--.*?-->|![^>]*>|\?[^>]*>"  # comments, doctypes, processing instructions
    r"|(?P<raw>script|style)\b[^>]*>.*?</(?P=raw)\s*>"  # their text is not HTML
    rf"|/?(?P<name>[A-Za-z][A-Za-z0-9-]*)(?P<attrs>(?:\s+{_ATTR})*)\s*/?>)"
    r"|<",
    re.DOTALL | re.IGNORECASE,
)
_ATTR_NAME = re.compile(rf"\s+(?P<attr>{_ATTR})")
# Where an abstract's text ends at the latest: the page's headings, buttons and navigation are never part of it.
_CHROME = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "button", "nav", "header", "footer", "form", "hr",
                     "script", "style", "noscript"})


def _is_markup(m: re.Match[str]) -> bool:
    if m["name"] is None:
        return m.group(0) != "<"  # a comment, doctype, script or style; a lone "<" is text
    if m["name"].lower() not in _TAG_NAMES:
        return False  # <projektor>, <human, ...>
    for a in _ATTR_NAME.finditer(m["attrs"] or ""):
        name = a["attr"].split("=", 1)[0].strip().lower()
        if "=" not in a["attr"] and name not in _VALUELESS and not name.startswith(("data-", "aria-")):
            return False
    return True


def recover(html: str) -> str:
    """`html` with every `<` that starts no markup written as `&lt;`, so a parser keeps it as text.

    A browser takes `<d$. Our main result ...>` for a tag and hides the words up to the next `>`; libxml2
    goes further and may leave the element open, so the page's chrome ("Cite this Paper", "Download PDF")
    reads as part of the abstract. What the author typed is the text.
    """
    return _MARKUP.sub(lambda m: m.group(0) if _is_markup(m) else "&lt;" + m.group(0)[1:], html)


def doc(html: str) -> lxml.html.HtmlElement | None:
    """The parsed document (bare `<` in text kept as text: `recover`), or None for an empty or unparsable page."""
    if not html or not html.strip():
        return None
    html = recover(html)
    try:
        return lxml.html.document_fromstring(html)
    except ValueError:  # lxml refuses str with an <?xml encoding=…?> declaration
        try:
            return lxml.html.document_fromstring(html.encode("utf-8"))
        except (lxml.etree.ParserError, ValueError):
            return None
    except lxml.etree.ParserError:
        return None


def text(el: lxml.html.HtmlElement | None) -> str:
    """An element's text with whitespace (no-break spaces included) collapsed."""
    return " ".join(el.text_content().split()) if el is not None else ""


def prose(el: lxml.html.HtmlElement | None) -> str:
    """A block of prose (an abstract): its text up to the first heading, button or navigation inside it.

    However a page is broken, what follows an abstract on it (a "Cite this Paper" heading, "Copy to
    Clipboard" buttons) is never read as part of it.
    """
    if el is None:
        return ""
    parts: list[str] = []

    def walk(node: lxml.html.HtmlElement) -> bool:
        parts.append(node.text or "")
        for child in node:
            if isinstance(child.tag, str) and (child.tag.lower() in _CHROME or not walk(child)):
                return False
            parts.append(child.tail or "")
        return True

    walk(el)
    return " ".join("".join(parts).split())


def absolute(base: str, href: str | None) -> str | None:
    """A URL the page gives (`ioffe15.pdf`, `/content/...`, `//host/...`) resolved against the page's URL."""
    href = (href or "").strip()
    return urljoin(base, href) if href else None


def meta_url(page: lxml.html.HtmlElement, name: str, base: str) -> str | None:
    """The first `<meta name=…>` URL of that name, absolute: older PMLR pages say `citation_pdf_url` `ioffe15.pdf`."""
    found = metas(page, name)
    return absolute(base, found[0]) if found else None


def by_id(page: lxml.html.HtmlElement, ident: str) -> lxml.html.HtmlElement | None:
    """The element with `id=ident`, or None."""
    found = page.xpath("//*[@id=$ident]", ident=ident)
    return found[0] if found else None


def metas(page: lxml.html.HtmlElement, name: str) -> list[str]:
    """The non-empty contents of every `<meta name=…>` tag of that name, in page order."""
    values = page.xpath("//meta[@name=$name]/@content", name=name)
    return [" ".join(v.split()) for v in values if v.strip()]


def meta_year(page: lxml.html.HtmlElement, *names: str) -> int | None:
    """The year the first of the `names` meta tags present starts with ('2019/06/16' -> 2019), or None."""
    for name in names:
        dates = metas(page, name)
        if dates:
            return int(dates[0][:4]) if dates[0][:4].isdigit() else None
    return None


def _letters(title: str) -> str:
    return "".join(c for c in title.casefold() if c.isalnum())


def better_title(meta: str, visible: str) -> str:
    """The paper's title from its `citation_title` and the title the page shows (its heading).

    The meta wins unless it is broken: cut short (`content="Double Nystr\\" om Method"` ends the attribute
    at the quote), or carrying TeX escapes the heading has rendered (`Nystr\\"om` for Nyström), while the
    heading starts the way the meta does: so a heading that is the site's name never wins.
    """
    if not meta or not visible:
        return meta or visible
    head = meta.split("\\", 1)[0]
    agrees = bool(_letters(head)) and _letters(visible).startswith(_letters(head))
    cut_short = len(_letters(visible)) > len(_letters(meta)) and _letters(visible).startswith(_letters(meta))
    escaped = "\\" in meta and "\\" not in visible
    return visible if agrees and (cut_short or escaped) else meta


@dataclass(frozen=True)
class PaperPage:
    """A paper page: its document, its title, and what its `citation_*` meta tags say."""

    tree: lxml.html.HtmlElement
    title: str
    url: str

    def metas(self, name: str) -> list[str]:
        return metas(self.tree, name)

    @property
    def authors(self) -> tuple[str, ...]:
        """The `citation_author` tags, "Vaswani, Ashish" -> "Ashish Vaswani"."""
        return tuple(flip(a) for a in metas(self.tree, "citation_author"))

    def year(self, *names: str) -> int | None:
        """The year the first date tag present starts with (`citation_publication_date` unless named)."""
        return meta_year(self.tree, *(names or ("citation_publication_date",)))

    @property
    def pdf_url(self) -> str | None:
        return meta_url(self.tree, "citation_pdf_url", self.url)


def paper_page(html: str, url: str, title_xpath: str, what: str) -> PaperPage:
    """A paper page, titled by its `citation_title`, or by the text at `title_xpath` where the meta is broken or
    missing (`better_title`).

    Raises ValueError for an empty page or one without a title: not `what` ("a CVF paper page").
    """
    tree = doc(html)
    if tree is None:
        raise ValueError(f"empty page at {url}")
    titles = metas(tree, "citation_title")
    title = better_title(titles[0] if titles else "", text(next(iter(tree.xpath(title_xpath)), None)))
    if not title:
        raise ValueError(f"not {what} (no title) at {url}")
    return PaperPage(tree, title, url)


def flip(name: str) -> str:
    """'Vaswani, Ashish' -> 'Ashish Vaswani'; a name without a comma is kept."""
    last, sep, first = name.partition(",")
    return f"{first.strip()} {last.strip()}" if sep and first.strip() else name.strip()


def split_names(line: str) -> tuple[str, ...]:
    """'A. Author, B. Author' (commas, no-break spaces, a trailing ';') -> ('A. Author', 'B. Author')."""
    return tuple(n for n in (" ".join(part.split()).strip(" ;") for part in line.split(",")) if n)


def has_class(name: str) -> str:
    """An XPath predicate body: the element has CSS class `name`."""
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def dds_after(dt: lxml.html.HtmlElement) -> list[lxml.html.HtmlElement]:
    """The `<dd>`s that follow a `<dt>` up to the next `<dt>`: one paper's lines in CVF-style lists."""
    dds: list[lxml.html.HtmlElement] = []
    for sib in dt.itersiblings():
        if not isinstance(sib.tag, str):  # comments, processing instructions
            continue
        if sib.tag == "dt":
            break
        if sib.tag == "dd":
            dds.append(sib)
    return dds
