"""A loopback github.com that rate-limits as the real one does toward a crawler without a token (issue 12).

github.com allows a burst of HTML requests from one address and answers the rest with `429 Too Many
Requests` and `Retry-After: 60` (SOURCES.md, "GitHub"); it does not publish the limit. Here the limit is
`allowed` requests in any `window` seconds (or in each fixed window, `fixed=True`), refused requests not
counting. Time comes from an injected clock, shared with the crawler under test, so minutes pass in
milliseconds.

The server is a raw socket answering each request with one write and Nagle off: http.server's two
writes per answer (FakeWeb) cost ~40 ms of delayed ACK, which a scaled clock would turn into minutes.
(tests/fakes/github.py's GitHubPages models GitHub's repositories; this models only its rate limit.)
"""

from __future__ import annotations

import socket
import threading
from collections import deque
from collections.abc import Callable


class LimitedGitHub:
    """Decides each answer: (status, headers, body). Every answer is logged with its virtual time."""

    def __init__(self, now: Callable[[], float], allowed: int, window: float = 60.0, retry_after: str = "60",
                 missing: frozenset[str] = frozenset(), fixed: bool = False):
        self.now, self.allowed, self.window, self.retry_after = now, allowed, window, retry_after
        self.missing, self.fixed = missing, fixed
        self.answers: list[tuple[float, int]] = []  # (virtual time, status)
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()

    def answer(self, method: str, path: str) -> tuple[int, dict[str, str], bytes]:
        with self._lock:
            t = self.now()
            while self._recent and (int(self._recent[0] // self.window) != int(t // self.window) if self.fixed
                                    else self._recent[0] <= t - self.window):
                self._recent.popleft()
            if len(self._recent) >= self.allowed:
                self.answers.append((t, 429))
                return 429, {"Retry-After": self.retry_after, "Content-Type": "text/html; charset=utf-8"}, \
                    b"<html><title>Too many requests</title></html>"
            self._recent.append(t)
            status = 404 if path in self.missing else 200
            self.answers.append((t, status))
        title = b"Page not found" if status == 404 else path.strip("/").encode()
        page = b"<html><title>" + title + b" - GitHub</title></html>"
        return status, {"Content-Type": "text/html; charset=utf-8"}, page

    def times_of(self, status: int) -> list[float]:
        return [t for t, s in self.answers if s == status]


class QuickServer:
    """HTTP/1.1 with keep-alive on 127.0.0.1, a thread per connection, answers from `answer(method, path)`."""

    def __init__(self, answer: Callable[[str, str], tuple[int, dict[str, str], bytes]]):
        self._answer = answer
        self._sock = socket.socket()
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.1)
        self._stop = threading.Event()

    @property
    def port(self) -> int:
        return self._sock.getsockname()[1]

    def start(self) -> QuickServer:
        threading.Thread(target=self._accept, daemon=True).start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._sock.close()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        buffer = b""
        try:
            while not self._stop.is_set():
                while b"\r\n\r\n" not in buffer:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buffer += data
                head, buffer = buffer.split(b"\r\n\r\n", 1)
                method, target, _ = head.split(b"\r\n", 1)[0].decode("latin-1").split(" ", 2)
                status, headers, body = self._answer(method, target.split("?", 1)[0])
                lines = [f"HTTP/1.1 {status} {'OK' if status == 200 else 'Answer'}",
                         *(f"{k}: {v}" for k, v in headers.items()), f"Content-Length: {len(body)}"]
                conn.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + (b"" if method == "HEAD" else body))
        except OSError:
            pass
        finally:
            conn.close()
