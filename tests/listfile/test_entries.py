"""Entry recognition on hand-checked excerpts of every list style the corpus shows.

The fixtures in fixtures/lists/styles/ are short excerpts retyped from public awesome lists, one file per
style; each test states every entry of its file exactly:
line, title, venue, year and whether it is a paper, then which links belong to it.
"""

from collections import Counter

import pytest

from crawler.listfile.parse import parse_list
from crawler.listfile.titles import split_title
from tests import paths

STYLES = paths.FIXTURES / "lists" / "styles"


def parsed(name: str):
    return parse_list((STYLES / name).read_bytes().decode("utf-8"))


def table(name: str) -> dict[int, tuple]:
    return {e.line: (e.title, e.venue, e.year, e.is_paper) for e in parsed(name).entries}


def by_line(name: str):
    return {e.line: e for e in parsed(name).entries}


def labels(entry) -> list[tuple[str, str]]:
    return [(lk.label, lk.url) for lk in entry.links]


# --- every style, every entry -------------------------------------------------------------------

EXPECTED = {
    # dkozlov: `- [Title](url), Authors, Year`; videos and code implementations are not papers.
    "bullet_link_title.md": {
        2: ("Model Compression", None, 2006, True),
        3: ("Distilling the Knowledge in a Neural Network", None, 2015, True),
        4: ("A Comprehensive Survey on Knowledge Distillation", None, 2025, True),  # `[Title]` with no URL
        7: ("Dark knowledge", None, 2014, False),  # ### Videos, youtube
        12: ("Attention Transfer", None, None, False),  # ## PyTorch, github
        13: ("Transformer model distillation", None, None, False),  # ## PyTorch, not github
    },
    # FLHonker: `1. Title. Authors. Venue [[code]][1.10]`, badge, TOC, tools, a soft hyphen.
    "numbered_reference.md": {
        1: ("", None, None, False),  # the star badge
        3: ("Knowledge from logits", None, None, False),  # TOC
        4: ("Distiller Tools", None, None, False),  # TOC
        8: ("Distilling the knowledge in a neural network", "arXiv", 2015, True),  # year from arXiv:1503.02531
        9: ("Learning from Noisy Labels with Distillation", "ICCV", 2017, True),
        10: ("Revisit Knowledge Distillation: a Teacher-free Framework", "CVPR", 2020, True),  # [[code]] link
        11: ("When Does Label Smoothing Help?", "NeurIPS", 2019, True),
        12: ("Harmonized Dense Knowledge Distillation Training for Multi-Exit Architectures", "AAAI", 2021, True),
        13: ("Zero-Shot Knowledge Distillation Using Label-Free Adversarial Perturbation", "IEEE Access", 2021, True),
        17: ("TextBrewer: An Open-Source Knowledge Distillation Toolkit for Natural Language Processing", "arXiv",
             2020, False),  # ## Distiller Tools
    },
    # mwan0027: raw HTML `<li>Title<a href>[paper]</a>`, `<strong>Title</strong>Authors`, venue headings.
    "raw_html.md": {
        1: ("", "CVPR", 2021, False),  # `### [CVPR 2021](url)` is a section with a link
        3: ("Data-Free Knowledge Distillation For Image Super-Resolution", "CVPR", 2021, True),
        4: ("General Instance Distillation for Object Detection", "CVPR", 2021, True),
        5: ("Data-free Knowledge Distillation for Object Detection", "WACV", 2021, True),  # its own [WACV2021]
        6: ("Advances and Open Problems in Federated Learning", "CVPR", 2021, True),  # :star2: dropped
        7: ("Zero-Shot Knowledge Distillation from a Decision-Based Black-Box Model", "CVPR", 2021, True),
        13: ("When does label smoothing help?", "NeurIPS", 2019, True),
        14: ("Amalgamating knowledge towards comprehensive classification", "AAAI", 2019, True),
        15: ("", "NeurIPS", 2019, True),  # `<strong></strong>Authors`: a paper with no title written
        19: ("IEEE Signal Processing Magazine 2020", None, 2020, False),  # a bold line standing for a heading
        21: ("Federated Learning: Challenges, Methods, and Future Directions", None, 2020, True),
    },
    # xinghaochen: one h5 heading per paper, CRLF, escaped brackets, author lines, a linkless paper heading.
    "heading_per_paper.md": {
        3: ("TriHorn-Net: A Model for Accurate Depth-Based 3D Hand Pose Estimation", "arXiv", 2022, True),
        8: ("SiMHand: Mining Similar Hands for Large-Scale 3D Hand Pose Pre-training", "ICLR", 2025, True),
        9: ("Nie Lin", None, None, False),  # the author line, with its empty `[Ming Li]()` author link
        12: ("Physics-aware Hand-object Interaction Denoising", "CVPR", 2024, True),  # no link; `### 2024 CVPR`
        15: ("Variational Object-aware 3D Hand Pose from a Single RGB Image", "RA-L", 2019, True),
        17: ("back to top", None, None, False),
        21: ("HANDS 2019", "ICCV", 2019, False),  # ## Workshops
    },
    # htqin: `- [[Venue](url)] Title. [__`bnn`__]`, bold title paragraph + author paragraph.
    "venue_link_bullets.md": {
        1: ("BiBench: Benchmarking and Analyzing Network Binarization", None, None, True),
        3: ("Haotong Qin", None, None, False),  # author paragraph
        7: ("Non-Uniform Step Size Quantization for Accurate Post-Training Quantization", "ECCV", 2022, True),
        8: ("Outlier Suppression: Pushing the Limit of Low-bit Transformer Language Models", "NeurIPS", 2022, True),
        9: ("Pruning and quantization algorithm with applications in memristor-based convolutional neural network",
            "Cognitive Neurodynamics", 2022, True),
        10: ("SA-BNN: State-Aware Binary Neural Network", "AAAI", 2022, True),  # soft hyphen; empty `[[AAAI]()]`
    },
    # ChaofWang and D-X-Y tables: the Model/Title column, the Published/Venue/Date column; a dataset table.
    "tables.md": {
        4: ("RBPN", "CVPR", 2019, True),
        5: ("MoreMNAS", "arXiv", 2019, True),
        11: ("Neural Architecture Search with Reinforcement Learning", "ICLR", 2017, True),
        12: ("Learning to Compose Domain-Specific Transformations for Data Augmentation", "NeurIPS", 2017, True),
        18: ("Population Based Training of Neural Networks", "arXiv", 2017, True),
        24: ("YouTube 3D Hands", "CVPR", 2020, False),  # a dataset row: its name is not the paper's title
    },
    # dk-liang: `- **[Abbr]** Title [[paper](url)]`, links on the next line, `**WACV**` lines as headings.
    "abbr_bullets.md": {
        2: ("Vision Transformer 超详细解读 (原理分析+代码解读)", None, None, False),  # ### Technical blog
        6: ("Image-Adaptive Hint Generation via Vision Transformer for Outpainting", "WACV", 2022, True),
        9: ("RelViT: Concept-guided Vision Transformer for Visual Relational Reasoning", "ICLR", 2022, True),
        10: ("DaViT: Dual Attention Vision Transformers", "ICLR", 2022, True),
        12: ("Voxel Transformer for 3D Object Detection", "ICLR", 2022, True),
        13: ("Swin Transformer: Hierarchical Vision Transformer using Shifted Windows", "ICLR", 2022, True),
    },
    # cedrickchee: a loose list, a ligature, a destination with a trailing space, articles and a licence.
    "loose_and_nonpaper.md": {
        1: ("Awesome ML Model Compression", None, None, False),  # heading with a badge
        5: ("Papers", None, None, False),  # TOC
        9: ("Squeezedet: Unified, small, low power fully convolutional neural networks", None, None, True),
        11: ("LoRA: Low-Rank Adaptation of Large Language Models", None, None, True),
        13: ("Massive Language Models Can Be Accurately Pruned in One-Shot", None, 2023, True),
        19: ("A Visual Guide to Quantization", None, 2024, False),  # ## Articles / ### Blogs
        23: ("I am providing code and resources in this repository to you under an open source license", None, None,
             False),  # ## License
    },
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_entry_of_each_style(name):
    assert table(name) == EXPECTED[name]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_link_belongs_to_exactly_one_entry(name):
    result = parsed(name)
    owned = Counter(id(lk) for e in result.entries for lk in e.links)
    assert owned == Counter(id(lk) for lk in result.links)


def test_fixtures_cover_every_style_file():
    assert sorted(p.name for p in STYLES.glob("*.md")) == sorted(EXPECTED)


# --- which links belong to which entry ----------------------------------------------------------


def test_numbered_list_reference_links_belong_to_their_entry():
    e = by_line("numbered_reference.md")
    assert labels(e[10]) == [("[code]", "https://github.com/yuanli2333/Teacher-free-Knowledge-Distillation")]
    assert labels(e[17]) == [("TextBrewer", "https://github.com/airaria/TextBrewer")]
    assert e[8].links == () and e[8].section == "Knowledge from logits"


def test_raw_html_items_own_their_anchors_and_empty_links():
    e = by_line("raw_html.md")
    assert labels(e[3]) == [("[paper]", "")]
    assert labels(e[7]) == [("[paper tobe_update]", "")]  # the anchor is on the line after the title
    assert labels(e[5]) == [("[paper]", "https://openaccess.thecvf.com/content/WACV2021/papers/Chawla_Data-Free_"
                             "Knowledge_Distillation_for_Object_Detection_WACV_2021_paper.pdf")]
    assert labels(e[1]) == [("CVPR 2021", "http://cvpr2021.thecvf.com/")]
    assert [x.section for x in (e[3], e[13], e[21])] == ["CVPR 2021", "Response-Based Knowledge", "IEEE"]


def test_author_lines_keep_their_empty_links_away_from_the_paper():
    e = by_line("heading_per_paper.md")
    assert labels(e[3]) == [("[arXiv:2206.07117]", "https://arxiv.org/abs/2206.07117"),
                            ("[PDF]", "https://arxiv.org/abs/2206.07117"),
                            ("[Code]", "https://github.com/mrezaei92/TriHorn-Net")]
    assert labels(e[8]) == [("[PDF]", "https://openreview.net/pdf?id=96jZFqM5E0")]
    assert e[8].empty_links == ()
    assert [lk.label for lk in e[9].empty_links] == ["Ming Li"]  # not a paper: never filled
    assert e[12].links == ()
    assert [lk.label for lk in e[15].links] == ["RA-L", "[PDF]"]
    venue = by_line("venue_link_bullets.md")
    assert [lk.label for lk in venue[1].links] == ["Paper", "Project"]
    assert [lk.label for lk in venue[3].links] == ["Haotong Qin", "Xianglong Liu"]


def test_venue_links_are_the_entrys_links_and_the_empty_one_waits_to_be_filled():
    e = by_line("venue_link_bullets.md")
    assert labels(e[7]) == [("ECCV", "https://arxiv.org/abs/2207.01405")]
    assert [lk.label for lk in e[8].links] == ["[NeurIPS]", "code"]
    assert [(lk.label, lk.line) for lk in e[10].empty_links] == [("AAAI", 10)]


def test_links_on_the_line_after_the_title_belong_to_it():
    e = by_line("abbr_bullets.md")
    assert [(lk.label, lk.line) for lk in e[10].links] == [("paper", 11), ("code", 11)]
    assert labels(e[12]) == [("paper", "https://arxiv.org/abs/2109.02497")]  # `( https://…)`


def test_table_rows_own_every_link_in_the_row():
    e = by_line("tables.md")
    assert labels(e[4]) == [("CVPR19", "https://arxiv.org/abs/1903.10128"),
                            ("PyTorch", "https://github.com/alterzero/RBPN-PyTorch")]
    assert e[12].links == ()
    assert [lk.label for lk in e[24].links] == ["YouTube 3D Hands", "[PDF]"]


def test_a_loose_list_is_not_mistaken_for_author_lines():
    e = by_line("loose_and_nonpaper.md")
    assert all(e[line].is_paper for line in (9, 11, 13))
    assert labels(e[11]) == [("LoRA: Low-Rank Adaptation of Large Language Models", "https://arxiv.org/abs/2106.09685")]


# --- the seed's rules still hold, and the new title rules -----------------------------------------


def test_the_seed_style_heading_is_a_paper_and_a_link_less_heading_a_section():
    text = "## 2017\n### (Attention Map) Paying More Attention to Attention ICLR 2017 [[paper]]()\n"
    (entry,) = parse_list(text).entries
    assert (entry.section, entry.title, entry.venue, entry.year, entry.is_paper) == (
        "2017", "Paying More Attention to Attention", "ICLR", 2017, True)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Sampling and Filtering of Neural Machine Translation Distillation Data [workshop]",
         ("Sampling and Filtering of Neural Machine Translation Distillation Data", None, None)),
        ("An Incremental Learning framework for Large-scale CTR Prediction[RecSys 22]",
         ("An Incremental Learning framework for Large-scale CTR Prediction", "RecSys", 2022)),
        ("Multimodal learning with transformers: A survey (IEEE TPAMI)",
         ("Multimodal learning with transformers: A survey", "TPAMI", None)),
        ("Paint Transformer: Feed Forward Neural Painting with Stroke Prediction (oral) )",
         ("Paint Transformer: Feed Forward Neural Painting with Stroke Prediction", None, None)),
        ("Squeezedet: Uniﬁed, small, low power fully convolutional neural networks",
         ("Squeezedet: Unified, small, low power fully convolutional neural networks", None, None)),
        ("Multi-\u00adExit Architectures for Dense Prediction.",
         ("Multi-Exit Architectures for Dense Prediction", None, None)),
        ("[back to top]", ("back to top", None, None)),
        ("Attention for Image Registration (AiR): an unsupervised Transformer approach",
         ("Attention for Image Registration (AiR): an unsupervised Transformer approach", None, None)),
    ],
)
def test_split_title_cleans_what_lists_append(text, expected):
    assert split_title(text) == expected


@pytest.mark.parametrize(("markdown", "why"), [
    ("- [A Great Repository For Distillation](https://github.com/o/r), CVPR 2020\n",
     "its title links to code, a video or a site that is not a paper"),
    ("- [Introduction](#introduction) 2020 CVPR\n", "only in-page or relative links (a table of contents)"),
    ("## Blogs\n- [A long read about distillation](https://example.org/post)\n",
     "in a section that does not hold papers (Blogs)"),
    ("- [A Great Repository For Distillation](https://github.com/o/r)\n",
     "nothing says it is a paper: no paper link, venue or year"),
    ("### [NAACL 2021](https://x.org/naacl)\n", "no title"),
    ("- [Distilling the Knowledge in a Neural Network](https://arxiv.org/abs/1503.02531)\n", None),
])
def test_a_block_that_is_not_a_paper_says_why(markdown, why):
    (entry,) = parse_list(markdown).entries
    assert entry.why_not_paper == why and entry.is_paper is (why is None)
