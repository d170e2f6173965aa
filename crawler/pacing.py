"""Manners per host: spacing between request starts, and one pause for the whole host after a 429.

Why (issue 12): with eight requests in flight to github.com, each collected its own 429, 96 in one
run. A 429 says "this machine asks too much of me", not "this URL is busy". So every request to
that host waits out the pause, those already queued included. Later requests are then spaced at
the rate the host evidently allowed.

Time is injected (a monotonic `now` and the `sleep` that goes with it), so a test runs minutes of
pauses in milliseconds. No loop here waits for the clock to move: each wait is one sleep of a
computed length, so a frozen test clock cannot spin.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from crawler.config import Settings

# A learned spacing keeps this much (10 %) below the rate the host allowed before its 429.
SLACK = 1.1
# Slower than this (6 requests a minute) a night's list is not finished anyway: we stop learning there.
MAX_LEARNED_SPACING = 10.0
_STARTS_KEPT = 512  # recent request starts per host, for estimating the rate it allowed


@dataclass
class _Host:
    spacing: float
    next_start: float = float("-inf")  # the earliest start of the next request
    paused_until: float = float("-inf")
    strikes: int = 0  # 429s in a row, for the backoff when a 429 names no Retry-After
    starts: deque[float] = field(default_factory=lambda: deque(maxlen=_STARTS_KEPT))


class HostPacer:
    """When a request to a host may start. One per Checker, shared by all its checks."""

    def __init__(
        self,
        settings: Settings,
        *,
        now: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ):
        self._settings = settings
        self._now = now
        self._sleep = sleep
        self._hosts: dict[str, _Host] = {}

    def _host(self, host: str) -> _Host:
        state = self._hosts.get(host)
        if state is None:
            rule = self._settings.host_rule(host)
            state = self._hosts[host] = _Host(spacing=(rule.spacing if rule else None) or 0.0)
        return state

    def spacing(self, host: str) -> float:
        """The host's current spacing in seconds (its rule's, or what a 429 taught us)."""
        return self._host(host).spacing

    def paused_for(self, host: str) -> float:
        """Seconds the host's pause still lasts (0 when it is not paused)."""
        state = self._hosts.get(host)
        return max(0.0, state.paused_until - self._now()) if state else 0.0

    async def turn(self, host: str) -> float | None:
        """Wait until a request to `host` may start, then count it as started.

        Returns None, or, without waiting, the seconds the host still asks us to stay away when that
        is longer than we wait for anyone (`retry_after_ceiling`): that request must not be sent.
        """
        state = self._host(host)
        while True:
            now = self._now()
            if state.paused_until - now > self._settings.retry_after_ceiling:
                return state.paused_until - now
            start = max(now, state.paused_until, state.next_start)
            state.next_start = start + state.spacing
            if start > now:
                await self._sleep(start - now)
            # A 429 that arrived while we slept moves the pause past our slot: wait for it too.
            # (Only a new 429 can make this true again, so the loop ends.)
            if state.paused_until <= start:
                state.starts.append(start)
                return None

    def pause(self, host: str, seconds: float) -> None:
        """`host` answered 429: no request to it starts for `seconds`, and later ones are spaced out.

        The spacing becomes the rate the host allowed before it refused (the requests started in the
        `seconds` before this 429, the refused one not counted), with SLACK to spare, never slower
        than MAX_LEARNED_SPACING. A 429 on the first request teaches no rate, only the pause.
        """
        state = self._host(host)
        now = self._now()
        state.paused_until = max(state.paused_until, now + seconds)
        state.strikes += 1
        allowed = sum(1 for t in state.starts if t > now - seconds) - 1
        if allowed >= 1:
            state.spacing = max(state.spacing, min(MAX_LEARNED_SPACING, SLACK * seconds / allowed))

    def strikes(self, host: str) -> int:
        """429s from `host` in a row so far."""
        state = self._hosts.get(host)
        return state.strikes if state else 0

    def answered(self, host: str) -> None:
        """`host` gave an answer other than 429: its run of 429s is over (the learned spacing stays)."""
        state = self._hosts.get(host)
        if state is not None:
            state.strikes = 0
