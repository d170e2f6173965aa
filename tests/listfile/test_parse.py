from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.listfile.parse import parse_list, read_links
from crawler.listfile.titles import split_title
from tests import paths

LISTS = paths.FIXTURES / "lists"


def links_of(name: str):
    return parse_list((LISTS / name).read_bytes().decode("utf-8")).links


def test_every_clickable_form_is_found_with_its_line_and_label():
    got = {(lk.url, lk.line, lk.label) for lk in links_of("every_form.md") if lk.url}
    assert got == {
        ("https://example.org/inline", 4, "Inline paper title here"),
        ("https://example.org/double", 4, "[paper]"),
        ("https://example.org/auto", 5, "https://example.org/auto"),
        ("https://example.org/bare", 5, "https://example.org/bare"),
        ("http://www.example.org/www", 5, "www.example.org/www"),
        ("https://example.org/ref1", 6, "ref paper"),
        ("https://example.org/ref2", 6, "r2"),
        ("https://example.org/ref3", 6, "r3"),
        ("https://example.org/badge-target", 8, "badge"),
        ("https://example.org/raw-inline", 9, "raw"),
        ("https://example.org/late", 12, "late link"),
        ("https://example.org/html-1", 20, "[paper]"),
        ("https://example.org/html-2", 21, "[code]"),
        ("https://example.org/table", 27, "pdf"),
        ("https://example.org/escaped-bare", 29, "https://example.org/escaped-bare"),
    }


def test_nothing_inside_code_spans_fences_or_indented_code():
    urls = " ".join(lk.url for lk in links_of("every_form.md"))
    assert "in-code" not in urls
    assert "in-fence" not in urls
    assert "in-indented-code" not in urls


def test_empty_links_are_kept_with_label_and_line():
    empty = [(lk.line, lk.label, lk.kind) for lk in links_of("every_form.md") if lk.is_empty]
    assert empty == [(7, "[paper]", "empty"), (7, "label", "empty"), (7, "angle", "empty")]


def test_crlf_and_missing_final_newline_keep_line_numbers():
    got = [(lk.line, lk.url) for lk in links_of("crlf.md")]
    assert got == [(3, "https://example.org/crlf"), (4, ""), (5, "https://example.org/nonl")]


def test_seed_style_entries():
    parsed = parse_list((LISTS / "seed_style.md").read_text())
    entries = {e.line: e for e in parsed.entries}
    assert sorted(entries) == [4, 7, 11]
    fitnets = entries[4]
    assert (fitnets.section, fitnets.title, fitnets.venue, fitnets.year) == (
        "2015", "Fitnets Hints for Thin Deep Nets", "ICLR", 2015)
    attention = entries[7]
    assert attention.title == "Paying More Attention to Attention"
    assert [lk.label for lk in attention.empty_links] == ["[paper]"]
    metrics = entries[11]
    assert metrics.title == "Learning Metrics From Teachers Compact Networks for Image Embedding"
    assert (metrics.venue, metrics.year, metrics.section) == ("CVPR", 2019, "2019")
    assert [lk.label for lk in metrics.links] == ["[paper]", "[arXiv paper]", "[PyTorch code]"]


def test_bundled_seed_list_has_its_four_empty_links():
    parsed = parse_list(Path("data/papers.md").read_text())
    assert [lk.line for lk in parsed.links if lk.is_empty] == [15, 19, 23, 30]
    assert len(parsed.entries) == 14
    assert all(e.is_paper and e.year for e in parsed.entries)
    # Titles without the (ShortName) prefix, the trailing venue and year, and the links.
    titles = {e.line: e.title for e in parsed.entries}
    assert titles[14] == ("A Gift from Knowledge Distillation Fast Optimization, Network Minimization and "
                          "Transfer Learning")
    assert titles[4] == "Distilling the Knowledge in a Neural Network"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("(FitNets) Fitnets Hints for Thin Deep Nets ICLR 2015", ("Fitnets Hints for Thin Deep Nets", "ICLR", 2015)),
        ("Distilling the Knowledge in a Neural Network NIPSW 2014",
         ("Distilling the Knowledge in a Neural Network", "NIPSW", 2014)),
        ("Deep Model Compression arXiv 2016", ("Deep Model Compression", "arXiv", 2016)),
        ("A title without venue", ("A title without venue", None, None)),
        ("[ViT] An Image is Worth 16x16 Words, ICLR 2021.", ("An Image is Worth 16x16 Words", "ICLR", 2021)),
    ],
)
def test_split_title(text, expected):
    assert split_title(text) == expected


def test_reference_definitions_and_bullets_in_other_styles():
    text = (
        "## Papers\n\n"
        "- [Distilling the Knowledge in a Neural Network](https://arxiv.org/abs/1503.02531), Hinton et al., 2015\n"
        "1. Born Again Neural Networks. Furlanello et al. ICML 2018 [[code]][1.2]\n"
        "- Not a paper line without links\n\n"
        "[1.2]:https://github.com/x/y\n"
    )
    parsed = parse_list(text)
    by_line = {e.line: e for e in parsed.entries}
    assert by_line[3].title == "Distilling the Knowledge in a Neural Network"
    assert by_line[4].title == "Born Again Neural Networks"
    assert (by_line[4].venue, by_line[4].year) == ("ICML", 2018)
    assert by_line[4].links[0].url == "https://github.com/x/y"
    assert 5 not in by_line


def test_whitespace_inside_raw_href_is_dropped_as_browsers_do():
    parsed = parse_list('<ul><li>A paper title here <a href="https://\nexample.org/x">[paper]</a>\n</ul>\n')
    assert [lk.url for lk in parsed.links] == ["https://example.org/x"]


def test_links_first_then_entries_is_the_same_parse():
    # The pipeline may send the links off to be checked before it asks for the entries.
    for path in sorted(LISTS.rglob("*.md")):
        text = path.read_bytes().decode("utf-8")
        reading = read_links(text)
        whole = parse_list(text)
        assert reading.links == whole.links, path.name
        assert reading.parsed() == whole, path.name
        assert reading.parsed() is reading.parsed()  # found once


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=400))
def test_parser_never_crashes_on_arbitrary_text(text):
    parsed = parse_list(text)
    n_lines = max(1, len(text.splitlines()))
    assert all(1 <= lk.line <= n_lines + 1 for lk in parsed.links)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["[a](", "]()", "<a href=", "\n", "`", "```\n", "| x |", "https://x.org/",
                                 "[[paper]]()", "\r\n", "<li>", "> ", "- ", "#", " ", "[r]: http://r.org"]),
                max_size=40))
def test_parser_never_crashes_on_markdown_soup(parts):
    text = "".join(parts)
    parsed = parse_list(text)
    # Whatever the soup, what comes out is consistent: every link on a line of the text, every entry's
    # links among the list's links, an empty link only where the destination is empty.
    last = len(text.splitlines()) or 1
    assert all(1 <= lk.line <= last for lk in parsed.links), [lk for lk in parsed.links if lk.line > last]
    assert {lk for e in parsed.entries for lk in e.links} <= set(parsed.links)
    assert all(lk.is_empty == (lk.url.strip() == "") for lk in parsed.links)
