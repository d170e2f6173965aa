"""github.com's rate limit toward a crawler without a token, as a site (tests/fakes/web.py).

github.com allows a burst of HTML requests from one address and answers the rest with `429 Too Many
Requests` and `Retry-After: 60`; it does not publish the limit. Here the limit is `allowed` requests in
any `window` seconds (or in each fixed window, `fixed=True`), refused requests not counting. Time comes
from an injected clock, shared with the crawler under test, so minutes pass in milliseconds.
(tests/fakes/github.py's GitHubPages models GitHub's repositories; this models only its rate limit.)
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

from tests.fakes.web import Reply, Request


class LimitedGitHub:
    """Every answer is logged with its virtual time."""

    def __init__(self, now: Callable[[], float], allowed: int, window: float = 60.0, retry_after: str = "60",
                 missing: frozenset[str] = frozenset(), fixed: bool = False):
        self.now, self.allowed, self.window, self.retry_after = now, allowed, window, retry_after
        self.missing, self.fixed = missing, fixed
        self.answers: list[tuple[float, int]] = []  # (virtual time, status)
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Reply:
        path = urlsplit(request.path).path
        with self._lock:
            t = self.now()
            while self._recent and (int(self._recent[0] // self.window) != int(t // self.window) if self.fixed
                                    else self._recent[0] <= t - self.window):
                self._recent.popleft()
            if len(self._recent) >= self.allowed:
                self.answers.append((t, 429))
                return Reply(429, b"<html><title>Too many requests</title></html>",
                             {"Retry-After": self.retry_after, "Content-Type": "text/html; charset=utf-8"})
            self._recent.append(t)
            status = 404 if path in self.missing else 200
            self.answers.append((t, status))
        title = b"Page not found" if status == 404 else path.strip("/").encode()
        page = b"<html><title>" + title + b" - GitHub</title></html>"
        return Reply(status, page, {"Content-Type": "text/html; charset=utf-8"})

    def times_of(self, status: int) -> list[float]:
        return [t for t, s in self.answers if s == status]

