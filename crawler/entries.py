"""Paper entries from the parsed list's text blocks: title, venue, year, section. Pure.

parse.py turns Markdown into blocks (list items, headings, paragraphs, table rows) with their
links; this module decides which blocks are papers and what their titles are, for every list
style the corpus shows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from crawler.models import Entry, Link


@dataclass
class Item:
    """A block of text that may be a paper entry: a list item, heading, paragraph or table row."""

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
    return re.sub(r"\s+", " ", text.replace("\u00ad", "")).strip()


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
    title = squash(unicodedata.normalize("NFC", text))
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


def find_entries(items: list[Item], links: tuple[Link, ...]) -> list[Entry]:
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


def _entry(item: Item, links: tuple[Link, ...], section: str) -> Entry | None:
    own = tuple(links[i] for i in item.links)
    if not own and item.tag not in ("li", "dt"):
        return None
    if own and all(lk.url.startswith("#") for lk in own):
        return None  # a table of contents line
    plain = item.plain()
    title_src = ""
    # `- [Title](url), Authors, Year`: a long, non-generic link text is the title.
    for lk in own:
        if (len(lk.label.split()) >= 3 and not _GENERIC_LABEL.match(lk.label) and not lk.url.startswith("#")
                and lk.label.rstrip("/") != lk.url.rstrip("/")):
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
    return squash(text)


def _venue_year_anywhere(text: str) -> tuple[str | None, int | None]:
    for pattern in (_VENUE_YEAR_ANY, _YEAR_VENUE):
        found = list(pattern.finditer(text))
        if found:
            return found[-1].group("venue"), int(found[-1].group("year"))
    venue = next((m for m in _VENUE_ANY.finditer(text) if re.fullmatch(_VENUES, m.group("venue"))), None)
    years = _YEAR_ANY.findall(text)
    return (venue.group("venue") if venue else None), (int(years[-1]) if years else None)
