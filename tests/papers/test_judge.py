"""The paper judge: is the source's paper the one the entry names?

Entries come from parse_list on one-line excerpts in the corpus lists' own styles, so `title` and
`raw` are what the pipeline will hand over. Sources are PaperMeta as arXiv and CVF give them
("First Last" from the API and CVF, "Last, First" from abs pages). The figures on the real lists are
in test_judge_corpus.py.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crawler.listfile.parse import parse_list
from crawler.models import Entry, PaperMeta
from crawler.papers.judge import PaperJudgement, entry_author_names, entry_authors, judge_paper
from crawler.papers.match import ACCEPT, title_score


def entry(markdown: str) -> Entry:
    (only,) = parse_list(markdown + "\n").entries
    return only


def arxiv(title: str, authors: tuple[str, ...] = (), year: int | None = None) -> PaperMeta:
    return PaperMeta("arxiv", title, "https://arxiv.org/abs/2106.04570", authors=authors, year=year)


def raw_entry(title: str, raw: str, year: int | None = None) -> Entry:
    return Entry(line=1, section="", title=title, venue=None, year=year, links=(), raw=raw)


# --- the issue's four renamed papers, as the lists write them ----------------------------------------

BERT_TEACH = arxiv(
    "BERT Learns to Teach: Knowledge Distillation with Meta Learning",
    ("Wangchunshu Zhou", "Canwen Xu", "Julian McAuley"),
    2021,
)
LEARNING_LOSS = arxiv(
    "Learning Loss for Knowledge Distillation with Conditional Adversarial Networks",
    ("Xu, Zheng", "Hsu, Yen-Chang", "Huang, Jiawei"),  # as the abs page's meta tags give them
    2017,
)
KNOWLEDGE_PROJECTION = arxiv(
    "Knowledge Projection for Deep Neural Networks", ("Zhi Zhang", "Guanghan Ning", "Zhihai He"), 2017
)
ADDITIVE_EXPLANATIONS = arxiv(
    "Learning Global Additive Explanations for Neural Nets Using Model Distillation",
    ("Sarah Tan", "Giles Hooker", "Paul Koch", "Albert Gordo", "Rich Caruana"),
    2018,
)


@pytest.mark.parametrize(
    ("markdown", "source", "authors_matched"),
    [
        ("- [Meta Learning for Knowledge Distillation](https://arxiv.org/abs/2106.04570)", BERT_TEACH, None),
        ("1. Meta Learning for Knowledge Distillation. Zhou, Wangchunshu et al. arXiv:2106.04570", BERT_TEACH, True),
        (
            "1. Training Shallow and Thin Networks for Acceleration via Knowledge Distillation with Conditional "
            "Adversarial Networks. Xu, Zheng et al. arXiv:1709.00513",
            LEARNING_LOSS,
            True,
        ),
        (
            "- [Training Shallow and Thin Networks for Acceleration via Knowledge Distillation with Conditional "
            "Adversarial Networks](https://arxiv.org/abs/1709.00513)",
            LEARNING_LOSS,
            None,
        ),
        (
            "3. Knowledge Projection for Effective Design of Thinner and Faster Deep Neural Networks. Zhang, Zhi "
            "et al. arXiv:1710.09505",
            KNOWLEDGE_PROJECTION,
            True,
        ),
        (
            "- [Knowledge Projection for Effective Design of Thinner and Faster Deep Neural Networks]"
            "(https://arxiv.org/abs/1710.09505)",
            KNOWLEDGE_PROJECTION,
            None,
        ),
        (
            "- [Considerations When Learning Additive Explanations for Black-Box Models](https://arxiv.org/pdf/"
            "1801.08640.pdf), Sarah Tan, Giles Hooker, Paul Koch, Albert Gordo, Rich Caruana, 2023",
            ADDITIVE_EXPLANATIONS,
            True,
        ),
    ],
)
def test_the_issues_renamed_papers_are_the_same_paper_with_a_new_title(markdown, source, authors_matched):
    listed = entry(markdown)
    j = judge_paper(listed, source)
    assert title_score(listed.title, source.title) < 0.5  # the old rule called every one `wrong_paper`
    assert j.same and j.title_changed
    assert j.authors_matched is authors_matched
    assert j.reason.startswith("title differs")


def test_all_authors_matching_is_reported_in_the_reason():
    listed = entry(
        "- [Considerations When Learning Additive Explanations for Black-Box Models](https://arxiv.org/pdf/"
        "1801.08640.pdf), Sarah Tan, Giles Hooker, Paul Koch, Albert Gordo, Rich Caruana, 2023"
    )
    j = judge_paper(listed, ADDITIVE_EXPLANATIONS)
    assert j == PaperJudgement(True, True, j.title_score, True, True, "title differs, 5 of 5 authors match")


# --- the rules the issue pins ---------------------------------------------------------------------


def test_same_authors_with_a_changed_title_is_the_same_paper_even_sharing_nothing():
    listed = entry("- [Spatial Gating for Everything](https://arxiv.org/abs/2001.00001), Ada Lovelace, Alan Turing, "
                   "2020")
    j = judge_paper(listed, arxiv("A Completely Different Name", ("Alan Turing", "Ada Lovelace"), 2020))
    assert j.same and j.title_changed and j.authors_matched
    assert j.reason == "title differs, 2 of 2 authors match"


def test_renamed_without_authors_but_a_shared_distinctive_phrase_is_the_same_paper():
    listed = entry("- [Learning Additive Explanations for Black-Box Models](https://arxiv.org/abs/1801.08640)")
    j = judge_paper(listed, ADDITIVE_EXPLANATIONS)
    assert j.same and j.title_changed and j.authors_matched is None
    assert j.reason == "title differs, shares 'additive explanations'"


def test_an_unrelated_paper_by_other_authors_is_another_paper():
    listed = entry(
        "- [Learning Loss for Knowledge Distillation with Conditional Adversarial Networks]"
        "(https://arxiv.org/abs/1709.00513), Zheng Xu, Yen-Chang Hsu, Jiawei Huang, 2017"
    )
    other = arxiv("Born-Again Tree Ensembles", ("Thibaut Vidal", "Maximilian Schiffer"), 2020)
    j = judge_paper(listed, other)
    assert not j.same and not j.title_changed
    assert j.authors_matched is False
    assert j.reason == "title differs, 0 of 2 authors match"


def test_an_unrelated_paper_of_the_same_field_without_authors_is_another_paper():
    listed = entry("- [Spherical Knowledge Distillation](https://arxiv.org/abs/2010.07485)")
    j = judge_paper(listed, arxiv("Residual Knowledge Distillation", year=2020))  # 0.80 by title score
    assert not j.same
    assert j.reason == "title differs, nothing distinctive shared, no authors to compare"


def test_field_words_in_common_are_not_distinctive():
    listed = entry("- [TriTransNet: RGB-D Salient Object Detection with a Triplet Transformer Embedding Network]()")
    paint = arxiv("Paint Transformer: Feed Forward Neural Painting with Stroke Prediction")
    assert not judge_paper(listed, paint).same  # a corpus list's own wrong link: "transformer", "neural"
    hands = entry("- [Hand Pose Estimation through Semi-Supervised and Weakly-Supervised Learning]()")
    ego = arxiv("Ego2HandsPose: A Dataset for Egocentric Two-hand 3D Global Pose Estimation")
    assert not judge_paper(hands, ego).same


def test_a_very_close_title_is_the_same_paper_not_a_changed_title():
    listed = entry("- [Paying More Attention to Attention Improving the Performance of CNNs via Attention Transfer]()")
    j = judge_paper(listed, arxiv("Paying More Attention to Attention: Improving the Performance of CNNs via "
                                  "Attention Transfer", ("Sergey Zagoruyko",)))
    assert j.title_score >= ACCEPT
    assert j.same and not j.title_changed
    assert j.reason == "title matches"  # the list names nobody: nothing to say about authors


def test_a_title_that_matches_wins_over_authors_that_do_not():
    listed = entry("1. Born Again Neural Networks. Furlanello, Tommaso et al. ICML 2018")
    j = judge_paper(listed, arxiv("Born Again Neural Networks", ("Someone Else",), 2018))
    assert j.same and not j.title_changed and j.authors_matched is False
    assert j.reason == "title matches, 0 of 1 authors match"


def test_a_near_title_with_a_distinctive_phrase_outweighs_one_mismatched_author_list():
    listed = entry("1. WFitnets: Hints for thin deep nets. Romero, Adriana et al. ICLR 2015")
    j = judge_paper(listed, arxiv("FitNets: Hints for Thin Deep Nets", ("Someone Else", "Another One"), 2014))
    assert j.title_score >= 0.5
    assert j.same and j.title_changed and j.authors_matched is False


def test_one_matching_surname_is_agreement_not_proof():
    # "Zhang et al." fits a tenth of a field: with nothing distinctive shared, it is another paper.
    listed = entry("1. Task-Oriented Feature Distillation. Zhang et al. NeurIPS 2020")
    other = arxiv("TernaryBERT: Distillation-aware Ultra-low Bit BERT", ("Wei Zhang", "Lu Hou"), 2020)
    j = judge_paper(listed, other)
    assert not j.same and j.authors_matched is True
    assert j.reason == "title differs, nothing distinctive shared, 1 of 1 authors match"
    renamed = arxiv("Task-Oriented Feature Distillation for Efficient Networks", ("Linfeng Zhang",), 2020)
    assert judge_paper(listed, renamed).same


def test_et_al_matches_its_author_in_any_position_but_the_title_still_decides():
    listed = entry("1. Distilling the knowledge in a neural network. Hinton et al. arXiv:1503.02531")
    capsules = arxiv("Dynamic Routing Between Capsules", ("Sara Sabour", "Nicholas Frosst", "Geoffrey E. Hinton"))
    j = judge_paper(listed, capsules)
    assert j.authors_matched is True and not j.same
    elsewhere = arxiv("Dark Knowledge", ("Oriol Vinyals", "Jeff Dean"))
    assert judge_paper(listed, elsewhere).authors_matched is False


def test_given_names_tell_apart_people_who_share_a_surname():
    listed = entry("1. Improving Weakly Supervised Visual Grounding by Contrastive Knowledge Distillation. "
                   "Wang, Liwei et al. arXiv:2007.01951")
    assert judge_paper(listed, arxiv("Other Work", ("Lin Wang", "Kuk-Jin Yoon"))).authors_matched is False
    assert judge_paper(listed, arxiv("Other Work", ("Liwei Wang", "Jing Huang"))).authors_matched is True
    assert judge_paper(listed, arxiv("Other Work", ("L. Wang", "J. Huang"))).authors_matched is True


def test_a_bare_name_may_be_family_name_first():
    listed = entry("1. Hierarchical Knowledge Squeezed Adversarial Network Compression. Zhang Yuan et al. AAAI 2020")
    assert judge_paper(listed, arxiv("X", ("Yuan Zhang", "Someone Else"))).authors_matched is True
    assert judge_paper(listed, arxiv("X", ("Zhang Yuan",))).authors_matched is True


def test_a_short_name_cannot_disagree_by_itself():
    assert judge_paper(raw_entry("FALSR", "FALSR arXiv TensorFlow Lightweight，NAS"),
                       arxiv("Fast, Accurate and Lightweight Super-Resolution with Neural Architecture Search")).same
    j = judge_paper(raw_entry("FALSR", "FALSR, Xiangxiang Chu, Bo Zhang, 2019"), arxiv("Other", ("Ann Smith",)))
    assert not j.same and j.authors_matched is False


def test_a_missing_title_on_either_side_is_no_evidence():
    j = judge_paper(raw_entry("", "[paper]"), ADDITIVE_EXPLANATIONS)
    assert j.same and j.reason == "entry has no title, no authors to compare"
    j = judge_paper(entry("- [Spherical Knowledge Distillation](https://arxiv.org/abs/2010.07485)"), arxiv(""))
    assert j.same and j.reason == "source has no title, no authors to compare"


def test_a_year_well_before_the_first_version_vetoes_a_shared_phrase():
    listed = entry("- [Learning Additive Explanations for Black-Box Models](https://arxiv.org/abs/1801.08640) (2012)")
    assert listed.year == 2012
    j = judge_paper(listed, ADDITIVE_EXPLANATIONS)
    assert not j.same and j.year_ok is False
    assert "year disagrees" in j.reason
    later = entry("- [Learning Additive Explanations for Black-Box Models](https://arxiv.org/abs/1801.08640) (2023)")
    assert judge_paper(later, ADDITIVE_EXPLANATIONS).year_ok is True  # a renamed version years later


def test_year_against_a_venue_source_allows_one_year():
    listed = raw_entry("Inter-Region Affinity Distillation for Road Marking Segmentation", "", year=2021)
    cvf = PaperMeta("cvf", "Inter-Region Affinity Distillation for Road Marking Segmentation", "u", year=2020)
    assert judge_paper(listed, cvf).year_ok is True
    assert judge_paper(raw_entry(cvf.title, "", year=2018), cvf).year_ok is False
    assert judge_paper(raw_entry(cvf.title, ""), cvf).year_ok is None


def test_authors_are_unknown_when_the_source_gives_none():
    listed = entry("- [Learning Loss for KD](https://arxiv.org/abs/1709.00513), Zheng Xu, Yen-Chang Hsu, 2017")
    assert judge_paper(listed, arxiv("Learning Loss for KD")).authors_matched is None


def test_typos_in_long_words_still_share_the_phrase():
    listed = entry("- [Reducing the Teacher-Student Gap via Spherical Knowledge Disitllation](https://arxiv.org/abs/1)")
    j = judge_paper(listed, arxiv("Spherical Knowledge Distillation"))
    assert j.same and j.title_changed


def test_field_words_alone_name_a_paper_only_in_a_long_run():
    hands = entry("- [Lightweight Real-time 3D Hand Pose Estimation with Graph Attention]()")
    topic = arxiv("Real-Time 3D Hand Pose Estimation from a Single Depth Image")  # six field words in a row
    assert not judge_paper(hands, topic).same
    nuqmm = entry("- [nuQmm: Quantized MatMul for Efficient Inference of Large-Scale Generative Language Models]"
                  "(https://arxiv.org/abs/2206.09557)")
    renamed = arxiv("LUT-GEMM: Quantized Matrix Multiplication based on LUTs for Efficient Inference in "
                    "Large-Scale Generative Language Models")  # a corpus pair: seven in a row
    j = judge_paper(nuqmm, renamed)
    assert j.same and j.reason == "title differs, shares 'efficient inference large scale generative language models'"


def test_every_word_of_the_shorter_title_counts_in_a_row_or_not():
    robust = entry("- [Towards Robust Vision Transformer](https://arxiv.org/abs/2105.07926)")
    assert judge_paper(robust, arxiv("Rethinking the Design Principles of Robust Vision Transformer")).same
    shortened = entry("- [Model Compression](https://arxiv.org/abs/1802.05668)")  # the list kept the head only
    assert judge_paper(shortened, arxiv("Model Compression via Distillation and Quantization")).same
    # Three field words scattered through another title are a topic, not a paper.
    detection = entry("- [Toward Transformer-Based Object Detection](https://arxiv.org/abs/2012.09958)")
    assert not judge_paper(detection, arxiv("An End-to-End Transformer Model for 3D Object Detection")).same


# --- the entry's authors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("markdown", "surnames"),
    [
        # dkozlov: full names after the link, then the year
        ("- [A Title Here](https://a.org/x), Zheng Xu, Yen-Chang Hsu, Jiawei Huang, 2017", ("xu", "hsu", "huang")),
        ("- [A Title Here](https://a.org/x), L.K. Hansen, P. Salamon, 1990", ("hansen", "salamon")),
        ("- [A Title Here](https://a.org/x), Barret Zoph, Quoc V. Le, 2017", ("zoph", "le")),
        ("- [A Title Here](https://a.org/x), Jiawei Fan, Chao Li, Xiaolong Liu and Anbang Yao, 2024",
         ("fan", "li", "liu", "yao")),
        ("- [A Title Here](https://a.org/x), Edgar Schönfeld, Łukasz Kaiser, 2024", ("schonfeld", "kaiser")),
        ("- [A Title Here](https://a.org/x), Laurens van der Maaten, 2008", ("vandermaaten",)),
        ("- [A Title Here](https://a.org/x), Taegyeong Lee, et al. 2025", ("lee",)),
        # FLHonker: "Family, Given et al." then venue or arXiv id
        ("1. A Title Here. Xu, Zheng et al. arXiv:1709.00513", ("xu",)),
        ("1. A Title Here. Hinton et al. arXiv:1503.02531", ("hinton",)),
        ("1. A Title Here. Cho, Jang Hyun & Hariharan, Bharath. arXiv:1910.01348. ICCV 2019", ("cho", "hariharan")),
        ("1. A Title Here. Phuong, Mary and Lampert, Christoph H. ICCV 2019", ("phuong", "lampert")),
        ("1. A Title Here. Fan, Wenxuan & Hou, Zhenyan.arXiv:2103.07350", ("fan", "hou")),
        ("1. A Title Here. Allen-Zhu, Zeyuan & Li, Yuanzhi.(Microsoft) arXiv:2012.09816", ("allenzhu", "li")),
        ("1. A Title Here. Cha, han et al. arXiv:2005.06105", ("cha",)),
        # mwan0027: APA after a bold title
        ("<ul><li><strong>A Title Here</strong>Müller, R., Kornblith, S., & Hinton, G. E. (2019). In: NeurIPS."
         ' <a href="https://a.org/x">[paper]</a></li></ul>', ("muller", "kornblith", "hinton")),
        # cedrickchee: "by ... et al."
        ("- [A Title Here](https://arxiv.org/abs/2212.09720) by Tim Dettmers et al. (2022) - Overall, it works.",
         ("dettmers",)),
        # Not people
        ("- [A Title Here](https://a.org/x) by Monash University (2021)", ()),
        ("- [A Title Here](https://a.org/x) by NVIDIA, Arm, and Intel, 2022 - FP8 delivered", ()),
        ("- [A Title Here](https://a.org/x) by CMU, Meta AI Research et al. (May 2024) - The popular", ()),
        ("- [A Title Here](https://a.org/x) CVPR19 PyTorch VideoSR", ()),
        ("- [A Title Here](https://a.org/x) Springer Book 2019 -", ()),
        ("1. A Title Here. ICLR 2019", ()),
        ("1. A Title Here. arXiv:2005.08213 [code]", ()),
        ("- [A Title Here](https://a.org/x) [paper] [code] :star: Spotlight", ()),
        ("- [A Title Here](https://a.org/x), deeplearning-papernotes, Yoon Kim, 2016", ()),  # all or nothing
        ("- [A Title Here](https://a.org/x), 张三, 李四, 2020", ()),  # cannot be compared with romanised names
    ],
)
def test_entry_authors_in_every_corpus_style(markdown, surnames):
    assert entry_authors(entry(markdown)) == surnames


def test_authors_written_before_the_title():
    listed = raw_entry("Distilling the knowledge in a neural network",
                       "Hinton, G., Vinyals, O., & Dean, J. (2015). Distilling the knowledge in a neural network.")
    assert entry_authors(listed) == ("hinton", "vinyals", "dean")
    assert entry_author_names(listed) == ("g hinton", "o vinyals", "j dean")


def test_entry_author_names_keep_given_names_as_far_as_given():
    listed = entry("- [A Title Here](https://a.org/x), Zheng Xu, L.K. Hansen, 2017")
    assert entry_author_names(listed) == ("zheng xu", "l hansen")
    assert entry_author_names(entry("1. A Title Here. Hinton et al. arXiv:1503.02531")) == ("hinton",)


def test_a_title_the_text_does_not_contain_gives_no_authors():
    assert entry_authors(raw_entry("Another Title", "A Title Here, Zheng Xu, Yen-Chang Hsu, 2017")) == ()
    assert entry_authors(raw_entry("", "Zheng Xu, Yen-Chang Hsu, 2017")) == ()


def test_source_authors_in_both_orders_and_with_compound_surnames():
    listed = entry("- [A Title Here](https://a.org/x), Raphael Gontijo Lopes, Stefano Fenu, 2017")
    for authors in (("Gontijo Lopes, Raphael", "Fenu, Stefano"), ("Raphael Gontijo Lopes", "Stefano Fenu"),
                    ("Raphael Gontijo-Lopes", "Stefano Fenu Jr.")):
        j = judge_paper(listed, arxiv("Data-Free Knowledge Distillation for Deep Neural Networks", authors))
        assert j.same and j.authors_matched, authors


# --- properties -------------------------------------------------------------------------------------

_WORDS = ["knowledge", "distillation", "spherical", "teacher", "a", "for", "of", "Net", "3D", "Additive",
          "explanations", "meta", "learning", "BERT", "model", "-", ":"]
titles = st.lists(st.sampled_from(_WORDS), min_size=1, max_size=10).map(" ".join)
people = st.lists(st.sampled_from(["Zheng Xu", "Zhi Zhang", "Sarah Tan", "Rich Caruana", "Ada Lovelace"]),
                  max_size=4, unique=True)


@given(titles, titles, people, people, st.one_of(st.none(), st.integers(2010, 2025)),
       st.one_of(st.none(), st.integers(2010, 2025)))
def test_verdict_invariants(title, other, listed_people, source_people, year, source_year):
    text = title + (", " + ", ".join(listed_people) + ", 2020" if listed_people else "")
    j = judge_paper(raw_entry(title, text, year), arxiv(other, tuple(source_people), source_year))
    assert j.title_score == title_score(title, other)
    assert not (j.title_changed and not j.same)  # a changed title is only reported for the same paper
    assert j.same or j.title_score < ACCEPT  # a matching title is never another paper
    assert (j.authors_matched is None) == (not source_people or not entry_authors(raw_entry(title, text)))
    assert "\n" not in j.reason and len(j.reason) <= 200


@given(titles, people)
def test_a_title_judged_against_itself_is_the_same_unchanged_paper(title, authors):
    j = judge_paper(raw_entry(title, title), arxiv(title, tuple(authors)))
    if j.title_score >= ACCEPT:
        assert j.same and not j.title_changed


@pytest.mark.parametrize(("listed", "source"), [
    ("Sponge Examples", "Sponge Examples: Energy-Latency Attacks on Neural Networks"),
    ("Sponge Examples: Energy-Latency Attacks on Neural Networks", "Sponge Examples"),
])
def test_a_title_written_without_its_subtitle_is_the_same_title_not_a_changed_one(listed, source):
    meta = PaperMeta("crossref", source, "https://doi.org/10.1/x", authors=("Ilia Shumailov",), year=2021)
    judged = judge_paper(entry(f"- [{listed}](https://doi.org/10.1/x), Ilia Shumailov, 2021"), meta)
    assert judged.same and not judged.title_changed
    other = judge_paper(entry("- [Sponge Sandwiches](https://doi.org/10.1/x), Ilia Shumailov, 2021"), meta)
    assert other.title_changed or not other.same  # a different main title is still a change
