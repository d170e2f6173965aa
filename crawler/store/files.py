"""Writing files the user owns: whole or not at all."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from crawler.errors import CrawlerError

_CHUNK = 1 << 20


class WriteError(CrawlerError):
    exit_code = 2


def write_atomic(path: Path, data: str | bytes) -> None:
    """Temp file in the same folder, fsync, rename: a reader sees the old file or the new one."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            if isinstance(data, bytes):
                fh.write(data)
            else:  # encoded a megabyte at a time: a report of tens of megabytes is not held twice
                for i in range(0, len(data), _CHUNK):
                    fh.write(data[i : i + _CHUNK].encode("utf-8"))
            fh.flush()
            os.fsync(fh.fileno())
        if path.exists():
            os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise WriteError(f"cannot write {path}: {exc.strerror or exc}; the old file is untouched") from None
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
