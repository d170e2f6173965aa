"""Is the paper a source returns the one a list entry names? Pure: entry and metadata in, verdict out.

A list keeps the title it was written with; arXiv shows its latest version's, and ML papers are
renamed between versions all the time (four of 161 links on a distillation list). So a
title that no longer matches is not, by itself, evidence of another paper. We also weigh:
- the authors the entry names outside its title, in the styles real lists use ("Zheng Xu,
  Yen-Chang Hsu, 2017", "Xu, Zheng et al.", "Hinton, G., & Dean, J. (2015)"), compared by surname
  in any order, and by given name or initial where both sides give one. Two or more found make the
  same authors; one ("Zhang et al.") only agrees, and leaves the decision to the title;
- what the titles share beyond the field's vocabulary: a run of content words carrying at least two
  distinctive words' weight ("additive explanations"; a field word counts a third), or every content
  word of the shorter title ("Towards Robust Vision Transformer" inside its renamed version);
- the year the list gives, against the first version's: well before it vetoes a shared phrase.

`same` is False only when the evidence says "another paper": the title is not the same title, and
the authors disagree, or none are given (or one agrees) and the titles share nothing distinctive.
A title of one word ("FALSR") is a short name: without authors, it is not judged.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import OSA

from crawler.models import Entry, PaperMeta
from crawler.papers.match import ACCEPT, title_score, title_words, year_agrees

CLOSE = ACCEPT  # at or above: the same title written differently (what a fill needs), not a rename
NEAR = 0.5  # at or above, with a distinctive shared phrase, a title outweighs an author mismatch
# Shared words are weighed in thirds: a distinctive word 3, a field word ("learning", "vision") 1.
DISTINCTIVE = 6  # a shared run naming a paper: "additive explanations", "spherical knowledge distillation"
FIELD_RUN = 7  # field words alone must run this long: "real time 3d hand pose estimation" is a topic
CONTAINED = 2  # the shorter title's words, in a row in the longer (a list shortened it): two field words do
SCATTERED = 4  # the same, not in a row ("Meta Learning for Knowledge Distillation" in its new title)
SAME_AUTHORS = 2  # names found that prove "same authors"; one only agrees ("Zhang et al." fits a tenth of a field)


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _stem(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "is", "us")):  # not "analysis"
        return word[:-1]
    return word


# Words that carry no identity: function words, and the vocabulary ML titles share across fields.
# Chosen from the corpus lists' title word frequencies (most words below are in 1% or more of the
# 2,569 titles of nine lists, from distillation to hand pose), plus their inflections.
STOP_WORDS = _wordset(
    "a an the of for with in on to from by via and or at as into onto over under using towards toward through is "
    "are be can do does what how when why which where who we our you your it its this that these those than then "
    "beyond between across about all any more most less no not non without based vs versus up down out one two "
    "new very some much their them they re"
)
GENERIC_WORDS = frozenset(map(_stem, _wordset(  # stemmed, as titles' words are when weighed
    """learning learn learned learns learnable neural network net deep model modeling training train trained
    knowledge distillation distilling distill distilled teacher student transfer compression compressing compact
    efficient efficiency fast faster accurate robust robustness simple effective improving improved better
    rethinking revisiting understanding method approach framework system study analysis survey
    review benchmark dataset data image video visual vision object detection segmentation recognition
    classification representation feature attention transformer convolutional cnn graph language large small
    scale multi self supervized unsupervized semi weakly adversarial generative task domain adaptation
    adaptive dynamic quantization quantized binary binarized bit low high precision mixed pruning sparse
    search architecture optimization inference time real single end point cloud 3d 2d hand pose estimation depth
    rgb reconstruction tracking human free shot few zero cross modal level aware guided prediction generation
    information label supervision regularization ensemble mutual online fine grained tuning pre post weight
    activation layer memory performance machine text speech semantic instance spatial temporal local global
    reinforcement policy meta federated diffusion llm multimodal token embedding contrastive shape mesh motion
    scene interaction resolution monocular medical accelerating acceleration hardware identification person face
    facial nas bench space field long tail tailed translation"""
)))

# --- names --------------------------------------------------------------------------------------

_PARTICLES = _wordset("van von der den de del della di da dos das du le la ter ten bin ul al el st")
# Capitalised words that follow a title in real lists and are not people.
_NOT_NAMES = _wordset(
    """university univ institute lab labs laboratory research team group inc corp ltd company ai google
    deepmind microsoft facebook meta nvidia openai amazon apple ibm intel tencent alibaba baidu huawei bytedance
    samsung sensetime megvii adobe stanford berkeley oxford cambridge tsinghua peking code paper pdf project
    github gitlab pytorch tensorflow keras caffe matlab jax blog video slides oral spotlight poster workshop
    arxiv preprint proceedings journal conference transactions in note supp supplementary tutorial talk demo
    page website homepage official unofficial implementation pre print accepted submitted review book chapter
    springer press thesis"""
)
_FOLD = str.maketrans({"ł": "l", "Ł": "L", "ø": "o", "Ø": "O", "ß": "ss", "đ": "d", "Đ": "D", "æ": "ae", "ı": "i"})
_INITIALS = re.compile(r"^(?:[A-Z]\.?\s*-?\s*){1,3}$")  # "G.", "L.K.", "G. E.", "J.-P.", "M"


def _fold(text: str) -> str:
    """Lower-case ASCII letters only ("Müller" -> "muller"); "" when the script is not Latin."""
    s = unicodedata.normalize("NFKD", text.translate(_FOLD))
    s = "".join(ch for ch in s if not unicodedata.combining(ch)).casefold()
    s = "".join(ch for ch in s if ch.isalpha())
    return s if s.isascii() else ""


def _is_name_word(word: str) -> bool:
    """A capitalised Latin-script word with a lower-case letter: "Xu", "Yen-Chang", "McDaniel", "O'Neil"."""
    word = word.rstrip("0123456789")  # "Zhaohui Yang1": a footnote mark
    return (
        len(word) >= 2
        and word[0].isupper()
        and any(ch.islower() for ch in word)
        and all(ch.isalpha() or ch in "-'’" for ch in word)
        and bool(_fold(word))
        and _fold(word) not in _NOT_NAMES
    )


@dataclass(frozen=True)
class _Name:
    label: str  # the surname as entry_authors reports it: "xu", "allenzhu", "vandermaaten"
    surname: frozenset[str]  # folded surname words and hyphen parts ("gontijo", "lopes"), particles dropped
    given: str  # folded first given name ("zheng"), or its initial ("g"), "" when unknown
    alt: tuple[frozenset[str], str] | None = None  # a bare "Zhang Yuan" may be family name first


def _surname_keys(words: list[str]) -> frozenset[str]:
    keys = set()
    for i, w in enumerate(words):
        if w.casefold() in _PARTICLES and i < len(words) - 1:  # "van der Maaten"; but "Quoc V. Le"
            continue
        keys.add(_fold(w))
        keys.update(_fold(p) for p in re.split(r"[-'’]", w) if len(p) >= 2)  # "Gontijo-Lopes"
    keys.discard("")
    return frozenset(keys)


def _given(word: str) -> str:
    return _fold(word.rstrip("."))[:1] if _INITIALS.match(word) else _fold(word)


def _western(piece: str) -> _Name | None:
    """"Zheng Xu", "L.K. Hansen", "Mitesh M. Khapra", "Laurens van der Maaten", "Hinton" -> a name."""
    words = re.sub(r"(?<=\.)(?=[A-Z])", " ", piece).split()  # "L.K." -> "L." "K."
    if not words or len(words) > 5:
        return None
    kinds = []
    for w in words:
        if _is_name_word(w):
            kinds.append("n")
        elif _INITIALS.match(w):
            kinds.append("i")
        elif w.casefold() in _PARTICLES:
            kinds.append("p")
        else:
            return None
    if kinds[-1] != "n":
        return None
    start = len(words) - 1
    while start > 0 and kinds[start - 1] == "p":
        start -= 1
    surname = _surname_keys(words[start:])
    given = _given(words[0]) if start > 0 else ""
    alt = (_surname_keys(words[:1]), _given(words[1])) if kinds == ["n", "n"] else None  # "Zhang Yuan"
    return _Name(_fold("".join(words[start:])), surname, given, alt) if surname else None


def _surname_first(surname: str, given: str) -> _Name | None:
    """"Xu", "Zheng" or "Hinton", "G. E." -> a name."""
    family = _western(surname)
    if family is None or family.given:  # the family part is one surname, not a full name
        return None
    given_words = re.sub(r"(?<=\.)(?=[A-Z])", " ", given).split()
    # "Cha, han et al.": a lower-case given name is a typo; the person still counts.
    if not given_words or not all(_is_name_word(w.title()) or _INITIALS.match(w) for w in given_words):
        return None
    return _Name(family.label, family.surname, _given(given_words[0]))


def _parse_group(group: str) -> list[_Name] | None:
    pieces = [p.strip() for p in group.split(",") if p.strip()]
    if not pieces:
        return []
    # "Chen, G., Choi, W., Yu, X." (APA): family names alternating with initials.
    if len(pieces) % 2 == 0 and all(_INITIALS.match(p) for p in pieces[1::2]):
        pairs = [_surname_first(s, g) for s, g in zip(pieces[::2], pieces[1::2], strict=True)]
        return None if None in pairs else [p for p in pairs if p]
    # "Xu, Zheng" or "Cho, Jang Hyun": one person, family name first.
    if len(pieces) == 2 and len(pieces[0].split()) == 1:
        one = _surname_first(pieces[0], pieces[1])
        if one is not None:
            return [one]
    names = [_western(p) for p in pieces]
    return None if None in names else [n for n in names if n]


_DROP = re.compile(r"\[[^\]]*\]|<[^>]*>|https?://\S+|:[a-z0-9_+-]+:")  # labels, tags, URLs, :emoji:
_LEAD = re.compile(r"^[\s.,;:|•*_~\-–—\])]*(?:by\s+)?", re.I)
# Where an author list stops: "et al.", a year, a bracket, "arXiv", a venue in capitals, a dash
# before a description, or a full stop after a word (an initial's, "G. Hinton", does not count).
_END = re.compile(
    r"(?i:\bet\.?\s*a?l\b\.?)|[()\[;:]|\b(?:19|20)\d\d\b|\b(?i:arxiv|neurips)\b|\b[A-Z][A-Z0-9]+(?:-[A-Z0-9]+)*\b(?!\.)"
    r"|\s[-–—|]\s|(?<=[^\W\d_]{2})\.(?=\s|$)"
)
_GROUP_SPLIT = re.compile(r"\s*(?:,?\s*&|,?\s+and)\s+|\s*,\s*and\s*$")


def _names_in(text: str) -> list[_Name]:
    """The author list at the start of `text` (what follows or precedes a title); [] unless every
    piece of it is a person's name."""
    text = _LEAD.sub("", _DROP.sub(" ", text), count=1)
    end = _END.search(text)
    clause = (text[: end.start()] if end else text).strip().rstrip(",&.").strip()
    et_al = bool(end and end.group(0).lower().startswith("et"))
    if not clause or len(clause) > 1000:
        return []
    names: list[_Name] = []
    for group in _GROUP_SPLIT.split(clause):
        parsed = _parse_group(group)
        if parsed is None:
            return []
        names += parsed
    # A lone word is a surname only before "et al."; "Spotlight" after a title is not a person.
    return [] if len(names) == 1 and not et_al and len(clause.split()) < 2 else names


def _around_title(raw: str, title: str) -> tuple[str, str] | None:
    """The entry's text after its title, and before it."""
    raw, title = unicodedata.normalize("NFKC", raw), unicodedata.normalize("NFKC", title).strip()
    at = raw.find(title) if title else -1
    if at < 0 and title:
        at = raw.casefold().find(title.casefold())
    return None if at < 0 else (raw[at + len(title) :], raw[:at])


@functools.lru_cache(maxsize=8192)
def _entry_names(raw: str, title: str) -> tuple[_Name, ...]:
    for side in _around_title(raw, title) or ():  # after the title first: where lists write authors
        if names := _names_in(side):
            return tuple(names)
    return ()


def entry_author_names(entry: Entry) -> tuple[str, ...]:
    """The people the entry names, given name (or initial) first as far as it gives one, folded:
    ("zheng xu", "g hinton", "hinton")."""
    return tuple(f"{n.given} {n.label}".strip() for n in _entry_names(entry.raw, entry.title))


def entry_authors(entry: Entry) -> tuple[str, ...]:
    """The surnames the entry names outside its title, folded to ASCII lower case, in its order.

    Names in other scripts are left out: a source spells them in Latin letters, so they cannot be
    compared, and an unreadable name must not count as a disagreeing one.
    """
    return tuple(n.label for n in _entry_names(entry.raw, entry.title))


@functools.lru_cache(maxsize=65536)
def _source_name(author: str) -> _Name | None:
    """A source's author: "Zheng Xu" (arXiv API, CVF) or "Xu, Zheng" (abs page meta tags)."""
    author = re.sub(r",?\s+(?:jr|sr|ii|iii|iv)\.?$", "", author.strip(), flags=re.I)
    if "," in author:
        family, given = (part.split() for part in author.split(",", 1))
    else:
        words = author.split()
        start = len(words) - 1
        while start > 0 and words[start - 1].casefold() in _PARTICLES:
            start -= 1
        family, given = words[start:], words[:start]
    surname = _surname_keys(family)
    return _Name(_fold("".join(family)), surname, _given(given[0]) if given else "") if surname else None


def _compatible(a: str, b: str) -> bool:
    """Given names: unknown, initial against name, or one the start of the other ("Jang" / "Jang-Hyun")."""
    return not a or not b or a.startswith(b) or b.startswith(a)


def _same_person(listed: _Name, source: _Name) -> bool:
    readings = [(listed.surname, listed.given), *([listed.alt] if listed.alt else [])]
    return any(surname & source.surname and _compatible(given, source.given) for surname, given in readings)


def _authors(entry: Entry, meta: PaperMeta) -> tuple[int, int] | None:
    """(how many of the entry's authors the source lists, out of how many could be), or None."""
    names = _entry_names(entry.raw, entry.title)
    source = [n for n in map(_source_name, meta.authors) if n is not None]
    if not names or not source:
        return None
    found = sum(1 for n in names if any(_same_person(n, s) for s in source))
    out_of = min(len(names), len(source))
    return min(found, out_of), out_of


# --- titles -------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=65536)
def _content(title: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The title's content words, stemmed for comparing, and as written (normalised) for reasons."""
    words = tuple(w for w in title_words(title) if w not in STOP_WORDS)
    return tuple(map(_stem, words)), words


def _alike(a: str, b: str) -> bool:
    """One word, allowing a typo in a long one ("Disitllation", "Survery", "WFitnets")."""
    if a == b:
        return True
    if min(len(a), len(b)) < 6 or abs(len(a) - len(b)) > 1 or (a[:2] != b[:2] and a[-2:] != b[-2:]):
        return False  # cheap refusals first: this runs for every word pair of every judged title
    return OSA.distance(a, b) <= 1


def _weight(words: Iterable[str]) -> int:
    return sum(1 if w in GENERIC_WORDS or w[:1].isdigit() else 3 for w in words)


def _shared_runs(a: tuple[str, ...], b: tuple[str, ...]) -> list[slice]:
    """Every maximal run of two or more content words the titles share, as slices of `a`."""
    same = [[_alike(x, y) for y in b] for x in a]
    out = []
    for i in range(len(a)):
        for j in range(len(b)):
            if not same[i][j] or (i and j and same[i - 1][j - 1]):
                continue  # not the start of a run
            n = 1
            while i + n < len(a) and j + n < len(b) and same[i + n][j + n]:
                n += 1
            if n >= 2:
                out.append(slice(i, i + n))
    return out


def _names_a_paper(run: tuple[str, ...]) -> bool:
    weight = _weight(run)
    has_distinctive = weight > len(run)
    return weight >= DISTINCTIVE and (has_distinctive or len(run) >= FIELD_RUN)


@dataclass(frozen=True)
class _Shared:
    phrase: str  # what the reason line quotes
    contained: bool  # every content word of the shorter title, rather than one distinctive run


def _shared(entry_title: str, source_title: str) -> _Shared | None:
    """What distinctive the two titles share, or None."""
    (a, a_words), (b, b_words) = _content(entry_title), _content(source_title)
    runs = [r for r in _shared_runs(a, b) if _names_a_paper(a[r])]
    if runs:
        return _Shared(" ".join(a_words[max(runs, key=lambda r: _weight(a[r]))]), contained=False)
    (short, short_words), (longer, _) = sorted(((a, a_words), (b, b_words)), key=lambda t: len(set(t[0])))
    if len(set(short)) < 2 or not all(any(_alike(w, x) for x in longer) for w in short):
        return None
    in_a_row = any(r.stop - r.start == len(short) for r in _shared_runs(short, longer))
    if _weight(set(short)) >= (CONTAINED if in_a_row else SCATTERED):
        return _Shared(" ".join(short_words), contained=True)
    return None


# --- the verdict --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperJudgement:
    same: bool  # False only when the evidence says it is another paper
    title_changed: bool  # same paper, but the source's title differs materially from the list's
    title_score: float  # crawler.papers.match.title_score(entry title, source title)
    authors_matched: bool | None  # None when the entry names no authors, or the source gives none
    year_ok: bool | None  # None when either year is unknown
    reason: str  # one short line for reports, e.g. "title differs, 3 of 3 authors match"


def _quote(phrase: str, limit: int = 60) -> str:
    return "'" + (phrase if len(phrase) <= limit else phrase[: limit - 1].rstrip() + "…") + "'"


def judge_paper(entry: Entry, meta: PaperMeta) -> PaperJudgement:
    """Whether `meta` is the paper `entry` names, on the title, the authors and the year."""
    evidence = _Evidence(entry, meta, title_score(entry.title, meta.title), _authors(entry, meta),
                         year_agrees(entry.year, meta, arxiv_later=None))
    same, reason = _decide(evidence)
    changed = same and evidence.score < CLOSE and not _subtitle_apart(entry.title, meta.title)
    return PaperJudgement(same, changed, evidence.score, evidence.matched, evidence.year_ok, reason)


def _subtitle_apart(a: str, b: str) -> bool:
    """One title is the other without its subtitle ("Sponge Examples" / "Sponge Examples: Energy-Latency
    Attacks on Neural Networks"): the same title written short, not a changed one."""
    if ":" not in a + b:
        return False
    return bool(title_words(a)) and (title_words(a) == title_words(b.split(":", 1)[0])
                                     or title_words(b) == title_words(a.split(":", 1)[0]))


@dataclass(frozen=True)
class _Evidence:
    entry: Entry
    meta: PaperMeta
    score: float  # title_score of the two titles
    counts: tuple[int, int] | None  # (the entry's authors the source lists, out of how many could be)
    year_ok: bool | None

    @property
    def matched(self) -> bool | None:
        return None if self.counts is None else self.counts[0] > 0 and 2 * self.counts[0] >= self.counts[1]

    @property
    def authors(self) -> str:
        """What the reason says of the authors."""
        if self.counts is None:
            return ", no authors to compare"
        return f", {self.counts[0]} of {self.counts[1]} authors match"

    @property
    def authors_if_any(self) -> str:
        return "" if self.counts is None else self.authors


def _decide(ev: _Evidence) -> tuple[bool, str]:
    """Same paper or not, and why in one line."""
    if ev.score >= CLOSE:
        return True, "title matches" + ev.authors_if_any
    if ev.matched and ev.counts is not None and ev.counts[0] >= SAME_AUTHORS:
        return True, "title differs" + ev.authors
    shared = _shared(ev.entry.title, ev.meta.title)
    if ev.matched is False:
        # A near title sharing a distinctive phrase outweighs one author list: lists misspell names.
        if ev.score >= NEAR and shared is not None and not shared.contained:
            return True, f"title differs but {_said(shared)} (score {ev.score:.2f})" + ev.authors
        return False, "title differs" + ev.authors
    return _by_title(ev, shared)


def _by_title(ev: _Evidence, shared: _Shared | None) -> tuple[bool, str]:
    """No authors, or one surname that agrees ("Zhang et al."): agreement, not proof; the title decides."""
    words = len(title_words(ev.entry.title))
    if words < 2 or not title_words(ev.meta.title):  # "FALSR", "RBPN": a short name cannot disagree by itself
        what = "title is a short name" if words == 1 else "entry has no title" if not words else "source has no title"
        return True, what + ev.authors
    if shared is None:
        return False, "title differs, nothing distinctive shared" + ev.authors
    if ev.year_ok is False and not ev.matched:
        return False, (f"title differs, {_said(shared)}, but the year disagrees ({ev.entry.year}, "
                       f"source {ev.meta.year})")
    return True, f"title differs, {_said(shared)}" + ev.authors_if_any


def _said(shared: _Shared) -> str:
    if shared.contained:
        return f"one title holds every word of the other: {_quote(shared.phrase)}"
    return f"shares {_quote(shared.phrase)}"
