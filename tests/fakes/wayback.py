"""The Wayback Machine's availability API (archive.org/wayback/available), as a site (tests/fakes/web.py).

Its answers are in the API's real format (archive.org/help/wayback_api.php, and what it is seen to send:
string statuses, http:// snapshot URLs, an empty `archived_snapshots` when busy, HTML when down).
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

from tests.fakes.web import Reply, Request


def answer(original: str, closest: dict | None) -> str:
    """The API's answer for `original`, with its closest capture or none."""
    return json.dumps({"url": original, "archived_snapshots": {"closest": closest} if closest else {}})


def capture(original: str, timestamp="20210304050607", status="200", available=True) -> dict:
    return {"status": status, "available": available, "timestamp": timestamp,
            "url": f"http://web.archive.org/web/{timestamp}/{original}"}


class FakeWayback:
    """Answers like archive.org/wayback/available from a table of captures: url -> [(timestamp, status)]."""

    def __init__(self, captures: dict[str, list[tuple[str, str]]]):
        self.captures = captures
        self.mode = "normal"  # or "busy" (empty answers), "down" (503 HTML), "slow"
        self.asked: list[dict] = []

    def handle(self, request: Request) -> Reply:
        parts = urlsplit(request.path)
        if parts.path != "/wayback/available":
            return Reply(404, b"<title>Not Found</title>")
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        self.asked.append(query)
        if self.mode == "down":
            return Reply(503, b"<html><body><h1>503 Service Unavailable</h1></body></html>",
                         {"Content-Type": "text/html"})
        if self.mode == "slow":
            return Reply(200, b'{"archived_snapshots": {}}', delay=1.0)
        url = query.get("url", "")
        found = [] if self.mode == "busy" else self.captures.get(url, [])
        closest = None
        if found:
            target = int(query.get("timestamp", "99999999999999").ljust(14, "0"))
            ts, status = min(found, key=lambda c: abs(int(c[0]) - target))
            closest = capture(url, timestamp=ts, status=status)
        body = answer(url, closest).encode()
        return Reply(200, body, {"Content-Type": "application/json"})
