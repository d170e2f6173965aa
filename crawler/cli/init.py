"""`crawler init`: set up a paper list's repository for the nightly check in one step.

In the list repository it
- finds the lists (README.md and other Markdown files holding paper entries; a folder of them becomes a glob);
- writes `.github/workflows/paper-list.yml`, which runs this project's action (action.yml) and its issue and
  pull-request workflows, pinned to the commit of the crawler that is installed, and (unless `pr_check` is
  off) the two workflows of the pull-request check: `paper-list-pr.yml` checks a pull request's lines
  read-only, `paper-list-pr-comment.yml` posts the comment and the suggestions;
- writes `crawler.toml` with the lists (the one place they are named: the workflows read it), a contact and
  the defaults, commented;
- adds what a local run writes to `.gitignore` (the cache, the reports, the export), unless git tracks it;
- and says what it cannot do: tick "Allow GitHub Actions to create and approve pull requests" (and, to
  publish the badge, choose GitHub Actions as the source of GitHub Pages).
An existing workflow or crawler.toml is never replaced without `force`.

Which commit is installed: `pip install git+https://github.com/OWNER/REPO@REF` records the repository and the
commit in the distribution's direct_url.json (PEP 610); a checkout (an editable install, or PYTHONPATH) is
asked with git. Failing both, the workflow holds the placeholders OWNER/REPO and COMMIT, and init says so.

Text making is pure (`workflow_text`, `pr_workflow_text`, `pr_comment_workflow_text`, `config_text`,
`gitignore_text`, `badge_line`, `from_direct_url`, `github_repo`);
`init` does the reading and writing, `installed_action` the looking around.
"""

from __future__ import annotations

import glob
import json
import re
import subprocess
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

import crawler
from crawler import __version__
from crawler.cli.workflows import (
    DISTRIBUTION,
    PR_COMMENT_WORKFLOW,
    PR_WORKFLOW,
    WORKFLOW,
    ActionRef,
    pr_comment_workflow_text,
    pr_workflow_text,
    workflow_text,
)
from crawler.config import (
    DEFAULT_DEAD_AFTER,
    DEFAULT_DEAD_SPAN,
    DEFAULT_FAIL_ON,
    DEFAULT_FALLBACK_AFTER,
    DEFAULT_HOST_CONCURRENCY,
    DEFAULT_MAX_AGE,
    DEFAULT_TIMEOUT,
)
from crawler.errors import InputError, UsageError
from crawler.listfile.read import resolve_lists
from crawler.store.files import write_atomic

CONFIG = PurePosixPath("crawler.toml")
GITIGNORE = PurePosixPath(".gitignore")
# What a local run writes: the cache (in CI it lives in the Actions cache), the reports and the export (in CI
# they go to artifacts, and to GitHub Pages with `publish`).
IGNORED = ("/data/cache.db", "/data/cache.db-*", "/data/*.lock", "/reports/", "/data/papers.json",
           "/data/papers.bib")
PR_SETTING = ("Settings → Actions → General → Workflow permissions: tick \"Allow GitHub Actions to create and "
              "approve pull requests\", or the pull-request job cannot open its pull request.")
PAGES_SETTING = ("Settings → Pages → Build and deployment → Source: choose \"GitHub Actions\", or the pages job "
                 "cannot publish the badge.")

MIN_PAPERS = 3  # paper entries that make a Markdown file a list (a project README has none)
MAX_SCAN = 500  # Markdown files looked at; a list repository has far fewer
MAX_DEPTH = 3  # folders below the root
MAX_BYTES = 20 * 1024 * 1024
SKIP_DIRS = frozenset({"node_modules", "vendor", "site-packages", "reports", "_site", "build", "dist"})
NOT_LISTS = frozenset({"contributing.md", "code_of_conduct.md", "changelog.md", "license.md", "security.md",
                       "pull_request_template.md", "issue_template.md", "history.md", "support.md"})

_SHA = re.compile(r"^[0-9a-f]{40}$")
_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]{1,100}$")
_GITHUB_URL = re.compile(
    r"^(?:https?://(?:[^@/]+@)?github\.com/|ssh://git@github\.com/|git@github\.com:|git\+https://github\.com/)"
    r"(?P<repo>[A-Za-z0-9][A-Za-z0-9-]{0,38}/[A-Za-z0-9._-]+?)(?:\.git)?/?$"
)


class InitError(UsageError):
    """init cannot set the repository up as asked: one line, exit 2."""


@dataclass(frozen=True)
class Setup:
    """What init did."""

    root: Path
    lists: tuple[str, ...]
    action: ActionRef
    written: tuple[str, ...] = ()
    kept: tuple[str, ...] = ()  # files that exist and were left alone
    notes: tuple[str, ...] = field(default_factory=tuple)
    badge: str | None = None  # the line to paste into the list's README, when the badge is published


# -- finding the lists -----------------------------------------------------------------------------------
def paper_entries(text: str) -> int:
    """Paper entries in a Markdown text, as the crawler reads them."""
    from crawler.listfile.parse import parse_list  # cmark-gfm: only when a file is looked at

    return sum(1 for entry in parse_list(text).entries if entry.is_paper and entry.links)


def _read(path: Path) -> str | None:
    try:
        if path.stat().st_size > MAX_BYTES:
            return None
        return path.read_bytes().decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return None


def _markdown_files(root: Path) -> list[Path]:
    found: list[Path] = []
    folders = [(root, 0)]
    while folders and len(found) < MAX_SCAN:
        folder, depth = folders.pop(0)
        try:
            children = sorted(folder.iterdir())
        except OSError:
            continue
        for child in children:
            if child.name.startswith(".") or child.is_symlink():
                continue
            if child.is_dir():
                if depth < MAX_DEPTH and child.name not in SKIP_DIRS:
                    folders.append((child, depth + 1))
            elif child.suffix.lower() == ".md" and child.is_file():
                found.append(child)
    return found[:MAX_SCAN]


def find_lists(root: Path, count: Callable[[str], int] = paper_entries) -> list[str]:
    """The lists in a repository, relative and POSIX: README.md first, a folder of lists as `folder/*.md`."""
    candidates = _markdown_files(root)
    lists = []
    for path in candidates:
        if path.name.lower() in NOT_LISTS:
            continue
        text = _read(path)
        if text is not None and count(text) >= MIN_PAPERS:
            lists.append(path)
    out: list[str] = []
    for folder in sorted({p.parent for p in lists}, key=lambda f: (f != root, str(f))):
        mine = [p for p in lists if p.parent == folder]
        markdown = [p for p in candidates if p.parent == folder]
        # A folder holding only lists is named by a glob, even with one list in it: next year's file is then
        # checked too. The glob must match what was found: `*.md` is blind to `A.MD`.
        if folder != root and len(mine) == len(markdown) and all(p.suffix == ".md" for p in mine):
            out.append(f"{folder.relative_to(root).as_posix()}/*.md")  # next year's file is checked too
        else:
            out += sorted((p.relative_to(root).as_posix() for p in mine), key=lambda s: (s.lower() != "readme.md", s))
    return out


def check_lists(root: Path, given: Sequence[str]) -> list[str]:
    """Lists named by the user, relative to `root`: each a file, a folder of Markdown files or a glob.

    They are judged as `crawler run` will judge them (crawler.listfile.read.resolve_lists), so that init never
    writes a workflow whose first night fails on its own lists (a folder holding Markdown only in subfolders,
    `papers/*.md` and `papers/2021.md` both named).
    """
    out: list[str] = []
    for raw in given:
        path = Path(raw)
        if path.is_absolute():
            try:
                path = path.resolve().relative_to(root.resolve())
            except ValueError:
                raise InitError(f"list {raw} is outside the repository {root}") from None
        name = path.as_posix()
        if not any(c in name for c in "*?[") and not (root / path).exists():
            raise InitError(f"list not found: {raw} (in {root})")
        out.append(name)
    try:
        resolve_lists(out, cwd=root)
    except InputError as exc:
        raise InitError(f"{exc} (in {root})") from None
    return out


# -- which action ----------------------------------------------------------------------------------------
def github_repo(url: str) -> str | None:
    """'owner/name' of a GitHub remote or project URL (https, ssh or scp-like), else None."""
    m = _GITHUB_URL.match(url.strip())
    return m.group("repo") if m else None


def from_direct_url(data: dict, version: str = __version__) -> ActionRef | None:
    """The action of a `pip install git+https://github.com/...@REF`, from its direct_url.json (PEP 610)."""
    vcs = data.get("vcs_info") or {}
    if vcs.get("vcs") != "git" or not _SHA.match(str(vcs.get("commit_id", ""))):
        return None
    requested = str(vcs.get("requested_revision") or "")
    label = requested if requested and not _SHA.match(requested) else f"{DISTRIBUTION} {version}"
    repo = github_repo(str(data.get("url", "")))
    notes = () if repo else (f"installed from {data.get('url')}, which is not on GitHub: "
                             "the workflow needs the action's GitHub repository",)
    return ActionRef(repo=repo, commit=vcs["commit_id"], label=label, source="pip's record of the install",
                     notes=notes)


Git = Callable[[Path, Sequence[str]], str | None]


def _git(folder: Path, args: Sequence[str]) -> str | None:
    """One git command's stdout, stripped, or None when it fails (no git, not a repository)."""
    try:
        done = subprocess.run(["git", "-C", str(folder), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def from_checkout(folder: Path, git: Git = _git) -> ActionRef | None:
    """The action in a git checkout of this project (an editable install): its HEAD and its GitHub remote."""
    if not (folder / "action.yml").is_file():
        return None
    top = git(folder, ["rev-parse", "--show-toplevel"])
    commit = git(folder, ["rev-parse", "HEAD"])
    if not top or Path(top).resolve() != folder.resolve() or not commit or not _SHA.match(commit):
        return None
    repo = None
    for remote in (git(folder, ["remote"]) or "").split():
        repo = github_repo(git(folder, ["remote", "get-url", remote]) or "")
        if repo:
            break
    tag = git(folder, ["describe", "--tags", "--exact-match", "HEAD"])
    notes = [f"pinned to commit {commit[:12]} of the checkout at {folder}: push it before the workflow runs"]
    if git(folder, ["status", "--porcelain", "--untracked-files=no"]):
        notes.append(f"the checkout at {folder} has uncommitted changes, which the pinned commit does not have")
    return ActionRef(repo=repo, commit=commit, label=tag or f"{DISTRIBUTION} {__version__}",
                     source=f"the checkout at {folder}", notes=tuple(notes))


def _direct_url() -> dict | None:
    try:
        text = metadata.distribution(DISTRIBUTION).read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        return None
    try:
        return json.loads(text) if text else None
    except json.JSONDecodeError:
        return None


def installed_action(git: Git = _git) -> ActionRef:
    """The action matching the crawler that runs: from pip's record, else from its checkout, else unknown."""
    direct = _direct_url()
    if direct:
        found = from_direct_url(direct)
        if found:
            return found
    folders = [Path(crawler.__file__).resolve().parent.parent]  # the code that runs (PYTHONPATH wins)
    url = str((direct or {}).get("url", ""))
    if url.startswith("file://"):
        folders.append(Path(url.removeprefix("file://")))
    for folder in folders:
        found = from_checkout(folder, git)
        if found:
            return found
    return ActionRef(repo=None, commit=None, source="nowhere")


def parse_action(text: str) -> ActionRef:
    """`--action OWNER/REPO@COMMIT`."""
    repo, sep, ref = text.strip().partition("@")
    if not sep or not _REPO.match(repo) or not re.fullmatch(r"[\w./-]+", ref):
        raise InitError(f"--action must be OWNER/REPO@COMMIT, not {text!r}")
    notes = () if _SHA.match(ref) else (f"{ref} is not a commit SHA: a tag can be moved; pin a full commit",)
    return ActionRef(repo=repo, commit=ref, label=ref if not _SHA.match(ref) else f"{DISTRIBUTION} {__version__}",
                     source="--action", notes=notes)


# -- the files -------------------------------------------------------------------------------------------
def _duration(seconds: float) -> str:
    for unit, size in (("w", 7 * 86400), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)  # a JSON string is a TOML basic string


def config_text(lists: Sequence[str], contact: str | None) -> str:
    """crawler.toml: the lists, the contact, and every default worth knowing, commented."""
    items = ", ".join(_toml_string(name) for name in lists)
    if contact:
        who = f"contact = {_toml_string(contact)}"
    else:
        who = '# contact = "https://github.com/OWNER/REPO"  # set it: site owners see it'
    return f"""\
# Settings of paper-list-crawler for this repository (written by `crawler init`). A flag on the command
# line wins over this file.

# The lists to check: paths, globs and folders, sharing one cache and one report. The workflows read them
# from here: this is the one place to name them.
lists = [{items}]

# Who runs the crawler: it goes into the User-Agent of every request, so that a site's owner can reach you.
{who}

# The defaults; uncomment a line to change it.
# fail-on = {_toml_string(DEFAULT_FAIL_ON)}  # what fails the run: dead, new, any or never
# dead-after = {DEFAULT_DEAD_AFTER}  # a failure is dead once it has lasted this many runs...
# dead-span = {_toml_string(_duration(DEFAULT_DEAD_SPAN))}  # ...over at least this long
# max-age = {_toml_string(_duration(DEFAULT_MAX_AGE))}  # a link checked more recently is not checked again
# timeout = {DEFAULT_TIMEOUT:g}  # seconds for one request
# host-concurrency = {DEFAULT_HOST_CONCURRENCY}  # requests in flight to one host
# exclude = []  # regular expressions: a matching URL is not checked (also .crawlerignore, one a line)
# accept = []  # status codes that count as fine on every host, e.g. [999] (never 429)
# check-fragments = false  # also look the #fragment of a remote page up in its HTML (a note when missing)
# fallback-after = {DEFAULT_FALLBACK_AFTER}  # nights a venue's listing may be unreadable before arXiv fills for it
"""


def gitignore_text(existing: str | None, tracked: Sequence[str] = ()) -> str | None:
    """The .gitignore with what a local run writes ignored, or None when it already is. What git already tracks
    (`tracked`: a repository that commits its reports, say) is left out: it is meant to be committed."""
    have = {line.strip().lstrip("/") for line in (existing or "").splitlines()}
    data_ignored = bool({"data/", "data", "data/*"} & have)

    def wanted(pattern: str) -> bool:
        name = pattern.lstrip("/")
        if name in have or (data_ignored and name.startswith("data/")):
            return False
        return not any(PurePosixPath(t).match(name.rstrip("/")) or t.startswith(name) for t in tracked)

    missing = [p for p in IGNORED if wanted(p)]
    if not missing:
        return None
    head = (existing or "")
    if head and not head.endswith("\n"):
        head += "\n"
    block = ("# paper-list-crawler: what a local run writes (in CI the cache lives in the Actions cache and the "
             "reports in artifacts)\n" + "\n".join(missing) + "\n")
    return head + ("\n" if head.strip() else "") + block


def tracked_outputs(root: Path, git: Git = _git) -> list[str]:
    """The files git tracks where a run writes its outputs (reports/, data/papers.*): those are committed."""
    found = git(root, ["ls-files", "-z", "--", "reports", "data/papers.json", "data/papers.bib"]) or ""
    return [name for name in found.split("\0") if name]


def badge_line(repo: str | None) -> str:
    """The Markdown for a list's README: the badge, linking to the page, both on the repository's GitHub Pages."""
    owner, _, name = (repo or "OWNER/REPO").partition("/")
    site = f"https://{owner.lower() if repo else owner}.github.io"  # GitHub Pages hosts are lower case
    base = site if name.lower() == f"{owner.lower()}.github.io" else f"{site}/{name}"
    return f"[![link health]({base}/badge.svg)]({base}/)"


def repo_contact(root: Path, git: Git = _git) -> str | None:
    """The list repository's GitHub address, the natural contact for its crawler."""
    repo = github_repo(git(root, ["remote", "get-url", "origin"]) or "")
    return f"https://github.com/{repo}" if repo else None


# -- doing it --------------------------------------------------------------------------------------------
def init(root: Path, *, lists: Sequence[str] = (), contact: str | None = None, action: ActionRef | None = None,
         force: bool = False, pr_check: bool = True, publish: bool = False, git: Git = _git) -> Setup:
    """Set up the list repository at `root`. Raises InitError when no list is found or a given one is bad."""
    if not root.is_dir():
        raise InitError(f"not a folder: {root}")
    chosen = check_lists(root, lists) if lists else find_lists(root)
    if not chosen:
        raise InitError(f"no paper list found in {root}: no README.md or other Markdown file with "
                        f"{MIN_PAPERS} or more paper entries (name the lists: crawler init LIST...)")
    action = action or installed_action(git)
    contact = contact or repo_contact(root, git)
    words, notes = _lists_in_workflows(root, chosen, force)
    files = [(WORKFLOW, workflow_text(action, lists=words, publish=publish)), (CONFIG, config_text(chosen, contact))]
    if pr_check:
        files += [(PR_WORKFLOW, pr_workflow_text(action, lists=words)), (PR_COMMENT_WORKFLOW,
                                                                          pr_comment_workflow_text(action))]
    written, kept = _write_files(root, files, force)
    ignore = root / GITIGNORE
    new = gitignore_text(_read(ignore) if ignore.is_file() else None, tracked_outputs(root, git))
    if new is not None:
        write_atomic(ignore, new)
        written.append(str(GITIGNORE))
    badge, badge_notes = _badge(root, git) if publish else (None, [])
    return Setup(root=root, lists=tuple(chosen), action=action, written=tuple(written), kept=tuple(kept),
                 notes=(*action.notes, *notes, *_unknown(action, contact), *badge_notes), badge=badge)


def _lists_in_workflows(root: Path, chosen: Sequence[str], force: bool) -> tuple[list[str], list[str]]:
    """The lists the workflows name, and a note: crawler.toml is the one place for the lists, but a kept one that
    names none leaves them to the workflows. The action hands its `lists` words to the crawler, which expands
    globs: a file named like one is escaped."""
    config = root / CONFIG
    keeps_config = (config.exists() or config.is_symlink()) and not force
    if not keeps_config or _names_lists(config):
        return [], []
    words = [glob.escape(name) if (root / name).is_file() else name for name in chosen]
    return words, [f"{CONFIG} exists, was kept and names no lists: the workflows name them instead (add "
                   "lists = [...] to it and drop them there, or rerun with --force)"]


def _write_files(root: Path, files: list[tuple[PurePosixPath, str]], force: bool) -> tuple[list[str], list[str]]:
    """Each file written, unless it exists and `force` is off: (written, kept)."""
    written: list[str] = []
    kept: list[str] = []
    for rel, text in files:
        path = root / rel
        if (path.exists() or path.is_symlink()) and not force:
            kept.append(str(rel))
            continue
        write_atomic(path, text)
        written.append(str(rel))
    return written, kept


def _unknown(action: ActionRef, contact: str | None) -> list[str]:
    """What init could not learn, for the user to fill in."""
    notes = []
    if not action.repo:
        notes.append(f"which GitHub repository holds {DISTRIBUTION} is unknown: replace OWNER/REPO in the workflows "
                     "(or rerun with --action OWNER/REPO@COMMIT)")
    if not action.commit:
        notes.append(f"which commit of {DISTRIBUTION} is installed is unknown: replace COMMIT in the workflows with "
                     "a full commit SHA (or rerun with --action OWNER/REPO@COMMIT)")
    if not contact:
        notes.append(f"set contact in {CONFIG}: it tells a site's owner who crawls them")
    return notes


def _badge(root: Path, git: Git) -> tuple[str, list[str]]:
    """The badge's line for the list's README, and a note when the repository's address is unknown."""
    repo = github_repo(git(root, ["remote", "get-url", "origin"]) or "")
    notes = [] if repo else ["the repository's GitHub address is unknown: replace OWNER/REPO in the badge's line"]
    return badge_line(repo), notes


def _names_lists(config: Path) -> bool:
    try:
        return bool(tomllib.loads(_read(config) or "").get("lists"))
    except tomllib.TOMLDecodeError:
        return False


def describe(setup: Setup) -> str:
    """What init did and what is left to do, for the terminal."""
    lines = [f"lists: {', '.join(setup.lists)}"]
    lines += [f"wrote {name}" for name in setup.written]
    lines += [f"kept {name}: it exists (--force replaces it)" for name in setup.kept]
    lines.append(f"the workflow runs {setup.action.uses()} ({setup.action.label})")
    lines += [f"note: {note}" for note in setup.notes]
    lines.append(f"one setting init cannot change: {PR_SETTING}")
    if setup.badge:
        lines.append(f"and one more, for the badge: {PAGES_SETTING}")
        lines.append(f"the badge, for your README: {setup.badge}")
    lines.append("then commit the files and start the workflow from the Actions tab (or wait for the night)")
    return "\n".join(lines)
