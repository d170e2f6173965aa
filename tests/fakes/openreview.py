"""A loopback OpenReview: both APIs as they answer since 2026, for tests/fakes/web.py's FakeWeb.

What it does is what OpenReview is known to answer (ktwu01/benchmark-radar#81, rpatrik96/bibtexupdater#62 and
#63, openreview-py's client and tests) and recorded answers (tests/fixtures/openreview/README.md):
- `POST /login` with `{"id", "password"}`: `{"token", "user"}`; a wrong password `400 {"name", "message":
  "Invalid username or password"}`; an account with MFA `{"mfaPending": true, "mfaPendingToken", "mfaMethods"}`;
- `GET /notes?ids=a,b` (or `?id=a`) with `Authorization: Bearer <a token of this host>`: `{"notes": [...],
  "count": n}`, the notes it holds among them (a missing `id=` is `404 NotFoundError`); anonymous or with a
  token of the other host: API 2 the recorded browser check (`200` HTML, "Verifying your browser |
  OpenReview", tests/fixtures/openreview/recorded), API 1 `403 {"name": "ChallengeRequiredError"}`;
- API 2 (api2.openreview.net) wraps content values (`{"value": ...}`), API 1 (api.openreview.net) does not;
- openreview.net's pages: the 403 challenge page;
- `limited`: every request after the first `allowed` ones answers `429 Retry-After`.
It counts logins and notes requests per host, the ids each asked, and the requests in flight at once.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests import paths
from tests.fakes.web import FakeWeb, Reply, Request

API1, API2, SITE = "api.openreview.net", "api2.openreview.net", "openreview.net"
FIXTURES = paths.FIXTURES / "openreview"
CHALLENGE_PAGE = (paths.FIXTURES / "neurips" / "challenge.html").read_bytes()
_BROWSER_CHECK = json.loads((FIXTURES / "recorded" / "v2" / "errors" / "anonymous-challenge.json").read_text("utf-8"))


@dataclass(frozen=True)
class Note:
    id: str
    title: str
    authors: tuple[str, ...]
    venue: str  # "ICLR 2024 Poster"
    venueid: str  # "ICLR.cc/2024/Conference"
    abstract: str = ""
    api: str = API2  # the host that holds it
    number: int = 1
    cdate: int = 1_695_000_000_000  # milliseconds


def _shape(note: Note) -> dict:
    """The note as its API answers it: the recorded shapes of tests/fixtures/openreview."""
    template = json.loads((FIXTURES / ("note-api2.json" if note.api == API2 else "note-api1.json")).read_text())
    values = {"title": note.title, "authors": list(note.authors), "abstract": note.abstract, "venue": note.venue,
              "venueid": note.venueid, "pdf": f"/pdf/{note.id.lower()}0000000000000000000000000000.pdf"}
    content = template["content"]
    for key, value in values.items():
        content[key] = {"value": value} if note.api == API2 else value
    template.update(id=note.id, forum=note.id, number=note.number, cdate=note.cdate, mdate=note.cdate,
                    tcdate=note.cdate, tmdate=note.cdate)
    if note.api == API2:
        template["domain"] = note.venueid
    return template


def _json(status: int, payload: dict, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload).encode(), {"Content-Type": "application/json; charset=utf-8",
                                                        **(headers or {})})


def _error(status: int, name: str, message: str) -> Reply:
    return _json(status, {"name": name, "message": message, "status": status, "details": {}})


@dataclass
class FakeOpenReview:
    notes: list[Note] = field(default_factory=list)
    accounts: dict[str, str] = field(default_factory=lambda: {"reader@example.org": "right-password"})
    mfa: frozenset[str] = frozenset()  # accounts that answer mfaPending
    allowed: int | None = None  # requests answered before every other is a 429
    retry_after: str = "30"
    logins: Counter = field(default_factory=Counter)  # host -> logins tried
    notes_requests: Counter = field(default_factory=Counter)  # host -> GET /notes
    asked: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)  # (host, ids) per notes request
    pages: int = 0  # requests to openreview.net's pages
    peak: Counter = field(default_factory=Counter)  # host -> most requests in flight at once
    bodies: list[bytes] = field(default_factory=list)  # every request body (the login's hold the password)

    def __post_init__(self) -> None:
        self._tokens: dict[str, str] = {}  # token -> host it was issued by
        self._lock = threading.Lock()
        self._in_flight: Counter = Counter()
        self._served = 0

    def install(self, web: FakeWeb) -> FakeOpenReview:
        for host in (API1, API2, SITE, "www.openreview.net"):
            web.host(host, self)
        return self

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self._in_flight[request.host] += 1
            self.peak[request.host] = max(self.peak[request.host], self._in_flight[request.host])
            self.bodies.append(request.body)
            self._served += 1
            over = self.allowed is not None and self._served > self.allowed
        try:
            if request.host in (SITE, "www.openreview.net"):
                self.pages += 1
                return Reply(403, CHALLENGE_PAGE, {"Content-Type": "text/html; charset=utf-8"})
            if over:
                return _json(429, {"name": "TooManyRequestsError", "message": "Too many requests", "status": 429},
                             {"Retry-After": self.retry_after})
            path = urlsplit(request.path)
            if request.method == "POST" and path.path == "/login":
                return self._login(request)
            if request.method == "GET" and path.path == "/notes":
                return self._notes(request, parse_qs(path.query))
            return _error(404, "NotFoundError", "Not found")
        finally:
            with self._lock:
                self._in_flight[request.host] -= 1

    def _login(self, request: Request) -> Reply:
        self.logins[request.host] += 1
        try:
            given = json.loads(request.body)
        except ValueError:
            return _error(400, "ValidationError", "Invalid JSON")
        user, password = given.get("id"), given.get("password")
        if not user:
            return _error(400, "ValidationError", "id cannot be empty or missing")
        if self.accounts.get(user) != password:
            return _error(400, "InvalidCredentialsError", "Invalid username or password")
        if user in self.mfa:
            return _json(200, {"mfaPending": True, "mfaPendingToken": "pending-made-up", "mfaMethods": ["totp"],
                               "preferredMethod": "totp"})
        token = f"token-{request.host}-{len(self._tokens)}-made-up"
        self._tokens[token] = request.host
        return _json(200, {"token": token, "user": {"id": user, "profile": {"id": "~Reader_Example1"}}})

    def _notes(self, request: Request, query: dict[str, list[str]]) -> Reply:
        self.notes_requests[request.host] += 1
        given = next((v for k, v in request.headers.items() if k.lower() == "authorization"), "")
        scheme, _, token = given.partition(" ")
        if scheme != "Bearer" or self._tokens.get(token) != request.host:
            if request.host == API2:
                check = _BROWSER_CHECK["response"]
                return Reply(check["status"], check["text"].encode(), dict(check["headers"]))
            return _error(403, "ChallengeRequiredError", "Please complete the challenge to continue")
        ids = tuple(i for v in query.get("ids", []) for i in v.split(",") if i) or tuple(query.get("id", []))
        self.asked.append((request.host, ids))
        held = {n.id: n for n in self.notes if n.api == request.host}
        found = [_shape(held[i]) for i in ids if i in held]
        if "id" in query and not found:
            return _error(404, "NotFoundError", f"The Note {ids[0]} was not found")
        return _json(200, {"notes": found, "count": len(found)})
