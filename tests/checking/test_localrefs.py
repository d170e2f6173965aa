"""Links inside the repository (crawler.checking.localrefs): anchors and relative paths, judged from its files."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from crawler.checking import localrefs
from crawler.checking.localrefs import Repository, link_key, repository_root
from crawler.cli.commands import main
from crawler.listfile.parse import parse_list
from crawler.models import Link, LinkStatus
from tests.paths import CORPUS


def repo(tmp_path: Path, files: dict[str, str], *, git: bool = True) -> Path:
    root = tmp_path / "repo"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text, encoding="utf-8")
    if git:
        (root / ".git").mkdir()
    repository_root.cache_clear()
    return root


def judge(root: Path, list_name: str, url: str, repository: Repository | None = None) -> tuple[LinkStatus, str | None]:
    file = str(root / list_name)
    if repository is None:
        text = (root / list_name).read_text(encoding="utf-8")
        repository = Repository(parse_list(text).in_file(file).anchors)
    result = repository.check(link_key(file, url), Link(url=url, label="x", line=1, file=file), 0.0)
    assert result.in_repository
    return result.status, result.error


README = """# Awesome list

## Contents
- [2024](#2024) [Others](#2024-others) [Upper](#AAAI-2021) [code](#code-span-heading)

## 2024
### Others
## AAAI 2021
## `code` span heading
## 你好 world
<a name="Raw-Name"></a>
<h3 id="raw-id">x</h3>
"""


@pytest.mark.parametrize(("url", "ok"), [
    ("#2024", True), ("#others", True), ("#aaai-2021", True), ("#AAAI-2021", True), ("#code-span-heading", True),
    ("#%E4%BD%A0%E5%A5%BD-world", True), ("#Raw-Name", True), ("#raw-id", True), ("#top", True), ("#", True),
    ("#2024-others", False), ("#contents-1", False), ("#raw-name", False), ("#L3", False),
])
def test_in_page_anchors_name_headings_as_github_slugs_them(tmp_path, url, ok):
    root = repo(tmp_path, {"README.md": README})
    status, error = judge(root, "README.md", url)
    assert (status is LinkStatus.OK) is ok, error
    if not ok:
        fragment = url[1:]
        assert error.startswith(f'no heading "#{fragment}" in README.md')


def test_a_line_anchor_on_a_markdown_file_needs_the_plain_view_and_a_line_that_exists(tmp_path):
    root = repo(tmp_path, {"README.md": README, "notes.md": "a\nb\nc\n", "code/train.py": "x = 1\n"})
    assert judge(root, "README.md", "#L3")[1] == ('no heading "#L3" in README.md (a line anchor needs ?plain=1 on '
                                                 'a Markdown file)')
    assert judge(root, "README.md", "notes.md?plain=1#L2-L3")[0] is LinkStatus.OK
    assert judge(root, "README.md", "notes.md?plain=1#L9") == (LinkStatus.BROKEN, "no line 9 in notes.md (3 lines)")
    for url in ("code/train.py#L10", "code/train.py#L19C5-L21C11", "code/train.py#anything"):
        assert judge(root, "README.md", url)[0] is LinkStatus.OK  # GitHub shows code: any fragment


def test_relative_links_name_files_and_folders_case_sensitively(tmp_path):
    root = repo(tmp_path, {"README.md": "# x\n", "docs/GUIDE.md": "# Guide\n## Install\n", "docs/a b.pdf": "%PDF",
                           "papers/2024.md": "# 2024\n"})
    assert judge(root, "README.md", "docs/GUIDE.md")[0] is LinkStatus.OK
    assert judge(root, "README.md", "./docs/")[0] is LinkStatus.OK
    assert judge(root, "README.md", "docs/a%20b.pdf?raw=true")[0] is LinkStatus.OK  # decoded, query ignored
    assert judge(root, "README.md", "docs/guide.md") == (LinkStatus.BROKEN, "no file docs/guide.md")
    assert judge(root, "README.md", "Docs/GUIDE.md") == (LinkStatus.BROKEN, "no file Docs/GUIDE.md")
    assert judge(root, "README.md", "./missing.md") == (LinkStatus.BROKEN, "no file missing.md")
    assert judge(root, "papers/2024.md", "../docs/GUIDE.md#install")[0] is LinkStatus.OK
    assert judge(root, "papers/2024.md", "../docs/GUIDE.md#usage") == (
        LinkStatus.BROKEN, 'no heading "#usage" in docs/GUIDE.md')
    assert judge(root, "papers/2024.md", "/docs/GUIDE.md")[0] is LinkStatus.OK  # from the repository's root
    assert judge(root, "papers/2024.md", "/GUIDE.md") == (LinkStatus.BROKEN, "no file GUIDE.md")


def test_the_exact_case_is_asked_of_the_folder_listing_not_of_the_disk(tmp_path, monkeypatch):
    root = repo(tmp_path, {"README.md": "# x\n", "docs/GUIDE.md": "# Guide\n"})
    # A case-insensitive disk (macOS, Windows) would say docs/guide.md exists; GitHub would not.
    monkeypatch.setattr(os.path, "exists", lambda p: True)
    assert judge(root, "README.md", "docs/guide.md")[0] is LinkStatus.BROKEN


def test_a_path_out_of_the_repository_is_invalid(tmp_path):
    root = repo(tmp_path, {"README.md": "# x\n", "papers/a.md": "# a\n"})
    (tmp_path / "outside.md").write_text("# out\n")
    assert judge(root, "papers/a.md", "../../outside.md") == (LinkStatus.INVALID,
                                                              "the path climbs out of the repository")
    assert judge(root, "README.md", "/../outside.md")[0] is LinkStatus.INVALID


def test_without_git_the_root_is_the_lists_folder_outside_the_working_folder(tmp_path):
    root = repo(tmp_path, {"README.md": "# x\n"}, git=False)
    (tmp_path / "sibling.md").write_text("# s\n")
    assert repository_root(str(root)) == str(root)
    assert judge(root, "README.md", "../sibling.md")[0] is LinkStatus.INVALID


def test_a_folder_link_with_a_fragment_is_looked_up_in_its_readme(tmp_path):
    root = repo(tmp_path, {"README.md": "# x\n", "docs/README.md": "# Docs\n## Setup\n", "data/x.csv": "a,b\n"})
    assert judge(root, "README.md", "docs#setup")[0] is LinkStatus.OK
    assert judge(root, "README.md", "docs/#teardown") == (LinkStatus.BROKEN, 'no heading "#teardown" in docs/README.md')
    assert judge(root, "README.md", "data/#anything")[0] is LinkStatus.OK  # no README to look in


def test_a_markdown_target_is_parsed_once_per_run(tmp_path, monkeypatch):
    root = repo(tmp_path, {"README.md": "# x\n", "docs/GUIDE.md": "# Guide\n## Install\n"})
    reads = []
    real = localrefs.read_links
    monkeypatch.setattr(localrefs, "read_links", lambda text: reads.append(1) or real(text))
    repository = Repository(parse_list("# x\n").in_file(str(root / "README.md")).anchors)
    for fragment in ("install", "guide", "nope"):
        judge(root, "README.md", f"docs/GUIDE.md#{fragment}", repository)
    assert len(reads) == 1


def test_keys_name_the_target_so_places_are_grouped_right(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    repo(tmp_path, {"README.md": "# x\n", "a.md": "# a\n", "papers/b.md": "# b\n", "x.md": "# x\n"})
    monkeypatch.chdir(tmp_path / "repo")
    assert link_key("README.md", "#intro") == "./README.md#intro"
    assert link_key("a.md", "#intro") == "./a.md#intro"  # the same fragment in two lists: two targets
    assert link_key("papers/b.md", "../x.md") == "./x.md"
    assert link_key("README.md", "x.md") == "./x.md"  # the same file, written two ways: one target
    assert link_key("papers/b.md", "/x.md") == "./x.md"
    assert link_key("papers/b.md", "x.md") == "./papers/x.md"
    assert link_key("README.md", "docs/My%20File.md?plain=1#L3") == "./docs/My File.md#L3"
    assert link_key("README.md", "https://Example.org/a#b") == "https://example.org/a"
    assert link_key("README.md", "mailto:x@example.org") == "mailto:x@example.org"


def write_list(folder: Path, text: str) -> Path:
    path = folder / "list.md"
    path.write_text(text, encoding="utf-8")
    return path


def run_cli(tmp_path: Path, *args: str) -> int:
    with pytest.raises(SystemExit) as stop:
        main(["check", "--offline", "--no-progress", "--quiet", "--db", str(tmp_path / "cache.db"),
              "--reports", str(tmp_path / "reports"), *args])
    return stop.value.code


def test_check_offline_reports_a_dangling_anchor_and_a_missing_file_broken_and_dead_at_once(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    write_list(tmp_path, "# List\n\n## Papers\n\n- [x](#no-such-heading)\n- [y](./missing.md)\n- [z](#papers)\n")
    other = tmp_path / "docs"
    other.mkdir()
    (other / "more.md").write_text("# More\n\n- [back](../list.md#papers) [gone](../list.md#gone)\n")
    assert run_cli(tmp_path, "list.md", "docs/more.md") == 1  # --fail-on dead: dead from the first run
    health = json.loads((tmp_path / "reports" / "health.json").read_text())
    links = {lo["key"]: lo for lo in health["links"]}
    assert links["./list.md#no-such-heading"]["error"] == 'no heading "#no-such-heading" in list.md'
    assert links["./missing.md"]["error"] == "no file missing.md"
    assert links["./list.md#gone"]["lines"] == [{"file": "docs/more.md", "line": 3}]
    for key in ("./list.md#no-such-heading", "./missing.md", "./list.md#gone"):
        assert (links[key]["status"], links[key]["new"], links[key]["dead"]) == ("broken", True, True)
    assert links["./list.md#papers"]["status"] == "ok"
    assert len(links["./list.md#papers"]["lines"]) == 2  # written in both lists: one target
    md = (tmp_path / "reports" / "health.md").read_text()
    assert "| list.md:5 | x | `#no-such-heading` |" in md and "| list.md:6 | y | `./missing.md` |" in md
    assert "| docs/more.md:3 |" in md


def test_an_unchanged_failure_is_dead_again_the_next_night_and_fixed_when_the_heading_comes(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = write_list(tmp_path, "# List\n\n- [x](#later)\n")
    assert run_cli(tmp_path, "list.md") == 1
    assert run_cli(tmp_path, "list.md") == 1
    health = json.loads((tmp_path / "reports" / "health.json").read_text())
    assert health["links"][0]["dead"] and health["links"][0]["consecutive_failures"] == 2
    path.write_text("# List\n\n- [x](#later)\n\n## Later\n")
    assert run_cli(tmp_path, "list.md") == 0
    health = json.loads((tmp_path / "reports" / "health.json").read_text())
    assert health["links"][0]["status"] == "ok" and health["summary"]["fixed"] == ["#later"]


HAND_POSE = "xinghaochen__awesome-hand-pose-estimation__README.md"


@pytest.mark.corpus
@pytest.mark.skipif(CORPUS is None or not (CORPUS / HAND_POSE).is_file(), reason="no corpus folder")
def test_the_hand_pose_list_has_one_dangling_anchor_and_no_other(tmp_path):
    assert CORPUS is not None
    text = (CORPUS / HAND_POSE).read_text(encoding="utf-8")
    file = str(CORPUS / HAND_POSE)
    parsed = parse_list(text).in_file(file)
    repository = Repository(parsed.anchors)
    anchors = [lk for lk in parsed.links if lk.url.startswith("#")]
    assert len(anchors) > 30
    broken = sorted({lk.url for lk in anchors
                     if repository.check(link_key(file, lk.url), lk, 0.0).status is not LinkStatus.OK})
    assert broken == ["#2024-others"]
