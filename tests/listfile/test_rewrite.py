"""Write-back: only empty destinations (and, on request, abstract blocks and redirects) change."""

import os

import pytest

from crawler.errors import UsageError
from crawler.listfile import rewrite
from crawler.listfile.parse import parse_list
from crawler.models import Enrichment, Fill, PaperMeta
from crawler.store.files import WriteError, write_atomic
from tests import paths

LISTS = paths.FIXTURES / "lists"


def fills_for(parsed, url_for=lambda lk: f"https://example.org/filled/{lk.line}"):
    return [Fill(line=lk.line, entry="e", label=lk.label, url=url_for(lk), source="arxiv", confidence=1.0,
                 matched_title="t") for lk in parsed.links if lk.is_empty]


def metas_for(parsed, abstract="An abstract."):
    return {e.place: PaperMeta(source="arxiv", title=e.title, url="https://arxiv.org/abs/1", abstract=abstract)
            for e in parsed.entries}


def load(name):
    return (LISTS / name).read_bytes().decode("utf-8")


def changed_lines(old, new):
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(a) == len(b)
    return [i + 1 for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def test_only_empty_destinations_change_byte_for_byte():
    text = load("write_back.md")
    parsed = parse_list(text)
    new = rewrite.apply(text, parsed, Enrichment(fills=fills_for(parsed)))
    # Table cell, list item continuation, heading, last line; never the fence, the code span, or a
    # raw-HTML href="" (no Markdown destination to fill there: left for a human).
    assert changed_lines(text, new) == [5, 14, 15, 16]
    assert "[pdf](https://example.org/filled/5)" in new
    assert "[[paper]]() in a fence" in new
    assert "`[[code]]()`" in new
    assert new.count("\r\n") == text.count("\r\n")
    assert not new.endswith("\n")  # a missing final newline stays missing
    assert "  \t\r\n" in new  # trailing spaces and tabs survive


def test_raw_html_empty_href_is_left_alone_when_it_cannot_be_matched_safely():
    text = '<ul><li>HTML paper <a href="">[paper]</a></li></ul>\n'
    parsed = parse_list(text)
    assert rewrite.apply(text, parsed, Enrichment(fills=fills_for(parsed))) == text


def test_second_run_over_its_own_output_changes_nothing():
    text = load("write_back.md")
    parsed = parse_list(text)
    once = rewrite.apply(text, parsed, Enrichment(fills=fills_for(parsed), metas=metas_for(parsed)), abstracts=True)
    parsed2 = parse_list(once)
    assert [lk.line for lk in parsed2.links if lk.is_empty] == [7]
    twice = rewrite.apply(once, parsed2, Enrichment(fills=fills_for(parsed2), metas=metas_for(parsed2)),
                          abstracts=True)
    assert twice == once


def test_abstract_blocks_are_inserted_once_and_updated_in_place():
    text = "## 2020\n### First Paper Title CVPR 2020 [[paper]](https://example.org/a)\n### Second Paper ICML 2019 [x](https://example.org/b)\n"
    parsed = parse_list(text)
    once = rewrite.apply(text, parsed, Enrichment(metas=metas_for(parsed, "Old words.")), abstracts=True)
    assert once.count(rewrite.MARK_OPEN) == 2
    updated = rewrite.apply(once, parse_list(once), Enrichment(metas=metas_for(parse_list(once), "New words.")),
                            abstracts=True)
    assert updated.count(rewrite.MARK_OPEN) == 2
    assert "New words." in updated and "Old words." not in updated
    # Both headings still render as headings: the block did not swallow the next entry.
    titles = [e.title for e in parse_list(updated).entries]
    assert titles == ["First Paper Title", "Second Paper"]


def test_remote_abstract_cannot_inject_markup():
    evil = ('</details><script>alert(1)</script> [x](javascript:alert(1)) https://evil.example/\n\n# Heading\n'
            '<img src=x onerror=alert(1)> --> <!--')
    text = "### A Paper Title Here ICML 2019 [p](https://example.org/a)\n"
    parsed = parse_list(text)
    new = rewrite.apply(text, parsed, Enrichment(metas=metas_for(parsed, evil)), abstracts=True)
    after = parse_list(new)
    assert [lk.url for lk in after.links] == ["https://example.org/a"]  # no new link, not even the bare URL
    assert "<script>" not in new and "<img" not in new and "</details><script>" not in new
    assert [e.title for e in after.entries] == ["A Paper Title Here"]  # no heading injected
    assert "&lt;/details&gt;&lt;script&gt;" in new


def test_remote_url_cannot_break_out_of_the_link():
    text = "- A Paper Title Here [[paper]]()\n"
    parsed = parse_list(text)
    new = rewrite.apply(text, parsed, Enrichment(fills=fills_for(parsed, lambda lk: "https://x.org/a) [evil](http://e")))
    assert [lk.url for lk in parse_list(new).links] == ["https://x.org/a%29%20%5Bevil%5D%28http://e"]


def test_update_redirects_replaces_only_that_url():
    text = "- Paper [p](http://openaccess.thecvf.com/x.html) and [q](http://openaccess.thecvf.com/x.html.bak)\n"
    parsed = parse_list(text)
    new = rewrite.apply(text, parsed, Enrichment(),
                        redirects={"http://openaccess.thecvf.com/x.html": "https://openaccess.thecvf.com/x.html"})
    assert new == ("- Paper [p](https://openaccess.thecvf.com/x.html) and "
                   "[q](http://openaccess.thecvf.com/x.html.bak)\n")


def test_a_url_written_twice_on_a_line_moves_at_both_places_but_not_inside_code_or_a_longer_url():
    old, new = "http://a.org/p", "https://web.archive.org/web/2020/http://a.org/p"
    text = f"- A [paper]({old}) <{old}> `{old}` [copy]({new})\n"
    parsed = parse_list(text)
    assert [lk.url for lk in parsed.links].count(old) == 2
    moved = rewrite.apply(text, parsed, Enrichment(), redirects={old: new})
    # Each (line, URL) is rewritten once, so the archive's URL, which ends with the old one, is not nested.
    assert moved == f"- A [paper]({new}) <{new}> `{old}` [copy]({new})\n"
    assert rewrite.apply(moved, parse_list(moved), Enrichment(), redirects={old: new}) == moved


@pytest.mark.parametrize("written", ["- Paper B. Paper:{u}", "- <a href={u}>pdf</a>", "- 论文 A 代码:{u}",
                                     "- 论文{u}", "- [p]({u}) and a copy at https://web.archive.org/web/2020/{u}"])
def test_a_moved_url_is_rewritten_after_any_text_but_not_inside_another_url(written):
    old, new = "https://old.org/p", "https://new.org/p"
    text = written.format(u=old) + "\n"
    moved = rewrite.apply(text, parse_list(text), Enrichment(), redirects={old: new})
    archived = "https://web.archive.org/web/2020/"
    assert moved == text.replace(old, new).replace(archived + new, archived + old)


def test_list_changed_during_the_run_is_not_overwritten(tmp_path):
    lst = tmp_path / "list.md"
    lst.write_text("- [[paper]]()\n")
    original = lst.read_text()
    lst.write_text("- [[paper]]()\n- someone else's edit\n")
    with pytest.raises(UsageError, match="changed on disk"):
        rewrite.write_list(lst, "- [[paper]](https://x.org)\n", original=lst, original_text=original)
    assert "someone else's edit" in lst.read_text()


def test_crash_between_write_and_rename_leaves_the_original(tmp_path, monkeypatch):
    lst = tmp_path / "list.md"
    lst.write_bytes(b"original\r\n")

    def boom(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(WriteError, match="No space left"):
        write_atomic(lst, "new text")
    assert lst.read_bytes() == b"original\r\n"
    assert [p.name for p in tmp_path.iterdir()] == ["list.md"]  # no temp file left behind


def test_read_only_folder_is_a_clear_error(tmp_path):
    if os.geteuid() == 0:
        # root ignores permissions; a path under a file is unwritable for everyone.
        target = tmp_path / "afile" / "list.md"
        (tmp_path / "afile").write_text("x")
    else:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        target = folder / "list.md"
    with pytest.raises(WriteError, match="cannot write"):
        write_atomic(target, "x")
