"""Reading the user's list safely: every way it can be unusable becomes one clear InputError."""

from __future__ import annotations

from pathlib import Path

from crawler.errors import InputError

MAX_LIST_BYTES = 20 * 1024 * 1024


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
        raise InputError(f"list is empty: {path}")
    if b"\x00" in data:
        raise InputError(f"list is a binary file, not Markdown: {path}")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError(f"list is not UTF-8 text (byte {exc.start}): {path}") from None
