"""A paper's title out of the text lists write around it, and what a link's text says. Pure.

`(FitNets) Fitnets Hints for Thin Deep Nets ICLR 2015 [code]` holds the title between a tag, a venue and a
label; `Title. Authors. Venue` holds it in its first sentence. A link's text is a title (`[Title](url)`),
a generic target (`[paper]`, `[code]`), or a venue (`[ECCV]`, crawler.listfile.venues).
"""

from __future__ import annotations

import re
import unicodedata

from crawler.listfile.venues import as_year, is_venue_label, is_venue_tag, venue_tag, venue_year_at_end

# -- what a link's text says ------------------------------------------------------------------------
GENERIC_LABEL = re.compile(
    r"^\W*(arxiv|paper|pdf|code|project|page|website|web|homepage|github|slides?|video|blog|poster|"
    r"supp(lementary)?|data(set)?|demo|link|html|abs|abstract|doi|bib(tex)?|openreview|official|"
    r"pytorch|tensorflow|caffe|keras|jax|mxnet|matlab|unofficial|talk|youtube|tweet|model|models|"
    r"torch|tf|notes?|review|reviews|proceedings|cvf|ieee|acm|springer|download|here|source|article|"
    r"huggingface|colab|zhihu|知乎|中文|reddit|twitter|medium|weights|checkpoints?)"
    r"([\s_-]*(paper|code|pdf|version|page|implementation|link|repo|v\d+|tobe[\s_-]*updated?|"
    r"pytorch|tensorflow|keras|caffe|official|unofficial))*\W*$",
    re.I,
)
# Labels a reader takes for "the paper itself" (evidence that an item is a paper).
PAPER_LABEL = re.compile(r"^\W*(arxiv|paper|pdf|abs|abstract|openreview|proceedings|cvf|doi|article)(?![a-z])", re.I)
_URL_START = re.compile(r"^(https?://|www\.)", re.I)


def is_url(label: str) -> bool:
    return bool(_URL_START.match(label.strip()))


def title_like_label(label: str) -> bool:
    """A link text of two words or more that is no generic target, venue or URL: likely a title."""
    return (len(label.split()) >= 2 and not GENERIC_LABEL.match(label) and not is_venue_label(label)
            and not is_url(label))


# -- the title's edges ------------------------------------------------------------------------------
SHORT_PREFIX = re.compile(r"^\s*(\([^()]{1,40}\)(?=\s)|\[[^\[\]]{1,60}\]|【[^【】]{1,40}】)\s*(?=\S|$)")
LEAD_PUNCT = re.compile(r"^[\s•·*:：|,;–—-]+")
_TRAIL_PUNCT = re.compile(r"[\s•·*:：|,;–—\[\](.-]+$")
_TRAIL_TAG = re.compile(r"\s*(\[[^\[\]]{0,40}\]|【[^【】]{0,40}】|[\"”]?>)\s*$")
_TRAIL_NOTE = re.compile(r"\s*\(([^()]{1,40})\)\s*$")
_NOTE_WORDS = re.compile(
    r"\b(oral|spotlight|poster|workshop|highlight|best|award|prize|honou?rable|distinguished|accepted|submitted|"
    r"review|published|preprint|survey|ISIE)\b", re.I)
_SHORTCODE = re.compile(r":[a-z0-9_+\-]+:")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st"})
_WHOLE_BRACKET = re.compile(r"\[[^\[\]]*\]")
_TRAIL_SEPARATORS = re.compile(r"[\s\[,;:|–—-]+$")
# The end-anchored patterns are tried at every position of the text by `search`: a look at the last
# characters first (what any match would have to end with) spares most of those scans. `\s` is
# str.isspace, character for character.
_TRAIL_PUNCT_CHARS = frozenset("•·*:：|,;–—[](.-")
_TRAIL_SEPARATOR_CHARS = frozenset("[,;:|–—-")
_TAG_ENDS = frozenset({"]", "】", ">"})


def squash(text: str) -> str:
    # str.split() and re's \s agree on what whitespace is (Py_UNICODE_ISSPACE); split is 3x faster.
    return " ".join(text.replace("\u00ad", "").split())


def split_title(text: str) -> tuple[str, str | None, int | None]:
    """'(FitNets) Fitnets Hints for Thin Deep Nets ICLR 2015' -> ('Fitnets Hints for Thin Deep Nets', 'ICLR', 2015)."""
    if not text.isascii():  # NFC and the ligature table leave ASCII as it is
        text = unicodedata.normalize("NFC", text).translate(_LIGATURES)
    title = squash(text)
    title = squash(_SHORTCODE.sub(" ", title))
    venue: str | None = None
    year: int | None = None
    if _WHOLE_BRACKET.fullmatch(title):
        title = title[1:-1].strip()  # a whole label in brackets: `[back to top]`
    title, tags = _strip_trailing_tags(title)
    for tag in tags:  # "… CTR Prediction[RecSys 22]"
        venue, year = venue or venue_tag(tag)[0], year or venue_tag(tag)[1]
    m = venue_year_at_end(title)
    if m and m.start() > 0 and venue is not None:
        m = None
    if m and m.start() > 0:
        venue, year = m.group("venue"), as_year(m.group("year"))
        title = title[: m.start()]
    title = LEAD_PUNCT.sub("", title)
    title = SHORT_PREFIX.sub("", title, count=1)
    title = LEAD_PUNCT.sub("", _strip_trailing_tags(title)[0])
    if title and (title[-1].isspace() or title[-1] in _TRAIL_PUNCT_CHARS):
        title = _TRAIL_PUNCT.sub("", title)
    if title.endswith(".") and not title.endswith(".."):
        title = title[:-1].rstrip()
    return title.strip(), venue, year


def _strip_trailing_tags(title: str) -> tuple[str, list[str]]:
    # "… Data [workshop]", "… Transformers [721⭐]", "… Windows (Marr Prize)", "(oral) )", the `">` of a
    # broken raw-HTML attribute.
    prev = None
    tags = []
    while prev != title:
        prev = title
        stripped = title
        if stripped and (stripped[-1].isspace() or stripped[-1] in _TRAIL_SEPARATOR_CHARS):
            stripped = _TRAIL_SEPARATORS.sub("", stripped)
        t = _TRAIL_TAG.search(stripped) if stripped.rstrip()[-1:] in _TAG_ENDS else None
        if t:
            tags.append(t.group(1).strip("[]【】"))
            stripped = stripped[: t.start()]
        m = _TRAIL_NOTE.search(stripped) if stripped.rstrip()[-1:] == ")" else None
        if m and (_NOTE_WORDS.search(m.group(1)) or is_venue_tag(m.group(1))):
            tags.append(m.group(1))
            stripped = stripped[: m.start()]
        if stripped.endswith(")") and stripped.count(")") > stripped.count("("):
            stripped = stripped[:-1].rstrip()
        if len(stripped.split()) >= 2:
            title = stripped
    return title, tags


# -- the first sentence -----------------------------------------------------------------------------
# "Müller, R., Kornblith" / "Hinton et al." / "Ba, J., & Caruana": what follows a title in a citation.
_AUTHORS_START = re.compile(r"^\W*(?:[A-ZÀ-Þ][^\s,.]*(?:\s+[A-ZÀ-Þ][^\s,.]*){0,2}\s*,\s*\S|[^.]{0,40}\bet\.?\s*al\b)")
_AUTHORS_ONLY = re.compile(r"^(?:[A-ZÀ-Þ][\w'’\-]+,\s*(?:[A-Z]\.\s*)+(?:,|&|and|\s)*)+")
_DANGLING = re.compile(
    r"(\b(on|or|and|of|the|to|for|with|in|at|by|a|an|from|see|via|please|read)|:|：|\bet\.?\s*al\.?(\s*\(\d{4}\))?)\s*$",
    re.I,
)
_DANGLING_ENDS = frozenset("nrdfeohtyaml:.)")  # the last characters of _DANGLING's words and marks
_ABBREVIATIONS = re.compile(r"(\bvs|\bet|\bal|\be\.g|\bi\.e|\bFig|\bNo|\bVol|\bcf|\b[A-Z])\.$")
_SENTENCE_GAP = re.compile(r"(?<=[.?!])\s+")
_ET_AL = re.compile(r"^et\.?\s*al\b")
_WORD_CHAR = re.compile(r"\w")
_EMPTY_BRACKETS = re.compile(r"\[\s*\]|\(\s*\)|【\s*】")


def dangles(text: str) -> bool:
    """The text ends on a word that wants more (`… from`, `see:`, `Hinton et al.`): a title it is not.

    _DANGLING is searched only when the text ends with what a match ends with: a word's last letter, `:`,
    `.` or `)` (any other character, ASCII or not, is searched anyway)."""
    last = text.rstrip()[-1:]
    if not last:
        return False
    if last.isascii() and last.lower() not in _DANGLING_ENDS:
        return False
    return _DANGLING.search(text) is not None


def is_author_list(text: str) -> bool:
    """`Heo, B., Lee, M. (2019)`: names and initials, no title."""
    return _AUTHORS_ONLY.match(text) is not None


def first_sentence(pieces: list[str]) -> str:
    """The title out of `Title. Authors. Venue`; the pieces' seams are tag boundaries (`</strong>`)."""
    text = "".join(pieces)
    cuts: list[tuple[int, str]] = []
    pos = 0
    for a, b in zip(pieces, pieces[1:], strict=False):
        pos += len(a)
        if a.strip() and b.strip():
            end = a.rstrip()[-1]
            glued = not a[-1].isspace() and not b[0].isspace() and b.lstrip()[0].isupper()
            if end in ".?!" or glued:
                cuts.append((pos, end if end in ".?!" else ""))
    for m in _SENTENCE_GAP.finditer(text):
        cuts.append((m.start(), text[m.start() - 1]))
    for cut, mark in sorted(set(cuts)):
        head, rest = text[:cut].strip(), _strip_leftovers(text[cut:])
        if _ET_AL.match(rest):
            continue  # "from Gou. et. al. (2020)": a name, not the end of a title
        if len(head.replace("[", " ").split()) < 2 or not _WORD_CHAR.search(rest):
            continue
        if mark == "." and not _ABBREVIATIONS.search(head):
            return head
        if _AUTHORS_START.match(rest) or is_venue_label(rest.split(".")[0]):
            return head
    return _strip_leftovers(text)


def _strip_leftovers(text: str) -> str:
    # Bracket pairs left empty once link texts are removed (`[[paper]](url)` leaves "[]").
    prev = None
    while prev != text:
        prev = text
        text = _EMPTY_BRACKETS.sub(" ", text)
    return squash(text)
