"""Paper entries from the parsed list's text blocks: title, venue, year, section, links. Pure.

parse.py turns Markdown into blocks (list items, headings, paragraphs, table rows, raw-HTML `<li>`)
with their links; this module decides which blocks are entries, which of them are papers, and
what their titles are, for every list style the corpus shows (`../shared/corpus/README.md`):

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
import unicodedata
from dataclasses import dataclass, field

from crawler.listfile.links import NO_EVIDENCE_URL, NOT_PAPER_URL, PAPER_URL
from crawler.models import Entry, Link


@dataclass
class Item:
    """A block of text that may be a paper entry: a list item, heading, paragraph or table row.

    `parts` keeps the pieces of text as the HTML tokenizer delivered them: a new piece starts at
    every tag, so a `<strong>Title</strong>Authors` item arrives as two pieces, and a table row's
    cells are separated by the newline pieces between `</td>` and `<td>`.
    """

    line: int
    tag: str
    level: int = 0  # heading level, 0 for others
    parts: list[tuple[str, int | None]] = field(default_factory=list)  # (text, link index or None)
    links: list[int] = field(default_factory=list)

    def text(self) -> str:
        return squash("".join(t for t, _ in self.parts))

    def plain(self) -> str:
        """Text outside links."""
        return squash("".join(t for t, i in self.parts if i is None))


def squash(text: str) -> str:
    # str.split() and re's \s agree on what whitespace is (Py_UNICODE_ISSPACE); split is 3x faster.
    return " ".join(text.replace("\u00ad", "").split())


# --- vocabulary -----------------------------------------------------------------------------------

_GENERIC_LABEL = re.compile(
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
_PAPER_LABEL = re.compile(r"^\W*(arxiv|paper|pdf|abs|abstract|openreview|proceedings|cvf|doi|article)(?![a-z])", re.I)
_VENUES = (
    "CVPR|ICCV|ECCV|WACV|BMVC|ACCV|NeurIPS|NIPS|NIPSW|ICML|ICLR|AAAI|IJCAI|ACL|EMNLP|NAACL|EACL|AACL|COLING|KDD|"
    "WWW|SIGIR|CIKM|WSDM|ICDM|SDM|TPAMI|PAMI|IJCV|TIP|TNNLS|TMM|TCSVT|JMLR|TOG|SIGGRAPH|ICASSP|"
    "Interspeech|INTERSPEECH|MICCAI|ICRA|IROS|CoRL|RSS|UAI|AISTATS|COLT|MM|ACMMM|ACM MM|ICME|ICIP|"
    "ICPR|CVPRW|ICCVW|ECCVW|ICLRW|ICMLW|NeurIPSW|TACL|MLSys|SysML|DAC|ISCA|MICRO|HPCA|FPGA|ICCAD|"
    "Nature|Science|PR|Neurocomputing|arXiv|ArXiv|Arxiv|OpenReview|TMLR|CoLLAs|3DV|ICPRAM|BigData|TKDE|"
    "IEEE Access|Access|Sensors|Neural Networks|ICLR Workshop|NIPS Workshop|PRL|TCYB|TIFS|TVCG|"
    "TOMM|TPDS|TC|TCAD|JSTSP|JSAC|TASLP|TGRS|TITS|TIE|TII|TIM|TMI|MedIA|RAL|RA-L|T-RO|TRO|IJRR|"
    "CHI|IVC|CSUR|TIST|UIST|ISMAR|IEEEVR|WACVW|CVIU|ICLR-W|NeurIPS-W|RecSys|CoRR|DATE|ICCV-W|CVPR-W"
)
_YEAR = r"(?:19|20)\d\d"
_VENUE_YEAR_END = re.compile(
    rf"[\s,.(\[]*\b(?P<venue>(?:{_VENUES})(?:[- ]?W(?:orkshops?)?)?)\s*['’]?(?P<year>(?:19|20)?\d\d)\b[)\].,\s]*$"
)
_YEAR_VENUE = re.compile(rf"\b(?P<year>{_YEAR})\s*(?P<venue>{_VENUES})\b")
_VENUE_YEAR_ANY = re.compile(rf"\b(?P<venue>{_VENUES})[\s,]*['’]?(?P<year>{_YEAR})\b(?!\.\d)")
# Alone (without a year beside it) only an acronym is trusted: "Neural Networks" may be the title.
_VENUE_ANY = re.compile(r"\b(?P<venue>[A-Z][A-Za-z]*[A-Z]+W?)\b")
_YEAR_ANY = re.compile(rf"(?<![\d.])(?P<year>{_YEAR})(?![\d.])")
# Acronyms that are venues only beside a year ("Welcome to PR the works").
_AMBIGUOUS = frozenset({"PR", "MM", "TC", "RSS", "WWW", "MICRO", "DAC", "TIE", "TIM", "CHI", "IVC", "SDM", "UAI"})
# "arXiv:1503.02531", "[arXiv 2011.07252]": the id's first four digits are year and month.
_ARXIV_ID = re.compile(r"\barx?i?v\s*[:：]?\s*(?P<yy>\d\d)(?P<mm>[01]\d)\.\d{4,5}", re.I)
# A link text or tag that is only a venue, possibly with a year: "ECCV", "CVPR19", "2024 TPAMI", "WACV2021".
_VENUE_TAG = re.compile(
    rf"^\W*(?:IEEE\s+|ACM\s+)?(?:(?P<venue>(?:{_VENUES})(?:[- ]?W(?:orkshops?)?)?)\s*['’]?(?P<year>(?:19|20)?\d\d)?"
    rf"|(?P<year2>{_YEAR})\s*(?P<venue2>(?:{_VENUES})(?:[- ]?W(?:orkshops?)?)?)?)\W*$"
)
_SHORT_PREFIX = re.compile(r"^\s*(\([^()]{1,40}\)(?=\s)|\[[^\[\]]{1,60}\]|【[^【】]{1,40}】)\s*(?=\S|$)")
_LEAD_NOISE = re.compile(r"^(?::[a-z0-9_+\-]+:|[\s•·*:：|,;–—\->✓✔★⭐☆])+")
_LEAD_PUNCT = re.compile(r"^[\s•·*:：|,;–—-]+")
_TRAIL_PUNCT = re.compile(r"[\s•·*:：|,;–—\[\](.-]+$")
_TRAIL_TAG = re.compile(r"\s*(\[[^\[\]]{0,40}\]|【[^【】]{0,40}】|[\"”]?>)\s*$")
_TRAIL_NOTE = re.compile(r"\s*\(([^()]{1,40})\)\s*$")
_NOTE_WORDS = re.compile(
    r"\b(oral|spotlight|poster|workshop|highlight|best|award|prize|honou?rable|distinguished|accepted|submitted|"
    r"review|published|preprint|survey|ISIE)\b", re.I)
_SHORTCODE = re.compile(r":[a-z0-9_+\-]+:")
_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "ft", "ﬆ": "st"})
# What a link's site says about its entry comes from the table of site rules (crawler.listfile.links.SITES):
# PAPER_URL (a paper and nothing else, or a PDF), NOT_PAPER_URL (code, videos, badges), NO_EVIDENCE_URL.
_PDF_URL = re.compile(r"\.pdf([?#]|$)", re.I)
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
# Column headers of paper tables.
_COL_TITLE = re.compile(r"^(paper\s*)?(title|name)s?$|^papers?$|^(model|method|approach|algorithm|work)s?$", re.I)
_COL_DATASET = re.compile(r"^datasets?$", re.I)
_COL_VENUE = re.compile(r"^(venue|published|publication|conference|conf|journal|where|pub)s?$", re.I)
_COL_YEAR = re.compile(r"^(year|date|time)s?$", re.I)
# "Müller, R., Kornblith" / "Hinton et al." / "Ba, J., & Caruana": what follows a title in a citation.
_AUTHORS_START = re.compile(r"^\W*(?:[A-ZÀ-Þ][^\s,.]*(?:\s+[A-ZÀ-Þ][^\s,.]*){0,2}\s*,\s*\S|[^.]{0,40}\bet\.?\s*al\b)")
_AUTHORS_ONLY = re.compile(r"^(?:[A-ZÀ-Þ][\w'’\-]+,\s*(?:[A-Z]\.\s*)+(?:,|&|and|\s)*)+")
_DANGLING = re.compile(
    r"(\b(on|or|and|of|the|to|for|with|in|at|by|a|an|from|see|via|please|read)|:|：|\bet\.?\s*al\.?(\s*\(\d{4}\))?)\s*$",
    re.I,
)
_ABBREVIATIONS = re.compile(r"(\bvs|\bet|\bal|\be\.g|\bi\.e|\bFig|\bNo|\bVol|\bcf|\b[A-Z])\.$")
# The smaller patterns, compiled once: looked up in re's cache on every call they cost ~1 µs each,
# about a fifth of the time per entry.
_WHOLE_BRACKET = re.compile(r"\[[^\[\]]*\]")
_TRAIL_SEPARATORS = re.compile(r"[\s\[,;:|–—-]+$")
_BRACKET_HEAD = re.compile(r"^\s*\[([^\[\]]+)\]")
_BRACKET_TITLE = re.compile(r"^\s*\[([^\[\]]+)\]\s*(,|$)")
_DATED_TAG = re.compile(rf"\s*(?:({_YEAR})[\s,]+(.+?)|(.+?)[\s,]+({_YEAR}))\s*")
_OUTER_BRACKET = re.compile(r"^[\[\]](?![^\[\]]*\])")
_YEAR_ONLY = re.compile(rf"\s*{_YEAR}\s*")
_SENTENCE_GAP = re.compile(r"(?<=[.?!])\s+")
_ET_AL = re.compile(r"^et\.?\s*al\b")
_WORD_CHAR = re.compile(r"\w")
_DIGIT = re.compile(r"\d")
_EMPTY_BRACKETS = re.compile(r"\[\s*\]|\(\s*\)|【\s*】")
_URL_START = re.compile(r"^(https?://|www\.)", re.I)
_VENUE_WORD = re.compile(rf"(?:{_VENUES})")
_LONE_YEAR = re.compile(rf"(?<![\d.\-]){_YEAR}(?![\d.\-])")
_SCOPE_SPLIT = re.compile(r"[\s/,&|()\[\]]+")
_YEAR_START = re.compile(rf"^\s*({_YEAR})\b")
_BRACKETED = re.compile(r"\[[^\[\]]*\]")
_NON_ALNUM = re.compile(r"[^a-z0-9]+")
_PAPER_TAG_TEXT = re.compile(r"\[\s*(pdf|paper|arxiv)\b[^\[\]]*\]", re.I)
# The end-anchored patterns are tried at every position of the text by `search`: a look at the last
# characters first (what any match would have to end with) spares most of those scans. `\s` is
# str.isspace and `\d` str.isdecimal, character for character.
_TRAIL_PUNCT_CHARS = frozenset("•·*:：|,;–—[](.-")
_TRAIL_SEPARATOR_CHARS = frozenset("[,;:|–—-")
_TAG_ENDS = frozenset({"]", "】", ">"})
_DANGLING_ENDS = frozenset("nrdfeohtyaml:.)")  # the last characters of _DANGLING's words and marks


def _dangles(text: str) -> bool:
    """_DANGLING.search(text), looked for only when the text ends with what a match ends with: a
    word's last letter, `:`, `.` or `)` (any other character, ASCII or not, is searched anyway)."""
    last = text.rstrip()[-1:]
    if not last:
        return False
    if last.isascii() and last.lower() not in _DANGLING_ENDS:
        return False
    return _DANGLING.search(text) is not None


def _may_end_in_year(text: str) -> bool:
    """False when _VENUE_YEAR_END cannot match: no digit before the trailing `)].,` and spaces."""
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] in ")].,"):
        end -= 1
    return end > 0 and text[end - 1].isdecimal()


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
        venue, year = venue or _venue_tag(tag)[0], year or _venue_tag(tag)[1]
    m = _VENUE_YEAR_END.search(title) if _may_end_in_year(title) else None
    if m and m.start() > 0 and venue is not None:
        m = None
    if m and m.start() > 0:
        venue, year = m.group("venue"), _year(m.group("year"))
        title = title[: m.start()]
    title = _LEAD_PUNCT.sub("", title)
    title = _SHORT_PREFIX.sub("", title, count=1)
    title = _LEAD_PUNCT.sub("", _strip_trailing_tags(title)[0])
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
        if m and (_NOTE_WORDS.search(m.group(1)) or _VENUE_TAG.match(m.group(1))):
            tags.append(m.group(1))
            stripped = stripped[: m.start()]
        if stripped.endswith(")") and stripped.count(")") > stripped.count("("):
            stripped = stripped[:-1].rstrip()
        if len(stripped.split()) >= 2:
            title = stripped
    return title, tags


def _year(text: str) -> int:
    y = int(text)
    return y + 2000 if y < 100 else y


@functools.lru_cache(maxsize=4096)  # pure, and asked of the same labels (`[paper]`, `[code]`) again and again
def _venue_tag(text: str) -> tuple[str | None, int | None]:
    """'ECCV' -> ('ECCV', None); 'CVPR19' -> ('CVPR', 2019); '2024 TPAMI' -> ('TPAMI', 2024); else from an arXiv id."""
    m = _VENUE_TAG.match(text.strip())
    if m and (m.group("venue") or m.group("year2")):
        venue = m.group("venue") or m.group("venue2")
        year = m.group("year") or m.group("year2")
        return venue, (_year(year) if year else None)
    a = _ARXIV_ID.search(text)
    if a and len(text.split()) <= 3:
        return "arXiv", 2000 + int(a.group("yy"))
    return None, None


def is_venue_label(label: str) -> bool:
    """`[ECCV]`, `NeurIPS 2021`, `[arXiv:2101.00001]`: a link text that names where the paper appeared."""
    return _venue_tag(label) != (None, None)


# --- items ----------------------------------------------------------------------------------------


@dataclass
class _Reading:
    """What an item's text says about the paper it names."""

    title: str = ""
    venue: str | None = None
    year: int | None = None
    title_link: Link | None = None  # the link whose text is the title (`[Title](url)`)
    from_column: bool = False  # title from a table's Model/Name column: a short name is fine there

    def add(self, venue: str | None, year: int | None) -> None:
        self.venue = self.venue or venue
        self.year = self.year or year


def _merge(parts: list[tuple[str, int | None]]) -> list[tuple[str, int | None]]:
    """Consecutive pieces of one link joined; text pieces kept apart (their seams are tag boundaries)."""
    out: list[tuple[str, int | None]] = []
    for text, idx in parts:
        if idx is not None and out and out[-1][1] == idx:
            out[-1] = (out[-1][0] + text, idx)
        else:
            out.append((text, idx))
    return out


def _read(parts: list[tuple[str, int | None]], links: tuple[Link, ...]) -> _Reading:
    reading = _Reading()
    segs = _merge(parts)
    # The leading text runs together for the tag patterns (`[**VoTr**] Title` arrives as "[", "VoTr", "] Title").
    run = next((k for k, (_, j) in enumerate(segs) if j is not None), len(segs))
    if run > 1:
        joined = "".join(t for t, _ in segs[:run])
        cut = len(joined) - len(_strip_lead(joined, _Reading()))
        pieces = []
        for t, _ in segs[:run]:
            take = min(cut, len(t))
            cut -= take
            if t[take:]:
                pieces.append((t[take:], None))
        segs = pieces + segs[run:]
    i = 0
    # 1. Leading noise: bullets, emoji, `[Abbr]` tags, venue tags and links that name a venue or a
    #    generic target (`[[ECCV](url)] Title`, `[\[arXiv:2206.04927\]](abs) Title`).
    while i < len(segs):
        text, idx = segs[i]
        if idx is None:
            rest = _strip_lead(text, reading)
            if rest.strip():
                segs[i] = (rest, None)
                break
            i += 1
            continue
        label = links[idx].label
        if not label.strip() or _GENERIC_LABEL.match(label) or is_venue_label(label):
            reading.add(*_venue_tag(label))
            i += 1
            continue
        if _bracketed(segs, i, parts) and len(label.split()) <= 10:
            reading.add(label.strip(), None)  # `[[Cognitive Neurodynamics](url)] Title`: a venue we do not know
            i += 1
            continue
        break
    if i >= len(segs):
        return reading
    text, idx = segs[i]
    if idx is not None and not _is_url(links[idx].label):
        # 2a. `[Title](url), Authors, Year` / `[TextBrewer][18.12]: An Open-Source … Toolkit`.
        link = links[idx]
        reading.title_link = link
        title_src = link.label
        after = _text_until_link(segs[i + 1:])
        if after.lstrip().startswith(":") and len(after.split()) >= 3:
            title_src = f"{link.label}: {_first_sentence([after.lstrip()[1:]])}"
        reading.title, venue, year = split_title(title_src)
        reading.add(venue, year)
        return reading
    if idx is None and _bracket_title(text):
        reading.title, venue, year = split_title(_BRACKET_HEAD.match(text).group(1))
        reading.add(venue, year)
        return reading
    # 2b. The text before the first link: `Title. Authors. Venue`, `<strong>Title</strong>Authors`.
    pre = []
    for text, idx in segs[i:]:
        if idx is not None:
            break
        pre.append(text)
    head = _first_sentence(pre)
    dangling = _dangles(head)
    if dangling or len(head.split()) < 2:
        # "… from Gou et al. (2020) [Knowledge Distillation Survey](url)": the link text is the title.
        named = next((links[j] for _, j in segs[i:] if j is not None and _title_like_label(links[j].label)), None)
        if named is not None and (dangling or not head.strip()):
            reading.title_link = named
            head = named.label
        elif dangling:
            head = ""
    if _AUTHORS_ONLY.match(head):
        head = ""  # `<strong></strong>Heo, B., Lee, M. (2019)`: no title written
    reading.title, venue, year = split_title(head)
    reading.add(venue, year)
    return reading


def _bracketed(segs: list[tuple[str, int | None]], i: int, parts: list[tuple[str, int | None]]) -> bool:
    """`[` link `]` followed by more text: the htqin form `- [[Venue](url)] Title.`"""
    if i == 0 or i + 1 >= len(segs) or segs[i - 1][1] is not None or segs[i + 1][1] is not None:
        return False
    before = next((t for t, j in parts if j is None and t.strip()), "")
    after = segs[i + 1][0]
    return before.strip() == "[" and after.lstrip().startswith("]") and len(after.split()) >= 3


def _strip_lead(text: str, reading: _Reading) -> str:
    """Leading bullets, emoji and `[Abbr]`/`[2024 TPAMI]`/`(FitNets)` tags; a venue tag gives venue and year."""
    while True:
        before = text
        text = _LEAD_NOISE.sub("", text)
        m = _SHORT_PREFIX.match(text)
        if m and not _bracket_title(text):
            tag = m.group(1)[1:-1]
            venue, year = _venue_tag(tag)
            dated = _DATED_TAG.fullmatch(tag)
            if venue is None and dated and m.group(1).startswith("["):
                # `[IEEE Communications Surveys & Tutorials 2019]`: a venue we do not know, and its year
                venue, year = (dated.group(2) or dated.group(3)).strip(), int(dated.group(1) or dated.group(4))
            reading.add(venue, year)
            text = text[m.end():]
        elif _OUTER_BRACKET.match(text):
            text = text[1:]  # the outer bracket of `[[ECCV](url)]`, not the start of a tag
        elif _YEAR_ONLY.fullmatch(text):
            reading.add(None, int(text))  # `\[2019 [RA-L](url)\]`: the year before a venue link
            text = ""
        if text == before:
            return text


def _bracket_title(text: str) -> bool:
    # `[A Comprehensive Survey on Knowledge Distillation], Amir M. Mansourian, …`: a link that never got
    # its URL; the bracket holds the title, not a tag.
    m = _BRACKET_TITLE.match(text)
    return bool(m and len(m.group(1).split()) >= 3)


def _text_until_link(segs: list[tuple[str, int | None]]) -> str:
    out = []
    for text, idx in segs:
        if idx is not None:
            break
        out.append(text)
    return "".join(out)


def _first_sentence(pieces: list[str]) -> str:
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
        if _AUTHORS_START.match(rest) or _venue_tag(rest.split(".")[0]) != (None, None):
            return head
    return _strip_leftovers(text)


def _strip_leftovers(text: str) -> str:
    # Bracket pairs left empty once link texts are removed (`[[paper]](url)` leaves "[]").
    prev = None
    while prev != text:
        prev = text
        text = _EMPTY_BRACKETS.sub(" ", text)
    return squash(text)


def _is_url(label: str) -> bool:
    return bool(_URL_START.match(label.strip()))


def _title_like_label(label: str) -> bool:
    return (len(label.split()) >= 2 and not _GENERIC_LABEL.match(label) and not is_venue_label(label)
            and not _is_url(label))


def _venue_year_anywhere(text: str) -> tuple[str | None, int | None]:
    dated = "19" in text or "20" in text  # what every pattern with a year needs: most texts are spared three scans
    for pattern in (_VENUE_YEAR_ANY, _YEAR_VENUE) if dated else ():
        found = list(pattern.finditer(text))
        if found:
            return found[-1].group("venue"), int(found[-1].group("year"))
    a = _ARXIV_ID.search(text)
    if a:
        return "arXiv", 2000 + int(a.group("yy"))
    venue = next((m for m in _VENUE_ANY.finditer(text)
                  if _VENUE_WORD.fullmatch(m.group("venue")) and m.group("venue") not in _AMBIGUOUS), None)
    years = _YEAR_ANY.findall(text) if dated else []
    return (venue.group("venue") if venue else None), (int(years[-1]) if years else None)


@functools.lru_cache(maxsize=1024)  # asked of every heading above every entry
def _scope_venue_year(text: str) -> tuple[str | None, int | None]:
    """What a heading or a bold line says for the entries under it: '2024 ECCV', 'FL on ICLR 2021', '2019'."""
    words = text.split()
    if not words or len(words) > 8:
        return None, None
    years = _LONE_YEAR.findall(text)
    venues = [w for w in _SCOPE_SPLIT.split(text) if w and _VENUE_WORD.fullmatch(w)]
    tagged = _venue_tag(text)
    venue = venues[0] if len(set(venues)) == 1 else tagged[0]
    year = int(years[0]) if len(years) == 1 else None
    return venue, year


# --- tables ---------------------------------------------------------------------------------------


def _cells(item: Item) -> list[list[tuple[str, int | None]]]:
    """A table row's cells: the tokenizer delivers the newline between `</td>` and `<td>` as its own piece."""
    cells: list[list[tuple[str, int | None]]] = []
    current: list[tuple[str, int | None]] | None = None
    for text, idx in item.parts:
        if idx is None and "\n" in text and not text.strip():
            if current is not None:
                cells.append(current)
            current = []
            continue
        if current is None:
            current = []
        current.append((text, idx))
    if current:
        cells.append(current)
    return cells


@dataclass
class _Table:
    header_line: int
    last_line: int
    roles: dict[str, int]  # role -> column


def _table_roles(item: Item) -> dict[str, int]:
    roles: dict[str, int] = {}
    for col, cell in enumerate(_cells(item)):
        name = squash("".join(t for t, _ in cell)).strip("*_ :")
        for role, pattern in (("title", _COL_TITLE), ("dataset", _COL_DATASET), ("venue", _COL_VENUE),
                              ("year", _COL_YEAR)):
            if role not in roles and pattern.match(name):
                roles[role] = col
    return roles


def _read_row(item: Item, links: tuple[Link, ...], table: _Table) -> _Reading:
    cells = _cells(item)
    col = table.roles.get("dataset", table.roles.get("title"))
    if col is None or col >= len(cells):
        return _read(item.parts, links)
    reading = _read(cells[col], links)
    reading.from_column = "dataset" not in table.roles
    for role in ("venue", "year"):
        c = table.roles.get(role)
        if c is None or c >= len(cells):
            continue
        text = squash("".join(t for t, _ in cells[c]))
        venue, year = _venue_tag(text)
        if role == "year":
            m = _YEAR_START.match(text)
            year = year or (int(m.group(1)) if m else None)
            venue = None
        elif venue is None and text.strip("-– ") and len(text.split()) <= 6 and not _DIGIT.search(text):
            venue = text  # "ACM Computing Surveys", "Springer Book": as written
        reading.add(venue, year)
    return reading


# --- entries --------------------------------------------------------------------------------------


@dataclass
class _Scope:
    """Where we are in the list: the headings above, a bold line acting as one, the current table."""

    headings: dict[int, str] = field(default_factory=dict)
    label: str = ""  # `**WACV**` under `### 2022`
    table: _Table | None = None
    last: Entry | None = None  # the previous item's entry (for author lines)
    last_tag: str = ""
    paper_levels: set[int] = field(default_factory=set)  # heading levels that hold papers (`#####`)

    @property
    def section(self) -> str:
        return self.headings[max(self.headings)] if self.headings else ""

    def heading(self, level: int, text: str) -> None:
        for deeper in [lvl for lvl in self.headings if lvl >= level]:
            del self.headings[deeper]
        self.headings[level] = text
        self.label = ""
        self.table = None

    def non_paper(self) -> bool:
        # `## Videos` covers its `### Talks`; `# Contents` only itself (lists put `## Papers` under it).
        deepest = max(self.headings, default=0)
        return any(_nonpaper_heading(h, inherited=lvl != deepest) for lvl, h in self.headings.items())

    def venue_year(self) -> tuple[str | None, int | None]:
        venue = year = None
        for text in [self.label, *(self.headings[lvl] for lvl in sorted(self.headings, reverse=True))]:
            v, y = _scope_venue_year(text)
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


def find_entries(items: list[Item], links: tuple[Link, ...]) -> list[Entry]:
    out: list[Entry] = []
    scope = _Scope()
    for item in items:
        if item.tag == "tr":
            table = scope.table
            if table is None or item.line not in (table.last_line + 1, table.header_line + 2):
                scope.table = _Table(item.line, item.line, _table_roles(item))
                if not item.links:
                    continue  # a header row
            else:
                table.last_line = item.line
        elif item.tag != "text":
            scope.table = None
        entry = _entry(item, links, scope)
        if item.level and entry is not None and entry.is_paper:
            scope.paper_levels.add(item.level)
        if item.level and (entry is None or not entry.is_paper):
            # A heading names a section unless it is itself a paper (the seed's
            # `### Title VENUE YEAR [[paper]](url)`); a link on it still belongs to an entry.
            parent = next((scope.headings[lvl] for lvl in sorted(scope.headings, reverse=True) if lvl < item.level), "")
            scope.heading(item.level, _LEAD_PUNCT.sub("", item.text()))
            if entry is not None:
                entry = dataclasses.replace(entry, section=parent)
        elif item.tag == "p" and _is_label(item, links):
            # `**WACV**`, `<strong>[IEEE ICKG 2020](url)</strong>`: a line standing in for a heading.
            scope.label = item.text()
            if entry is not None:
                entry = dataclasses.replace(entry, is_paper=False)
        if entry is not None:
            out.append(entry)
        scope.last, scope.last_tag = entry, item.tag
    return out


def _is_label(item: Item, links: tuple[Link, ...]) -> bool:
    text = item.text()
    if not item.links:
        short = len(text.split()) <= 3
    else:
        short = len(item.links) == 1 and links[item.links[0]].label == text and len(text.split()) <= 8
    return short and _scope_venue_year(text.rstrip(":")) != (None, None)


def _entry(item: Item, links: tuple[Link, ...], scope: _Scope) -> Entry | None:
    own = tuple(links[i] for i in item.links)
    # Without links only a list item, or a heading where the list writes one heading per paper
    # (`##### • Title.` among `##### • Title. [\[PDF\]](…)`), can be a paper.
    paper_heading = bool(item.level) and item.level in scope.paper_levels
    table = scope.table if item.tag == "tr" else None
    paper_row = table is not None and "title" in table.roles
    if not own and item.tag not in ("li", "dt") and not paper_heading and not paper_row:
        return None
    reading = _read_row(item, links, table) if table is not None else _read(item.parts, links)
    text = item.text()
    own_venue, own_year = reading.venue, reading.year
    if reading.venue is None or reading.year is None:
        reading.add(*_venue_year_anywhere(text))
    written = (reading.venue, reading.year) != (None, None)
    title = reading.title
    words = len(title.split())
    web = [lk for lk in own if lk.url.lower().startswith(("http://", "https://"))]
    paperish = [lk for lk in web if _PDF_URL.search(lk.url)
                or not (NOT_PAPER_URL.match(lk.url) or NO_EVIDENCE_URL.match(lk.url))]
    has_empty = any(lk.is_empty for lk in own)
    evidence = (
        has_empty
        or bool(paperish)
        or any(_PAPER_LABEL.match(lk.label) for lk in own)
        or written
        or (paper_heading and not own)
        or bool(_PAPER_TAG_TEXT.search(item.plain()))  # `[\[PDF\]]`, its URL missing
    )
    if not own and not (written or (paper_heading and words >= 3)):
        return None  # a list item without links is a paper only when it says where it appeared
    # A link that can only be a paper (an arXiv abs page, a CVF page, a PDF) outweighs the section's name:
    # `### FL open question & useful framework` holds papers, `## Datasets` holds a list of their papers.
    strong = any(PAPER_URL.search(lk.url) or (_PAPER_LABEL.match(lk.label) and not NOT_PAPER_URL.match(lk.url))
                 for lk in web) or any(lk.is_empty and _PAPER_LABEL.match(lk.label) for lk in own)  # `[paper]()`
    why_not = _why_not_a_paper(item, own, web, reading, scope, table, words=words, has_empty=has_empty,
                               evidence=evidence, strong=strong, paper_heading=paper_heading,
                               own_venue=own_venue, own_year=own_year)
    is_paper = why_not is None
    if not title and not has_empty and not own:
        return None
    if is_paper:
        reading.add(*scope.venue_year())  # `### 2024` / `### [NAACL 2021](…)` / `**WACV**` above it
    return Entry(
        line=item.line, section=scope.section, title=title, venue=reading.venue, year=reading.year, links=own,
        is_paper=is_paper, raw=text, why_not_paper=why_not,
    )


def _why_not_a_paper(item: Item, own: tuple[Link, ...], web: list[Link], reading: _Reading, scope: _Scope,
                     table: _Table | None, *, words: int, has_empty: bool, evidence: bool, strong: bool,
                     paper_heading: bool, own_venue: str | None, own_year: int | None) -> str | None:
    """Why a block is not a paper entry, in words a maintainer can act on; None when it is one."""
    if not (words >= 2 or (words == 1 and (reading.from_column or reading.title_link is not None)) or has_empty
            or (words == 0 and strong and item.tag == "li")):
        return "no title"
    if not evidence:
        return "nothing says it is a paper: no paper link, venue or year"
    if scope.non_paper() and not (strong and words >= 3):
        return f"in a section that does not hold papers ({scope.section})"
    if own and not web and not has_empty:
        return "only in-page or relative links (a table of contents)"
    if (reading.title_link is not None and NOT_PAPER_URL.match(reading.title_link.url)
            and not _PDF_URL.search(reading.title_link.url)):
        return "its title links to code, a video or a site that is not a paper"  # `- [Repo name](github)`
    if _byline(item, own, scope):
        return "a line of authors under a paper"
    if table is not None and "dataset" in table.roles:
        return "a row of a table of datasets"
    if item.level and not paper_heading and not _heading_is_paper(own, reading, own_venue, own_year):
        return "a section heading"
    return None


def _heading_is_paper(own: tuple[Link, ...], reading: _Reading, venue: str | None, year: int | None) -> bool:
    # A heading is a paper when it reads like one: a title of some length and a paper-like link
    # (`[[paper]](…)`, `[\[PDF\]](…)`, an empty link) or a venue written beside it. `### [NAACL 2021](url)`,
    # `#### [1] [HANDS19 Challenge](url)` and `# Read [Online Version](url)` are sections.
    if len(reading.title.split()) < 3:
        return False
    return any(lk.is_empty or _PAPER_LABEL.match(lk.label) or _GENERIC_LABEL.match(lk.label) for lk in own) or (
        (venue is not None or year is not None) and reading.title_link is None)


def _byline(item: Item, own: tuple[Link, ...], scope: _Scope) -> bool:
    # The `_Authors_` line under a heading-per-paper entry, or the author paragraph under a bold
    # title: `[Nie Lin*](https://…), [Ming Li](), …`. Its empty links are authors', not the paper's.
    if item.tag != "p" or scope.last is None or not scope.last.is_paper or scope.last_tag not in (
            "h1", "h2", "h3", "h4", "h5", "h6", "p"):
        return False
    return not any(_PAPER_LABEL.match(lk.label) or _GENERIC_LABEL.match(lk.label) for lk in own if lk.label)
