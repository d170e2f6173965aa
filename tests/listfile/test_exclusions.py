"""Exclusions as users of lychee and markdown-link-check expect them: each keeps its links unasked and `skipped`
with the rule named. The web is a loopback server that records every request it gets."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from crawler.listfile.exclusions import ExclusionError, accept_codes, ignore_rules, path_excluded, repository_root
from crawler.listfile.parse import parse_list
from tests.fakes.web import Reply

LIST = """# Papers

- [Kept paper one here]({base}/kept)
- [Config excluded paper]({base}/by-config)
- [Flag excluded paper]({base}/by-flag)
- [Ignored paper]({base}/ignored)
- [Also ignored paper]({base}/also-ignored)
<!-- crawler-disable-next-line -->
- [Next line disabled]({base}/next-line)
- [Line disabled]({base}/own-line) <!-- markdown-link-check-disable-line -->

<!-- crawler-disable -->
- [Block disabled]({base}/in-block)
<!-- crawler-enable -->

<!-- markdown-link-check-disable-next-line -->
- [Disabled the markdown-link-check way]({base}/mlc-next)
- [After the block]({base}/after)
- `<!-- crawler-disable-next-line -->` is text in a code span, not a directive
- [Not disabled by the code span]({base}/after-code)
- [Shared, disabled here]({base}/shared) <!-- crawler-disable-line -->
- [Shared, kept here]({base}/shared)
"""
IGNORE = "# links we never check\n^http://127\\.0\\.0\\.1:\\d+/ignored\n\n/also-ignored$\n"


def crawler(*args, cwd):
    return subprocess.run([sys.executable, "-m", "crawler", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=60)


def one_line_error(proc, *needles):
    assert proc.returncode == 2, proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1 and "Traceback" not in proc.stderr, proc.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]


@pytest.fixture
def repo(tmp_path, web):
    """A list repository: `.git` at its root with `.crawlerignore` and crawler.toml; the list in a subfolder."""
    root = tmp_path / "repo"
    (root / ".git").mkdir(parents=True)
    (root / "papers").mkdir()
    (root / ".crawlerignore").write_text(IGNORE)
    (root / "crawler.toml").write_text('exclude = ["/by-config$"]\n')
    base = f"http://127.0.0.1:{web.port}"
    (root / "papers" / "list.md").write_text(LIST.format(base=base))
    web.host("127.0.0.1", Reply(200, b"<html><title>A page</title></html>", {"Content-Type": "text/html"}))
    return root


def args(repo, *more):
    return ["check", "list.md", "--config", repo / "crawler.toml", "--db", repo / "cache.db",
            "--reports", repo / "reports", "--allow-private", "--no-progress", *more]


def report_of(repo) -> dict:
    return json.loads((repo / "reports" / "health.json").read_text())


def test_every_exclusion_keeps_its_links_unasked_and_skipped_with_the_rule_named(repo, web):
    proc = crawler(*args(repo, "--exclude", "/by-flag$"), cwd=repo / "papers")  # run from a subfolder
    assert proc.returncode == 0, proc.stderr
    asked = {path for _, _, path in web.log}
    assert asked == {"/kept", "/after", "/after-code", "/shared"}  # not one request to an excluded link
    report = report_of(repo)
    why = {lo["url"].rsplit("/", 1)[1]: (lo["status"], lo["error"]) for lo in report["links"]}
    assert {name: reason for name, (status, reason) in why.items() if status == "skipped"} == {
        "by-config": "excluded by the config's exclude '/by-config$'",
        "by-flag": "excluded by --exclude '/by-flag$'",
        "ignored": "excluded by .crawlerignore:2",
        "also-ignored": "excluded by .crawlerignore:4",
        "next-line": "disabled by <!-- crawler-disable-next-line --> at list.md:8",
        "own-line": "disabled by <!-- markdown-link-check-disable-line --> at list.md:10",
        "in-block": "disabled by <!-- crawler-disable --> at list.md:12",
        "mlc-next": "disabled by <!-- markdown-link-check-disable-next-line --> at list.md:16",
    }
    assert {name for name, (status, _) in why.items() if status == "ok"} == {"kept", "after", "after-code", "shared"}
    s = report["summary"]
    assert (s["distinct_urls"], s["healthy"], s["skipped"], s["not_judged"]) == (12, 4, 8, 0)
    md = (repo / "reports" / "health.md").read_text()
    assert "## Skipped (8)" in md and "excluded by .crawlerignore:2" in md
    assert proc.stdout.startswith("crawler: 12 links: 4 healthy, 0 failing, 0 not judged, 8 skipped;")


def test_an_exclusion_hides_no_verdict_and_does_not_outlive_its_rule(repo, web):
    first = crawler(*args(repo), cwd=repo / "papers")
    assert first.returncode == 0, first.stderr
    web.log.clear()
    crawler(*args(repo, "--exclude", "/kept$"), cwd=repo / "papers")
    assert "/kept" not in {path for _, _, path in web.log}
    assert next(lo for lo in report_of(repo)["links"] if lo["url"].endswith("/kept"))["status"] == "skipped"
    web.log.clear()
    crawler(*args(repo), cwd=repo / "papers")  # the rule is gone: the verdict from before it stands
    kept = next(lo for lo in report_of(repo)["links"] if lo["url"].endswith("/kept"))
    assert (kept["status"], kept["from_cache"]) == ("ok", True) and web.log == []


def test_a_bad_regex_in_the_ignore_file_is_one_line_naming_file_and_line(repo, web):
    (repo / ".crawlerignore").write_text("# fine\n/ok$\n(unclosed\n")
    one_line_error(crawler(*args(repo), cwd=repo / "papers"), ".crawlerignore:3", "bad regex", "(unclosed")
    one_line_error(crawler(*args(repo, "--exclude", "[x"), cwd=repo / "papers"), "--exclude", "bad regex")
    assert web.log == []


def test_accept_makes_a_sites_code_fine_and_refuses_429(repo, web):
    lst = repo / "papers" / "walled.md"
    lst.write_text(f"- [A paper behind a wall]({f'http://127.0.0.1:{web.port}'}/walled)\n")
    web.add(f"http://127.0.0.1:{web.port}/walled", Reply(403))
    base = ["check", lst.name, "--db", repo / "c.db", "--reports", repo / "reports", "--allow-private",
            "--no-progress", "--max-age", "0"]
    crawler(*base, cwd=lst.parent)
    assert report_of(repo)["links"][0]["status"] == "blocked"
    assert crawler(*base, "--accept", "403,999", cwd=lst.parent).returncode == 0
    assert report_of(repo)["links"][0]["status"] == "ok"
    one_line_error(crawler(*base, "--accept", "403,429", cwd=lst.parent), "429 cannot be accepted")
    one_line_error(crawler(*base, "--accept", "40x", cwd=lst.parent), "not an HTTP status code")


def test_exclude_path_leaves_list_files_out_of_the_run(repo, web):
    drafts = repo / "papers" / "drafts"
    drafts.mkdir()
    (drafts / "wip.md").write_text(f"- [A draft paper]({f'http://127.0.0.1:{web.port}'}/draft)\n")
    common = ["--db", repo / "c.db", "--reports", repo / "reports", "--allow-private", "--no-progress"]
    proc = crawler("check", "list.md", "drafts/wip.md", *common, "--exclude-path", "drafts", cwd=repo / "papers")
    assert proc.returncode == 0, proc.stderr
    assert report_of(repo)["summary"]["lists"] == ["list.md"] and "/draft" not in {p for _, _, p in web.log}
    proc = crawler("check", "**/*.md", *common, "--exclude-path", "*/wip.md", "--exclude-path", "nothing",
                   cwd=repo / "papers")
    assert report_of(repo)["summary"]["lists"] == ["list.md"]
    one_line_error(crawler("check", "drafts/wip.md", *common, "--exclude-path", "drafts/*", cwd=repo / "papers"),
                   "every list is left out by --exclude-path")


def test_help_says_what_each_exclusion_does():
    from click.testing import CliRunner

    from crawler.cli.commands import cli

    for command in ("run", "check", "enrich", "report"):
        out = CliRunner().invoke(cli, [command, "--help"], terminal_width=200).output
        assert "--exclude REGEX" in out and "--exclude-path GLOB" in out and "--accept CODES" in out
        assert "list files matching GLOB out of the run" in out


# -- the pieces ------------------------------------------------------------------------------------------------


def test_directives_are_comments_not_text_in_code():
    text = ("<!-- crawler-disable-next-line -->\n[a](https://a.org)\n\n"
            "```\n<!-- crawler-disable -->\n```\n[b](https://b.org)\n\n"
            "`<!-- markdown-link-check-disable-line -->` [c](https://c.org)\n\n"
            "<!--markdown-link-check-disable-->\n[d](https://d.org)\n")
    parsed = parse_list(text)
    assert [(d.first, d.last, d.comment, d.line) for d in parsed.disabled] == [
        (2, 2, "<!-- crawler-disable-next-line -->", 1),
        (11, 12, "<!-- markdown-link-check-disable -->", 11),  # never enabled again: to the end
    ]
    named = parsed.in_file("README.md")
    assert {d.file for d in named.disabled} == {"README.md"}
    assert named.disabled[0].reason == "disabled by <!-- crawler-disable-next-line --> at README.md:1"


def test_the_repository_root_is_the_nearest_folder_with_git(tmp_path):
    (tmp_path / "a" / "b").mkdir(parents=True)
    assert repository_root(tmp_path / "a" / "b") == (tmp_path / "a" / "b").resolve()  # no .git: the folder
    (tmp_path / "a" / ".git").write_text("gitdir: elsewhere\n")  # a worktree's .git is a file
    assert repository_root(tmp_path / "a" / "b") == (tmp_path / "a").resolve()
    (tmp_path / "a" / ".crawlerignore").write_text("\n  # a comment\nexample\\.org  \n")
    (rule,) = ignore_rules(tmp_path / "a" / "b")
    assert (rule.pattern, rule.origin, rule.reason) == ("example\\.org", ".crawlerignore:3",
                                                        "excluded by .crawlerignore:3")


@pytest.mark.parametrize(("path", "glob", "out"), [
    ("drafts/a.md", "drafts", True), ("drafts/a.md", "drafts/", True), ("drafts/a.md", "drafts/*", True),
    ("papers/old/2019.md", "papers/*", True), ("papers/old/2019.md", "2019.md", True),
    ("papers/old/2019.md", "*.markdown", False), ("./README.md", "README.md", True), ("README.md", "READ", False),
])
def test_exclude_path_globs(path, glob, out):
    assert (path_excluded(Path(path), [glob]) is not None) is out


def test_accept_codes():
    assert accept_codes(["403, 999", "403", 451]) == (403, 999, 451)
    for bad in (["429"], ["abc"], ["99"], ["1000"], [True]):
        with pytest.raises(ExclusionError):
            accept_codes(bad)
