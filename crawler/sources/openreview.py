"""OpenReview (openreview.net): paper links judged through its API, with an account, many notes per request.

Since 2026 OpenReview challenges anonymous clients: its API answers them `403 ChallengeRequiredError`, or
(API 2, as recorded in 2026-09) `200` with an HTML page, "Verifying your browser | OpenReview", instead of
JSON; its pages are rendered from that API, so neither a page nor an anonymous API read can say anything
about a paper. With an account (OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD, openreview-py's names, from
the environment only):

- log in once per API host in use (`POST /login` answers a token, which crawler.net.credentials attaches to
  that host's requests and nothing else), then ask notes by id, 50 a request (`GET /notes?ids=a,b,...`);
- api2.openreview.net holds most venues from 2023 on, api.openreview.net the earlier ones and ICLR 2023:
  each link is asked first where its entry's venue and year say, and an id the first API does not return
  is asked of the other (API 2 answers `404 NotFoundError` naming an API 1 note in `details.value`; the
  batch's other ids are asked again without it);
  API 2 wraps every content field (`content.title.value`), API 1 does not (`content.title`);
- an id that neither API returns is `broken` (deleted, or never public); a note is judged as a paper by
  the one rule for every source (crawler.checking.verdicts), and brings its abstract, its authors (a list
  of names; in ICLR 2017's API 1 notes one string, "A, B"; some lists join two with "and") and venue
  ("ICLR 2023 Poster", "Submitted to ICLR 2024"); its year is the venue's (named in the venue, its id or
  the note's invitations), and its dates' (which may fall a year earlier) only when none names one.
  A comment, review or decision (a note replying in another's forum) is no paper: it only exists.

Without the account nothing is sent and the links are `blocked` with the reason saying how to sign in. A
challenge (either kind), a refused login (a wrong password, or an account that asks for a second factor,
`mfaPending`) or a 429 makes the source unavailable for the run: one line in the log, its links `blocked`,
never failures, never dead. Every openreview.net link is claimed, so none is fetched: a PDF named by its
content hash (`/pdf/<sha>.pdf`) cannot be looked up by id, and other pages (groups, profiles) challenge
robots; those are `blocked` with the reason.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import httpx

from crawler.config import DEFAULT_TIMEOUT
from crawler.errors import SourceUnavailable
from crawler.findings import Exists, Finding, Gone, Known, Unknown
from crawler.listfile.links import web_parts
from crawler.models import PaperMeta
from crawler.net.credentials import OPENREVIEW_PASSWORD, OPENREVIEW_TOKEN, OPENREVIEW_USERNAME, Credentials
from crawler.sources.api import Answer, Unanswered, ask
from crawler.sources.base import Claim, Defer, PaperRef, PaperSource

if TYPE_CHECKING:
    from crawler.config import Settings
    from crawler.net.pool import ClientPool

SOURCE = "openreview"
_HOSTS = frozenset({"openreview.net", "www.openreview.net"})
_BY_ID = frozenset({"/forum", "/pdf", "/attachment"})  # paper pages and files named by ?id=
API2 = "https://api2.openreview.net"  # most venues from 2023 on
API1 = "https://api.openreview.net"  # venues before 2023, and ICLR 2023
API2_FROM = 2023
BATCH = 50  # note ids per request (openreview-py's own batches for ids)
_NOTE_ID = re.compile(r"^[0-9A-Za-z_-]{5,40}$")  # OpenReview ids: 7-14 characters of [0-9a-zA-Z-_]
_YEAR = re.compile(r"\b(19[89]\d|20\d\d)\b")
_AND = re.compile(r"(?:^|\s)and\s")  # between two authors' names, or before the last one
_SUFFIX = re.compile(r"^\s*(?:(?P<kin>Jr|Sr|II|III|IV)|Ph\.?\s?D|M\.?D)\.?\s*$", re.I)  # "Jr.", "Ph.D."

# Stable texts: reports group the links they could not judge by them.
SIGN_IN = "sign-in needed: set OPENREVIEW_USERNAME and OPENREVIEW_PASSWORD"
PDF_BY_HASH = "a PDF named by its content hash cannot be looked up by id (link /forum?id= instead)"
PAGE = "openreview.net pages challenge robots; only paper links are verified, through the API"
MFA = "the account asks for a second factor (MFA), which a nightly job cannot give: use an account without MFA"


# --- pure parts -------------------------------------------------------------------------------------------


def _parts(url: str) -> tuple[str, str] | None:
    """(kind, value) for an openreview.net URL: ("id", note id), ("hash", sha), ("page", path); else None."""
    found = web_parts(url)
    if found is None or found[0] not in _HOSTS:
        return None
    parts = found[1]
    path = parts.path.rstrip("/") or "/"
    if path in _BY_ID:
        ident = next((v.strip() for v in parse_qs(parts.query).get("id", []) if v.strip()), None)
        if ident:
            return ("id", ident)
    if path.startswith("/pdf/") and path.lower().endswith(".pdf"):
        return ("hash", path[len("/pdf/"):-len(".pdf")])
    return ("page", path)


def names_paper(url: str) -> bool:
    """Whether `url` is an OpenReview paper: forum, pdf (by id or by hash) or attachment. Pure."""
    found = _parts(url)
    return found is not None and found[0] != "page"


def content_value(content: dict[str, Any], key: str) -> Any:
    """A note's content field: API 2 wraps it (`{"value": ...}`), API 1 does not."""
    value = content.get(key)
    return value.get("value") if isinstance(value, dict) else value


def _text(value: Any) -> str:
    """A string, or the first string of a list (`venueid` is sometimes a list), whitespace collapsed."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, str) and v.strip()), "")
    return " ".join(value.split()) if isinstance(value, str) else ""


def _without_suffixes(parts: list[str]) -> list[str]:
    """Comma-separated names with the suffixes a comma set apart put back ("A, Jr." is "A Jr.") or dropped
    (a degree, "B, Ph.D.")."""
    out: list[str] = []
    for part in parts:
        suffix = _SUFFIX.match(part)
        if suffix is None or not out:
            out.append(part)
        elif suffix.group("kin"):
            out[-1] = f"{out[-1].rstrip()} {part.strip()}"
    return out


def _names(value: Any) -> tuple[str, ...]:
    """The authors as written: API 2 and most API 1 notes give a list of names; ICLR 2017's API 1 notes
    give one string ("A, B"), and some lists join names with "and" ("A and B", or "and C" last)."""
    if isinstance(value, str):
        parts = _without_suffixes(value.split(","))
    elif isinstance(value, list):
        parts = [v for v in value if isinstance(v, str)]
    else:
        return ()
    names = (_text(name) for part in parts for name in _AND.split(part))
    return tuple(name for name in names if name)


def _joined(value: Any) -> str:
    """A list of strings (API 2's `invitations`) as one text."""
    return " ".join(v for v in value if isinstance(v, str)) if isinstance(value, list) else _text(value)


def _year(note: dict[str, Any], venue: str, venueid: str) -> int | None:
    """The venue's year, from the venue, its id or the note's invitations ("ICLR.cc/2020/Conference/-/...");
    else the year of the note's dates, which may be the year before the venue's (submission, review)."""
    named = (venue, venueid, _text(note.get("domain")), _text(note.get("invitation")), _joined(note.get("invitations")))
    for text in named:
        found = _YEAR.search(text)
        if found:
            return int(found.group(1))
    for key in ("pdate", "odate", "cdate"):  # milliseconds since 1970
        stamp = note.get(key)
        if isinstance(stamp, int | float) and not isinstance(stamp, bool) and stamp > 0:
            return time.gmtime(stamp / 1000).tm_year
    return None


def note_to_meta(note: Any, fetched_at: float) -> PaperMeta | None:
    """The paper a note describes, from either API's shape; None for something that is not a note."""
    if not isinstance(note, dict) or not isinstance(note.get("id"), str):
        return None
    content = note.get("content") if isinstance(note.get("content"), dict) else {}
    forum = note.get("forum") if isinstance(note.get("forum"), str) and note.get("forum") else note["id"]
    venue = _text(content_value(content, "venue"))
    reply = forum != note["id"] or bool(note.get("replyto"))  # a comment, review or decision: not the paper
    return PaperMeta(
        source=SOURCE,
        title="" if reply else _text(content_value(content, "title")),
        url=f"https://openreview.net/forum?id={forum}",
        abstract=_text(content_value(content, "abstract")) or None,
        authors=_names(content_value(content, "authors")),
        year=_year(note, venue, _text(content_value(content, "venueid"))),
        venue=venue or None,
        pdf_url=f"https://openreview.net/pdf?id={forum}" if content_value(content, "pdf") else None,
        fetched_at=fetched_at,
    )


def api_for(year: int | None, venue: str | None = None) -> str:
    """The API a note of a venue of `year` is asked of first (no year: the newer one). ICLR moved to API 2 a
    year after the others: its 2023 notes are on API 1."""
    if year is None:
        return API2
    iclr = venue is not None and venue.strip().upper().startswith("ICLR")
    return API1 if year < API2_FROM or (iclr and year == API2_FROM) else API2


def _other(api: str) -> str:
    return API1 if api == API2 else API2


def _batches(ids: Sequence[str]) -> Iterator[list[str]]:
    for i in range(0, len(ids), BATCH):
        yield list(ids[i : i + BATCH])


# --- the source ---------------------------------------------------------------------------------------------


class OpenReviewSource(PaperSource):
    """Notes by id through both APIs, one request at a time per host (crawler.listfile.links gives each
    concurrency 1)."""

    name: ClassVar[str] = SOURCE
    batch_verifies = True
    claimed_hosts = _HOSTS

    def __init__(self, client_for: Callable[[str], httpx.AsyncClient] | None, credentials: Credentials | None = None,
                 *, timeout: float = DEFAULT_TIMEOUT, clock: Callable[[], float] = time.time) -> None:
        self._client_for = client_for
        self.credentials = credentials if credentials is not None else Credentials.from_environment()
        self.timeout = timeout
        self._clock = clock
        self._signed_in: set[str] = set()  # API bases logged in to this run
        self._down: SourceUnavailable | None = None
        self.requests_sent = 0
        self.logins = 0

    @classmethod
    def from_settings(cls, settings: Settings, pool: ClientPool | None) -> OpenReviewSource:
        online = pool is not None and not settings.offline
        return cls(pool.client if online else None, pool.credentials if pool is not None else None,
                   timeout=settings.timeout)

    # -- which links, and how they are judged ------------------------------------------------------------------
    def ref(self, url: str) -> PaperRef | None:
        found = _parts(url)
        if found is None:
            return None
        kind, value = found
        ident = value if kind == "id" else f"{kind}:{value}"  # a note id never holds ':'
        return PaperRef(SOURCE, ident, url=url)

    def claim_ref(self, claim: Claim) -> PaperRef | None:
        ref = self.ref(claim.url)
        year = next((e.year for e in claim.entries if e.is_paper and e.year), None)
        venue = next((e.venue for e in claim.entries if e.is_paper and e.venue), None)
        return dataclasses.replace(ref, year=year, venue=venue) if ref is not None and year else ref

    def verdict(self, claim: Claim, meta: PaperMeta | None) -> Finding | Defer:
        if meta is None:
            ref = self.ref(claim.url)
            return Gone(f"OpenReview has no note {ref.id if ref else ''} (deleted, or never public)")
        if not meta.title:  # a note that is not a paper's: it exists, and that is all there is to say
            return Exists(meta.url)
        return Known(meta)

    def unsettled(self, claim: Claim, ref: PaperRef, reason: str | None) -> Finding | Defer:
        if ref.id.startswith("hash:"):
            why = PDF_BY_HASH
        elif ref.id.startswith("page:"):
            why = PAGE
        else:
            why = reason or "not asked this run"
        return Unknown(f"OpenReview: {why}")

    # -- asking ------------------------------------------------------------------------------------------------
    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        return (await self.lookup_all([ref])).get(ref.id)

    async def lookup_all(self, refs: Sequence[PaperRef]) -> dict[str, PaperMeta | None]:
        """note id -> paper (None: neither API has it). Hash and page refs are never settled."""
        first: dict[str, str] = {}
        for ref in refs:
            if _NOTE_ID.match(ref.id):
                first.setdefault(ref.id, api_for(ref.year, ref.venue))
        if not first:
            return {}
        self._check_can_ask()
        found: dict[str, PaperMeta] = {}
        try:
            for pick in (lambda api: api, _other):  # each id where its year says, then the others elsewhere
                for api in (API2, API1):
                    want = [i for i, at in first.items() if pick(at) == api and i not in found]
                    if want:
                        found.update(await self._notes(api, want))
        except SourceUnavailable as exc:
            exc.partial = dict(found)  # a note found is settled; one not found yet is not
            raise
        return {i: found.get(i) for i in first}

    def _check_can_ask(self) -> None:
        if self._down is not None:
            raise self._down
        if self._client_for is None:
            raise SourceUnavailable(SOURCE, "offline: no network client")
        if not (self.credentials.has(OPENREVIEW_USERNAME) and self.credentials.has(OPENREVIEW_PASSWORD)):
            raise SourceUnavailable(SOURCE, SIGN_IN)  # nothing is sent without an account

    def _fail(self, reason: str) -> SourceUnavailable:
        self._down = SourceUnavailable(SOURCE, self.credentials.redact(reason))
        return self._down

    async def _send(self, method: str, url: str, **kwargs: Any) -> Answer:
        assert self._client_for is not None
        self.requests_sent += 1
        try:
            return await ask(self._client_for(url), method, url, timeout=self.timeout,
                             headers={"Accept": "application/json"}, **kwargs)
        except Unanswered as exc:
            raise self._fail(f"{_host(url)}: {exc.reason}") from None

    async def _login(self, api: str) -> None:
        """Log in to `api` once per run; the token goes into the run's credentials for that host only."""
        if api in self._signed_in:
            return
        url = f"{api}/login"
        user = self.credentials.value(OPENREVIEW_USERNAME, url)
        password = self.credentials.value(OPENREVIEW_PASSWORD, url)
        if not user or not password:
            raise self._fail(SIGN_IN)
        self.logins += 1
        answer = await self._send("POST", url, json={"id": user, "password": password})
        if answer.status == 200 and isinstance(answer.payload, dict):
            if answer.payload.get("mfaPending"):
                raise self._fail(f"login refused by {_host(url)}: {MFA}")
            token = answer.payload.get("token")
            if isinstance(token, str) and token:
                self.credentials.grant(OPENREVIEW_TOKEN, _host(url), token)
                self._signed_in.add(api)
                return
        raise self._fail(_refusal(answer, url, "login refused"))

    async def _notes(self, api: str, ids: list[str]) -> dict[str, PaperMeta]:
        """The notes of `api` among `ids`, 50 a request; an id not in the answer is not there."""
        await self._login(api)
        out: dict[str, PaperMeta] = {}
        for batch in _batches(ids):
            out.update(await self._batch(api, batch))
        return out

    async def _batch(self, api: str, batch: list[str]) -> dict[str, PaperMeta]:
        answer = await self._send("GET", f"{api}/notes", params={"ids": ",".join(batch)})
        if answer.status == 404 and answer.field("name") == "NotFoundError":
            if len(batch) == 1:
                return {}  # that note is not there
            named = _not_found(answer) & set(batch)
            if named:  # the answer names the note it lacks (`details.value`): the others are asked again
                rest = [i for i in batch if i not in named]
                return await self._batch(api, rest) if rest else {}
            # Said of the batch, not of an id: each half is asked, down to the ids it is true of.
            half = len(batch) // 2
            return {**await self._batch(api, batch[:half]), **await self._batch(api, batch[half:])}
        if answer.status != 200 or not isinstance(answer.payload, dict) \
                or not isinstance(answer.payload.get("notes"), list):
            raise self._fail(_refusal(answer, f"{api}/notes", "notes refused"))
        now = self._clock()
        asked = set(batch)
        found = {}
        for note in answer.payload["notes"]:
            meta = note_to_meta(note, now)
            if meta is not None and note["id"] in asked:
                found[note["id"]] = meta
        return found


def _not_found(answer: Answer) -> set[str]:
    """The ids a `404 NotFoundError` names: `{"details": {"path": "id", "value": "g1SzIRLQXMM"}}`."""
    details = answer.payload.get("details") if isinstance(answer.payload, dict) else None
    value = details.get("value") if isinstance(details, dict) else None
    return {v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)}


def _host(url: str) -> str:
    return urlsplit(url).hostname or url


def _refusal(answer: Answer, url: str, what: str) -> str:
    """One line on why an answer is not usable: a challenge, a rate limit, a refusal with OpenReview's words."""
    host = _host(url)
    name, message = answer.field("name"), " ".join(answer.field("message").split())[:120]
    if name == "ChallengeRequiredError":
        return f"{host} answered with a challenge (HTTP {answer.status} ChallengeRequiredError)"
    if _browser_check(answer):
        return f"{host} answered with a challenge, a browser check (HTTP {answer.status} HTML page, not JSON)"
    if answer.status == 429:
        return f"{host} is rate limiting us (HTTP 429)"
    said = f": {name}{' ' if name and message else ''}{message}" if name or message else ""
    return f"{what} by {host} (HTTP {answer.status}{said})"


def _browser_check(answer: Answer) -> bool:
    """An HTML page where the API answers JSON: OpenReview's "Verifying your browser" page, served with 200
    to a client it does not trust. A 5xx page is an outage, not a challenge."""
    if answer.payload is not None or answer.status not in (200, 403):
        return False
    start = answer.text.lstrip()[:15].lower()
    return "html" in answer.headers.get("content-type", "").lower() or start.startswith(("<!doctype html", "<html"))
