"""`crawler pr` end to end, and the pull-request workflows run as scripts (tests/support/ghrunner.py).

A list repository on git: main holds a list whose links must not be asked about; a pull-request branch adds
three entries (an empty link arXiv fills, a dead link, a link that moved permanently). `crawler pr --base
main` asks only about those three lines (and the arXiv API), writes the comment and the suggestions and
exits 1. Then `crawler init`'s two pull-request workflows: the check (read-only, `pull_request`) uploads
them; the posting workflow (`workflow_run`) posts one comment and two suggestions; a second push edits the
same comment.
"""

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.cli.init import CONFIG, init
from crawler.cli.workflows import PR_COMMENT_WORKFLOW, PR_WORKFLOW, ActionRef
from crawler.models import ParsedList
from tests import paths
from tests.fakes.sites import FakeArxiv
from tests.fakes.web import Reply
from tests.support.ghrunner import Runner

ROOT = paths.ROOT
GUARD = paths.GUARD
SHA = "0123456789abcdef0123456789abcdef01234567"
PINNED = ActionRef(repo="paper-list-crawler/paper-list-crawler", commit=SHA, label="v0.1.0")
HTML = {"Content-Type": "text/html"}

MAIN = """# Awesome Distillation

## 2018
- Paper One About Things ICLR 2018 [[paper]]({base}/ok/1)
- Paper Two About Things ICLR 2018 [[paper]]({base}/ok/2) [[code]]({base}/old-dead)
- Paper Three About Things ICLR 2018 [[paper]]({base}/ok/3)
"""
ADDED = """- Paying More Attention to Attention Improving the Performance of Convolutional Neural Networks via \
Attention Transfer ICLR 2017 [[paper]]()
- A Paper Whose Page Is Gone ICLR 2019 [[paper]]({base}/gone)
- A Paper Whose Page Has Moved ICLR 2019 [[paper]]({base}/moved)
"""


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@example.org", *args], cwd=root,
                          check=True, capture_output=True, text=True, timeout=60).stdout.strip()


@pytest.fixture
def site(web):
    web.host("127.0.0.1", FakeArxiv())
    base = f"http://127.0.0.1:{web.port}"
    for i in (1, 2, 3):
        web.add(f"{base}/ok/{i}", Reply(200, b"<html><title>A page</title></html>", HTML))
    web.add(f"{base}/old-dead", Reply(404, b"<html><title>Not Found</title></html>", HTML))
    web.add(f"{base}/gone", Reply(404, b"<html><title>Not Found</title></html>", HTML))
    web.add(f"{base}/moved", Reply(301, headers={"Location": f"{base}/new"}))
    web.add(f"{base}/new", Reply(200, b"<html><title>A Paper Whose Page Has Moved</title></html>", HTML))
    return web, base


def list_repository(tmp_path: Path, base: str) -> Path:
    """main: the list, crawler.toml (on loopback) and init's workflows; branch `pr`: three entries added."""
    root = tmp_path / "lists"
    root.mkdir()
    (root / "README.md").write_text(MAIN.format(base=base))
    git(root, "init", "-q", "-b", "main")
    init(root, action=PINNED)
    with (root / CONFIG).open("a") as fh:
        fh.write(f'allow-private = true\narxiv-url = "{base}/api/query?{{}}"\narxiv-delay = 0\n'
                 f'cvf-base = "{base}/cvf"\ntimeout = 5\nretries = 0\n')
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the list")
    git(root, "checkout", "-qb", "pr")
    with (root / "README.md").open("a") as fh:
        fh.write(ADDED.format(base=base))
    git(root, "commit", "-qam", "three papers")
    return root


def crawler(*args, cwd):
    return subprocess.run([sys.executable, "-m", "crawler", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=120, env={"PYTHONPATH": f"{GUARD}:{ROOT}", "PATH": "/usr/bin:/bin"})


def test_crawler_pr_checks_only_the_pull_requests_lines_and_suggests_the_fill_and_the_redirect(tmp_path, site):
    web, base = site
    root = list_repository(tmp_path, base)
    done = crawler("pr", "--base", "main", "--no-progress", cwd=root)
    assert done.returncode == 1 and done.stderr == "", done.stderr  # it adds a failing link
    # Only the three new lines were asked about, and the arXiv API for the fill.
    asked = sorted({path.split("?")[0] for _, _, path in web.log})
    assert asked == ["/api/query", "/gone", "/moved", "/new"], web.log
    suggestions = json.loads((root / "reports" / "suggestions.json").read_text())
    moved = f"- A Paper Whose Page Has Moved ICLR 2019 [[paper]]({base}/moved)"
    assert suggestions == [
        {"file": "README.md", "line": 7,
         "original": ADDED.splitlines()[0],
         "replacement": ADDED.splitlines()[0].replace("[[paper]]()", "[[paper]](https://arxiv.org/abs/1612.03928)"),
         "reason": suggestions[0]["reason"]},
        {"file": "README.md", "line": 9, "original": moved, "replacement": moved.replace("/moved", "/new"),
         "reason": "the link redirects permanently (HTTP 301): this is where it leads now"},
    ]
    assert suggestions[0]["reason"].startswith("empty link filled: arxiv has the paper 'Paying More Attention")
    comment = (root / "reports" / "pull-request.md").read_text()
    assert f"| `README.md:8` | A Paper Whose Page Is Gone | `{base}/gone` |" in comment
    assert "Failing links (1)" in comment and "Suggested changes (2)" in comment
    # The list's older problem (the dead code link on main) is one line, not the pull request's failure.
    assert f"{base}/old-dead" not in comment
    assert "2 links and 1 empty (1 filled) on its lines: 1 failing, 1 healthy; 2 suggestions" in done.stdout
    assert not (root / "reports" / "health.md").exists()  # a pull request's check writes its two files only


def test_a_url_written_twice_on_a_line_gets_one_suggestion_that_moves_both_places(tmp_path, site):
    web, base = site
    root = list_repository(tmp_path, base)
    readme = root / "README.md"
    moved = f"- A Paper Whose Page Has Moved ICLR 2019 [[paper]]({base}/moved)"
    twice = f"{moved} [[pdf]]({base}/moved)"
    readme.write_text(readme.read_text().replace(moved, twice))
    git(root, "commit", "-qam", "and its pdf")
    crawler("pr", "--base", "main", "--no-progress", cwd=root)
    suggestions = json.loads((root / "reports" / "suggestions.json").read_text())
    assert [(s["line"], s["original"], s["replacement"]) for s in suggestions if s["line"] == 9] == \
        [(9, twice, twice.replace("/moved", "/new"))]


def test_a_second_run_reuses_the_cache_and_names_the_older_problems(tmp_path, site):
    web, base = site
    root = list_repository(tmp_path, base)
    git(root, "checkout", "-q", "main")
    assert crawler("check", "--no-progress", cwd=root).returncode == 0  # the night: old-dead is new, not dead
    git(root, "checkout", "-q", "pr")
    crawler("pr", "--base", "main", "--no-progress", cwd=root)
    asked = len(web.log)
    assert crawler("pr", "--base", "main", "--no-progress", cwd=root).returncode == 1
    # Within max-age nothing is asked again: the verdicts and the arXiv answer come from the cache.
    assert web.log[asked:] == []
    comment = (root / "reports" / "pull-request.md").read_text()
    assert "Older problems, not this pull request's: 1 of the lists' other 4 checked links were failing" in comment


def test_a_pull_request_that_touches_no_list_asks_nothing(tmp_path, site):
    web, base = site
    root = list_repository(tmp_path, base)
    git(root, "checkout", "-q", "main")
    git(root, "checkout", "-qb", "docs")
    (root / "CONTRIBUTING.md").write_text("# How to add a paper\n")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "docs")
    done = crawler("pr", "--base", "main", "--no-progress", cwd=root)
    assert done.returncode == 0, done.stderr
    assert web.log == []
    assert "This pull request changes none of the lists." in (root / "reports" / "pull-request.md").read_text()
    assert json.loads((root / "reports" / "suggestions.json").read_text()) == []


@pytest.mark.parametrize("where, base, message", [
    ("repo", "no-such-branch", "--base no-such-branch: no such commit, branch or tag"),
    ("plain", "main", "not a git repository"),
])
def test_a_bad_base_or_no_repository_is_one_line_and_exit_2(tmp_path, where, base, message):
    folder = tmp_path / where
    folder.mkdir()
    (folder / "README.md").write_text("- Paper One About Things ICLR 2018 [[paper]](https://example.org/1)\n")
    if where == "repo":
        git(folder, "init", "-q", "-b", "main")
        git(folder, "add", "-A")
        git(folder, "commit", "-qm", "x")
    done = crawler("pr", "README.md", "--base", base, cwd=folder)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.startswith("crawler: error: ") and message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


# -- the two workflows, run as scripts ---------------------------------------------------------------------
def runner(root: Path, home: Path, run_id: int, event_name: str, event: dict) -> Runner:
    return Runner(root, home, actions={"paper-list-crawler/paper-list-crawler": ROOT}, run_id=run_id,
                  overrides={"install": {"python": sys.executable}}, env={"PYTHONPATH": f"{GUARD}:{ROOT}"},
                  event_name=event_name, event=event)


def push(root: Path, number: int, run_id: int, home: Path) -> tuple[dict, Runner, Runner]:
    """GitHub's part of a push to the pull request: the check runs, then, once it completed, the posting."""
    head, base = git(root, "rev-parse", "HEAD"), git(root, "rev-parse", "main")
    pull_request = {"number": number, "head": {"sha": head}, "base": {"sha": base, "ref": "main"}}
    check = runner(root, home, run_id, "pull_request", {"pull_request": pull_request})
    check.open_pull_request(number, head)
    jobs = check.run_workflow(root / PR_WORKFLOW)
    conclusion = "failure" if any(j.result == "failure" for j in jobs.values()) else "success"
    post = runner(root, home, run_id + 1, "workflow_run", {"workflow_run": {
        "id": run_id, "event": "pull_request", "head_sha": head, "conclusion": conclusion}})
    posted = post.run_workflow(root / PR_COMMENT_WORKFLOW)
    assert {k: v.result for k, v in posted.items()} == {"comment": "success"}, "\n".join(post.log)
    return jobs, check, post


def test_the_pull_request_workflows_post_one_comment_and_two_suggestions_and_edit_the_comment_on_a_push(
        tmp_path, site):
    web, base = site
    root = list_repository(tmp_path, base)
    home = tmp_path / "home"
    jobs, check, post = push(root, 7, 1, home)
    # The check fails (the pull request adds a dead link) after uploading the comment and the suggestions.
    assert jobs["check"].result == "failure", "\n".join(check.log)
    (crawl,) = [s for s in jobs["check"].steps if s.name.startswith("paper-list-crawler/paper-list-crawler@")]
    assert crawl.outputs["exit-code"] == "1"
    assert sorted(p.name for p in (check.artifacts / "crawler-pr").iterdir()) == \
        ["number.txt", "pull-request.md", "suggestions.json"]
    assert "Failing links (1)" in jobs["check"].summary
    state = post.github_state()
    (comment,) = state["comments"]
    assert comment["number"] == 7 and comment["body"].startswith("<!-- paper-list-crawler: pull-request check -->")
    assert f"`{base}/gone`" in comment["body"]
    suggestions = state["review_comments"]
    assert [(s["path"], s["line"], s["side"]) for s in suggestions] == [("README.md", 7, "RIGHT"),
                                                                         ("README.md", 9, "RIGHT")]
    assert all(s["commit_id"] == git(root, "rev-parse", "HEAD") for s in suggestions)
    assert "```suggestion\n" + ADDED.splitlines()[0].replace("[[paper]]()", "[[paper]](https://arxiv.org/abs/"
                                                             "1612.03928)") + "\n```" in suggestions[0]["body"]
    assert f"```suggestion\n- A Paper Whose Page Has Moved ICLR 2019 [[paper]]({base}/new)\n```" in \
        suggestions[1]["body"]
    # The check saved no cache (a pull request's lines are not the list's); the posting checked out nothing.
    assert list(check.cache.iterdir()) == []
    assert not [line for line in post.log if "actions/checkout" in line]

    # A second push fixes the dead link: the same comment is edited, no suggestion is posted twice.
    readme = (root / "README.md").read_text().replace(f"{base}/gone", f"{base}/ok/1")
    (root / "README.md").write_text(readme)
    git(root, "commit", "-qam", "fix the dead link")
    jobs, _, _ = push(root, 7, 3, home)
    assert jobs["check"].result == "success"
    state = post.github_state()
    (comment,) = state["comments"]
    assert comment["edits"] == 1 and f"`{base}/gone`" not in comment["body"]
    assert "Failing links" not in comment["body"]
    assert len(state["review_comments"]) == 2  # the same two, on lines the push did not move


def test_an_artifact_naming_another_pull_request_posts_nothing(tmp_path, site):
    web, base = site
    root = list_repository(tmp_path, base)
    home = tmp_path / "home"
    other = runner(root, home, 1, "workflow_dispatch", {})
    other.open_pull_request(8, "f" * 40)  # someone else's pull request, at another commit
    artifact = home / "artifacts-1" / "crawler-pr"
    artifact.mkdir(parents=True)
    (artifact / "number.txt").write_text("8")
    (artifact / "pull-request.md").write_text("spam")
    (artifact / "suggestions.json").write_text("[]")
    post = runner(root, home, 2, "workflow_run", {"workflow_run": {
        "id": 1, "event": "pull_request", "head_sha": git(root, "rev-parse", "HEAD"), "conclusion": "success"}})
    jobs = post.run_workflow(root / PR_COMMENT_WORKFLOW)
    assert jobs["comment"].result == "success"  # a pull request pushed to since is no error: nothing to post
    assert "comments" not in post.github_state()
    # Not a number: refused before anything is asked of GitHub.
    (artifact / "number.txt").write_text("8; touch pwned")
    refused = runner(root, home, 3, "workflow_run", post.event)
    jobs = refused.run_workflow(root / PR_COMMENT_WORKFLOW)
    assert jobs["comment"].result == "failure" and "comments" not in refused.github_state()
    assert not list(home.rglob("pwned"))


# -- which links a pull request answers for ---------------------------------------------------------------
SELECTED = """# Papers

## Detection
- Paper One About Things ICLR 2018 [[paper]](https://example.org/1) [[code]](https://example.org/1/code)
- **Paper Two About Things** ICLR 2019
  [[paper]](https://example.org/2)
- Paper Three About Things ICLR 2020 [[paper]](https://example.org/3)

See also [the detection papers](#detection) and [the other list](other.md#tracking).
"""


def selected(changes, **kw):
    from crawler.listfile.parse import parse_list
    from crawler.pullrequest.job import select_links

    parsed = parse_list(SELECTED).in_file("README.md")
    return [(lk.line, lk.url) for lk in select_links(parsed, changes, **kw).links]


def test_the_links_on_changed_lines_are_selected():
    from crawler.pullrequest.gitdiff import ListChange

    assert selected({"README.md": ListChange("README.md", "README.md", lines=frozenset({4, 9}))}) == [
        (4, "https://example.org/1"), (4, "https://example.org/1/code"), (9, "#detection"), (9, "other.md#tracking")]
    assert selected({"other.md": ListChange("other.md", "other.md", whole=True)}) == []
    assert len(selected({"README.md": ListChange("README.md", "README.md", whole=True)})) == 6


def test_a_changed_title_selects_its_entrys_links_on_other_lines():
    from crawler.pullrequest.gitdiff import ListChange

    # Line 5 holds Paper Two's title, line 6 its link: a paper link is judged against the title.
    assert selected({"README.md": ListChange("README.md", "README.md", lines=frozenset({5}))}) == \
        [(6, "https://example.org/2")]


def test_the_hook_for_links_whose_target_heading_changed():
    """In-list anchors: the anchor check names the (list, fragment) pairs whose heading the pull request changed
    or removed, and select_links takes the links that point at them, wherever they stand."""
    from crawler.pullrequest.gitdiff import ListChange

    none = {"README.md": ListChange("README.md", "README.md", lines=frozenset())}
    assert selected(none) == []
    assert selected(none, changed_headings={("README.md", "detection")}) == [(9, "#detection")]
    assert selected(none, changed_headings={("other.md", "tracking")}) == [(9, "other.md#tracking")]
    assert selected(none, changed_headings={("other.md", "detection")}) == []


def test_a_line_that_names_a_url_twice_gets_one_suggestion_that_moves_both():
    from crawler.listfile import rewrite
    from crawler.models import Enrichment, Link, ParsedList
    from crawler.pipeline import Document
    from crawler.pullrequest.job import _line_change

    text = "- A [x](https://a.org/p) and [y](https://a.org/p)\n"
    doc = Document(Path("l.md"), text, ParsedList(links=(Link("https://a.org/p", "x", 1, file="l.md"),), entries=()))
    assert _line_change(doc, 1, text, {"l.md": "l.md"}, "moved") == []  # nothing changed: nothing to suggest
    after = rewrite.apply(text, doc.parsed, Enrichment(), redirects={"https://a.org/p": "https://b.org/p"})
    changed = _line_change(doc, 1, after, {"l.md": "lists/l.md"}, "moved")
    assert [(s.file, s.line, s.original, s.replacement) for s in changed] == \
        [("lists/l.md", 1, text.rstrip("\n"), "- A [x](https://b.org/p) and [y](https://b.org/p)")]


def test_a_moved_page_and_its_section_on_one_line_both_move_keeping_the_section():
    from crawler.listfile import rewrite
    from crawler.listfile.parse import parse_list
    from crawler.models import Enrichment, ParsedList
    from crawler.pullrequest.job import _with_fragment

    assert _with_fragment("https://a.org/p#x", "https://b.org/p") == "https://b.org/p#x"
    assert _with_fragment("https://a.org/p#x", "https://b.org/p#top") == "https://b.org/p#top"
    assert _with_fragment("https://a.org/p", "https://b.org/p") == "https://b.org/p"
    text = "- A [paper](https://a.org/p) and [its section 3](https://a.org/p#x)\n"
    links = parse_list(text).links
    moved = {lk.url: _with_fragment(lk.url, "https://b.org/p") for lk in links}
    after = rewrite.apply(text, ParsedList(links=links, entries=()), Enrichment(), redirects=moved)
    assert after == "- A [paper](https://b.org/p) and [its section 3](https://b.org/p#x)\n"


def test_the_headings_a_pull_request_changes_are_its_anchors_added_or_removed_and_those_on_changed_lines():
    from crawler.listfile.parse import parse_list
    from crawler.pullrequest.gitdiff import ListChange
    from crawler.pullrequest.job import changed_fragments, changed_headings

    before = parse_list("# Papers\n\n## Detection\n\n## Others\n\n## Tracking\n<a name=\"old-id\"></a>\n").anchors[0]
    now = parse_list("# Papers\n\n## Object Detection\n\n## Others\n\n## Others\n\n## Tracking\n").anchors[0]
    assert [h[2] for h in now.headings] == ["papers", "object-detection", "others", "others-1", "tracking"]
    assert now.headings[1][:2] == (3, 3)
    change = ListChange("README.md", "lists/README.md", lines=frozenset({3, 7}))
    # Renamed (both slugs), a second "Others" (numbered -1, on a changed line), a raw name removed.
    assert changed_fragments(change, before, now) == {"detection", "object-detection", "others-1", "old-id"}
    # A heading edited without a new slug is on a changed line: its links are looked at again.
    assert changed_fragments(ListChange("a.md", "a.md", lines=frozenset({9})), now, now) == {"tracking"}
    # A new list: every heading is on a changed line.
    assert changed_fragments(ListChange("a.md", "a.md", whole=True), None, now) == {h[2] for h in now.headings}
    setext = parse_list("Intro\n\nObject\nDetection\n---------\n").anchors[0]
    assert setext.headings == ((3, 5, "objectdetection"),)
    assert changed_fragments(ListChange("a.md", "a.md", lines=frozenset({4})), setext, setext) == {"objectdetection"}

    pairs = changed_headings([change], {"README.md": before}, [dataclasses.replace(now, file="README.md")])
    assert ("README.md", "detection") in pairs and ("/lists/README.md", "detection") in pairs  # from the root too
    assert changed_headings([change], {}, []) == frozenset()  # the list was left out of the run (empty)


def test_links_into_a_changed_heading_are_selected_wherever_they_are_written():
    from crawler.listfile.parse import parse_list
    from crawler.pullrequest.gitdiff import ListChange
    from crawler.pullrequest.job import select

    readme = parse_list("# Papers\n\n- [Detection](#Detection) [x](#tracking)\n\n## Object Detection\n\n"
                        "<!-- crawler-disable-next-line -->\n- [kept out](#detection)\n").in_file("lists/README.md")
    other = parse_list("- [back](README.md#detection) [root](/lists/README.md#detection) "
                       "[elsewhere](other.md#detection)\n").in_file("lists/other.md")
    before = parse_list("# Papers\n\n## Detection\n").anchors[0]
    change = ListChange("lists/README.md", "lists/README.md", lines=frozenset({5}))
    picked = select(ParsedList.join([readme, other]), [change], {"lists/README.md": before})
    assert [(lk.file, lk.line, lk.url) for lk in picked.links] == [
        ("lists/README.md", 3, "#Detection"), ("lists/README.md", 8, "#detection"),
        ("lists/other.md", 1, "README.md#detection"), ("lists/other.md", 1, "/lists/README.md#detection")]
    # What the checks need travels with the selection: the anchors to judge by, the disabled lines.
    assert [a.file for a in picked.anchors] == ["lists/README.md", "lists/other.md"]
    assert [d.first for d in picked.disabled] == [8]


# -- a renamed heading, end to end ------------------------------------------------------------------------------
TOC = """# Awesome Tracking

## Contents
- [Detection](#detection)
- [Tracking](#tracking)

## Detection
- Paper One About Things ICLR 2018 [[paper]]({base}/ok/1)

## Tracking
- Paper Two About Things ICLR 2018 [[paper]]({base}/ok/2)
"""
MORE = "# More\n\n- [Back to detection](../README.md#detection)\n- [The rest]({base}/ok/3)\n"


def toc_repository(tmp_path: Path, base: str) -> Path:
    root = tmp_path / "toc"
    (root / "papers").mkdir(parents=True)
    (root / "README.md").write_text(TOC.format(base=base))
    (root / "papers" / "more.md").write_text(MORE.format(base=base))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the lists")
    git(root, "checkout", "-qb", "rename")
    return root


def pr_run(root: Path):
    return crawler("pr", "README.md", "papers/more.md", "--base", "main", "--allow-private", "--no-progress",
                   cwd=root)


def test_a_pull_request_renaming_a_heading_fails_on_the_table_of_contents_link_it_leaves_dangling(tmp_path, site):
    web, base = site
    root = toc_repository(tmp_path, base)
    readme = root / "README.md"
    readme.write_text(readme.read_text().replace("## Detection\n", "## Object Detection\n"))
    git(root, "commit", "-qam", "rename a heading")
    done = pr_run(root)
    assert done.returncode == 1, done.stdout + done.stderr
    assert web.log == []  # the links on lines it leaves alone are not asked about
    comment = (root / "reports" / "pull-request.md").read_text()
    # One target, written in both lists: one failing link at its two places.
    assert "### Failing links (1)" in comment
    assert ('| `README.md:4`, `papers/more.md:3` | Detection | `#detection` | no heading "#detection" in README.md |'
            in comment)
    assert "#tracking" not in comment  # its heading did not change

    # The same pull request, with the links fixed: it passes.
    readme.write_text(readme.read_text().replace("(#detection)", "(#object-detection)"))
    more = root / "papers" / "more.md"
    more.write_text(more.read_text().replace("#detection", "#object-detection"))
    git(root, "commit", "-qam", "fix the links")
    done = pr_run(root)
    assert done.returncode == 0, done.stdout + done.stderr
    comment = (root / "reports" / "pull-request.md").read_text()
    assert "Failing links" not in comment and "0 failing, 1 healthy" in comment
    assert web.log == []
