"""What a pull request changes in the lists: the lines added or changed since the merge base, read from git.

`crawler pr --base REF` compares each list as it is on disk (what the crawler reads, so the line numbers
agree) with the merge base of REF and HEAD: the diff a pull request shows (`REF...HEAD`), plus whatever
is not committed yet. git's rename detection follows a renamed list, so only its changed lines count; a
list git does not know yet (new, untracked) counts whole.

The text parsing is pure (`parse_name_status`, `hunk_lines`); `list_changes` runs git, and so does
`base_texts`, which reads each changed list as it was at the merge base (`git show BASE:path`, from its old
path when git saw it renamed): what its headings were, so that a link to one the pull request renames is
checked too.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crawler.errors import UsageError

GIT_TIMEOUT = 60.0  # seconds for one git command: a list repository's diff takes well under one
# `@@ -12,3 +14,5 @@`: with --unified=0 the new side's range is exactly the added or changed lines.
_HUNK = re.compile(r"^@@ -\d+(?:,\d+)? \+(\d+)(?:,(\d+))? @@", re.M)


class GitError(UsageError):
    """git cannot answer (no repository, an unknown REF, no git): one line, exit 2."""


@dataclass(frozen=True)
class ListChange:
    """One list's part in the pull request."""

    name: str  # the list as the user named it (how reports locate things)
    path: str  # from the repository's root, POSIX: what a review comment on GitHub names
    lines: frozenset[int] = frozenset()  # 1-based lines of the list as it is now, added or changed
    whole: bool = False  # the list is new: every line counts
    old_path: str | None = None  # where it was at the merge base, when git saw it renamed

    def touches(self, line: int) -> bool:
        return self.whole or line in self.lines


def parse_name_status(raw: str) -> dict[str, tuple[str, str | None]]:
    """`git diff --name-status -z -M` -> {new path: (status letter, old path for a rename or copy)}."""
    fields = raw.split("\0")
    out: dict[str, tuple[str, str | None]] = {}
    i = 0
    while i < len(fields) and fields[i]:
        status = fields[i][0]
        if status in "RC":
            out[fields[i + 2]] = (status, fields[i + 1])
            i += 3
        else:
            out[fields[i + 1]] = (status, None)
            i += 2
    return out


def hunk_lines(patch: str) -> frozenset[int]:
    """The new side's lines of a `git diff --unified=0` patch: those added or changed (a deletion adds none)."""
    lines: set[int] = set()
    for m in _HUNK.finditer(patch):
        start, count = int(m.group(1)), int(m.group(2) or 1)
        lines.update(range(start, start + count))
    return frozenset(lines)


def _git(top: Path, *args: str) -> str:
    # Literal pathspecs: a list named `[CVPR] papers.md` is that file, not a pattern. No pager, colours,
    # external diff drivers or textconv: the output is read, not shown.
    argv = ["git", "--literal-pathspecs", "-c", "core.quotePath=false", "-C", str(top), *args]
    try:
        done = subprocess.run(argv, capture_output=True, timeout=GIT_TIMEOUT)
    except FileNotFoundError:
        raise GitError("git is not installed: crawler pr reads the changes with git") from None
    except (OSError, subprocess.SubprocessError) as exc:
        raise GitError(f"git failed: {exc}") from None
    if done.returncode:
        message = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise GitError(f"git {args[0]} failed: {message[-1] if message else f'exit {done.returncode}'}")
    return done.stdout.decode("utf-8", "surrogateescape")


def toplevel(cwd: Path) -> Path:
    try:
        return Path(_git(cwd, "rev-parse", "--show-toplevel").strip())
    except GitError:
        raise GitError(f"not a git repository: {cwd} (crawler pr compares the lists with git)") from None


def merge_base(top: Path, ref: str) -> str:
    """The commit a pull request from HEAD into `ref` would be compared with."""
    if ref.startswith("-") or not ref.strip():
        raise GitError(f"--base must name a commit, not {ref!r}")
    try:
        commit = _git(top, "rev-parse", "--verify", "--quiet", "--end-of-options", f"{ref}^{{commit}}").strip()
    except GitError:
        raise GitError(f"--base {ref}: no such commit, branch or tag in {top}") from None
    try:
        return _git(top, "merge-base", commit, "HEAD").strip()
    except GitError:
        raise GitError(f"--base {ref}: it shares no history with HEAD (or HEAD has no commit yet)") from None


def list_changes(lists: Sequence[Path], ref: str, cwd: Path | None = None) -> list[ListChange]:
    """Each list the pull request adds or changes, with its changed lines. Lists it leaves alone are not named."""
    here = (cwd or Path.cwd()).resolve()
    top = toplevel(here).resolve()
    repo_paths = {}
    for name in lists:
        full = (here / name).resolve()
        if not full.is_relative_to(top):
            raise GitError(f"list {name} is outside the git repository {top}")
        repo_paths[str(name)] = full.relative_to(top).as_posix()
    base = merge_base(top, ref)
    status = parse_name_status(_git(top, "diff", "--no-color", "--no-ext-diff", "--no-relative", "-M",
                                    "--name-status", "-z", base, "--"))
    wanted = list(repo_paths.values())
    untracked = set(_git(top, "ls-files", "--others", "--exclude-standard", "-z", "--", *wanted).split("\0")) \
        if wanted else set()
    out = []
    for name, path in repo_paths.items():
        if path in untracked:
            out.append(ListChange(name, path, whole=True))
        elif path in status:
            letter, old = status[path]
            if letter in "AT":  # new, or a symlink turned file: nothing to compare line by line
                out.append(ListChange(name, path, whole=True))
                continue
            patch = _git(top, "diff", "--no-color", "--no-ext-diff", "--no-textconv", "--no-relative", "-M",
                         "--unified=0", base, "--", *([old] if old else []), path)
            out.append(ListChange(name, path, lines=hunk_lines(patch), old_path=old))
    return out


def base_texts(changes: Sequence[ListChange], ref: str, cwd: Path | None = None) -> dict[str, str | None]:
    """Each changed list's text at the merge base of `ref` and HEAD, by list name; None for a list that is new
    (the merge base does not hold it). Bytes that are not UTF-8 are replaced: only the headings are read."""
    top = toplevel((cwd or Path.cwd()).resolve()).resolve()
    base = merge_base(top, ref) if any(not c.whole for c in changes) else ""
    out: dict[str, str | None] = {}
    for change in changes:
        if change.whole:
            out[change.name] = None
            continue
        text = _git(top, "show", "--no-color", "--no-textconv", f"{base}:{change.old_path or change.path}")
        out[change.name] = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return out
