"""What the user keeps out of a run: URL rules (config, --exclude, .crawlerignore), list files (--exclude-path),
lines (inline comments, read by crawler.listfile.parse), and status codes a site may answer with (--accept).

An excluded link is `skipped` with the rule that excluded it named, and no request is sent for it. A URL
written on a disabled line and again on a line that is not disabled is still checked: the other line asks
for it.
"""

from __future__ import annotations

import fnmatch
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from crawler.errors import UsageError
from crawler.models import Disabled, Link

IGNORE_FILE = ".crawlerignore"
# A 429 pauses its whole host and honours Retry-After; accepting it as fine would turn both off.
REFUSED_ACCEPT = frozenset({429})


class ExclusionError(UsageError):
    """An exclusion the crawler cannot use: a bad regex, glob or status code."""


@dataclass(frozen=True)
class Rule:
    """One URL regex and where it came from: "config", "--exclude" or ".crawlerignore:3"."""

    pattern: str
    origin: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, "regex", re.compile(self.pattern))
        except re.error as exc:
            where = self.origin if ":" in self.origin else f"{self.origin} {self.pattern!r}"
            raise ExclusionError(f"{where}: bad regex {self.pattern!r}: {exc}") from None

    @property
    def reason(self) -> str:
        if self.origin == "config":
            return f"excluded by the config's exclude '{self.pattern}'"
        if self.origin.startswith("--"):
            return f"excluded by {self.origin} '{self.pattern}'"
        return f"excluded by {self.origin}"

    def matches(self, url: str) -> bool:
        return self.regex.search(url) is not None


def rules(patterns: Iterable[str], origin: str) -> tuple[Rule, ...]:
    return tuple(Rule(p, origin) for p in patterns)


def repository_root(start: Path | None = None) -> Path:
    """The nearest folder from `start` (the working directory) up that holds `.git` (a folder, or the file of a
    worktree or submodule); `start` itself when none does."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / ".git").exists():
            return folder
    return here


def ignore_rules(root: Path | None = None) -> tuple[Rule, ...]:
    """The regexes of `.crawlerignore` at the repository root: one a line, `#` comments and blank lines skipped.
    No file, no rules; a bad regex is an ExclusionError naming the file and line."""
    path = repository_root(root) / IGNORE_FILE
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return ()
    except (OSError, UnicodeDecodeError) as exc:
        raise ExclusionError(f"cannot read {_shown(path)}: {exc}") from None
    out = []
    for number, line in enumerate(text.splitlines(), 1):
        pattern = line.strip()
        if pattern and not pattern.startswith("#"):
            out.append(Rule(pattern, f"{IGNORE_FILE}:{number}"))
    return tuple(out)


def _shown(path: Path) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def disabled_index(disabled: Iterable[Disabled]) -> dict[tuple[str, int], Disabled]:
    """(file, line) -> the comment that disables it (the first, where spans overlap)."""
    out: dict[tuple[str, int], Disabled] = {}
    for span in disabled:
        for line in range(span.first, span.last + 1):
            out.setdefault((span.file, line), span)
    return out


def disabled_reason(links: Sequence[Link], disabled: dict[tuple[str, int], Disabled]) -> str | None:
    """The comment that keeps these links (one URL's) from being checked, when every line they stand on is
    disabled (`disabled` from disabled_index); None when one of them is not."""
    if not disabled or not links:
        return None
    spans = [disabled.get((lk.file, lk.line)) for lk in links]
    if any(span is None for span in spans):
        return None
    return spans[0].reason


# --- list files ---------------------------------------------------------------------------------------


def path_excluded(path: Path | str, globs: Iterable[str]) -> str | None:
    """The glob that leaves this list out of the run, or None. A glob matches the path as named (`*` crosses
    folders, as in `papers/old/*`), its file name, or any folder it is in (`drafts` leaves out `drafts/a.md`)."""
    posix = PurePosixPath(Path(path).as_posix())
    parts = [str(posix), *(str(p) for p in posix.parents if str(p) not in (".", "/"))]
    for glob in globs:
        pattern = glob.strip().removeprefix("./").rstrip("/")
        if any(fnmatch.fnmatchcase(part.removeprefix("./"), pattern) for part in parts) or \
                fnmatch.fnmatchcase(posix.name, pattern):
            return glob
    return None


def kept_lists(paths: Sequence[Path], globs: Sequence[str]) -> tuple[Path, ...]:
    """The lists `--exclude-path` leaves in the run; none left is a usage error."""
    if not globs:
        return tuple(paths)
    kept = tuple(p for p in paths if path_excluded(p, globs) is None)
    if paths and not kept:
        raise ExclusionError(f"every list is left out by --exclude-path ({', '.join(globs)})")
    return kept


# --- status codes -------------------------------------------------------------------------------------


def accept_codes(values: Iterable[object], where: str = "--accept") -> tuple[int, ...]:
    """Status codes that count as fine: `403,999` (text, several times) or numbers; 429 is refused."""
    out: list[int] = []
    for value in values:
        items = value.split(",") if isinstance(value, str) else [value]
        for item in items:
            text = str(item).strip()
            if not text:
                continue
            if isinstance(item, bool) or not text.isdigit() or not 100 <= int(text) <= 999:
                raise ExclusionError(f"{where}: {text!r} is not an HTTP status code (100-999)")
            code = int(text)
            if code in REFUSED_ACCEPT:
                raise ExclusionError(f"{where}: 429 cannot be accepted: it pauses its host and waits as "
                                     "Retry-After asks, and is never evidence either way")
            if code not in out:
                out.append(code)
    return tuple(out)
