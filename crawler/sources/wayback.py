"""Archived copies for dead links that no paper replaces, from the Wayback Machine's availability API.

Asked only for a link that is dead tonight and has no suggestion of its own (the right paper, a
redirect's target), once per link a week (answers, "no copy" included, are kept in the store), never for a
healthy link and never on a first failure: which links those are is the pipeline's business. The capture
asked for is the one closest to the last time the link worked, so the copy shows the page as it was. A
service that cannot answer stops the asking for the run and changes no verdict.

    GET https://archive.org/wayback/available?url=<url>[&timestamp=YYYYMMDDhhmmss]

answers with the one capture closest to `timestamp` (without it, the newest):

    {"url": "...", "archived_snapshots": {"closest": {"available": true, "status": "200",
     "timestamp": "20130919044612", "url": "http://web.archive.org/web/20130919044612/http://example.com/"}}}

or `{"url": "...", "archived_snapshots": {}}` when it has none. What the API is known to do, and what we do:
- `archived_snapshots` is sometimes empty for an archived page when the service is busy (lychee's tests
  say so): that is "no suggestion this time", not an error; the pipeline caches it for a week only;
- the closest capture may be of an error or a redirect (`status` "404", "302"): a copy of a 404 page or of a
  redirect to a home page is no copy of the page, so only a 2xx capture is suggested;
- snapshot URLs come back as `http://web.archive.org/...`: they are suggested as https;
- a URL that is not a `web.archive.org/web/<timestamp>/` address is never suggested (the report shows it
  as a link);
- a 429/5xx, an HTML error page, a timeout or a refused connection mean the service cannot answer:
  `SourceUnavailable`, which says nothing about the link.

Parsing is pure (`parse_availability`); `closest_snapshot` does the one request through an injected client;
`archived_copies` asks for a night's dead links through the store (crawler.sources.answers).
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from crawler.errors import BodyTooLarge, NameNotResolved, PrivateAddressRefused, SourceUnavailable, error_text
from crawler.models import PaperMeta
from crawler.net.body import read_capped
from crawler.sources.answers import STALE, Asker, InLookups
from crawler.sources.base import SourceStates
from crawler.store.cache import Store

SOURCE = "wayback"
API_URL = "https://archive.org/wayback/available"
MAX_BODY = 64 * 1024  # an answer is a few hundred bytes; an error page has no business being larger
MAX_AGE = 7 * 86400.0  # a week, as for other answers about papers and pages
# Questions per run: the service answers one at a time in seconds, and a list that lost a thousand pages
# in one night must not spend the job's hour on it. The rest are asked on the following nights.
MAX_PER_RUN = 100

_SNAPSHOT = re.compile(r"^https?://web\.archive\.org/web/(\d{14})(?:[a-z]{2}_)?/(\S+)$")


@dataclass(frozen=True)
class Snapshot:
    """One capture, as the availability API describes it."""

    url: str  # https://web.archive.org/web/<timestamp>/<original>
    timestamp: str  # YYYYMMDDhhmmss, UTC
    status: int  # the HTTP status the page had when it was captured


def wayback_timestamp(unix_time: float) -> str:
    """1379566000.0 -> '20130919044640' (UTC), the API's `timestamp` parameter."""
    return time.strftime("%Y%m%d%H%M%S", time.gmtime(unix_time))


def query_params(url: str, near: float | None = None) -> dict[str, str]:
    """Parameters of the one request for `url`; `near` asks for the capture closest to that Unix time."""
    # The API finds nothing for a site's root written with its trailing slash (lychee strips it too).
    if re.fullmatch(r"https?://[^/?#]+/", url):
        url = url[:-1]
    params = {"url": url}
    if near is not None:
        params["timestamp"] = wayback_timestamp(near)
    return params


def parse_availability(text: str) -> Snapshot | None:
    """The usable capture in an availability answer, or None when there is none.

    Raises ValueError when the text is not such an answer (an error page, a truncated body).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("archived_snapshots"), dict):
        raise ValueError("no archived_snapshots in the answer")
    closest = data["archived_snapshots"].get("closest")
    if closest is None:
        return None
    if not isinstance(closest, dict):
        raise ValueError("archived_snapshots.closest is not an object")
    if closest.get("available") is not True:
        return None
    try:
        status = int(str(closest.get("status", "")))
    except ValueError:
        return None  # "-" or missing: the capture's own status is unknown, so it proves nothing
    found = _SNAPSHOT.match(str(closest.get("url", "")))
    if not found or not 200 <= status < 300:
        return None
    return Snapshot(url="https://" + found.group(0).split("://", 1)[1], timestamp=found.group(1), status=status)


async def closest_snapshot(client: httpx.AsyncClient, url: str, timeout: float, *, near: float | None = None,
                           api_url: str = API_URL) -> str | None:
    """The archived copy of `url` to suggest (an https web.archive.org URL), or None if the archive has none.

    Raises SourceUnavailable when the service cannot answer (timeout, refused, 429, 5xx, an unreadable body).
    """
    try:
        async with client.stream("GET", api_url, params=query_params(url, near), timeout=timeout,
                                 headers={"Accept": "application/json"}) as response:
            status = response.status_code
            body = await read_capped(response, MAX_BODY, whole=True)
    except BodyTooLarge:
        raise SourceUnavailable(SOURCE, f"answer over {MAX_BODY} bytes for {url}") from None
    except httpx.TimeoutException:
        raise SourceUnavailable(SOURCE, f"timeout after {timeout:g} s for {url}") from None
    except (httpx.HTTPError, NameNotResolved, PrivateAddressRefused, OSError) as exc:
        # The guard's own refusals (no DNS answer, a private address) come through the client unchanged.
        raise SourceUnavailable(SOURCE, f"{error_text(exc, type(exc).__name__)} for {url}") from None
    if status != 200:
        what = "rate limited" if status == 429 else f"HTTP {status}"
        raise SourceUnavailable(SOURCE, f"{what} for {url}")
    try:
        snapshot = parse_availability(body.decode("utf-8", errors="replace"))
    except ValueError as exc:
        raise SourceUnavailable(SOURCE, f"{error_text(exc, 'unreadable answer')} for {url}") from None
    return snapshot.url if snapshot else None


class _Snapshots(InLookups[str, "str | None"]):
    """A link's copy (or None: the archive has none) under `wayback:<url>`."""

    def key(self, question: str) -> str:
        return f"wayback:{question}"

    def dump(self, answer: str | None) -> Any:
        return {"snapshot": answer}

    def load(self, kept: Any, papers: Mapping[str, PaperMeta]) -> str | None:
        return kept.get("snapshot") if isinstance(kept, dict) else STALE


async def archived_copies(wanted: dict[str, float | None], store: Store, client: Callable[[str], httpx.AsyncClient],
                          *, now: float, timeout: float, states: SourceStates, offline: bool = False) -> dict[str, str]:
    """key -> the snapshot to suggest, for the dead links in `wanted` (key -> when it last worked, if known).

    Each answer is kept as soon as it comes, so a run stopped halfway keeps what it asked; the first failure
    says the service is down or limiting us, and nothing more is asked this run.
    """

    async def ask(urls: list[str]) -> dict[str, str | None]:
        return {url: await closest_snapshot(client(API_URL), url, timeout, near=wanted[url]) for url in urls}

    asker = Asker(SOURCE, store, states, now=now, max_age=MAX_AGE, offline=offline)
    found = await asker.answer(_Snapshots(), wanted, ask, one_by_one=True, most=MAX_PER_RUN)
    return {url: snapshot for url, snapshot in found.items() if snapshot}
