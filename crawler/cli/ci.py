"""`crawler ci`: what the action (action.yml) posts after the crawl, read from the reports the run wrote.

Hidden from `--help`: the workflow's commands, not a user's. `job-summary` prints the job summary (the step
appends it to $GITHUB_STEP_SUMMARY), `counts` the action's outputs (links=, healthy=, …, where each report is),
and `texts` writes issue.md, pull-request.md, state.txt and title.txt for the issue and pull-request jobs and
prints their state=, title= and fills= lines. crawler.report.summary makes the texts and keeps them under
GitHub's size limits.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from crawler.errors import UsageError
from crawler.report import summary
from crawler.report.model import RunReport

_reports = click.option("--reports", type=click.Path(path_type=Path), default=Path("reports"), show_default=True,
                        help="the folder the run wrote its reports to")


@click.group("ci", hidden=True)
def ci() -> None:
    """The action's texts, from the reports of a run, cut to GitHub's limits."""


@ci.command("job-summary")
@_reports
@click.option("--exit-code", default="0", help="the exit code of `crawler run`")
@click.option("--artifact-url", default="", help="where the run's `reports` artifact is")
def job_summary(reports: Path, exit_code: str, artifact_url: str) -> None:
    """Print the job summary (append it to $GITHUB_STEP_SUMMARY); without a report, what the exit code says."""
    text = summary.job_summary(_read(reports / "health.md"), exit_code=exit_code, artifact_url=artifact_url)
    click.echo(text, nl=False)


@ci.command("counts")
@_reports
def counts(reports: Path) -> None:
    """Print the action's outputs: links=, healthy=, failing=, …, and the paths of the reports."""
    report, _ = _report(reports)
    for key, value in summary.counts(report, reports).items():
        click.echo(f"{key}={value}")


@ci.command("texts")
@_reports
@click.option("--out", type=click.Path(path_type=Path), required=True, help="the folder to write the texts to")
@click.option("--run-url", default="", help="the run's address, for the texts to point at")
def texts(reports: Path, out: Path, run_url: str) -> None:
    """Write issue.md, pull-request.md, state.txt and title.txt; print state=, title= and fills= lines."""
    report, markdown = _report(reports)
    out.mkdir(parents=True, exist_ok=True)
    (out / "issue.md").write_text(summary.issue_body(report, markdown, run_url=run_url), encoding="utf-8")
    (out / "pull-request.md").write_text(summary.pull_request_body(report, run_url=run_url), encoding="utf-8")
    # For the issue job, which reads them from the artifact (one line each, no newline to strip).
    (out / "state.txt").write_text(summary.issue_state(report), encoding="utf-8")
    (out / "title.txt").write_text(summary.issue_title(report), encoding="utf-8")
    click.echo(f"state={summary.issue_state(report)}")
    click.echo(f"title={summary.issue_title(report)}")
    click.echo(f"fills={len(report.fills)}")


def _read(path: Path) -> str | None:
    """A report's text; None when the run wrote none."""
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _report(reports: Path) -> tuple[RunReport, str]:
    """The run's report (health.json) and its Markdown (health.md)."""
    markdown = _read(reports / "health.md")
    raw = _read(reports / "health.json")
    if raw is None or markdown is None:
        raise UsageError(f"no report in {reports}")
    try:
        return RunReport.from_json(json.loads(raw)), markdown
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"cannot read {reports / 'health.json'}: {exc}") from None
