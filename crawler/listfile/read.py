"""Reading the user's list safely: every way it can be unusable becomes one clear InputError."""

from __future__ import annotations

import glob
import logging
from collections.abc import Sequence
from pathlib import Path

from crawler.errors import InputError

log = logging.getLogger("crawler")

MAX_LIST_BYTES = 20 * 1024 * 1024


class EmptyList(InputError):
    """The list holds nothing but blanks."""


def read_lists(paths: Sequence[Path]) -> list[tuple[Path, str]]:
    """Each list with its text. Among several lists an empty one is a warning and is left out (a new year's
    file may be created empty, before its first entry); a list named alone, or every list empty, is an error."""
    out: list[tuple[Path, str]] = []
    empty: list[EmptyList] = []
    for path in paths:
        try:
            out.append((path, read_list(path)))
        except EmptyList as exc:
            if len(paths) == 1:
                raise
            empty.append(exc)
    if not out and empty:
        raise InputError(f"every list is empty: {', '.join(str(p) for p in paths)}")
    for exc in empty:
        log.warning("warning: %s (left out)", exc)
    return out


def read_list(path: Path) -> str:
    if not path.exists():
        raise InputError(f"list not found: {path}")
    if path.is_dir():
        raise InputError(f"list is a directory, not a Markdown file: {path}")
    try:
        data = path.read_bytes()
    except PermissionError:
        raise InputError(f"list is not readable (permission denied): {path}") from None
    except OSError as exc:
        raise InputError(f"cannot read list {path}: {exc.strerror or exc}") from None
    if len(data) > MAX_LIST_BYTES:
        raise InputError(f"list is {len(data) // (1024 * 1024)} MiB; more than a paper list can be: {path}")
    if not data.strip():
        raise EmptyList(f"list is empty: {path}")
    if b"\x00" in data:
        raise InputError(f"list is a binary file, not Markdown: {path}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"list is not UTF-8 text (byte {exc.start}): {path}") from None


_GLOB = ("*", "?", "[")


def resolve_lists(given: list[str], *, cwd: Path | None = None, skip: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """Paths, globs and directories as the user wrote them -> the lists, in the order given.

    A glob is expanded here (the action passes globs unexpanded, quoted), sorted; a directory stands for
    the Markdown files directly in it; a file whose name only looks like a glob (`[CVPR] papers.md`) is that
    file. A glob that matches nothing, a directory holding no Markdown, or a list named twice is a mistake
    worth one clear line, not a silent skip. A glob or a directory never takes a file under `skip` (the
    crawler's own reports folder: `'**/*.md'` must not check reports/health.md as a list).
    """
    base = cwd or Path.cwd()
    skipped = tuple((base / d).resolve() for d in skip)

    def mine(path: Path) -> bool:
        return (base / path).is_file() and not any((base / path).resolve().is_relative_to(d) for d in skipped)

    out: list[Path] = []
    seen: dict[Path, str] = {}
    for arg in given:
        if any(ch in arg for ch in _GLOB) and not (base / arg).is_file():
            # root_dir keeps relative patterns relative (reports name lists as the user did); absolute ones stay.
            found = sorted(Path(p) for p in glob.glob(arg, root_dir=base, recursive=True) if mine(Path(p)))
            if not found:
                raise InputError(f"no list matches {arg!r}")
        elif (base / arg).is_dir():
            found = sorted(Path(arg) / p.name for p in (base / arg).iterdir()
                           if p.suffix.lower() in (".md", ".markdown") and mine(Path(arg) / p.name))
            if not found:
                raise InputError(f"no Markdown file in the directory {arg}")
        else:
            found = [Path(arg)]
        for path in found:
            key = (base / path).resolve()
            if key in seen:  # both spellings: `papers/*.md` and `papers/2021.md` are not the same words
                raise InputError(f"list given twice: {path} (as {seen[key]!r} and as {arg!r})")
            seen[key] = arg
            out.append(path)
    return tuple(out)
