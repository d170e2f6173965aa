"""Archived copies of dead pages, from the Wayback Machine's availability API.

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

Parsing is pure (`parse_availability`); `closest_snapshot` does the one request through an injected client.
Which links get asked about (dead ones with no paper suggestion, once) is the pipeline's business.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass

import httpx

from crawler.errors import BodyTooLarge, NameNotResolved, PrivateAddressRefused, SourceUnavailable, error_text
from crawler.net.body import read_capped

SOURCE = "wayback"
API_URL = "https://archive.org/wayback/available"
MAX_BODY = 64 * 1024  # an answer is a few hundred bytes; an error page has no business being larger

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
