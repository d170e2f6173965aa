"""crawler.cli.init and `crawler init`: finding the lists, pinning the action, the three files, and the end to end
"two lists, init, then the generated workflow run as a script" (tests/support/ghrunner.py) against a loopback web."""

import json
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from crawler import __version__
from crawler.cli.init import (
    CONFIG,
    PAGES_SETTING,
    PR_SETTING,
    InitError,
    badge_line,
    check_lists,
    config_text,
    find_lists,
    from_checkout,
    from_direct_url,
    github_repo,
    gitignore_text,
    init,
    installed_action,
    parse_action,
)
from crawler.cli.workflows import (
    CHECKOUT,
    DEPLOY_PAGES,
    PR_COMMENT_WORKFLOW,
    PR_WORKFLOW,
    PR_WORKFLOW_NAME,
    WORKFLOW,
    ActionRef,
    pr_comment_workflow_text,
    pr_workflow_text,
    workflow_text,
)
from crawler.config import Settings, settings_kwargs
from crawler.listfile.read import resolve_lists
from tests import paths
from tests.fakes.sites import FakeArxiv
from tests.fakes.web import Reply
from tests.support.ghrunner import Runner
from tests.support.linters import actionlint, zizmor

ROOT = paths.ROOT
GUARD = paths.GUARD
SHA = "0123456789abcdef0123456789abcdef01234567"
PINNED = ActionRef(repo="paper-list-crawler/paper-list-crawler", commit=SHA, label="v0.1.0")


def entries(n: int, base: str = "https://arxiv.org/abs/2101.0") -> str:
    return "".join(f"- Paper Number {i} About Things, CVPR 2021 [[paper]]({base}{1000 + i})\n" for i in range(n))


def repo(tmp_path: Path, files: dict[str, str], remote: str | None = None) -> Path:
    root = tmp_path / "lists"
    root.mkdir()
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    subprocess.run(["git", "init", "-q"], cwd=root, check=True, timeout=30)
    if remote:
        subprocess.run(["git", "remote", "add", "origin", remote], cwd=root, check=True, timeout=30)
    return root


def crawler_cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "crawler", *map(str, args)], capture_output=True, text=True,
                          timeout=120, cwd=cwd)


# -- finding the lists ---------------------------------------------------------------------------------------
def test_a_readme_and_a_folder_of_lists(tmp_path):
    root = repo(tmp_path, {"README.md": "# Awesome\n" + entries(5), "papers/2020.md": entries(4),
                           "papers/2021.md": entries(3), "CONTRIBUTING.md": entries(9), "docs/notes.md": "# Notes\n",
                           ".github/ISSUE_TEMPLATE/x.md": entries(5)})
    assert find_lists(root) == ["README.md", "papers/*.md"]  # a new year's file will be checked too


def test_a_folder_holding_one_list_is_named_by_a_glob(tmp_path):
    root = repo(tmp_path, {"README.md": "# Awesome\n" + entries(5), "papers/cv.md": entries(4),
                           "notes/a.md": entries(3), "notes/README.md": "# About these notes\n"})
    # papers/nlp.md, added next year, is checked too; a folder that also holds other Markdown keeps its names.
    assert find_lists(root) == ["README.md", "notes/a.md", "papers/*.md"]


def test_files_among_other_markdown_are_named_one_by_one(tmp_path):
    root = repo(tmp_path, {"README.md": "# Index\n\nSee [2020](CVPR2020.md).\n", "CVPR2020.md": entries(3),
                           "CVPR2021.md": entries(4), "topics/gan.md": entries(5), "topics/README.md": "# Topics\n"})
    assert find_lists(root) == ["CVPR2020.md", "CVPR2021.md", "topics/gan.md"]


def test_a_project_readme_is_no_list(tmp_path):
    root = repo(tmp_path, {"README.md": "# A tool\n\nSee [the paper](https://arxiv.org/abs/2101.01000).\n"})
    assert find_lists(root) == []
    with pytest.raises(InitError, match="no paper list found"):
        init(root, action=PINNED)
    assert not (root / WORKFLOW).exists() and not (root / CONFIG).exists()


def test_lists_named_by_the_user_are_checked(tmp_path):
    root = repo(tmp_path, {"README.md": "x\n", "papers/a.md": "x\n", "empty/notes.txt": "x\n",
                           "nested/2020/a.md": "x\n", "[CVPR] papers.md": "x\n"})
    for given, named in (("papers/*.md", "papers/*.md"), ("papers", "papers"),
                         (root / "papers" / "a.md", "papers/a.md"),
                         ("[CVPR] papers.md", "[CVPR] papers.md")):  # a file, not a glob that matches nothing
        assert check_lists(root, ["README.md", str(given)]) == ["README.md", named]
    # As `crawler run` will judge them: what the run would refuse, init refuses before writing anything.
    for bad, message in ((["missing.md"], "list not found: missing.md"), (["*.txt"], "no list matches '\\*.txt'"),
                         (["empty"], "no Markdown file in the directory empty"),
                         (["nested"], "no Markdown file in the directory nested"),  # only in a subfolder
                         (["README.md", "./README.md"], "list given twice: README.md"),
                         (["papers/*.md", "papers/a.md"], "list given twice: papers/a.md"),
                         (["papers", "papers/*.md"], "list given twice: papers/a.md"),
                         (["/etc/passwd"], "is outside the repository")):
        with pytest.raises(InitError, match=message):
            check_lists(root, bad)
        with pytest.raises(InitError):
            init(root, lists=bad, action=PINNED)
    assert not (root / WORKFLOW).exists() and not (root / CONFIG).exists()


# -- which action --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("url, expected", [
    ("https://github.com/someone/awesome-things.git", "someone/awesome-things"),
    ("https://github.com/someone/awesome-things", "someone/awesome-things"),
    ("git@github.com:someone/awesome.things.git", "someone/awesome.things"),
    ("ssh://git@github.com/someone/x/", "someone/x"),
    ("https://x-access-token:abc@github.com/someone/x.git", "someone/x"),
    ("https://gitlab.com/someone/x.git", None),
    ("/srv/git/x.git", None),
    ("https://github.com/someone", None),
])
def test_github_repo(url, expected):
    assert github_repo(url) == expected


def test_a_pip_install_from_github_names_its_repository_and_commit():
    # direct_url.json as pip writes it for `pip install git+https://github.com/o/r@v0.2.0` (PEP 610).
    data = {"url": "https://github.com/someone/paper-list-crawler", "vcs_info": {
        "vcs": "git", "requested_revision": "v0.2.0", "commit_id": SHA}}
    ref = from_direct_url(data)
    assert (ref.repo, ref.commit, ref.label, ref.notes) == ("someone/paper-list-crawler", SHA, "v0.2.0", ())
    assert ref.uses("/.github/workflows/fill-pull-request.yml") == \
        f"someone/paper-list-crawler/.github/workflows/fill-pull-request.yml@{SHA}"
    unnamed = from_direct_url({**data, "vcs_info": {"vcs": "git", "commit_id": SHA}})
    assert unnamed.label == f"paper-list-crawler {__version__}"
    elsewhere = from_direct_url({**data, "url": "https://gitlab.com/someone/paper-list-crawler"})
    assert elsewhere.repo is None and "not on GitHub" in elsewhere.notes[0]
    assert from_direct_url({"url": "file:///work/main", "dir_info": {"editable": True}}) is None


def git(folder, *args):
    return subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, check=True,
                          timeout=30).stdout.strip()


def test_a_checkout_names_its_head_its_remote_and_its_tag(tmp_path):
    src = tmp_path / "crawler-src"
    src.mkdir()
    (src / "action.yml").write_text("name: x\n")
    git(src, "init", "-q")
    git(src, "add", "action.yml")
    git(src, "-c", "user.name=t", "-c", "user.email=t@example.org", "commit", "-qm", "x")
    git(src, "remote", "add", "origin", "git@github.com:someone/paper-list-crawler.git")
    head = git(src, "rev-parse", "HEAD")
    ref = from_checkout(src)
    assert (ref.repo, ref.commit) == ("someone/paper-list-crawler", head)
    assert ref.label == f"paper-list-crawler {__version__}"
    assert "push it before the workflow runs" in ref.notes[0] and len(ref.notes) == 1
    git(src, "tag", "v9.9.9")
    (src / "action.yml").write_text("name: changed\n")
    ref = from_checkout(src)
    assert ref.label == "v9.9.9" and "uncommitted changes" in ref.notes[1]
    (src / "sub").mkdir()
    (src / "sub" / "action.yml").write_text("name: x\n")
    assert from_checkout(src / "sub") is None  # inside someone's repository is not a checkout of ours
    assert from_checkout(tmp_path) is None


def test_the_installed_crawler_is_pinned_to_the_commit_that_runs():
    ref = installed_action()
    if (ROOT / ".git").exists():
        assert ref.commit == git(ROOT, "rev-parse", "HEAD")
        assert ref.source == f"the checkout at {ROOT}"
    else:  # an unpacked copy: nothing to pin to, and init will say so
        assert ref.commit is None


def test_an_action_given_by_hand():
    pinned = parse_action(f"someone/paper-list-crawler@{SHA}")
    assert (pinned.repo, pinned.commit, pinned.notes) == ("someone/paper-list-crawler", SHA, ())
    moving = parse_action("someone/paper-list-crawler@v1")
    assert moving.label == "v1" and "not a commit SHA" in moving.notes[0]
    for bad in ("someone@v1", "someone/x", "a b/c@d", "someone/x@$(rm -rf)"):
        with pytest.raises(InitError, match="--action must be OWNER/REPO@COMMIT"):
            parse_action(bad)


OPENREVIEW_SECRETS = {"openreview-username": "${{ secrets.OPENREVIEW_USERNAME }}",
                      "openreview-password": "${{ secrets.OPENREVIEW_PASSWORD }}"}


# -- the files -----------------------------------------------------------------------------------------------
def test_the_workflow_uses_the_pinned_action_and_its_two_reusable_jobs():
    wf = yaml.safe_load(workflow_text(PINNED))
    (checkout, crawler) = wf["jobs"]["crawl"]["steps"]
    assert crawler["uses"] == f"paper-list-crawler/paper-list-crawler@{SHA}"
    assert crawler["with"] == OPENREVIEW_SECRETS  # the lists come from crawler.toml, the one place for them
    assert wf["jobs"]["issue"]["uses"] == f"paper-list-crawler/paper-list-crawler/.github/workflows/" \
                                          f"link-health-issue.yml@{SHA}"
    assert wf["jobs"]["pull-request"]["uses"].endswith(f"/fill-pull-request.yml@{SHA}")
    assert {job: spec["permissions"] for job, spec in wf["jobs"].items()} == {
        "crawl": {"contents": "read"}, "issue": {"issues": "write"},
        "pull-request": {"contents": "write", "pull-requests": "write"}}
    assert wf["permissions"] == {} and checkout["with"] == {"persist-credentials": False}
    # The same pins as this repository's own workflows and action: one place to update them is not enough.
    ours = (ROOT / ".github" / "workflows" / "fill-pull-request.yml").read_text()
    assert CHECKOUT in ours
    text = workflow_text(PINNED)
    assert f"uses: paper-list-crawler/paper-list-crawler@{SHA} # v0.1.0\n" in text
    # Only for a crawler.toml that names no lists does the workflow name them, one word each.
    named = yaml.safe_load(workflow_text(PINNED, lists=["README.md", "papers/*.md", "CVPR 2021.md"]))
    assert named["jobs"]["crawl"]["steps"][1]["with"] == {"lists": "README.md papers/*.md CVPR?2021.md",
                                                          **OPENREVIEW_SECRETS}


def test_publishing_adds_a_pages_job_with_only_what_pages_need():
    wf = yaml.safe_load(workflow_text(PINNED, publish=True))
    assert wf["jobs"]["crawl"]["steps"][1]["with"] == {"publish": True, **OPENREVIEW_SECRETS}
    assert wf["jobs"]["crawl"]["outputs"]["publish"] == "${{ steps.crawler.outputs.publish }}"
    pages = wf["jobs"]["pages"]
    assert pages["permissions"] == {"pages": "write", "id-token": "write"} and pages["needs"] == "crawl"
    assert pages["environment"]["name"] == "github-pages"
    assert pages["if"] == "${{ !cancelled() && needs.crawl.outputs.publish == 'true' }}"
    assert [s["uses"] for s in pages["steps"]] == [DEPLOY_PAGES.split(" #")[0]]
    assert "pages" not in yaml.safe_load(workflow_text(PINNED))["jobs"]


def test_the_badge_line_points_at_the_repositorys_pages():
    assert badge_line("Someone/awesome-kd") == \
        "[![link health](https://someone.github.io/awesome-kd/badge.svg)](https://someone.github.io/awesome-kd/)"
    assert badge_line("someone/someone.github.io") == \
        "[![link health](https://someone.github.io/badge.svg)](https://someone.github.io/)"
    assert "OWNER" in badge_line(None)


def test_the_pull_request_workflows_split_the_check_from_the_posting():
    check = yaml.safe_load(pr_workflow_text(PINNED))
    assert check["name"] == PR_WORKFLOW_NAME and set(check.get("on", check.get(True))) == {"pull_request"}
    (job,) = check["jobs"].values()
    assert job["permissions"] == {"contents": "read"} and "secrets." not in pr_workflow_text(PINNED)
    checkout, crawler = job["steps"]
    assert checkout["with"] == {"persist-credentials": False, "ref": "${{ github.event.pull_request.head.sha }}",
                                "fetch-depth": 0}
    assert crawler["uses"] == f"paper-list-crawler/paper-list-crawler@{SHA}"
    assert crawler["with"] == {"mode": "pull-request"}
    post = yaml.safe_load(pr_comment_workflow_text(PINNED))
    on = post.get("on", post.get(True))
    assert on == {"workflow_run": {"workflows": [PR_WORKFLOW_NAME], "types": ["completed"]}}
    (job,) = post["jobs"].values()
    assert job["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert job["uses"] == f"paper-list-crawler/paper-list-crawler/.github/workflows/pull-request-comment.yml@{SHA}"
    # The reusable workflow it calls checks nothing out: the pull request's code never meets the write token.
    called = yaml.safe_load((ROOT / ".github" / "workflows" / "pull-request-comment.yml").read_text())
    (inner,) = called["jobs"].values()
    assert inner["permissions"] == job["permissions"]
    assert not [s for s in inner["steps"] if "checkout" in s.get("uses", "") or "pip install" in s.get("run", "")]


def test_the_generated_workflows_pass_actionlint_and_zizmor(tmp_path):
    paths = []
    for name, text in (("paper-list.yml", workflow_text(PINNED, lists=["README.md", "papers/*.md"])),
                       ("pages.yml", workflow_text(PINNED, publish=True)),
                       ("paper-list-pr.yml", pr_workflow_text(PINNED)),
                       ("paper-list-pr-comment.yml", pr_comment_workflow_text(PINNED))):
        paths.append(tmp_path / name)
        paths[-1].write_text(text)
    done = actionlint(*paths)
    assert done.returncode == 0, done.stdout + done.stderr
    done = zizmor(*paths)
    assert done.returncode == 0, done.stdout + done.stderr
    # With the commit unknown, the placeholder is visibly unpinned: zizmor says so until it is replaced.
    path = tmp_path / "unpinned.yml"
    path.write_text(workflow_text(ActionRef(repo=None, commit=None)))
    done = zizmor(path)
    assert done.returncode != 0 and "unpinned" in done.stdout


def test_the_config_has_the_lists_the_contact_and_the_true_defaults():
    text = config_text(["README.md", "papers/*.md", 'odd "name".md'], "https://github.com/someone/awesome")
    data = tomllib.loads(text)
    assert data == {"lists": ["README.md", "papers/*.md", 'odd "name".md'], "contact": "https://github.com/someone/awesome"}
    defaults = [line[2:].split("  #")[0] for line in text.splitlines() if re.match(r"# [a-z-]+ = ", line)]
    assert len(defaults) >= 7
    for line in defaults:  # each commented default, uncommented, is the default the crawler really uses
        ((key, value),) = settings_kwargs(tomllib.loads(line)).items()
        assert getattr(Settings(), key) == (tuple(value) if isinstance(value, list) else value), line
    assert "# contact = " in config_text(["README.md"], None)


def test_gitignore_gains_what_a_local_run_writes_once():
    block = gitignore_text(None)
    assert block.splitlines()[1:] == ["/data/cache.db", "/data/cache.db-*", "/data/*.lock", "/reports/",
                                      "/data/papers.json", "/data/papers.bib"]
    grown = gitignore_text("node_modules/")
    assert grown.startswith("node_modules/\n\n# paper-list-crawler") and grown.endswith("/data/papers.bib\n")
    assert gitignore_text(grown) is None
    assert gitignore_text("data/\n").splitlines()[-1:] == ["/reports/"]
    assert gitignore_text("data/\nreports/\n") is None
    assert gitignore_text("data/cache.db\n").splitlines()[-5:] == ["/data/cache.db-*", "/data/*.lock", "/reports/",
                                                                   "/data/papers.json", "/data/papers.bib"]
    # What the repository commits (its reports, its export) is meant to be committed: not ignored.
    kept = gitignore_text(None, tracked=["reports/health.md", "data/papers.json"])
    assert "/reports/" not in kept and "/data/papers.json" not in kept and "/data/papers.bib" in kept


# -- doing it ------------------------------------------------------------------------------------------------
def test_init_writes_its_files_and_never_overwrites_without_force(tmp_path):
    root = repo(tmp_path, {"README.md": entries(5), ".gitignore": "*.pyc\n"},
                remote="https://github.com/someone/awesome.git")
    done = init(root, action=PINNED)
    assert done.lists == ("README.md",)
    assert done.written == (str(WORKFLOW), str(CONFIG), str(PR_WORKFLOW), str(PR_COMMENT_WORKFLOW), ".gitignore")
    assert done.kept == () and done.badge is None
    assert tomllib.loads((root / CONFIG).read_text())["contact"] == "https://github.com/someone/awesome"
    assert (root / ".gitignore").read_text().startswith("*.pyc\n")
    assert "/reports/" in (root / ".gitignore").read_text()
    assert done.notes == ()  # pinned, contact known: nothing left but the one setting

    (root / CONFIG).write_text('contact = "mailto:me@example.org"\n')
    (root / WORKFLOW).write_text("# mine\n")
    again = init(root, action=PINNED)
    assert again.written == () and set(again.kept) == {str(WORKFLOW), str(CONFIG), str(PR_WORKFLOW),
                                                       str(PR_COMMENT_WORKFLOW)}
    assert (root / WORKFLOW).read_text() == "# mine\n"
    assert (root / CONFIG).read_text() == 'contact = "mailto:me@example.org"\n'
    assert any("names no lists: the workflows name them" in n for n in again.notes)

    forced = init(root, action=PINNED, force=True)
    assert forced.written == (str(WORKFLOW), str(CONFIG), str(PR_WORKFLOW), str(PR_COMMENT_WORKFLOW))
    assert "paper-list-crawler/paper-list-crawler@" in (root / WORKFLOW).read_text()


def test_without_the_pull_request_check_and_with_the_badge(tmp_path):
    root = repo(tmp_path, {"README.md": entries(5)}, remote="git@github.com:Someone/awesome-kd.git")
    done = init(root, action=PINNED, pr_check=False, publish=True)
    assert done.written == (str(WORKFLOW), str(CONFIG), ".gitignore")
    assert not (root / PR_WORKFLOW).exists() and not (root / PR_COMMENT_WORKFLOW).exists()
    assert "pages" in yaml.safe_load((root / WORKFLOW).read_text())["jobs"]
    assert done.badge == "[![link health](https://someone.github.io/awesome-kd/badge.svg)]" \
                         "(https://someone.github.io/awesome-kd/)"


def test_a_repository_that_commits_its_reports_keeps_them_committed(tmp_path):
    root = repo(tmp_path, {"README.md": entries(5), "reports/health.md": "# Link health\n"})
    subprocess.run(["git", "add", "reports/health.md"], cwd=root, check=True, timeout=30)
    init(root, action=PINNED)
    ignored = (root / ".gitignore").read_text().splitlines()
    assert "/reports/" not in ignored and "/data/cache.db" in ignored and "/data/papers.json" in ignored


def test_the_lists_are_named_once_in_the_config_as_the_run_will_read_them(tmp_path):
    names = ["README.md", "CVPR 2021.md", "[ECCV] 2020.md", "papers/a.md", "papers/b.md"]
    root = repo(tmp_path, {name: entries(3) for name in names})
    done = init(root, action=PINNED)
    assert done.lists == ("README.md", "CVPR 2021.md", "[ECCV] 2020.md", "papers/*.md")
    config = tomllib.loads((root / CONFIG).read_text())["lists"]
    assert sorted(map(str, resolve_lists(config, cwd=root))) == sorted(names)
    for workflow in (WORKFLOW, PR_WORKFLOW):  # one place: the workflows name none
        assert "lists:" not in (root / workflow).read_text()
    # A crawler.toml kept without lists: then the workflows name them, as words the action splits on blanks.
    (root / CONFIG).write_text("timeout = 30\n")
    for workflow in (WORKFLOW, PR_WORKFLOW):
        (root / workflow).unlink()
    init(root, action=PINNED)
    for workflow, step in ((WORKFLOW, 1), (PR_WORKFLOW, 1)):
        steps = next(iter(yaml.safe_load((root / workflow).read_text())["jobs"].values()))["steps"]
        words = steps[step]["with"]["lists"].split()
        assert sorted(map(str, resolve_lists(words, cwd=root))) == sorted(names), workflow


def test_init_says_what_it_could_not_know(tmp_path):
    root = repo(tmp_path, {"README.md": entries(5)})
    done = init(root, action=ActionRef(repo=None, commit=None))
    assert any("replace OWNER/REPO" in n for n in done.notes) and any("replace COMMIT" in n for n in done.notes)
    assert any("set contact" in n for n in done.notes)
    assert "OWNER/REPO@COMMIT" in (root / WORKFLOW).read_text()


def test_the_command_line(tmp_path):
    root = repo(tmp_path, {"README.md": entries(5), "papers/a.md": entries(3), "papers/b.md": entries(3)},
                remote="https://github.com/someone/awesome.git")
    done = crawler_cli("init", "--dir", root, "--action", f"someone/paper-list-crawler@{SHA}", "--no-pr-check",
                       "--publish")
    assert done.returncode == 0, done.stderr
    assert "lists: README.md, papers/*.md" in done.stdout
    assert f"wrote {WORKFLOW}" in done.stdout and PR_SETTING in done.stdout and PAGES_SETTING in done.stdout
    assert f"wrote {PR_WORKFLOW}" not in done.stdout
    assert "the badge, for your README: [![link health](https://someone.github.io/awesome/badge.svg)]" in done.stdout
    again = crawler_cli("init", "--dir", root, "--action", f"someone/paper-list-crawler@{SHA}")
    assert again.returncode == 0 and f"kept {WORKFLOW}: it exists (--force replaces it)" in again.stdout


@pytest.mark.parametrize("args, message", [
    ([], "crawler: error: no paper list found in "),
    (["nothing.md"], "crawler: error: list not found: nothing.md"),
    (["--action", "nope"], "crawler: error: --action must be OWNER/REPO@COMMIT"),
])
def test_bad_input_is_one_line_and_exit_2(tmp_path, args, message):
    root = repo(tmp_path, {"README.md": "# A tool, no papers\n"})
    done = crawler_cli("init", "--dir", root, *args)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith(message) and len(done.stderr.strip().splitlines()) == 1, done.stderr


# -- end to end: two lists, init, the generated workflow run as a script --------------------------------------
def test_two_lists_init_then_the_generated_workflow_checks_both_with_one_cache_and_one_report(tmp_path, web):
    """A fresh repository holding a README and a folder of lists; `crawler init`; the
    generated workflow run as a script, twice (two nights), on loopback."""
    web.host("127.0.0.1", FakeArxiv())
    base = f"http://127.0.0.1:{web.port}"
    web.add(f"{base}/ok", Reply(200, b"<html><title>A Paper</title></html>", {"Content-Type": "text/html"}))
    web.add(f"{base}/gone", Reply(404, b"<html><title>Not Found</title></html>", {"Content-Type": "text/html"}))
    shared = f"[[paper]]({base}/ok)"
    readme = ("# Awesome\n\n" + "".join(f"- Paper {i} About Things ICLR 2018 {shared}\n" for i in range(3))
              + "- Paying More Attention to Attention Improving the Performance of Convolutional Neural Networks "
                "via Attention Transfer ICLR 2017 [[paper]]()\n")
    older = "# 2020\n\n" + "".join(f"- Old Paper {i} ICLR 2020 {shared} [[code]]({base}/gone)\n" for i in range(3))
    newer = ("# 2021\n\n" + "".join(f"- Other Paper {i} ICLR 2021 {shared} [[project]]({base}/gone)\n"
                                      for i in range(3))
             + "- Born Again Neural Networks ICLR 2018 [[paper]]()\n")
    root = repo(tmp_path, {"README.md": readme, "papers/2020.md": older, "papers/2021.md": newer})
    done = init(root, action=PINNED)
    assert done.lists == ("README.md", "papers/*.md")
    # What a maintainer on loopback would add to the generated config.
    with (root / CONFIG).open("a") as fh:
        fh.write(f'allow-private = true\narxiv-url = "{base}/api/query?{{}}"\narxiv-delay = 0\n'
                 f'cvf-base = "{base}/cvf"\ntimeout = 5\nretries = 0\n')
    subprocess.run("git add -A && git -c user.name=t -c user.email=t@example.org commit -qm init", shell=True,
                   cwd=root, check=True, timeout=30)

    def night(run_id: int) -> Runner:
        run = Runner(root, tmp_path / "home", actions={"paper-list-crawler/paper-list-crawler": ROOT},
                     overrides={"install": {"python": sys.executable}}, env={"PYTHONPATH": f"{GUARD}:{ROOT}"},
                     run_id=run_id)
        jobs = run.run_workflow(root / WORKFLOW)
        assert {k: v.result for k, v in jobs.items()} == {"crawl": "success", "issue": "success",
                                                          "pull-request": "success"}, "\n".join(run.log)
        return run

    run = night(1)
    report = json.loads((run.artifacts / "reports" / "health.json").read_text())
    assert report["summary"]["lists"] == ["README.md", "papers/2020.md", "papers/2021.md"]  # one report
    urls = {lo["url"]: lo for lo in report["links"]}
    assert set(urls) == {f"{base}/ok", f"{base}/gone"}  # each distinct URL once, across the three files
    assert [(p["file"], p["line"]) for p in urls[f"{base}/gone"]["lines"]] == \
        [("papers/2020.md", n) for n in (3, 4, 5)] + [("papers/2021.md", n) for n in (3, 4, 5)]
    assert {p["file"] for p in urls[f"{base}/ok"]["lines"]} == {"README.md", "papers/2020.md", "papers/2021.md"}
    assert sorted(r for r in web.log if r[2] in ("/ok", "/gone")) == [("GET", "127.0.0.1", "/gone"),
                                                                      ("GET", "127.0.0.1", "/ok")]
    assert [e.name for e in run.cache.iterdir()] == ["crawler-cache-1-1"]  # one cache
    (pr,) = run.pull_requests
    assert set(pr["files"]) == {"README.md", "papers/2021.md"}  # each list with an empty link, filled in place
    assert "[[paper]](https://arxiv.org/abs/1612.03928)" in pr["files"]["README.md"]
    assert pr["files"]["papers/2021.md"] == newer.replace("[[paper]]()", "[[paper]](https://arxiv.org/abs/1805.04770)")
    issue = (run.artifacts / "crawler-ci" / "issue.md").read_text()
    assert "`papers/2020.md:3`" in issue and "`papers/2021.md:3`" in issue

    # The next night restores that one cache: nothing younger than max-age is asked again, both lists reported.
    asked = len(web.log)
    again = night(2)
    assert sorted(e.name for e in again.cache.iterdir()) == ["crawler-cache-1-1", "crawler-cache-2-1"]
    assert [r for r in web.log[asked:] if r[2] in ("/ok", "/gone")] == []
    report = json.loads((again.artifacts / "reports" / "health.json").read_text())
    assert report["summary"]["lists"] == ["README.md", "papers/2020.md", "papers/2021.md"]
    assert [r["command"] for r in report["runs"]] == ["run", "run"]


def test_one_list_init_then_the_generated_workflow_runs_as_a_script(tmp_path, web):
    """The generated workflow end to end with what the crawler has today: the pinned action and both reusable
    workflows resolved to this checkout, the crawl on loopback, the fill proposed, the issue opened."""
    web.host("127.0.0.1", FakeArxiv())
    base = f"http://127.0.0.1:{web.port}"
    web.add(f"{base}/gone", Reply(404, b"<html><title>Not Found</title></html>", {"Content-Type": "text/html"}))
    readme = ("# Awesome\n\n"
              + "".join(f"- Paper {i} About Things ICLR 2018 [[paper]]({base}/gone)\n" for i in range(3))
              + "- Paying More Attention to Attention Improving the Performance of Convolutional Neural Networks "
                "via Attention Transfer ICLR 2017 [[paper]]()\n")
    root = repo(tmp_path, {"README.md": readme, "CONTRIBUTING.md": "# How to add a paper\n"})
    init(root, action=PINNED, publish=True)
    with (root / CONFIG).open("a") as fh:
        fh.write(f'allow-private = true\narxiv-url = "{base}/api/query?{{}}"\narxiv-delay = 0\n'
                 f'cvf-base = "{base}/cvf"\ntimeout = 5\nretries = 0\n')
    subprocess.run("git add -A && git -c user.name=t -c user.email=t@example.org commit -qm init", shell=True,
                   cwd=root, check=True, timeout=30)
    run = Runner(root, tmp_path / "home", actions={"paper-list-crawler/paper-list-crawler": ROOT},
                 overrides={"install": {"python": sys.executable}}, env={"PYTHONPATH": f"{GUARD}:{ROOT}"})
    jobs = run.run_workflow(root / WORKFLOW)
    assert {k: v.result for k, v in jobs.items()} == {"crawl": "success", "issue": "success",
                                                      "pull-request": "success", "pages": "success"}, "\n".join(run.log)
    # The page and the badge, deployed by the pages job alone (the crawl job's token cannot write Pages).
    (site,) = run.pages
    assert set(site) == {"index.html", "badge.svg"} and site["badge.svg"].startswith(b"<svg")
    assert "job issue: calls paper-list-crawler/paper-list-crawler/.github/workflows/link-health-issue.yml@" \
           + SHA in run.log
    (pr,) = run.pull_requests
    assert set(pr["files"]) == {"README.md"}
    assert "[[paper]](https://arxiv.org/abs/1612.03928)" in pr["files"]["README.md"]
    assert "issue create --title Link health: 1 link needs attention (1 broken)" in run.gh_log.read_text()
