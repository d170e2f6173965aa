"""arXiv metadata through its API, with the `arxiv` package doing the querying and feed parsing.

Pure helpers (`parse_arxiv_id`, `abs_url`, `title_queries`, `result_to_meta`, `check_feed`) and one
`ArxivSource` that owns the only `arxiv.Client` of the process.

Why the client is wrapped the way it is (arXiv's API terms: one request every three seconds, one at a time):
- the package has no timeout and sets its own user-agent per request, so its private `_session` is
  replaced by `_PoliteSession`, which sets both on every request and bounds the whole answer in time;
- the package sleeps with real time and retries every non-200 (429 included), so its delay is set to 0
  and `_PoliteSession` spaces requests itself (injectable clock/sleep) and turns a throttled or unreadable
  answer into an exception the package does not retry;
- the package parses with `recover=True` and treats an error feed or a truncated body as "no results",
  which would make existing papers look unknown, so every 200 body is checked strictly first;
- the package is synchronous and runs in a worker thread, so each of its requests takes its turn at the
  run's gate (crawler.net.pacing) on the event loop's thread: the API host's slots and 429 pause are the
  same for it as for every other request of the run.

Every failure leaves as `SourceUnavailable`: never evidence that a paper or a link is missing.
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import arxiv
import requests
import urllib3
from lxml import etree

from crawler import __version__
from crawler.config import (
    DEFAULT_ARXIV_DELAY,
    DEFAULT_ARXIV_TIMEOUT,
    DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_CONTACT,
)
from crawler.errors import HostPaused, SourceUnavailable
from crawler.listfile.links import ARXIV_HOSTS, abs_url, paper_id, parse_arxiv_id, pdf_url  # noqa: F401 (re-exported)
from crawler.models import PaperMeta
from crawler.papers.match import title_score
from crawler.sources.base import PaperRef, PaperSource

if TYPE_CHECKING:
    from crawler.config import Settings
    from crawler.net.pacing import HostGate
    from crawler.net.pool import ClientPool

T = TypeVar("T")

log = logging.getLogger(__name__)

SOURCE = "arxiv"
DEFAULT_URL_FORMAT = "https://export.arxiv.org/api/query?{}"
DEFAULT_USER_AGENT = f"paper-list-crawler/{__version__} (+{DEFAULT_CONTACT})"
MAX_IDS_PER_REQUEST = 100  # arXiv's cap for id_list; 642 ids once gave HTTP 414
PAGE_SIZE = 100
NUM_RETRIES = 1  # one more try for a 5xx or a dropped connection; 429 and error feeds are never retried
TITLES_PER_QUERY = 10  # keeps the query URL short and each title's hits within one page
MAX_QUERY_CHARS = 1500
DEFAULT_PER_QUERY = 100  # results asked for per title query: one page
MAX_BODY = 20 * 1024 * 1024  # a full page of 100 entries is a few hundred KB
# A title query's hit is a candidate for a title when it resembles it at least this much; the rest
# belong to the other titles ORed into the same query.
RESEMBLES = 0.5

_ATOM = "{http://www.w3.org/2005/Atom}"

# --- title queries ---------------------------------------------------------------------------------

# Anything but letters and digits: a hyphen acts like NOT inside a term, a colon breaks the query.
_NOT_WORD = re.compile(r"[\W_]+")
_OPERATORS = {"AND", "OR", "NOT", "ANDNOT"}  # upper case only, in arXiv's parser
_STOP_WORDS = frozenset(
    {"a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "into", "is", "it", "of", "on", "or"}
    | {"the", "to", "towards", "via", "with", "without"}
)


def title_phrase(title: str) -> str | None:
    """`ti:"..."` for one title, punctuation removed; None if nothing searchable is left."""
    words = _NOT_WORD.sub(" ", title).split()
    if not any(w.lower() not in _STOP_WORDS and len(w) > 1 for w in words):
        return None  # "", "A", "On the ..." alone would match half of arXiv
    words = [w.lower() if w in _OPERATORS else w for w in words]
    return f'ti:"{" ".join(words)}"'


def title_queries(titles: Iterable[str]) -> list[str]:
    """`ti:"A B" OR ti:"C D"` queries ORing the titles as phrases, in groups small enough for one short URL each."""
    queries: list[str] = []
    group: list[str] = []
    for phrase in dict.fromkeys(p for p in map(title_phrase, titles) if p):
        if group and (
            len(group) >= TITLES_PER_QUERY or sum(len(p) + 4 for p in group) + len(phrase) > MAX_QUERY_CHARS
        ):
            queries.append(" OR ".join(group))
            group = []
        group.append(phrase)
    if group:
        queries.append(" OR ".join(group))
    return queries


# --- results ---------------------------------------------------------------------------------------


def _collapse(text: str | None) -> str:
    return " ".join((text or "").split())


def result_to_meta(result: arxiv.Result, fetched_at: float) -> PaperMeta:
    """A `PaperMeta` pointing at the versionless abs page (a fill should follow later versions)."""
    short = result.get_short_id()
    arxiv_id = parse_arxiv_id(result.entry_id) or re.sub(r"v\d+$", "", short)
    published: datetime | None = result.published
    return PaperMeta(
        source=SOURCE,
        title=_collapse(result.title),
        url=abs_url(arxiv_id),
        abstract=_collapse(result.summary) or None,
        authors=tuple(_collapse(a.name) for a in result.authors if _collapse(a.name)),
        year=published.year if published and published.year > 1 else None,
        venue=None,
        arxiv_id=arxiv_id,
        pdf_url=pdf_url(arxiv_id) if result.pdf_url else None,
        fetched_at=fetched_at,
    )


# --- answers ---------------------------------------------------------------------------------------


class _Unusable(Exception):
    """Raised inside the session: the package does not retry it (only HTTPError/ConnectionError)."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


class _Rejected(_Unusable):
    """arXiv answered with its error feed: it refuses the query itself."""


class ArxivQueryRejected(SourceUnavailable):
    """arXiv refused a query as malformed (its error feed, usually HTTP 400).

    Ids are validated before they are sent, so this should not happen; if it does, only the
    batches arXiv refused are lost: `partial` holds what the other batches found (keyed by id) and
    `rejected` the ids (or title queries) of the refused ones. Callers that only catch
    `SourceUnavailable` stay safe: nothing is decided from a refused batch.
    """

    def __init__(self, reason: str, *, partial: dict[str, PaperMeta], rejected: tuple[str, ...]):
        super().__init__(SOURCE, f"query rejected: {reason}")
        self.partial = partial
        self.rejected = rejected


_STRICT_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


def check_feed(body: bytes) -> None:
    """Raise unless `body` is a complete Atom feed without an error entry.

    Strict on purpose: the package parses with `recover=True`, so a truncated page would silently
    lose entries, and an error feed or a challenge page would read as "no such paper".
    """
    try:
        root = etree.fromstring(body, parser=_STRICT_XML)
    except etree.XMLSyntaxError as exc:
        raise _Unusable(f"unreadable answer (not XML: {exc.msg})") from None
    if root is None or root.tag != f"{_ATOM}feed":
        tag = etree.QName(root).localname if root is not None else "nothing"
        raise _Unusable(f"unexpected answer (<{tag}> instead of an Atom feed)")
    for entry in root.iterfind(f"{_ATOM}entry"):
        if "/api/errors" in (entry.findtext(f"{_ATOM}id") or ""):
            raise _Rejected(_collapse(entry.findtext(f"{_ATOM}summary")) or "error feed")


class _PoliteSession(requests.Session):
    """The arxiv client's session: our User-Agent, a timeout, spacing, and a strict look at answers.

    It sees every HTTP request the package makes (pages and retries), so the 3-second rule and the
    request count hold per request, not per search.
    """

    def __init__(
        self,
        *,
        user_agent: str,
        timeout: float,
        delay: float,
        clock: Callable[[], float],
        sleep: Callable[[float], None],
        gate: HostGate | None = None,
    ):
        super().__init__()
        self.headers["User-Agent"] = self.user_agent = user_agent
        self.timeout = timeout
        self.delay = delay
        self.clock = clock
        self.sleep = sleep
        self.gate = gate
        self.thread = threading.local()  # .loop: the event loop whose gate this worker thread's requests use
        self.requests_sent = 0
        self._last_end: float | None = None

    def request(self, method: str | bytes, url: str | bytes, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        # The package passes its own `user-agent` per request, which would win over session headers.
        headers = {k: v for k, v in (kwargs.get("headers") or {}).items() if k.lower() != "user-agent"}
        kwargs["headers"] = {**headers, "User-Agent": self.user_agent}
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = (min(DEFAULT_CONNECT_TIMEOUT, self.timeout), self.timeout)
        kwargs["stream"] = True  # read the body ourselves, against a deadline
        self._wait_turn()
        host = (urlsplit(url if isinstance(url, str) else url.decode()).hostname or "").lower()
        loop = getattr(self.thread, "loop", None) if self.gate is not None else None
        if loop is not None:
            try:
                self.gate.enter_from_thread(loop, host)
            except HostPaused as exc:
                raise _Unusable(f"throttled ({exc})") from None
        self.requests_sent += 1
        deadline = time.monotonic() + self.timeout  # real time: it bounds real I/O
        log.debug("arXiv request %d: %s", self.requests_sent, url)
        try:
            resp = super().request(method, url, **kwargs)
            try:
                self._read_body(resp, deadline)
            finally:
                resp.close()
        finally:
            # Spacing counts from the end of the last answer: measured from its start, a slow connect
            # let two requests arrive at arXiv 2.93 s apart (benchmarks/run.py).
            self._last_end = self.clock()
            if loop is not None:
                self.gate.leave_from_thread(loop, host)
        if loop is not None:
            self.gate.heard_from_thread(loop, host, resp.status_code, resp.headers)
        self._judge(resp)
        return resp

    def _wait_turn(self) -> None:
        if self._last_end is not None:
            wait = self._last_end + self.delay - self.clock()
            if wait > 0:
                self.sleep(wait)

    @staticmethod
    def _read_body(resp: requests.Response, deadline: float) -> None:
        # A read timeout bounds each silence; the deadline bounds a server that trickles bytes.
        # read1 returns what one socket read brings (urllib3 >= 2.3); read(n) would wait for n bytes.
        raw = resp.raw
        read1 = getattr(raw, "read1", None)

        def read() -> bytes:
            return read1(64 * 1024, decode_content=True) if read1 else raw.read(8192, decode_content=True)

        chunks: list[bytes] = []
        size = 0
        try:
            while chunk := read():
                chunks.append(chunk)
                size += len(chunk)
                if time.monotonic() > deadline:
                    raise requests.Timeout("arXiv answer took longer than the timeout")
                if size > MAX_BODY:
                    raise _Unusable(f"answer larger than {MAX_BODY} bytes")
        # Translated as requests' own iter_content would, so the package sees requests' errors.
        except urllib3.exceptions.ReadTimeoutError as exc:
            raise requests.ReadTimeout(str(exc)) from exc  # a stall: not retried by the package
        except urllib3.exceptions.HTTPError as exc:
            raise requests.ConnectionError(str(exc)) from exc
        resp._content = b"".join(chunks)  # what `resp.content` returns to the package
        resp._content_consumed = True  # so close() hands the connection back for reuse

    @staticmethod
    def _judge(resp: requests.Response) -> None:
        status = resp.status_code
        if status == 429:
            said = _collapse(resp.content[:80].decode("utf-8", "replace"))
            raise _Unusable(f"throttled (HTTP 429{': ' + said if said else ''})")
        if status == 200:
            check_feed(resp.content)
        elif resp.content.lstrip().startswith(b"<"):
            try:
                check_feed(resp.content)
            except _Rejected:
                raise
            except _Unusable:
                pass  # an error page: the package reports the status (after its retry)


# --- the source ------------------------------------------------------------------------------------


def _chunks(items: list[str], size: int) -> Iterator[list[str]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


class ArxivSource(PaperSource):
    """arXiv through one `arxiv.Client` behind one lock: one request at a time, `delay` seconds apart.

    `lookup_ids` and `search_titles` raise `SourceUnavailable` (or its `ArxivQueryRejected`) for
    anything but a usable answer. The source keeps no "down" state: each call tries again, so a
    caller that got `SourceUnavailable` should stop asking for this run (crawler.sources.gateway does).
    One instance per process: arXiv's rule is per client, and spacing is per instance.

    As a PaperSource it verifies arXiv links in batches of ids (never page by page: arXiv's terms ask robots
    to use the API, not the abs pages), searches
    titles for fills, and is the fallback for every venue.
    """

    name = SOURCE
    batch_verifies = True
    searches = True
    claimed_hosts = ARXIV_HOSTS

    def __init__(
        self,
        *,
        url_format: str = DEFAULT_URL_FORMAT,
        delay: float = DEFAULT_ARXIV_DELAY,
        timeout: float = DEFAULT_ARXIV_TIMEOUT,
        user_agent: str = DEFAULT_USER_AGENT,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        gate: HostGate | None = None,
    ):
        """`gate`: the run's (the client pool's); every request then takes its turn there too."""
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        # delay_seconds=0: the package would sleep with real time on top of our own spacing.
        self._client = arxiv.Client(page_size=PAGE_SIZE, delay_seconds=0, num_retries=NUM_RETRIES)
        self._client.query_url_format = url_format
        self._session = _PoliteSession(
            user_agent=user_agent, timeout=timeout, delay=delay, clock=clock, sleep=sleep, gate=gate
        )
        self._client._session = self._session
        self._lock = threading.Lock()  # the client is not thread-safe

    @classmethod
    def from_settings(cls, settings: Settings, pool: ClientPool | None) -> ArxivSource:
        # Its own requests session (the arxiv package speaks requests, not httpx), behind the pool's gate.
        return cls(url_format=settings.arxiv_url, delay=settings.arxiv_delay, timeout=settings.arxiv_timeout,
                   user_agent=settings.agent, gate=pool.gate if pool is not None else None)

    @property
    def requests_sent(self) -> int:
        """HTTP requests made so far, retries and extra pages included."""
        return self._session.requests_sent

    def close(self) -> None:
        self._session.close()

    async def aclose(self) -> None:
        self.close()

    # -- the PaperSource interface --------------------------------------------------------------------
    def ref(self, url: str) -> PaperRef | None:
        arxiv_id = paper_id(url)  # the table of site rules knows arXiv's hosts and ids
        return PaperRef(SOURCE, arxiv_id, url=url) if arxiv_id else None

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        return (await self.lookup_all([ref])).get(ref.id)

    async def lookup_all(self, refs) -> dict[str, PaperMeta | None]:
        """id -> paper, None for an id arXiv did not return (a hint, not proof: the abs page decides)."""
        ids = list(dict.fromkeys(r.id for r in refs))
        try:
            found = await self.lookup_ids_async(ids)
        except ArxivQueryRejected as exc:  # the other batches' answers stand
            refused = set(exc.rejected)
            settled = {i: exc.partial.get(i) for i in ids if i not in refused}
            raise SourceUnavailable(SOURCE, exc.reason, partial=settled) from exc
        return {i: found.get(i) for i in ids}

    async def search(self, titles) -> dict[str, list[PaperMeta]]:
        """title -> the hits that resemble it, `TITLES_PER_QUERY` titles ORed per query.

        When a query fails, the titles of the queries before it are in the exception's `partial`;
        which titles a failed query's partial answer covers is unknown, so none of them are.
        """
        out: dict[str, list[PaperMeta]] = {}
        titles = list(dict.fromkeys(titles))
        for i in range(0, len(titles), TITLES_PER_QUERY):
            chunk = titles[i : i + TITLES_PER_QUERY]
            try:
                found = await self.search_titles_async(chunk)
            except SourceUnavailable as exc:
                raise SourceUnavailable(SOURCE, exc.reason, partial=out) from exc
            for title in chunk:
                out[title] = [m for m in found if title_score(title, m.title) >= RESEMBLES]
        return out

    def lookup_ids(self, ids: Iterable[str]) -> dict[str, PaperMeta]:
        """Metadata for each id arXiv knows, keyed by versionless id.

        Ids and URLs are normalised with `parse_arxiv_id`; a malformed one is dropped, never sent
        (arXiv answers a batch holding one with HTTP 400 for all of it). An unknown id is absent.
        arXiv sometimes answers an empty page for a known id: absence is a hint, not proof.
        """
        wanted = list(dict.fromkeys(i for i in map(parse_arxiv_id, ids) if i))
        batches = ((batch, arxiv.Search(id_list=batch, max_results=len(batch)), f"a batch of {len(batch)} ids")
                   for batch in _chunks(wanted, MAX_IDS_PER_REQUEST))
        return self._run(batches, lambda asked, meta: meta.arxiv_id if meta.arxiv_id in asked else None)

    def search_titles(self, titles: Iterable[str], per_query: int = DEFAULT_PER_QUERY) -> list[PaperMeta]:
        """Every candidate arXiv returns for the titles, ORed `TITLES_PER_QUERY` at a time.

        Titles are searched as phrases without punctuation; up to `per_query` results per query.
        No matching here: deciding which candidate is which entry's paper is crawler.papers.match's job.
        """
        if per_query < 1:
            raise ValueError("per_query must be at least 1")
        queries = (([query], arxiv.Search(query=query, max_results=per_query), "a title query")
                   for query in title_queries(titles))
        return list(self._run(queries, lambda asked, meta: meta.arxiv_id or meta.url).values())

    def _run(self, searches: Iterable[tuple[list[str], arxiv.Search, str]],
             key: Callable[[list[str], PaperMeta], str | None]) -> dict[str, PaperMeta]:
        """Every search's results by `key(what the search asked, paper)` (None: not kept; the first of a key
        stays), one search at a time. The searches arXiv refused raise ArxivQueryRejected once the others ran."""
        found: dict[str, PaperMeta] = {}
        rejected: list[str] = []
        reason = ""
        with self._lock:
            for asked, search, what in searches:
                try:
                    results = self._fetch(search)
                except _Rejected as exc:
                    log.warning("arXiv refused %s: %s", what, exc.reason)
                    rejected += asked
                    reason = exc.reason
                    continue
                now = time.time()
                for result in results:
                    meta = result_to_meta(result, now)
                    if (kept := key(asked, meta)) is not None:
                        found.setdefault(kept, meta)
        if rejected:
            raise ArxivQueryRejected(reason, partial=found, rejected=tuple(rejected))
        return found

    async def lookup_ids_async(self, ids: Iterable[str]) -> dict[str, PaperMeta]:
        # A thread: the package is synchronous. Cancelling the await does not stop the request,
        # but the timeout bounds it and the lock keeps one request at a time.
        return await self._in_thread(self.lookup_ids, list(ids))

    async def search_titles_async(
        self, titles: Iterable[str], per_query: int = DEFAULT_PER_QUERY
    ) -> list[PaperMeta]:
        return await self._in_thread(self.search_titles, list(titles), per_query)

    async def _in_thread(self, fn: Callable[..., T], *args: Any) -> T:
        """`fn(*args)` in a worker thread whose requests take their turns at the gate on this loop."""
        loop = asyncio.get_running_loop()

        def run() -> T:
            self._session.thread.loop = loop
            return fn(*args)

        return await asyncio.to_thread(run)

    def _fetch(self, search: arxiv.Search) -> list[arxiv.Result]:
        """All results of one search, with every foreign error translated (except `_Rejected`)."""
        results: list[arxiv.Result] = []
        try:
            for result in self._client.results(search):  # a loop: keep what came before an error
                results.append(result)  # noqa: PERF402
        except _Rejected:
            raise
        except arxiv.UnexpectedEmptyPageError:
            # A later page came back empty twice: arXiv's total overcounted; what we have is all.
            log.info("arXiv: empty later page for %s; keeping %d results", search, len(results))
        except _Unusable as exc:
            raise SourceUnavailable(SOURCE, exc.reason) from exc
        except arxiv.HTTPError as exc:
            raise SourceUnavailable(SOURCE, f"HTTP {exc.status}") from exc
        except requests.Timeout as exc:
            raise SourceUnavailable(SOURCE, "timed out") from exc
        except requests.RequestException as exc:
            raise SourceUnavailable(SOURCE, f"connection failed ({type(exc).__name__})") from exc
        except (arxiv.ArxivError, ValueError, etree.LxmlError) as exc:
            # ValueError: a date the package's parser cannot read, in an otherwise well-formed feed.
            raise SourceUnavailable(SOURCE, f"unreadable answer ({type(exc).__name__})") from exc
        return results
