"""One JSON request to an API through the run's client pool, with every way it can fail as one exception.

The sources that ask JSON APIs (OpenReview, Crossref, doi.org's handles) need the same things: a time limit
on the whole answer, a cap on its size, the gate's refusal (a host paused by a 429) told apart, and
httpx's and the guard's errors translated at this boundary into `Unanswered` with a one-line reason.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

from crawler.errors import BodyTooLarge, HostPaused, NameNotResolved, PrivateAddressRefused, error_text
from crawler.net.body import read_capped

MAX_BODY = 16 * 1024 * 1024  # fifty notes or works with abstracts are a few hundred KB


class Unanswered(Exception):
    """The API gave no usable answer: `reason` says why, in one line (never a credential)."""

    def __init__(self, reason: str, *, paused: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.paused = paused  # the host is paused after a 429 (this run's): a rate limit, not an outage


@dataclass(frozen=True)
class Answer:
    status: int
    headers: httpx.Headers
    payload: Any  # the parsed JSON, None when the body is not JSON
    text: str  # the body's start, for a message

    def field(self, name: str) -> str:
        """A string field of a JSON object answer ('' when absent): OpenReview's `name` and `message`."""
        value = self.payload.get(name) if isinstance(self.payload, dict) else None
        return value if isinstance(value, str) else ""


async def ask(client: httpx.AsyncClient, method: str, url: str, *, timeout: float, max_body: int = MAX_BODY,
              **kwargs: Any) -> Answer:
    """Send one request and read its answer (at most `max_body` bytes) within `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            async with client.stream(method, url, **kwargs) as response:
                body = await read_capped(response, max_body, whole=True)
    except BodyTooLarge as exc:
        raise Unanswered(str(exc)) from None
    except HostPaused as exc:
        raise Unanswered(f"rate limited ({exc})", paused=True) from None
    except (TimeoutError, httpx.TimeoutException):
        raise Unanswered(f"no answer within {timeout:g} s") from None
    except (httpx.HTTPError, NameNotResolved, PrivateAddressRefused, OSError) as exc:
        raise Unanswered(error_text(exc, type(exc).__name__)) from None
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        payload = None
    return Answer(response.status_code, response.headers, payload, body[:200].decode("utf-8", "replace"))
