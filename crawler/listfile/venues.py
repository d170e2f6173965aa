"""Where and when a paper appeared, as lists write it: venue acronyms, years, arXiv ids. Pure.

`ICLR 2015`, `CVPR'19`, `2024 TPAMI`, `[arXiv:1503.02531]`, a heading `### 2022` or `**WACV**` above the
entries: each reader here returns (venue, year), either of them None when the text does not say.
"""

from __future__ import annotations

import functools
import re

VENUES = (
    "CVPR|ICCV|ECCV|WACV|BMVC|ACCV|NeurIPS|NIPS|NIPSW|ICML|ICLR|AAAI|IJCAI|ACL|EMNLP|NAACL|EACL|AACL|COLING|KDD|"
    "WWW|SIGIR|CIKM|WSDM|ICDM|SDM|TPAMI|PAMI|IJCV|TIP|TNNLS|TMM|TCSVT|JMLR|TOG|SIGGRAPH|ICASSP|"
    "Interspeech|INTERSPEECH|MICCAI|ICRA|IROS|CoRL|RSS|UAI|AISTATS|COLT|MM|ACMMM|ACM MM|ICME|ICIP|"
    "ICPR|CVPRW|ICCVW|ECCVW|ICLRW|ICMLW|NeurIPSW|TACL|MLSys|SysML|DAC|ISCA|MICRO|HPCA|FPGA|ICCAD|"
    "Nature|Science|PR|Neurocomputing|arXiv|ArXiv|Arxiv|OpenReview|TMLR|CoLLAs|3DV|ICPRAM|BigData|TKDE|"
    "IEEE Access|Access|Sensors|Neural Networks|ICLR Workshop|NIPS Workshop|PRL|TCYB|TIFS|TVCG|"
    "TOMM|TPDS|TC|TCAD|JSTSP|JSAC|TASLP|TGRS|TITS|TIE|TII|TIM|TMI|MedIA|RAL|RA-L|T-RO|TRO|IJRR|"
    "CHI|IVC|CSUR|TIST|UIST|ISMAR|IEEEVR|WACVW|CVIU|ICLR-W|NeurIPS-W|RecSys|CoRR|DATE|ICCV-W|CVPR-W"
)
YEAR = r"(?:19|20)\d\d"
_VENUE_YEAR_END = re.compile(
    rf"[\s,.(\[]*\b(?P<venue>(?:{VENUES})(?:[- ]?W(?:orkshops?)?)?)\s*['’]?(?P<year>(?:19|20)?\d\d)\b[)\].,\s]*$"
)
_YEAR_VENUE = re.compile(rf"\b(?P<year>{YEAR})\s*(?P<venue>{VENUES})\b")
_VENUE_YEAR_ANY = re.compile(rf"\b(?P<venue>{VENUES})[\s,]*['’]?(?P<year>{YEAR})\b(?!\.\d)")
# Alone (without a year beside it) only an acronym is trusted: "Neural Networks" may be the title.
_VENUE_ANY = re.compile(r"\b(?P<venue>[A-Z][A-Za-z]*[A-Z]+W?)\b")
_YEAR_ANY = re.compile(rf"(?<![\d.])(?P<year>{YEAR})(?![\d.])")
# Acronyms that are venues only beside a year ("Welcome to PR the works").
_AMBIGUOUS = frozenset({"PR", "MM", "TC", "RSS", "WWW", "MICRO", "DAC", "TIE", "TIM", "CHI", "IVC", "SDM", "UAI"})
# "arXiv:1503.02531", "[arXiv 2011.07252]": the id's first four digits are year and month.
_ARXIV_ID = re.compile(r"\barx?i?v\s*[:：]?\s*(?P<yy>\d\d)(?P<mm>[01]\d)\.\d{4,5}", re.I)
# A link text or tag that is only a venue, possibly with a year: "ECCV", "CVPR19", "2024 TPAMI", "WACV2021".
_VENUE_TAG = re.compile(
    rf"^\W*(?:IEEE\s+|ACM\s+)?(?:(?P<venue>(?:{VENUES})(?:[- ]?W(?:orkshops?)?)?)\s*['’]?(?P<year>(?:19|20)?\d\d)?"
    rf"|(?P<year2>{YEAR})\s*(?P<venue2>(?:{VENUES})(?:[- ]?W(?:orkshops?)?)?)?)\W*$"
)
# `[IEEE Communications Surveys & Tutorials 2019]`: a year beside words that may name a venue we do not know.
_DATED_TAG = re.compile(rf"\s*(?:({YEAR})[\s,]+(.+?)|(.+?)[\s,]+({YEAR}))\s*")
# A heading's words, each looked up as a venue; a year alone in it (`2019`, not `2019.05` or `2019-2020`).
_SCOPE_SPLIT = re.compile(r"[\s/,&|()\[\]]+")
_VENUE_WORD = re.compile(rf"(?:{VENUES})")
_LONE_YEAR = re.compile(rf"(?<![\d.\-]){YEAR}(?![\d.\-])")
_YEAR_START = re.compile(rf"^\s*({YEAR})\b")  # a Year column: `2019.05`, `2019, Oral`


def as_year(text: str) -> int:
    """'2019' -> 2019; '19' -> 2019."""
    y = int(text)
    return y + 2000 if y < 100 else y


def _may_end_in_year(text: str) -> bool:
    """False when _VENUE_YEAR_END cannot match: no digit before the trailing `)].,` and spaces."""
    end = len(text)
    while end and (text[end - 1].isspace() or text[end - 1] in ")].,"):
        end -= 1
    return end > 0 and text[end - 1].isdecimal()


def venue_year_at_end(text: str) -> re.Match | None:
    """`… Thin Deep Nets ICLR 2015`, `… (CVPR'19).`: a venue and a year ending the text (groups venue, year).

    The pattern is end-anchored, so `search` tries it at every position: the look at the last characters
    first spares most of those scans."""
    return _VENUE_YEAR_END.search(text) if _may_end_in_year(text) else None


@functools.lru_cache(maxsize=4096)  # pure, and asked of the same labels (`[paper]`, `[code]`) again and again
def venue_tag(text: str) -> tuple[str | None, int | None]:
    """'ECCV' -> ('ECCV', None); 'CVPR19' -> ('CVPR', 2019); '2024 TPAMI' -> ('TPAMI', 2024); else from an arXiv id."""
    m = _VENUE_TAG.match(text.strip())
    if m and (m.group("venue") or m.group("year2")):
        venue = m.group("venue") or m.group("venue2")
        year = m.group("year") or m.group("year2")
        return venue, (as_year(year) if year else None)
    a = _ARXIV_ID.search(text)
    if a and len(text.split()) <= 3:
        return "arXiv", 2000 + int(a.group("yy"))
    return None, None


def is_venue_label(label: str) -> bool:
    """`[ECCV]`, `NeurIPS 2021`, `[arXiv:2101.00001]`: a link text that names where the paper appeared."""
    return venue_tag(label) != (None, None)


def is_venue_tag(text: str) -> bool:
    """The text is a venue, possibly with a year, and nothing else (`(CVPR 2019)`; not an arXiv id)."""
    return _VENUE_TAG.match(text) is not None


def dated_tag(tag: str) -> tuple[str, int] | None:
    """`IEEE Communications Surveys & Tutorials 2019` -> (those words, 2019): a year and what stands beside it."""
    dated = _DATED_TAG.fullmatch(tag)
    if dated is None:
        return None
    return (dated.group(2) or dated.group(3)).strip(), int(dated.group(1) or dated.group(4))


def venue_year_anywhere(text: str) -> tuple[str | None, int | None]:
    """The last venue with a year anywhere in the text, else an arXiv id's year, else an acronym and a year apart."""
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
def scope_venue_year(text: str) -> tuple[str | None, int | None]:
    """What a heading or a bold line says for the entries under it: '2024 ECCV', 'FL on ICLR 2021', '2019'."""
    words = text.split()
    if not words or len(words) > 8:
        return None, None
    years = _LONE_YEAR.findall(text)
    venues = [w for w in _SCOPE_SPLIT.split(text) if w and _VENUE_WORD.fullmatch(w)]
    tagged = venue_tag(text)
    venue = venues[0] if len(set(venues)) == 1 else tagged[0]
    year = int(years[0]) if len(years) == 1 else None
    return venue, year


def column_year(text: str) -> int | None:
    """A table's Year column: `2019`, `2019.05`, `CVPR 2019` (the year only)."""
    year = venue_tag(text)[1]
    if year:
        return year
    m = _YEAR_START.match(text)
    return int(m.group(1)) if m else None


_DIGIT = re.compile(r"\d")


def column_venue(text: str) -> tuple[str | None, int | None]:
    """A table's Venue column: an acronym we know (with its year), else a short name as written
    (`ACM Computing Surveys`, `Springer Book`)."""
    venue, year = venue_tag(text)
    if venue is None and text.strip("-– ") and len(text.split()) <= 6 and not _DIGIT.search(text):
        venue = text
    return venue, year
