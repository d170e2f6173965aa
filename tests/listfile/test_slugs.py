"""GitHub's heading anchors (crawler.listfile.slugs), on github-slugger's fixtures, each rendered by GitHub."""

import json

from crawler.listfile.parse import parse_list
from crawler.listfile.slugs import Slugger, heading_slugs, slug
from tests import paths

FIXTURE = paths.FIXTURES / "slugs" / "github-slugger.json"


def test_every_github_slugger_fixture_in_order_as_headings_of_one_document():
    cases = json.loads(FIXTURE.read_text(encoding="utf-8"))
    assert len(cases) == 78
    slugger = Slugger()
    wrong = [(c["name"], slugger.slug(c["input"]), c["expected"]) for c in cases]
    assert [w for w in wrong if w[1] != w[2]] == []


def test_the_rules_one_by_one():
    assert slug("heading with a - dash") == "heading-with-a---dash"  # spaces are not collapsed
    assert slug("😄 unicode emoji") == "-unicode-emoji"
    assert slug("x² and ¾") == "x-and-"  # "other numbers" go
    assert slug("Привет non-latin 你好") == "привет-non-latin-你好"
    assert slug("ⓐ circled") == "ⓐ-circled"  # an Other_Symbol that is Alphabetic stays
    assert slug("2024 Others") == "2024-others"


def test_repeated_headings_are_numbered_and_a_taken_number_is_skipped():
    assert heading_slugs(["Echo", "Echo", "Echo 1", "Echo"]) == ("echo", "echo-1", "echo-1-1", "echo-2")
    assert heading_slugs(["foxtrot-1", "foxtrot", "foxtrot"]) == ("foxtrot-1", "foxtrot", "foxtrot-2")


def test_the_parse_slugs_the_rendered_text_of_every_heading_level_and_setext():
    text = ("# Intro `code` [a link](https://x.example) *em*\n\n"
            "Setext one\n==========\n\n"
            "###### Deep: level six!\n\n"
            "## Intro code a link em\n\n"
            "- not a heading\n")
    (anchors,) = parse_list(text).anchors
    assert anchors.slugs == {"intro-code-a-link-em", "setext-one", "deep-level-six", "intro-code-a-link-em-1"}
    assert anchors.lines == 10


def test_raw_html_ids_and_names_are_targets_and_headings_in_raw_html_are_slugged():
    text = '<a name="Top-Anchor"></a>\n\n<h2 id="custom">Raw Heading</h2>\n\n<div id=\'box\'>x</div>\n'
    (anchors,) = parse_list(text).anchors
    assert anchors.ids == {"Top-Anchor", "custom", "box"}
    assert "raw-heading" in anchors.slugs


def test_a_list_read_with_others_keeps_its_own_anchors():
    a = parse_list("# A\n").in_file("a.md")
    b = parse_list("# B\n").in_file("docs/b.md")
    joined = type(a).join([a, b])
    assert [(x.file, set(x.slugs)) for x in joined.anchors] == [("a.md", {"a"}), ("docs/b.md", {"b"})]
