"""A loopback Crossref, doi.org and walled publishers, for tests/fakes/web.py's FakeWeb.

Built from Crossref's published limits (its blog, 2025-11-05) and the recorded answers in tests/fixtures/crossref:
- `GET api.crossref.org/works?filter=doi:A,doi:B,...&rows=N[&mailto=...]` answers a work list holding the
  works it knows among them (DOIs matched without regard to case, answered in lower case), likewise
  `filter=alternative-id:...`; its limits since 2025-12: list queries at most 3 a second, at most 3 at
  a time with `mailto` (the polite pool) and 1 without; over them, `429` with `Retry-After`;
- `GET api.crossref.org/prefixes/<P>/works?query.bibliographic=<title>&rows=N`: the works of that prefix
  sharing words with the title, most shared first (Crossref ranks by relevance); `400` for an empty query;
- `GET doi.org/api/handles/<doi>`: the handle of a registered DOI (Crossref's and other agencies'), or
  `404 {"responseCode": 100}`;
- publishers that wall robots (ACM DL, ScienceDirect, Springer, IEEE Xplore): a challenge page with 403.
It records every request: when it came, whether it carried `mailto`, how many were in flight.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from tests import paths
from tests.fakes.web import FakeWeb, Reply, Request

FIXTURES = paths.FIXTURES / "crossref"
WORKS = json.loads((FIXTURES / "works.json").read_text())
LIST = json.loads((FIXTURES / "work-list.json").read_text())
CHALLENGE_PAGE = (paths.FIXTURES / "neurips" / "challenge.html").read_bytes()
WALLED = ("dl.acm.org", "www.sciencedirect.com", "link.springer.com", "ieeexplore.ieee.org")
_ROUTE = re.compile(r"(?:/prefixes/([^/]+))?/works")
PUBLIC_POOL = {"x-api-pool": "public", "x-concurrency-limit": "1", "x-rate-limit-interval": "1s",
               "x-rate-limit-limit": "5"}


def work(doi: str, title: str, authors: tuple[str, ...] = ("Ada Lovelace",), year: int = 2021,
         kind: str = "journal-article", container: str = "Journal of Tests", abstract: str | None = None,
         alternative: tuple[str, ...] = ()) -> dict:
    """A work in the recorded shape (tests/fixtures/crossref/works.json), DOI as Crossref writes it (lower case)."""
    item = {"DOI": doi.lower(), "type": kind, "title": [title],
            "author": [{"given": " ".join(a.split()[:-1]), "family": a.split()[-1],
                        "sequence": "first" if i == 0 else "additional"} for i, a in enumerate(authors)],
            "issued": {"date-parts": [[year]]}, "container-title": [container], "URL": f"https://doi.org/{doi.lower()}",
            "prefix": doi.split("/")[0], "publisher": "Test Publisher"}
    if abstract is not None:
        item["abstract"] = abstract
    if alternative:
        item["alternative-id"] = list(alternative)
    return item


def ieee_work(doi: str, title: str, number: str, authors: tuple[str, ...] = ("Ada Lovelace",), year: int = 2021,
              kind: str = "proceedings-article", container: str = "2021 IEEE/CVF Conference on Tests") -> dict:
    """An IEEE work as Crossref answers it (a recorded `/works/10.1109/tnse.2021.3126021`: `resource.primary.URL`
    `https://ieeexplore.ieee.org/document/9609654/`, a `link` to `…/09609654.pdf?arnumber=9609654`)."""
    item = work(doi, title, authors, year, kind, container)
    item.update({"publisher": "IEEE", "member": "263",
                 "resource": {"primary": {"URL": f"https://ieeexplore.ieee.org/document/{number}/"}},
                 "link": [{"URL": f"http://xplorestaging.ieee.org/ielx7/1/2/{int(number):08d}.pdf?arnumber={number}",
                           "content-type": "unspecified", "content-version": "vor",
                           "intended-application": "similarity-checking"}]})
    return item


@dataclass
class FakeCrossref:
    works: list[dict] = field(default_factory=lambda: [dict(w) for w in WORKS])
    registered: dict[str, str] = field(default_factory=dict)  # DOIs of other agencies (lower case) -> URL
    per_second: int = 3  # list queries a second
    now: Callable[[], float] = time.monotonic
    down: bool = False  # every works request answers 503
    refuse_next: int = 0  # this many works requests answer 429 whatever the rate
    handles_down: bool = False  # doi.org's handle API answers 503
    requests: list[tuple[float, bool, int, str]] = field(default_factory=list)  # (time, mailto?, in flight, query)
    handles: list[str] = field(default_factory=list)  # DOIs asked of doi.org
    refused: int = 0  # 429s
    walled_requests: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._in_flight = 0
        self._starts: list[float] = []

    def install(self, web: FakeWeb) -> FakeCrossref:
        web.host("api.crossref.org", self)
        web.host("doi.org", self)
        for host in WALLED:
            web.host(host, self)
        return self

    def handle(self, request: Request) -> Reply:
        if request.host in WALLED:
            self.walled_requests.append(f"{request.host}{request.path}")
            return Reply(403, CHALLENGE_PAGE, {"Content-Type": "text/html; charset=UTF-8", "Server": "cloudflare",
                                               "cf-mitigated": "challenge"})
        if request.host == "doi.org":
            return self._handle_api(request)
        return self._works(request)

    # -- api.crossref.org ---------------------------------------------------------------------------------
    def _works(self, request: Request) -> Reply:
        parts = urlsplit(request.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        polite = bool(query.get("mailto"))
        with self._lock:
            t = self.now()
            self._in_flight += 1
            self._starts = [s for s in self._starts if s > t - 1.0]
            over = self._in_flight > (3 if polite else 1) or len(self._starts) >= self.per_second
            if self.refuse_next > 0:
                self.refuse_next -= 1
                over = True
            self.requests.append((t, polite, self._in_flight, parts.query))
            if not over:
                self._starts.append(t)
        try:
            time.sleep(0.01)  # a moment in flight, so that overlapping requests overlap here too
            pool = dict(LIST["headers"]) if polite else {**LIST["headers"], **PUBLIC_POOL}
            if over:
                with self._lock:
                    self.refused += 1
                return Reply(429, b"Too Many Requests", {**pool, "Content-Type": "text/plain", "Retry-After": "1"})
            if self.down:
                return Reply(503, b"<html><title>503 Service Unavailable</title></html>", {"Content-Type": "text/html"})
            route = _ROUTE.fullmatch(parts.path)  # /works, or /prefixes/<P>/works
            if route is None:
                return Reply(404, b"Resource not found.", {**pool, "Content-Type": "text/plain"})
            return self._list(query, pool, route.group(1))
        finally:
            with self._lock:
                self._in_flight -= 1

    def _list(self, query: dict[str, list[str]], headers: dict[str, str], prefix: str | None = None) -> Reply:
        filters = [f for v in query.get("filter", []) for f in v.split(",") if f]
        dois = {f.split(":", 1)[1].lower() for f in filters if f.startswith("doi:")}
        alternatives = {f.split(":", 1)[1].lower() for f in filters if f.startswith("alternative-id:")}
        items = [w for w in self.works if w["DOI"].lower() in dois
                 or any(a.lower() in alternatives for a in w.get("alternative-id") or ())]
        terms = (query.get("query.bibliographic") or [None])[0]
        if "query.bibliographic" in query and not (terms or "").strip():
            return Reply(400, json.dumps({"status": "failed", "message-type": "validation-failure",
                                          "message": [{"type": "query-empty"}]}).encode(),
                         {**headers, "Content-Type": "application/json"})
        if terms is not None or prefix:
            items = self._search(terms or "", {prefix} if prefix else set())
        rows = int((query.get("rows") or ["20"])[0])
        body = json.loads(json.dumps(LIST["body"]))
        body["message"].update({"items": items[:rows], "total-results": len(items), "items-per-page": rows,
                                "query": {"start-index": 0, "search-terms": terms}})
        return Reply(200, json.dumps(body).encode(), {**headers, "Content-Type": "application/json"})

    def _search(self, terms: str, prefixes: set[str]) -> list[dict]:
        words = set(terms.lower().split())
        shared = {w["DOI"]: len(words & set(" ".join(w["title"]).lower().split())) for w in self.works
                  if not prefixes or w["DOI"].split("/")[0] in prefixes}
        return sorted((w for w in self.works if shared.get(w["DOI"])), key=lambda w: -shared[w["DOI"]])

    # -- doi.org ----------------------------------------------------------------------------------------------
    def _handle_api(self, request: Request) -> Reply:
        path = unquote(urlsplit(request.path).path)
        if not path.startswith("/api/handles/"):
            return Reply(404, b"<title>Not Found</title>")
        doi = path[len("/api/handles/"):]
        self.handles.append(doi)
        if self.handles_down:
            return Reply(503, b"<html><title>503 Service Unavailable</title></html>", {"Content-Type": "text/html"})
        known = {w["DOI"].lower(): w["URL"] for w in self.works} | self.registered
        url = known.get(doi.lower())
        if url is None:
            return Reply(404, json.dumps({"responseCode": 100, "handle": doi}).encode(),
                         {"Content-Type": "application/json;charset=UTF-8"})
        body = {"responseCode": 1, "handle": doi,
                "values": [{"index": 1, "type": "URL", "data": {"format": "string", "value": url}}]}
        return Reply(200, json.dumps(body).encode(), {"Content-Type": "application/json;charset=UTF-8"})

    # -- what the tests look at -------------------------------------------------------------------------------
    @property
    def peak(self) -> int:
        return max((n for _, _, n, _ in self.requests), default=0)

    def busiest_second(self) -> int:
        """The most requests that started within any one second."""
        times = sorted(t for t, *_ in self.requests)
        return max((sum(1 for u in times if t <= u < t + 1.0) for t in times), default=0)
