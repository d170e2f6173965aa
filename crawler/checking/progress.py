"""Progress: a bar on an interactive terminal, a plain line now and then in CI, nothing with --no-progress."""

from __future__ import annotations

import sys
import time

PLAIN_EVERY = 10.0  # seconds between log lines when not on a terminal


class Progress:
    def __init__(self, enabled: bool = True, stream=None):
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self._bar = None
        self._task = None
        self.total = 0
        self.done = 0
        self._label = ""
        self._last = 0.0

    def start(self, label: str, total: int) -> None:
        self._label, self.total, self.done = label, total, 0
        self._last = time.monotonic()
        if not self.enabled or total == 0:
            return
        if self.tty:
            from rich.progress import BarColumn, MofNCompleteColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self._bar = Bar("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), transient=True)
            self._bar.start()
            self._task = self._bar.add_task(label, total=total)
        else:
            print(f"{label}: 0/{total}", file=self.stream, flush=True)

    def advance(self, n: int = 1) -> None:
        self.done += n
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.advance(self._task, n)
        elif time.monotonic() - self._last >= PLAIN_EVERY:
            self._last = time.monotonic()
            print(f"{self._label}: {self.done}/{self.total}", file=self.stream, flush=True)

    def finish(self) -> None:
        if self._bar is not None:
            self._bar.stop()
            self._bar = None
        elif self.enabled and self.total:
            print(f"{self._label}: {self.done}/{self.total} done", file=self.stream, flush=True)
