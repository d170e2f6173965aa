"""Decide which candidate paper (if any) a list entry's title names.

A wrong fill is far worse than no fill, so the score is built to be 1.0 only for the same title
written differently (case, punctuation, dropped colon, hyphen vs space vs joined, accents,
ligatures, British/US spelling) and to drop well below ACCEPT as soon as one real word differs.
Anything not clearly one paper is left unfilled with a reason.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import Indel

from crawler.models import PaperMeta

ACCEPT = 0.93  # best score needed to fill; tests/papers/test_match.py measures the score gap
MARGIN = 0.03  # best must beat the next *different* paper by this much
YEAR_GAP = 1  # a list may date a paper a year off its source: arXiv's v1 comes a year before (or after) the venue
TOP_CANDIDATES = 5  # how many scored candidates a Match keeps for the report

# What one differing word costs. An article is often dropped by list authors; any other word may
# be what tells two papers apart; a number or a negation always does ("3D"/"2D", "not not").
ARTICLE_COST = 0.02
WORD_COST = 0.10
HEAVY_COST = 0.35
_ARTICLES = frozenset({"a", "an", "the"})
_NEGATIONS = frozenset({"not", "no", "non", "without", "nor", "never"})

CVF_VENUES = frozenset({"CVPR", "ICCV", "WACV", "ECCV"})
_PREPRINT_VENUES = frozenset({"ARXIV", "CORR", "PREPRINT"})  # says nothing about where it appeared
_WORKSHOP_HOSTS = CVF_VENUES | {"NIPS", "NEURIPS", "ICML", "ICLR", "AAAI", "IJCAI", "ACCV", "BMVC"}  # "CVPRW"
_KNOWN_VENUES = _WORKSHOP_HOSTS | _PREPRINT_VENUES | {"KDD", "ACL", "EMNLP", "NAACL", "EACL", "AACL", "COLING", "TACL",
                                                     "TPAMI", "PAMI", "IJCV"}

# Venues a list writes after a title ("CVPR 2019", "NIPSW 2014"): stripped before comparing.
_VENUE_WORDS = (
    "cvpr|iccv|eccv|wacv|accv|bmvc|nips|neurips|iclr|icml|aaai|ijcai|arxiv|corr|kdd|acl|emnlp|naacl"
    "|eacl|coling|interspeech|icassp|icip|icme|acm mm|mm|sigir|www|wsdm|cikm|recsys|icde|vldb|sigmod"
    "|tpami|pami|ijcv|tip|tnnls|tmm|tcsvt|jmlr|tmlr|aistats|uai|colt|icra|iros|rss|corl|miccai|3dv"
    "|siggraph|tog"
)
_VENUE_SUFFIX = re.compile(rf"\s(?:{_VENUE_WORDS})(?:w|\sworkshops?)?\s?(?:19|20)\d\d$")
_SHORT_NAME_PREFIX = re.compile(r"^\s*\([^()]{1,40}\)\s+(?=\S)")  # "(FitNets) Fitnets Hints ..."
_LATEX_COMMAND = re.compile(r"\\[A-Za-z]+")  # arXiv titles: "\emph{...}", "$\ell_1$"
_APOSTROPHES = re.compile(r"['\u2018\u2019\u02bc`]")  # "Hinton's" -> "hintons", not "hinton s"

# British -> US and other same-word spellings, applied to both sides of a comparison; a rule only
# has to avoid merging two distinct real words, since both titles go through it.
_SPELLING_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"(?<=[a-z])is(?=(?:e|es|ed|ing|er|ers|ation|ations)$)", "iz"),  # normalise, optimiser
        (r"ys(?=(?:e|es|ed|ing)$)", "yz"),  # analyse
        (r"(colo|behavio|neighbo|favo|flavo|hono|humo|labo|rumo|vapo|armo|harbo|odo|vigo|rigo)ur", r"\1r"),
        (r"(cent|met|lit|fib|theat)re(?=(?:s|d)?$)", r"\1er"),  # centre, fibre
        (r"ell(?=(?:ing|ed|er|ers)$)", "el"),  # modelling, labelled
        (r"(?<=[a-z])ogue(?=s?$)", "og"),  # catalogue, dialogue
    )
)
_SPELLING_WORDS = {
    "towards": "toward",
    "grey": "gray",
    "defence": "defense",
    "offence": "offense",
    "licence": "license",
    "programme": "program",
    "programmes": "programs",
    "whilst": "while",
    "amongst": "among",
    "learnt": "learned",
    "judgement": "judgment",
    "ageing": "aging",
    "aeroplane": "airplane",
    "vs": "versus",
}


def normalize_title(text: str) -> str:
    """A title reduced to lower-case words separated by single spaces, for comparing.

    Removes what lists and sources add or spell differently: invisible characters (soft hyphen,
    zero-width), ligatures, accents, case, punctuation, a leading "(ShortName) " and a trailing
    "VENUE YEAR".
    """
    s = unicodedata.normalize("NFKC", text)  # ligatures, full-width forms
    s = "".join(ch for ch in s if unicodedata.category(ch) != "Cf")  # U+00AD, U+200B, BOM ...
    while (m := _SHORT_NAME_PREFIX.match(s)) is not None:
        s = s[m.end() :]
    s = _LATEX_COMMAND.sub(" ", s).replace("&", " and ")
    s = _APOSTROPHES.sub("", s)
    s = unicodedata.normalize("NFKD", s.casefold())
    # Accents (combining marks) go; every other non-alphanumeric (dash, colon, period) is a space.
    s = "".join(("" if unicodedata.category(ch).startswith("M") else ch if ch.isalnum() else " ") for ch in s)
    s = " ".join(s.split())
    while (m := _VENUE_SUFFIX.search(s)) is not None:
        s = s[: m.start()]
    return s


def _canonical_word(word: str) -> str:
    word = _SPELLING_WORDS.get(word, word)
    for pattern, repl in _SPELLING_RULES:
        word = pattern.sub(repl, word)
    return word


@functools.lru_cache(maxsize=65536)  # titles are compared many times over; normalising dominates
def _words(text: str) -> tuple[str, ...]:
    return tuple(_canonical_word(w) for w in normalize_title(text).split())


def title_words(text: str) -> tuple[str, ...]:
    """A title's words as `title_score` compares them: normalised, British spellings made US."""
    return _words(text)


def _join_compounds(words: tuple[str, ...], other: frozenset[str]) -> list[str]:
    """Merge runs of 2-3 words that the other title writes as one ("pre training" / "pretraining")."""
    out: list[str] = []
    i = 0
    while i < len(words):
        for n in (3, 2):
            joined = "".join(words[i : i + n])
            if i + n <= len(words) and joined in other and joined not in words:
                out.append(joined)
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return out


def _word_cost(word: str) -> float:
    if word in _ARTICLES:
        return ARTICLE_COST
    if word in _NEGATIONS or any(ch.isdigit() for ch in word):
        return HEAVY_COST
    return WORD_COST


def _score_words(a: tuple[str, ...], b: tuple[str, ...]) -> float:
    if not a or not b:
        return 0.0
    joined_a, joined_b = "".join(a), "".join(b)
    if joined_a == joined_b:
        return 1.0
    # Character similarity catches short titles (one extra word is a big part of them); the word
    # penalty catches long ones, where a changed word hardly moves a character ratio.
    chars = Indel.normalized_similarity(joined_a, joined_b)
    ca = Counter(_join_compounds(a, frozenset(b)))
    cb = Counter(_join_compounds(b, frozenset(a)))
    differing = (ca - cb) + (cb - ca)
    penalty = sum(_word_cost(w) * n for w, n in differing.items())
    return round(max(0.0, min(chars, 1.0 - penalty)), 4)


def title_score(a: str, b: str) -> float:
    """Similarity of two titles in [0, 1]; 1.0 means the same title written differently.

    Symmetric. Not `token_set_ratio`: a title that is a prefix of another ("Knowledge
    Distillation" / "Knowledge Distillation: A Survey") must not score high.
    """
    return _score_words(_words(a), _words(b))


@dataclass(frozen=True)
class Match:
    """The verdict for one entry: `meta` is None when the crawler should not fill."""

    meta: PaperMeta | None
    confidence: float  # 0.0 when meta is None; else best score, lowered if a runner-up is close
    reason: str
    candidates: tuple[tuple[str, str, float], ...] = ()  # (title, url, score), best first


def _venue(text: str | None) -> tuple[str, bool] | None:
    """'CVPR 2019' -> ('CVPR', False); 'NIPSW' -> ('NEURIPS', True); None/'' -> None."""
    upper = (text or "").upper()
    names = [
        n[:-1] if n.endswith("W") and n[:-1] in _WORKSHOP_HOSTS else n for n in re.findall(r"[A-Z]+", upper)
    ]
    if not names:
        return None
    # "Proc. CVPR" names CVPR: prefer a venue we know over the first word.
    name = next((n for n in names if n in _KNOWN_VENUES), names[0])
    workshop = "WORKSHOP" in upper or bool(re.search(rf"\b{name}W", upper))
    return ("NEURIPS" if name == "NIPS" else name), workshop


def year_agrees(listed: int | None, meta: PaperMeta, *, arxiv_later: int | None = YEAR_GAP) -> bool | None:
    """Whether the year a list gives a paper fits its source's: at most YEAR_GAP off. An arXiv paper's year is
    its first version's, which a list may date up to `arxiv_later` years later (None: any later year: the
    venue, or a renamed version, may come years after). None when either year is unknown."""
    if listed is None or meta.year is None:
        return None
    later = arxiv_later if meta.source == "arxiv" else YEAR_GAP
    return listed >= meta.year - YEAR_GAP and (later is None or listed <= meta.year + later)


def _gate(meta: PaperMeta, venue: tuple[str, bool] | None, year: int | None) -> str | None:
    """Why this candidate cannot be the entry's paper whatever its title, or None."""
    if year_agrees(year, meta) is False:  # a fill wants the year within YEAR_GAP, arXiv's too
        return f"year disagrees: entry {year}, candidate {meta.year}"
    cand = _venue(meta.venue)
    # An arXiv meta has no venue (a preprint of anything); a CVF meta may only fill an entry that
    # names the same venue, or none, or just "arXiv".
    if cand is not None and venue is not None and venue[0] not in _PREPRINT_VENUES and cand != venue:
        return f"venue disagrees: entry {_venue_label(venue)}, candidate {_venue_label(cand)}"
    return None


def _venue_label(v: tuple[str, bool]) -> str:
    return v[0] + (" workshop" if v[1] else "")


def _surnames(meta: PaperMeta) -> frozenset[str]:
    # "Yim, Junho" (abs page meta tags) and "Junho Yim" (CVF, arXiv API) give the same surname.
    names = (a.split(",")[0] if "," in a else (a.split() or [""])[-1] for a in meta.authors)
    return frozenset(filter(None, (normalize_title(n).replace(" ", "") for n in names)))


def _same_paper(a: PaperMeta, b: PaperMeta, key_a: str, key_b: str) -> bool:
    """Two records of one paper (arXiv and CVF), not two papers that happen to share a title."""
    if a.url == b.url:
        return True
    if a.arxiv_id and b.arxiv_id:
        return a.arxiv_id == b.arxiv_id
    if key_a != key_b or a.source == b.source:
        return False  # one source does not list a paper twice under two URLs
    sa, sb = _surnames(a), _surnames(b)
    return not (sa and sb and not sa & sb)


class TitleIndex:
    """The candidates worth scoring for a title, from a listing of thousands (scoring every entry against a
    whole venue-year's listing was quadratic, 73 ms an entry at 2000 papers).

    A candidate is worth scoring when it shares at least half as many words as the title has: ACCEPT
    needs every word but an article to agree (one other word differing costs WORD_COST), and a runner-up
    close enough to matter may differ in one, so nothing `best_match` could accept or weigh is left out.
    Runs of two or three words count joined too, as `_score_words` joins them ("pre training" is
    "pretraining").
    """

    def __init__(self, papers: Iterable[PaperMeta]):
        self.papers = list(papers)
        self._by_word: dict[str, list[int]] = {}
        for i, meta in enumerate(self.papers):
            for word in _index_words(_words(meta.title)):
                self._by_word.setdefault(word, []).append(i)

    def near(self, title: str) -> list[PaperMeta]:
        words = _words(title)
        distinct = set(words) - _ARTICLES
        if not distinct:
            return self.papers
        shared = Counter(i for w in _index_words(words) for i in self._by_word.get(w, ()))
        need = (len(distinct) + 1) // 2
        return [self.papers[i] for i in sorted(i for i, n in shared.items() if n >= need)]


def _index_words(words: tuple[str, ...]) -> set[str]:
    joined = {"".join(words[i : i + n]) for n in (2, 3) for i in range(len(words) - n + 1)}
    return (set(words) - _ARTICLES) | joined


def best_match(
    title: str, candidates: Iterable[PaperMeta], *, venue: str | None = None, year: int | None = None
) -> Match:
    """The candidate that is certainly the paper `title` names, or None with the reason why not."""
    words = _words(title)
    entry_venue = _venue(venue)
    scored = []
    for meta in candidates:
        cand_words = _words(meta.title)
        score = _score_words(words, cand_words)
        gate = _gate(meta, entry_venue, year)
        # Sort key: score, then a candidate from the entry's own venue (CVF page for a CVPR entry).
        own_venue = entry_venue is not None and _venue(meta.venue) == entry_venue
        scored.append((score, own_venue, meta, "".join(cand_words), gate))
    scored.sort(key=lambda t: (t[0], t[1]), reverse=True)  # stable: input order breaks ties
    shown = tuple((m.title, m.url, s) for s, _, m, _, _ in scored[:TOP_CANDIDATES])

    def abstain(reason: str) -> Match:
        return Match(None, 0.0, reason, shown)

    if not words:
        return abstain("empty title")
    if not scored:
        return abstain("no candidate")
    eligible = [t for t in scored if t[4] is None]
    best = eligible[0] if eligible else None
    if best is None or best[0] < ACCEPT:
        gated = next((t for t in scored if t[4] is not None and t[0] >= ACCEPT), None)
        if gated is not None:
            return abstain(gated[4] or "")
        top = best[0] if best else scored[0][0]
        return abstain(f"best score {top:.2f} below {ACCEPT:.2f}")
    score, _, meta, key, _ = best
    runner_up = max(
        (s for s, _, m, k, _ in eligible[1:] if not _same_paper(meta, m, key, k)),
        default=0.0,
    )
    margin = round(score - runner_up, 4)
    if margin < MARGIN:
        return abstain(f"ambiguous: two candidates within {margin:.2f}")
    # A runner-up within 0.10 costs confidence: the fill is right, but less obviously so.
    confidence = round(max(0.0, score - max(0.0, 0.10 - margin)), 4)
    return Match(meta, confidence, f"accepted: score {score:.2f}, margin {margin:.2f}", shown)
