"""GitHub links checked through the GraphQL API: many repositories per request.

github.com answers a burst of page loads with `429 Retry-After: 60`, and a CI runner shares its address
with others; the job's own token answers fifty repositories in one request and says more than a page
load would: renamed, archived, stars, last push, whether a linked file still exists at that ref.

Which URLs are in scope is crawler.sources.github_urls'; the query and what its answer says of each link,
crawler.sources.github_graphql's. `GitHubVerifier` does the I/O: one request in flight, batches halved
when GitHub times out, the point budget watched, secondary limits waited out up to a cap.

What never makes a link broken: an answer we cannot read, a timeout, a refused token, a spent budget.
Those links go to the ordinary web check (`Verification.to_web`). Only GitHub's own word that a
repository, a tag or a path does not exist does.
"""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx

from crawler.checking import verdicts
from crawler.config import DEFAULT_TIMEOUT, Settings
from crawler.errors import BodyTooLarge, HostPaused, NameNotResolved, PrivateAddressRefused, SourceUnavailable
from crawler.models import CheckResult
from crawler.net.body import read_capped
from crawler.net.credentials import GITHUB_TOKEN, Credentials
from crawler.net.pacing import retry_after as parse_retry_after
from crawler.net.pool import ClientPool
from crawler.sources.base import Claim, Verification, Verifier
from crawler.sources.github_graphql import (
    Found,
    QueryItem,
    RepoAnswer,
    build_query,
    items_for,
    link_finding,
    merge,
    read_answer,
    repo_info,
    take,
    where_now,
)
from crawler.sources.github_urls import GITHUB_HOSTS, RAW_HOST, GitHubRef, Kind, parse_github_url

log = logging.getLogger(__name__)

SOURCE = "github"
GRAPHQL_URL = "https://api.github.com/graphql"
DEFAULT_BATCH = 50  # repositories per query: scalar fields only, well under GitHub's 10 s for a query
DEFAULT_RESERVE = 50  # points left for the job's other steps (GITHUB_TOKEN has 1,000 an hour)
DEFAULT_MAX_WAIT = 180.0  # seconds a run may spend waiting out secondary limits, in all
MIN_SECONDARY_WAIT = 60.0  # GitHub: without retry-after, wait at least a minute
MAX_UNREADABLE = 3  # unreadable answers in a row before GraphQL is given up for the run
MAX_BODY = 8 * 1024 * 1024  # a 50-repository answer is ~20 KB


def link_verdict(key: str, ref: GitHubRef, answer: RepoAnswer, now: float) -> CheckResult | None:
    """The verdict on one link from what GitHub said of its repository; None: leave it to the web check."""
    found = link_finding(ref, answer)
    return None if found is None else verdicts.result(key, found, now, final_url=where_now(ref, answer))


class _Step(enum.Enum):
    READ = "read"
    SMALLER = "smaller"  # GitHub timed out on the batch: halve it
    UNREADABLE = "unreadable"  # this batch's answer cannot be used
    WAIT = "wait"  # secondary limit: wait, then ask again
    STOP = "stop"  # no more GraphQL this run (token refused, budget spent, API unreachable)


@dataclass
class _Reply:
    outcome: _Step
    payload: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    wait: float = 0.0
    token_refused: bool = False


class GitHubVerifier(Verifier):
    """Judges GitHub links with GraphQL when a token is set; with none it claims nothing.

    One request in flight. The client is the pool's for https://api.github.com: the pool, not this
    class, adds the token (crawler.net.credentials), and only for GitHub's https origins.
    """

    name = SOURCE
    claimed_hosts = GITHUB_HOSTS | {RAW_HOST}

    def __init__(
        self,
        client: httpx.AsyncClient | None,
        *,
        endpoint: str = GRAPHQL_URL,
        batch: int = DEFAULT_BATCH,
        reserve: int = DEFAULT_RESERVE,
        max_wait: float = DEFAULT_MAX_WAIT,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        credentials: Credentials | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.client = client
        self.credentials = credentials if credentials is not None else Credentials.from_environment()
        self.endpoint = endpoint
        self.batch = batch
        self.reserve = reserve
        self.max_wait = max_wait
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._requests = 0
        self._waited = 0.0
        self._token_refused = False
        self._stopped: str | None = None  # why GraphQL is not asked any more this run
        self._unreadable = 0
        self._secondary_hits = 0
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, pool: ClientPool | None) -> GitHubVerifier:
        client = pool.client(GRAPHQL_URL) if pool is not None and not settings.offline else None
        return cls(client, timeout=settings.timeout, credentials=pool.credentials if pool is not None else None)

    def _has_token(self) -> bool:
        return self.credentials.value(GITHUB_TOKEN, self.endpoint) is not None

    @property
    def requests_sent(self) -> int:
        return self._requests

    @property
    def unavailable(self) -> SourceUnavailable | None:
        """Why GraphQL was given up this run (its links went to the web check), for the run's source states."""
        return SourceUnavailable(SOURCE, self._stopped) if self._stopped else None

    def claims(self, url: str) -> bool:
        if self.client is None or self._token_refused or not self._has_token():
            return False
        return parse_github_url(url) is not None

    async def verify_all(self, claims: Sequence[Claim]) -> Verification:
        async with self._lock:  # one request in flight, whoever calls
            before = self._requests
            result = await self._verify(claims)
            result.requests = self._requests - before
            result.unavailable = self.unavailable
            return result

    async def _verify(self, claims: Sequence[Claim]) -> Verification:
        out = Verification()
        refs: dict[str, GitHubRef] = {}
        for claim in claims:
            ref = parse_github_url(claim.url) or parse_github_url(claim.key)
            if ref is None:
                out.to_web.add(claim.key)
            else:
                refs[claim.key] = ref
        if self.client is None or self._stopped or not self._has_token():
            out.to_web.update(refs)
            return out
        answers = await self._answers(refs)
        now = self._clock()
        for key, ref in refs.items():
            answer = answers.get(ref.item_key)
            verdict = link_verdict(key, ref, answer, now) if answer is not None else None
            if verdict is None:
                out.to_web.add(key)
            else:
                out.results[key] = verdict
            info = repo_info(answer, now) if answer is not None and ref.kind is not Kind.PROFILE else None
            if info is not None:
                out.repos[key] = info
        return out

    async def _answers(self, refs: dict[str, GitHubRef]) -> dict[str, RepoAnswer]:
        """What GitHub says of each repository and account the links name, in one pass or two."""
        answers = await self._run(items_for(refs.values()))
        # Links whose first reading named no ref: a branch with '/' in its name, or a ref that is gone.
        again = [ref for ref in refs.values() if ref.kind is Kind.TREE and len(ref.splits()) > 1
                 and (a := answers.get(ref.repo_key)) is not None and a.found is Found.YES
                 and a.objects.get(f"{ref.splits()[0][0]}:") is Found.NO]
        if again:
            more = await self._run(items_for(again, first=False))
            answers.update({k: merge(answers[k], v) for k, v in more.items()})
        return answers

    async def _run(self, queue: list[QueryItem]) -> dict[str, RepoAnswer]:
        """Ask about every item, batch by batch; an item left out of the answer could not be asked or read."""
        answers: dict[str, RepoAnswer] = {}
        while queue and not self._stopped:
            batch = take(queue, self.batch)
            reply = await self._ask(batch)
            if reply.outcome is _Step.WAIT:
                if not await self._wait_out(reply):
                    break
            elif reply.outcome is _Step.STOP:
                self._stop(reply.reason, token_refused=reply.token_refused)
                break
            elif reply.outcome is _Step.SMALLER:
                self._smaller(batch, queue, reply)
            else:
                del queue[: len(batch)]
                if reply.outcome is _Step.UNREADABLE:
                    self._unreadable_answer(reply)
                elif not self._read(batch, reply, answers, more=bool(queue)):
                    break
        return answers

    async def _wait_out(self, reply: _Reply) -> bool:
        """A secondary limit waited out, unless the run has waited enough already (then GraphQL stops)."""
        if self._waited + reply.wait > self.max_wait:
            self._stop(f"secondary rate limit (asked to wait {reply.wait:g} s after {self._waited:g} s of waiting)")
            return False
        self._waited += reply.wait
        log.warning("github: secondary rate limit, waiting %g s", reply.wait)
        await self._sleep(reply.wait)
        return True

    def _smaller(self, batch: list[QueryItem], queue: list[QueryItem], reply: _Reply) -> None:
        """GitHub timed out on the batch: halve the batches, or leave an item that times out alone to the web."""
        if len(batch) > 1:
            self.batch = max(1, sum(i.weight for i in batch) // 2)
            log.debug("github: %s; at most %d repositories per query from now on", reply.reason, self.batch)
        else:
            del queue[:1]  # even alone it times out: the web check will say

    def _unreadable_answer(self, reply: _Reply) -> None:
        self._unreadable += 1
        log.debug("github: unreadable answer (%s)", reply.reason)
        if self._unreadable >= MAX_UNREADABLE:
            self._stop(f"{self._unreadable} unreadable answers in a row ({reply.reason})")

    def _read(self, batch: list[QueryItem], reply: _Reply, answers: dict[str, RepoAnswer], *, more: bool) -> bool:
        """The batch's answers added to `answers`; False when the token turns out unable to read."""
        self._unreadable = 0
        found, budget = read_answer(batch, reply.payload)
        repos = [found[i.key] for i in batch if i.name is not None and i.key in found]
        if repos and all(a.forbidden for a in repos):
            self._stop("the token cannot read repositories (Resource not accessible by integration)",
                       token_refused=True)
            return False
        answers.update(found)
        if budget is not None and budget.remaining is not None and more \
                and budget.remaining < (budget.cost or 1) + self.reserve:
            self._stop(f"GraphQL budget nearly spent ({budget.remaining} points left until "
                       f"{budget.reset_at or 'the hour is over'})")
        return True

    def _stop(self, reason: str, *, token_refused: bool = False) -> None:
        reason = self.credentials.redact(reason)  # GitHub never echoes the token; if it did, it stays out of logs
        if self._stopped is None:
            log.warning("github: %s; GitHub links are checked on the web instead", reason)
            self._stopped = reason
        self._token_refused = self._token_refused or token_refused

    async def _ask(self, batch: Sequence[QueryItem]) -> _Reply:
        query, variables = build_query(batch)
        assert self.client is not None
        self._requests += 1
        try:
            async with asyncio.timeout(self.timeout):
                async with self.client.stream(
                    "POST", self.endpoint, json={"query": query, "variables": variables},
                    headers={"Accept": "application/json"}, follow_redirects=False,
                ) as response:
                    body = await read_capped(response, MAX_BODY, whole=True)
        except (TimeoutError, httpx.TimeoutException):
            return _Reply(_Step.SMALLER, reason=f"no answer within {self.timeout:g} s")
        except HostPaused as exc:  # a 429 paused api.github.com for longer than we wait
            return _Reply(_Step.STOP, reason=str(exc))
        except (NameNotResolved, PrivateAddressRefused, httpx.ConnectError, httpx.UnsupportedProtocol) as exc:
            return _Reply(_Step.STOP, reason=f"cannot reach {self.endpoint} ({type(exc).__name__})")
        except BodyTooLarge:
            return _Reply(_Step.UNREADABLE, reason="answer too large")
        except (httpx.HTTPError, OSError) as exc:  # a dropped connection, a body cut short
            return _Reply(_Step.UNREADABLE, reason=f"{type(exc).__name__}")
        return self._classify(response, body)

    def _classify(self, response: httpx.Response, body: bytes) -> _Reply:
        status = response.status_code
        payload = _json(body)
        message = _message(payload)
        lowered = message.lower()
        if status == 401:
            return _Reply(_Step.STOP, reason=f"the token cannot read (HTTP 401 {message or 'unauthorized'})",
                          token_refused=True)
        secondary = "secondary rate limit" in lowered or "abuse" in lowered
        if status in (403, 429) or (secondary and not isinstance((payload or {}).get("data"), dict)):
            return self._refused(response, message, secondary=secondary)
        if status in (502, 504):
            return _Reply(_Step.SMALLER, reason=f"HTTP {status}")
        if status != 200:
            return _Reply(_Step.UNREADABLE, reason=f"HTTP {status}")
        if payload is None:
            return _Reply(_Step.UNREADABLE, reason="not JSON")
        if not isinstance(payload.get("data"), dict):
            return _no_data(payload, message)
        return _Reply(_Step.READ, payload=payload)

    def _refused(self, response: httpx.Response, message: str, *, secondary: bool) -> _Reply:
        """A 403 or 429, or a secondary limit: wait, stop, or give up on this answer."""
        lowered = message.lower()
        # GitHub's order: retry-after first; remaining 0 is the hourly budget; else wait a minute, doubling.
        retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock())
        if retry_after is not None or secondary:
            self._secondary_hits += 1
            wait = retry_after if retry_after is not None else MIN_SECONDARY_WAIT * 2 ** (self._secondary_hits - 1)
            return _Reply(_Step.WAIT, wait=wait, reason="secondary rate limit")
        if response.headers.get("x-ratelimit-remaining") == "0" or "rate limit" in lowered:
            return _Reply(_Step.STOP, reason=f"GraphQL budget spent (HTTP {response.status_code})")
        if "not accessible by integration" in lowered:
            return _Reply(_Step.STOP, reason=f"the token cannot read ({message})", token_refused=True)
        return _Reply(_Step.UNREADABLE, reason=f"HTTP {response.status_code}")


def _no_data(payload: dict[str, Any], message: str) -> _Reply:
    """An answer without `data`: a spent budget, a query GitHub could not finish, a token that cannot read."""
    lowered = message.lower()
    errors = payload.get("errors")
    if isinstance(errors, list) and any(isinstance(e, dict) and e.get("type") in ("RATE_LIMITED", "RATE_LIMIT")
                                        for e in errors):
        return _Reply(_Step.STOP, reason=f"GraphQL budget spent ({message})")
    if "something went wrong" in lowered or "timeout" in lowered:
        return _Reply(_Step.SMALLER, reason="GitHub could not finish the query")
    if "not accessible by integration" in lowered:
        return _Reply(_Step.STOP, reason=f"the token cannot read ({message})", token_refused=True)
    return _Reply(_Step.UNREADABLE, reason=f"no data ({message[:200] or 'empty answer'})")


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _message(payload: dict[str, Any] | None) -> str:
    """GitHub's words: REST-style `message`, or the first GraphQL error's (never the request, never a token)."""
    if not payload:
        return ""
    if isinstance(payload.get("message"), str):
        return payload["message"]
    errors = payload.get("errors")
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                return error["message"]
    return ""



