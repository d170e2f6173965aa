"""Title matching: the thresholds are justified by the score tables below.

Measured score distribution (ACCEPT = 0.93, MARGIN = 0.03):
  positives (same paper, written differently): all 1.0 except a dropped article -> 0.98;
      lowest positive 0.98.
  hard negatives (different papers): highest 0.90 (one extra word in a long title), then 0.8571
      ("Knowledge Distillation" vs "... : A Survey"), 0.80 (one word changed, e.g. plural).
  ACCEPT sits 0.03 above the highest negative and 0.05 below the lowest positive; the score is a
  character ratio capped by a per-word penalty, so one differing non-article word (0.10 each side)
  always lands at or below 0.90 however long the title. test_threshold_sits_between_the_tables
  recomputes these numbers.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.models import PaperMeta
from crawler.papers.match import ACCEPT, MARGIN, Match, best_match, normalize_title, title_score, title_words

# (as the list writes it, as the source titles it). The first 14 are the seed list's headings with
# its short-name prefixes and venue suffixes, against the arXiv / CVF titles.
POSITIVES: list[tuple[str, str]] = [
    (
        "Distilling the Knowledge in a Neural Network NIPSW 2014",
        "Distilling the Knowledge in a Neural Network",
    ),
    ("(FitNets) Fitnets Hints for Thin Deep Nets ICLR 2015", "FitNets: Hints for Thin Deep Nets"),
    (
        "Deep Model Compression Distilling Knowledge from Noisy Teachers arXiv 2016",
        "Deep Model Compression: Distilling Knowledge from Noisy Teachers",
    ),
    (
        "(Gram Matrix) A Gift from Knowledge Distillation Fast Optimization, Network Minimization and "
        "Transfer Learning CVPR 2017",
        "A Gift From Knowledge Distillation: Fast Optimization, Network Minimization and Transfer Learning",
    ),
    (
        "(Attention Map) Paying More Attention to Attention Improving the Performance of Convolutional "
        "Neural Networks via Attention Transfer ICLR 2017",
        "Paying More Attention to Attention: Improving the Performance of Convolutional Neural Networks "
        "via Attention Transfer",
    ),
    ("Born Again Neural Networks ICML 2018", "Born Again Neural Networks"),
    ("Knowledge Transfer with Jacobian Matching ICML 2018", "Knowledge Transfer with Jacobian Matching"),
    (
        "Distilling Knowledge from a Deep Pose Regressor Network ICCV 2019",
        "Distilling Knowledge From a Deep Pose Regressor Network",
    ),
    (
        "Knowledge Transfer via Distillation of Activation Boundaries Formed by Hidden Neurons AAAI 2019",
        "Knowledge Transfer via Distillation of Activation Boundaries Formed by Hidden Neurons",
    ),
    (
        "Learning Metrics From Teachers Compact Networks for Image Embedding CVPR 2019",
        "Learning Metrics From Teachers: Compact Networks for Image Embedding",
    ),
    (
        "Snapshot Distillation Teacher-Student Optimization in One Generation CVPR 2019",
        "Snapshot Distillation: Teacher-Student Optimization in One Generation",
    ),
    (
        "Distilling Cross-Task Knowledge via Relationship Matching CVPR 2020",
        "Distilling Cross-Task Knowledge via Relationship Matching",
    ),
    (
        "Improved Knowledge Distillation via Teacher Assistant AAAI 2020",
        "Improved Knowledge Distillation via Teacher Assistant",
    ),
    (
        "Inter-region Affinity Distillation for Road Marking Segmentation CVPR 2020",
        "Inter-Region Affinity Distillation for Road Marking Segmentation",
    ),
    # Parser-clean titles (no prefix or venue) and other ways lists differ from sources.
    ("Fitnets Hints for Thin Deep Nets", "FitNets: Hints for Thin Deep Nets"),
    (
        "Long-tail Object Detection with Balanced Group Softmax",
        "Long-Tail Object Detection With Balanced Group Softmax",
    ),
    ("Distil\u00adling the Knowledge in a Neural Network", "Distilling the Knowledge in a Neural Network"),
    (
        "Distilling\u200b the Knowledge in a Neural\u00a0Network.",
        "Distilling the Knowledge in a Neural Network",
    ),
    (
        "E\ufb03cient Knowledge Distillation from Model Checkpoints",
        "Efficient Knowledge Distillation from Model Checkpoints",
    ),
    ("\ufb01tnets hints for thin deep nets", "FitNets: Hints for Thin Deep Nets"),
    (
        "Snapshot Distillation \u2013 Teacher Student Optimization in One Generation",
        "Snapshot Distillation: Teacher-Student Optimization in One Generation",
    ),
    (
        "Self-Supervised Pre-Training for Knowledge Transfer",
        "Self-supervised Pretraining for Knowledge Transfer",
    ),
    (
        "Regularising Neural Networks via Adversarial Model Perturbation",
        "Regularizing Neural Networks via Adversarial Model Perturbation",
    ),
    ("Modelling the Colour of Objects", "Modeling the Color of Objects"),
    (
        "Towards Understanding Ensemble, Knowledge Distillation and Self-Distillation in Deep Learning",
        "Toward Understanding Ensemble, Knowledge Distillation and Self-Distillation in Deep Learning",
    ),
    ("Na\u00efve Bayes Distillation", "Naive Bayes Distillation"),
    ("Don\u2019t Stop Pretraining", "Don't Stop Pretraining"),
    ("Learning Metrics & Teachers", "Learning Metrics and Teachers"),
    ("Knowledge Distillation (CVPR 2019)", "Knowledge Distillation"),
    (
        "Distilling Knowledge from Deep Pose Regressor Network",
        "Distilling Knowledge From a Deep Pose Regressor Network",
    ),
]

# (title, a *different* paper's title): must never fill.
HARD_NEGATIVES: list[tuple[str, str]] = [
    ("Born Again Neural Networks", "Born-Again Tree Ensembles"),
    ("Knowledge Distillation", "Knowledge Distillation: A Survey"),
    ("Deep Residual Learning", "Deep Residual Learning for Image Recognition"),
    (
        "Knowledge Transfer via Distillation of Activation Boundaries Formed by Hidden Neurons",
        "Knowledge Distillation via Activation Boundaries",
    ),
    (
        "Improved Knowledge Distillation via Teacher Assistant",
        "Improved Knowledge Distillation via Teacher Assistants",
    ),
    (
        "Improved Knowledge Distillation via Teacher Assistant",
        "Improved Knowledge Distillation via Teacher Assistants: Bridging the Gap",
    ),
    (
        "Learning Metrics From Teachers: Compact Networks for Image Embedding",
        "Learning Metrics From Teachers: Compact Networks for Image Retrieval",
    ),
    (
        "Learning Metrics From Teachers: Compact Networks for Image Embedding",
        "Learning Metrics From Teachers: Compact Networks for Face Image Embedding",
    ),
    (
        "Inter-Region Affinity Distillation for Road Marking Segmentation",
        "Inter-Region Affinity Distillation for Lane Marking Segmentation",
    ),
    ("Attention Is Not Explanation", "Attention is not not Explanation"),
    ("Fast R-CNN", "Faster R-CNN"),
    ("Mask R-CNN", "Mesh R-CNN"),
    ("Deep Mutual Learning", "Deep Metric Learning"),
    ("Learning with Noisy Labels", "Learning from Noisy Labels"),
    ("Monocular 3D Pose Distillation", "Monocular 2D Pose Distillation"),
    ("YOLOv2 Knowledge Distillation", "YOLOv3 Knowledge Distillation"),
    ("Non-local Neural Networks", "Local Neural Networks"),
    ("Relational Knowledge Distillation", "Knowledge Distillation Relational"),
    ("Distilling the Knowledge in a Neural Network", "Distilling the Knowledge of a Neural Network Ensemble"),
]

# Same paper, yet the score stays below ACCEPT: the price of never filling a wrong paper. The
# list must carry the title as the source does (up to spelling) for a fill.
ABSTAIN_BY_DESIGN: list[tuple[str, str]] = [
    (  # subtitle dropped: indistinguishable from a prefix of another paper's title
        "Improved Knowledge Distillation via Teacher Assistant",
        "Improved Knowledge Distillation via Teacher Assistant: Bridging the Gap Between Student and Teacher",
    ),
    (  # a content word dropped
        "Learning Efficient Detection Models with Knowledge Distillation",
        "Learning Efficient Object Detection Models with Knowledge Distillation",
    ),
    ("Distiling the Knowledge in a Neural Network", "Distilling the Knowledge in a Neural Network"),  # typo
    ("Born Again Neural Network", "Born Again Neural Networks"),  # plural
]


@pytest.mark.parametrize(("listed", "real"), POSITIVES)
def test_positive_pairs_score_above_accept(listed: str, real: str) -> None:
    assert title_score(listed, real) >= ACCEPT


@pytest.mark.parametrize(("a", "b"), HARD_NEGATIVES)
def test_hard_negatives_score_below_accept(a: str, b: str) -> None:
    assert title_score(a, b) < ACCEPT


@pytest.mark.parametrize(("listed", "real"), ABSTAIN_BY_DESIGN)
def test_same_paper_with_a_real_word_difference_is_not_filled(listed: str, real: str) -> None:
    assert title_score(listed, real) < ACCEPT


def test_threshold_sits_between_the_tables() -> None:
    lowest_positive = min(title_score(a, b) for a, b in POSITIVES)
    highest_negative = max(title_score(a, b) for a, b in HARD_NEGATIVES)
    assert lowest_positive == pytest.approx(0.98)
    assert highest_negative == pytest.approx(0.90)
    assert highest_negative + 0.02 < ACCEPT < lowest_positive - 0.02
    # An exact title must beat a one-extra-word paper by more than MARGIN, a dropped article not.
    assert 1.0 - highest_negative > MARGIN > 1.0 - lowest_positive


def test_seed_positives_are_exact_after_normalisation() -> None:
    for listed, real in POSITIVES[:14]:
        assert normalize_title(listed) == normalize_title(real), listed


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("(FitNets) Fitnets Hints for Thin Deep Nets ICLR 2015", "fitnets hints for thin deep nets"),
        ("(Gram Matrix) A Gift from X CVPR 2017", "a gift from x"),
        ("Distilling the Knowledge NIPSW 2014", "distilling the knowledge"),
        ("Deep Model Compression arXiv 2016", "deep model compression"),
        ("Improved KD AAAI 2020.", "improved kd"),
        ("Foo CVPR Workshops 2019", "foo"),
        ("Foo CVPR 2019 ICCV 2019", "foo"),
        ("Long-tail \u2014 Detection: With   Softmax.", "long tail detection with softmax"),
        ("Distil\u00adling", "distilling"),
        ("\ufb01ne-tuning", "fine tuning"),
        ("R\u00e9gularisation na\u00efve", "regularisation naive"),
        ("Hinton\u2019s \u201cDark Knowledge\u201d", "hintons dark knowledge"),
        ("$\\ell_1$ Regularisation \\emph{Revisited}", "1 regularisation revisited"),
        ("(De)Randomized Smoothing", "de randomized smoothing"),  # not a short-name prefix
        ("ICLR 2015", "iclr 2015"),  # a venue alone is left, not emptied
        ("", ""),
    ],
)
def test_normalize_title(raw: str, expected: str) -> None:
    assert normalize_title(raw) == expected


def test_title_key_unifies_spacing_and_spelling() -> None:
    assert title_score("Self-Supervised Pre-Training", "Self supervised Pretraining") == 1.0
    assert title_score("Modelling Colour", "Modeling Color") == 1.0
    assert title_score("Knowledge Distillation", "Knowledge Distillation: A Survey") < 1.0


def test_title_words_are_what_title_score_compares() -> None:
    assert title_words("(FitNets) Modelling the Colour of Self-Supervised Nets CVPR 2019") == (
        "modeling", "the", "color", "of", "self", "supervized", "nets",
    )
    assert title_words("") == ()


def test_empty_titles_score_zero() -> None:
    assert title_score("", "") == 0.0
    assert title_score("(X) ", "Born Again Neural Networks") == 0.0


# --- best_match ---------------------------------------------------------------------------------


def arxiv(title: str, year: int, aid: str, authors: tuple[str, ...] = ()) -> PaperMeta:
    return PaperMeta("arxiv", title, f"https://arxiv.org/abs/{aid}", year=year, arxiv_id=aid, authors=authors)


def cvf(title: str, venue: str, year: int, name: str, authors: tuple[str, ...] = ()) -> PaperMeta:
    url = f"https://openaccess.thecvf.com/content/{venue}{year}/html/{name}_{venue}_{year}_paper.html"
    return PaperMeta("cvf", title, url, year=year, venue=venue, authors=authors)


AT_ARXIV = arxiv(
    "Paying More Attention to Attention: Improving the Performance of Convolutional Neural Networks via "
    "Attention Transfer",
    2016,
    "1612.03928",
    ("Sergey Zagoruyko", "Nikos Komodakis"),
)
KD_SURVEY = arxiv("Knowledge Distillation: A Survey", 2020, "2006.05525")
BORN_TREES = arxiv("Born-Again Tree Ensembles", 2020, "2003.11132")
IRAD_CVF = cvf(
    "Inter-Region Affinity Distillation for Road Marking Segmentation",
    "CVPR",
    2020,
    "Hou_Inter-Region_Affinity_Distillation",
    ("Yuenan Hou", "Zheng Ma", "Chunxiao Liu", "Tak-Wai Hui", "Chen Change Loy"),
)
IRAD_ARXIV = arxiv(
    "Inter-Region Affinity Distillation for Road Marking Segmentation",
    2020,
    "2004.05304",
    ("Yuenan Hou", "Zheng Ma", "Chunxiao Liu", "Tak-Wai Hui", "Chen Change Loy"),
)


def test_fills_the_seed_entry_from_arxiv_among_distractors() -> None:
    title = (
        "Paying More Attention to Attention Improving the Performance of Convolutional Neural Networks "
        "via Attention Transfer"
    )
    m = best_match(title, [KD_SURVEY, AT_ARXIV, BORN_TREES], venue="ICLR", year=2017)
    assert m.meta is AT_ARXIV
    assert m.reason.startswith("accepted")
    assert m.confidence == pytest.approx(1.0)
    assert m.candidates[0] == (AT_ARXIV.title, AT_ARXIV.url, 1.0)
    assert [c[2] for c in m.candidates] == sorted((c[2] for c in m.candidates), reverse=True)


def test_same_paper_on_arxiv_and_cvf_is_not_ambiguous_and_prefers_the_entrys_venue() -> None:
    title = "Inter-region Affinity Distillation for Road Marking Segmentation"
    m = best_match(title, [IRAD_ARXIV, IRAD_CVF], venue="CVPR", year=2020)
    assert m.meta is IRAD_CVF
    m = best_match(title, [IRAD_ARXIV, IRAD_CVF], venue="arXiv", year=2020)
    assert m.meta is IRAD_ARXIV  # nothing to prefer: input order
    m = best_match(title, [IRAD_CVF, IRAD_ARXIV])
    assert m.meta is not None


def test_no_candidate_and_empty_title() -> None:
    assert best_match("Knowledge Transfer with Jacobian Matching", []) == Match(None, 0.0, "no candidate", ())
    assert best_match("", [AT_ARXIV]).reason == "empty title"


@pytest.mark.parametrize(
    ("title", "candidate"),
    [
        ("Knowledge Distillation", KD_SURVEY),
        ("Born Again Neural Networks", BORN_TREES),
        ("Deep Residual Learning", arxiv("Deep Residual Learning for Image Recognition", 2015, "1512.03385")),
        (
            "Knowledge Transfer via Distillation of Activation Boundaries Formed by Hidden Neurons",
            arxiv("Knowledge Distillation via Activation Boundaries", 2018, "1811.03233"),
        ),
    ],
)
def test_near_miss_is_not_filled(title: str, candidate: PaperMeta) -> None:
    m = best_match(title, [candidate])
    assert m.meta is None
    assert m.confidence == 0.0
    assert m.reason.startswith("best score ") and m.reason.endswith(f"below {ACCEPT:.2f}")


def test_one_title_at_two_venues_year_decides_or_abstain() -> None:
    title = "Learning Metrics From Teachers Compact Networks for Image Embedding"
    main = cvf(
        "Learning Metrics From Teachers: Compact Networks for Image Embedding",
        "CVPR",
        2019,
        "Yu_Learning_Metrics",
        ("Lu Yu", "Vacit Oguz Yazici"),
    )
    workshop = arxiv(  # an unrelated paper that happens to share the title
        "Learning metrics from teachers: compact networks for image embedding",
        2016,
        "1601.00001",
        ("A. Other",),
    )
    assert best_match(title, [workshop, main], venue="CVPR", year=2019).meta is main
    undecided = best_match(title, [workshop, main])
    assert undecided.meta is None
    assert undecided.reason == "ambiguous: two candidates within 0.00"


def test_two_cvf_papers_sharing_a_title_are_ambiguous() -> None:
    a = cvf("Snapshot Distillation", "CVPR", 2019, "Yang_Snapshot")
    b = cvf("Snapshot Distillation", "CVPR", 2019, "Li_Snapshot")
    assert best_match("Snapshot Distillation", [a, b], venue="CVPR", year=2019).reason.startswith("ambiguous")


def test_entry_between_two_papers_one_word_apart_abstains() -> None:
    first = arxiv("Distilling Knowledge From a Deep Pose Regressor Network", 2019, "1908.00858")
    second = arxiv("Distilling Knowledge From the Deep Pose Regressor Network", 2019, "1908.99999")
    m = best_match("Distilling Knowledge from Deep Pose Regressor Network", [first, second])
    assert m.meta is None and m.reason.startswith("ambiguous")
    # Alone, the dropped article is tolerated.
    assert best_match("Distilling Knowledge from Deep Pose Regressor Network", [first]).meta is first


def test_exact_title_beats_a_one_word_variant() -> None:
    exact = arxiv("Learning Metrics From Teachers: Compact Networks for Image Embedding", 2019, "1904.03624")
    variant = arxiv(
        "Learning Metrics From Teachers: Compact Networks for Face Image Embedding", 2019, "1904.00001"
    )
    m = best_match("Learning Metrics From Teachers Compact Networks for Image Embedding", [variant, exact])
    assert m.meta is exact
    assert m.confidence == pytest.approx(1.0)  # runner-up 0.10 behind costs nothing
    close = arxiv(
        "Learning Metrics From Teachers: Compact Networks for the Image Embedding", 2019, "1904.00002"
    )
    m = best_match("Learning Metrics From Teachers Compact Networks for Image Embedding", [exact, close])
    assert m.meta is None and m.reason == "ambiguous: two candidates within 0.02"


def test_confidence_drops_when_runner_up_is_close() -> None:
    exact = arxiv("Learning Metrics From Teachers: Compact Networks for Image Embedding", 2019, "1904.03624")
    two_articles = arxiv(
        "Learning the Metrics From Teachers: Compact Networks for the Image Embedding", 2019, "1904.00003"
    )
    query = "Learning Metrics From Teachers Compact Networks for Image Embedding"
    m = best_match(query, [exact, two_articles])
    assert m.meta is exact
    margin = 1.0 - title_score(query, two_articles.title)
    assert MARGIN <= margin < 0.10
    assert m.confidence == pytest.approx(1.0 - (0.10 - margin))
    assert 0.0 <= m.confidence < 1.0


def test_year_disagreement_rejects() -> None:
    m = best_match(AT_ARXIV.title, [AT_ARXIV], year=2019)
    assert m.meta is None
    assert m.reason == "year disagrees: entry 2019, candidate 2016"
    # A preprint a year before (or after) the venue year is fine.
    assert best_match(AT_ARXIV.title, [AT_ARXIV], year=2017).meta is AT_ARXIV
    assert best_match(AT_ARXIV.title, [AT_ARXIV], year=2015).meta is AT_ARXIV


@pytest.mark.parametrize(
    ("venue", "filled"),
    [
        ("CVPR", True),
        ("CVPR 2020", True),
        (None, True),
        ("arXiv", True),
        ("ICCV", False),  # another CVF venue
        ("ICML 2018", False),  # a known non-CVF conference
        ("AAAI", False),
        ("Proc. CVPR", True),
        ("CVPRW", False),  # the workshop, not the main conference
        ("CVPR Workshops", False),
        ("IEEE TPAMI", False),
    ],
)
def test_cvf_candidate_needs_an_agreeing_venue(venue: str | None, filled: bool) -> None:
    m = best_match(IRAD_CVF.title, [IRAD_CVF], venue=venue, year=2020)
    assert (m.meta is IRAD_CVF) is filled
    if not filled:
        assert m.reason.startswith("venue disagrees")


def test_arxiv_candidate_fills_any_venue() -> None:
    jacobian = arxiv("Knowledge Transfer with Jacobian Matching", 2018, "1803.00443")
    assert (
        best_match("Knowledge Transfer with Jacobian Matching", [jacobian], venue="ICML", year=2018).meta
        is jacobian
    )


def test_gated_exact_match_does_not_let_a_lesser_candidate_through() -> None:
    wrong_venue = cvf(IRAD_CVF.title, "CVPR", 2020, "Hou_Inter")
    near = arxiv("Inter-Region Affinity Distillation for Lane Marking Segmentation", 2020, "2004.00001")
    m = best_match(IRAD_CVF.title, [near, wrong_venue], venue="ICML", year=2020)
    assert m.meta is None and m.reason.startswith("venue disagrees")


def test_candidates_are_capped() -> None:
    many = [arxiv(f"Knowledge Distillation Part {i}", 2020, f"2001.{i:05d}") for i in range(20)]
    m = best_match("Knowledge Distillation", many)
    assert len(m.candidates) == 5


# --- properties ---------------------------------------------------------------------------------

_VOCAB = [
    "knowledge",
    "distillation",
    "a",
    "the",
    "pre",
    "training",
    "pretraining",
    "not",
    "3d",
    "3",
    "d",
    "Net",
    "nets",
    "modelling",
    "modeling",
    "colour",
    "color",
    "long",
    "tail",
    "longtail",
    "(X)",
    ":",
    "-",
    "CVPR",
    "2019",
    "\u00ad",
    "\ufb01",
    "towards",
    "toward",
]
titles = st.one_of(st.text(), st.lists(st.sampled_from(_VOCAB), max_size=12).map(" ".join))


@given(titles)
def test_normalize_title_is_idempotent(text: str) -> None:
    once = normalize_title(text)
    assert normalize_title(once) == once
    assert once == once.strip() and "  " not in once


@given(titles)
def test_a_title_matches_itself(text: str) -> None:
    score = title_score(text, text)
    assert score == (1.0 if normalize_title(text) else 0.0)


@given(titles, titles)
def test_title_score_is_symmetric_and_bounded(a: str, b: str) -> None:
    score = title_score(a, b)
    assert score == title_score(b, a)
    assert 0.0 <= score <= 1.0


def test_the_title_index_keeps_every_candidate_best_match_could_accept_or_weigh():
    """TitleIndex prunes a listing before scoring: the verdict must be the one on the whole listing."""
    from crawler.papers.match import TitleIndex

    listing = [PaperMeta(source="cvf", title=t, url=f"https://x.org/{i}", year=2020) for i, t in enumerate([
        "Pretraining Distillation", "Pre-Training Distillation for Detection", "Born-Again Tree Ensembles",
        "Born Again Neural Networks", "Knowledge Distillation: A Survey", "Knowledge Distillation",
        "Deep Residual Learning for Image Recognition", "Residual Networks Behave Like Ensembles",
        *(f"Unrelated Paper Number {n} About Graphs" for n in range(200)),
    ])]
    index = TitleIndex(listing)
    for title in ("Pre-Training Distillation", "Born Again Neural Networks", "Knowledge Distillation",
                  "Deep residual learning for image recognition", "The Born-Again Tree Ensembles",
                  "Something Else Entirely", "FitNets"):
        whole, pruned = best_match(title, listing, year=2020), best_match(title, index.near(title), year=2020)
        # The same paper and confidence; only a far runner-up's score in the reason may differ.
        assert (whole.meta, whole.confidence) == (pruned.meta, pruned.confidence), title
    assert len(index.near("Born Again Neural Networks")) < 10  # the 200 unrelated papers are never scored
