"""The workflows `crawler init` writes into a list repository: pure text, pinned to one action.

- paper-list.yml: the nightly crawl with the tracking issue and the fills' pull request (and, with `publish`,
  the page and the badge on GitHub Pages);
- paper-list-pr.yml: a pull request's lines checked with a read-only token and no secrets;
- paper-list-pr-comment.yml: on `workflow_run`, the check's comment and suggestions posted by this project's
  reusable workflow, which checks out nothing of the pull request's.

The lists are named in crawler.toml, which the action reads; a workflow names them only for a crawler.toml
that does not.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath

from crawler import __version__

DISTRIBUTION = "paper-list-crawler"
WORKFLOW = PurePosixPath(".github/workflows/paper-list.yml")
PR_WORKFLOW = PurePosixPath(".github/workflows/paper-list-pr.yml")
PR_COMMENT_WORKFLOW = PurePosixPath(".github/workflows/paper-list-pr-comment.yml")
PR_WORKFLOW_NAME = "paper-list pull request"  # the comment workflow waits for the workflow of this name
# Pinned as this repository's own workflows pin them; tests/cli/test_init.py keeps them the same.
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1 # v7.0.1"
DEPLOY_PAGES = "actions/deploy-pages@cd2ce8fcbc39b97be8ca5fce6e763baed58fa128 # v5.0.0"
CRON = "17 3 * * *"  # 03:17 UTC: off the hour, when GitHub's scheduler is least busy


@dataclass(frozen=True)
class ActionRef:
    """Which action the workflows run: `repo@commit`, and a label for the pin's comment."""

    repo: str | None  # "owner/name" on GitHub; None when unknown
    commit: str | None  # a full commit SHA (or a tag, when the user gave one); None when unknown
    label: str = f"{DISTRIBUTION} {__version__}"  # a tag such as "v0.2.0" when the commit has one
    source: str = ""  # where this was learnt, for the message
    notes: tuple[str, ...] = ()  # what the user should know about the pin

    def uses(self, path: str = "") -> str:
        return f"{self.repo or 'OWNER/REPO'}{path}@{self.commit or 'COMMIT'}"


def _word(path: str) -> str:
    """A path as one word of the action's `lists` input, which splits on blanks: a blank becomes `?`."""
    return re.sub(r"\s", "?", path)


def _lists_input(lists: Sequence[str]) -> str:
    return json.dumps(" ".join(_word(name) for name in lists), ensure_ascii=False)


def workflow_text(action: ActionRef, *, lists: Sequence[str] = (), publish: bool = False) -> str:
    """.github/workflows/paper-list.yml: the action in one job, the issue and the fills in two more, and with
    `publish` the page and the badge deployed to GitHub Pages. The lists come from crawler.toml; `lists` names
    them here only for a crawler.toml that does not."""
    pin = f" # {action.label}"
    inputs = []
    if lists:
        inputs.append(f"lists: {_lists_input(lists)}")
    if publish:
        inputs.append("publish: true")
    inputs += ["# OpenReview links are judged only with an account: add these two repository secrets (a read-only",
               "# account without MFA). Without them those links are reported as not judged.",
               "openreview-username: ${{ secrets.OPENREVIEW_USERNAME }}",
               "openreview-password: ${{ secrets.OPENREVIEW_PASSWORD }}"]
    with_ = "".join(f"\n          {line}" for line in inputs)
    with_ = f"\n        with:{with_}"
    pages = f"""
  pages:
    needs: crawl
    if: ${{{{ !cancelled() && needs.crawl.outputs.publish == 'true' }}}}
    runs-on: ubuntu-latest
    timeout-minutes: 10
    permissions:
      pages: write
      id-token: write
    environment:
      name: github-pages
      url: ${{{{ steps.deploy.outputs.page_url }}}}
    steps:
      - id: deploy
        uses: {DEPLOY_PAGES}
""" if publish else ""
    publish_output = "\n      publish: ${{ steps.crawler.outputs.publish }}" if publish else ""
    pages_job = "; `pages` publishes the page and the badge" if publish else ""
    return f"""\
# The nightly check of this repository's paper lists (written by `crawler init`, {DISTRIBUTION} {__version__}).
# `crawl` checks every link of the lists crawler.toml names and fills empty paper links, reading only; `issue`
# keeps one issue about broken links; `pull-request` proposes the fills{pages_job}. Each job's token holds only
# what that job needs.
name: paper-list

on:
  schedule:
    - cron: "{CRON}"
  workflow_dispatch:

permissions: {{}}

concurrency:
  group: ${{{{ github.workflow }}}}  # one run at a time: they share the cache
  cancel-in-progress: false

jobs:
  crawl:
    runs-on: ubuntu-latest
    timeout-minutes: 60
    permissions:
      contents: read
    outputs:
      issue: ${{{{ steps.crawler.outputs.issue }}}}
      fill-pr: ${{{{ steps.crawler.outputs.fill-pr }}}}{publish_output}
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
      - id: crawler
        uses: {action.uses()}{pin}{with_}

  issue:
    needs: crawl
    if: ${{{{ !cancelled() && needs.crawl.outputs.issue == 'true' }}}}
    permissions:
      issues: write
    uses: {action.uses("/.github/workflows/link-health-issue.yml")}{pin}

  pull-request:
    needs: crawl
    if: ${{{{ !cancelled() && needs.crawl.outputs.fill-pr == 'true' }}}}
    permissions:
      contents: write
      pull-requests: write
    uses: {action.uses("/.github/workflows/fill-pull-request.yml")}{pin}
{pages}"""


def pr_workflow_text(action: ActionRef, *, lists: Sequence[str] = ()) -> str:
    """.github/workflows/paper-list-pr.yml: a pull request's lines checked with a read-only token, no secrets."""
    lists_input = ""
    if lists:
        lists_input = f"\n          lists: {_lists_input(lists)}"
    return f"""\
# The check of each pull request (written by `crawler init`, {DISTRIBUTION} {__version__}): the links on the
# lines it adds or changes are checked and empty ones filled, and the check fails when it adds a failing link.
# Read-only and without secrets, so a pull request from a fork is checked too; the comment and the suggestions
# go out as an artifact, which paper-list-pr-comment.yml posts.
name: {PR_WORKFLOW_NAME}

on:
  pull_request:

permissions: {{}}

concurrency:
  group: ${{{{ github.workflow }}}}-${{{{ github.event.pull_request.number }}}}
  cancel-in-progress: true

jobs:
  check:
    runs-on: ubuntu-latest
    timeout-minutes: 30
    permissions:
      contents: read
    steps:
      - uses: {CHECKOUT}
        with:
          persist-credentials: false
          ref: ${{{{ github.event.pull_request.head.sha }}}}
          fetch-depth: 0
      - uses: {action.uses()} # {action.label}
        with:
          mode: pull-request{lists_input}
"""


def pr_comment_workflow_text(action: ActionRef) -> str:
    """.github/workflows/paper-list-pr-comment.yml: what the check found, posted on the pull request."""
    return f"""\
# Posts what the pull-request check found (written by `crawler init`, {DISTRIBUTION} {__version__}): one comment,
# edited on each push, and the suggestions as review comments to accept with one click. It runs on
# `workflow_run`, so that it may write to pull requests from forks: it checks out and runs nothing of the
# pull request's, and reads the check's artifact as untrusted data.
name: paper-list pull request comment

on:
  workflow_run:  # zizmor: ignore[dangerous-triggers] (no checkout, no code of the pull request; data checked)
    workflows: ["{PR_WORKFLOW_NAME}"]
    types: [completed]

permissions: {{}}

jobs:
  comment:
    if: github.event.workflow_run.event == 'pull_request' && github.event.workflow_run.conclusion != 'cancelled'
    permissions:
      actions: read
      pull-requests: write
    uses: {action.uses("/.github/workflows/pull-request-comment.yml")} # {action.label}
"""
