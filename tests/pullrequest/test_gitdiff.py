"""crawler.pullrequest.gitdiff: git's output read purely, then the lines a pull request changes in a real repository."""

import subprocess
from pathlib import Path

import pytest

from crawler.pullrequest.gitdiff import GitError, ListChange, base_texts, hunk_lines, list_changes, parse_name_status


def test_name_status_reads_renames_and_names_with_anything_in_them():
    raw = "M\0README.md\0R087\0papers/old.md\0papers/new [x].md\0A\0a\tb.md\0D\0gone.md\0"
    assert parse_name_status(raw) == {"README.md": ("M", None), "papers/new [x].md": ("R", "papers/old.md"),
                                      "a\tb.md": ("A", None), "gone.md": ("D", None)}
    assert parse_name_status("") == {}


def test_hunks_give_the_new_sides_lines():
    patch = ("diff --git a/x.md b/x.md\n--- a/x.md\n+++ b/x.md\n@@ -2 +2 @@ ## 2020\n-a\n+b\n"
             "@@ -5,0 +6,3 @@\n+c\n+d\n+e\n@@ -9,2 +11,0 @@\n-gone\n-gone\n@@ -20,2 +22 @@\n-x\n-y\n+z\n")
    assert hunk_lines(patch) == frozenset({2, 6, 7, 8, 22})  # a deletion (+11,0) adds no line
    assert hunk_lines("+@@ -1 +1 @@ inside a line is content\n") == frozenset()


def test_a_change_touches_its_lines_or_everything_when_new():
    assert ListChange("a.md", "a.md", lines=frozenset({3})).touches(3)
    assert not ListChange("a.md", "a.md", lines=frozenset({3})).touches(4)
    assert ListChange("a.md", "a.md", whole=True).touches(999)


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root, check=True,
                          capture_output=True, text=True, timeout=60).stdout.strip()


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    (root / "papers").mkdir(parents=True)
    (root / "README.md").write_text("".join(f"line {i}\n" for i in range(1, 11)))
    (root / "papers" / "old.md").write_text("".join(f"paper {i}\n" for i in range(1, 21)))
    (root / "same.md").write_text("untouched\n")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "lists")
    git(root, "checkout", "-qb", "pr")
    return root


def test_the_lines_a_pull_request_adds_or_changes_in_each_list(repo):
    readme = (repo / "README.md").read_text().replace("line 3\n", "line three\n") + "line 11\n"
    (repo / "README.md").write_text(readme)
    git(repo, "mv", "papers/old.md", "papers/[CVPR] new.md")  # renamed, one line changed
    (repo / "papers" / "[CVPR] new.md").write_text((repo / "papers" / "[CVPR] new.md").read_text()
                                                   .replace("paper 20\n", "paper twenty\n"))
    (repo / "papers" / "added.md").write_text("a\nb\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "changes")
    (repo / "papers" / "draft.md").write_text("not committed\n")  # untracked: new, whole
    # main moves on meanwhile: the merge base, not main's tip, is what the pull request is compared with.
    git(repo, "checkout", "-q", "main")
    (repo / "same.md").write_text("changed on main\n")
    git(repo, "commit", "-qam", "main moves")
    git(repo, "checkout", "-q", "pr")
    names = [Path(n) for n in ("README.md", "papers/[CVPR] new.md", "papers/added.md", "papers/draft.md",
                               "same.md")]
    changes = {c.name: c for c in list_changes(names, "main", cwd=repo)}
    assert changes["README.md"] == ListChange("README.md", "README.md", lines=frozenset({3, 11}))
    assert changes["papers/[CVPR] new.md"] == ListChange("papers/[CVPR] new.md", "papers/[CVPR] new.md",
                                                         lines=frozenset({20}), old_path="papers/old.md")
    assert changes["papers/added.md"].whole and changes["papers/draft.md"].whole
    assert "same.md" not in changes
    # Uncommitted edits count: the lines are those of the files the crawler reads.
    (repo / "same.md").write_text("untouched\nand a new line\n")
    (change,) = [c for c in list_changes([Path("same.md")], "main", cwd=repo)]
    assert change.lines == frozenset({2})


def test_the_lists_at_the_merge_base_are_read_from_where_git_saw_them(repo):
    """What a pull request's lists held before it: a renamed list from its old path, the merge base's text (not
    main's tip, nor the working tree), nothing for a new list."""
    git(repo, "mv", "papers/old.md", "papers/[CVPR] new.md")
    (repo / "papers" / "[CVPR] new.md").write_text("paper one\n" + (repo / "papers" / "[CVPR] new.md").read_text())
    (repo / "README.md").write_text("edited\n")  # not committed: the base's text is still read
    (repo / "papers" / "added.md").write_text("new\n")
    git(repo, "add", "papers")
    git(repo, "commit", "-qm", "rename")
    git(repo, "checkout", "-q", "main")
    (repo / "papers" / "old.md").write_text("main moves on\n")
    git(repo, "commit", "-qm", "main moves", "papers/old.md")
    git(repo, "checkout", "-q", "pr")
    names = [Path("README.md"), Path("papers/[CVPR] new.md"), Path("papers/added.md")]
    changes = list_changes(names, "main", cwd=repo)
    texts = base_texts(changes, "main", cwd=repo)
    assert texts == {"README.md": "".join(f"line {i}\n" for i in range(1, 11)),
                     "papers/[CVPR] new.md": "".join(f"paper {i}\n" for i in range(1, 21)),
                     "papers/added.md": None}
    assert base_texts([], "main", cwd=repo) == {}


def test_lists_named_from_a_subfolder_are_located_from_the_repositorys_root(repo):
    (repo / "papers" / "old.md").write_text("paper 0\n" + (repo / "papers" / "old.md").read_text())
    (change,) = list_changes([Path("old.md")], "main", cwd=repo / "papers")
    assert (change.name, change.path, change.lines) == ("old.md", "papers/old.md", frozenset({1}))


@pytest.mark.parametrize("ref, message", [
    ("nope", "--base nope: no such commit, branch or tag"),
    ("--output=x", "--base must name a commit"),
    ("", "--base must name a commit"),
])
def test_a_bad_base_is_one_clear_error(repo, ref, message):
    with pytest.raises(GitError, match=message):
        list_changes([Path("README.md")], ref, cwd=repo)


def test_unrelated_history_and_no_repository(repo, tmp_path):
    git(repo, "checkout", "-q", "--orphan", "lonely")
    git(repo, "commit", "-qm", "alone")
    with pytest.raises(GitError, match="shares no history with HEAD"):
        list_changes([Path("README.md")], "main", cwd=repo)
    plain = tmp_path / "plain"
    plain.mkdir()
    with pytest.raises(GitError, match="not a git repository"):
        list_changes([Path("README.md")], "main", cwd=plain)
    with pytest.raises(GitError, match="outside the git repository"):
        list_changes([plain / "README.md"], "main", cwd=repo)
