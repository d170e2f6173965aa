"""Manners per host: spacing between request starts, one pause for the whole host after a 429, and the
gate every request of a run passes through, whoever sends it.

Why: with eight requests in flight to github.com, each collected its own 429, 96 in one
run. A 429 says "this machine asks too much of me", not "this URL is busy". So every request to
that host waits out the pause, those already queued included. Later requests are then spaced at
the rate the host evidently allowed.

The gate (`HostGate`, one per client pool) puts the host's slots, its turn and a slot among all hosts
in one place, so that link checks, venue pages, the APIs and the archive share one set of manners per
host: a 429 that an API answers pauses the link checks of that host too. When the checks run in worker
processes, the run's gate lends each host to the worker that checks it, with its manners (`lend`,
`take_back`), and the workers' share of the slots of all hosts (`lend_slots`): one gate paces a host at a
time, whichever process it is in.

Time is injected (a monotonic `now` and the `sleep` that goes with it), so a test runs minutes of
pauses in milliseconds. No loop here waits for the clock to move: each wait is one sleep of a
computed length, so a frozen test clock cannot spin.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import random
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from crawler.config import Settings
from crawler.errors import HostPaused

# A learned spacing keeps this much (10 %) below the rate the host allowed before its 429.
SLACK = 1.1
# Slower than this (6 requests a minute) a night's list is not finished anyway: we stop learning there.
MAX_LEARNED_SPACING = 10.0
_STARTS_KEPT = 512  # recent request starts per host, for estimating the rate it allowed


@dataclass
class HostState:
    """What the pacer knows of one host; it travels with the host when a gate lends it to another process."""

    spacing: float
    next_start: float = float("-inf")  # the earliest start of the next request
    paused_until: float = float("-inf")
    strikes: int = 0  # 429s in a row, for the backoff when a 429 names no Retry-After
    starts: deque[float] = field(default_factory=lambda: deque(maxlen=_STARTS_KEPT))


class HostPacer:
    """When a request to a host may start. One per HostGate, shared by every request that passes it."""

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
        self._hosts: dict[str, HostState] = {}

    def _host(self, host: str) -> HostState:
        state = self._hosts.get(host)
        if state is None:
            rule = self._settings.host_rule(host)
            state = self._hosts[host] = HostState(spacing=(rule.spacing if rule else None) or 0.0)
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

    def at_least(self, host: str, spacing: float) -> None:
        """Space requests to `host` at least `spacing` seconds apart from now on (what an API says it allows)."""
        state = self._host(host)
        state.spacing = max(state.spacing, min(MAX_LEARNED_SPACING, spacing))

    def strikes(self, host: str) -> int:
        """429s from `host` in a row so far."""
        state = self._hosts.get(host)
        return state.strikes if state else 0

    def state(self, host: str) -> HostState:
        """A copy of what the pacer knows of `host`, to hand to another process."""
        return dataclasses.replace(self._host(host), starts=deque(self._host(host).starts, maxlen=_STARTS_KEPT))

    def adopt(self, host: str, state: HostState) -> None:
        """Pace `host` from `state` on (what another process knew of it)."""
        self._hosts[host] = dataclasses.replace(state, starts=deque(state.starts, maxlen=_STARTS_KEPT))

    def answered(self, host: str) -> None:
        """`host` gave an answer other than 429: its run of 429s is over (the learned spacing stays)."""
        state = self._hosts.get(host)
        if state is not None:
            state.strikes = 0


def retry_after(value: str | None, now: float) -> float | None:
    """Seconds a Retry-After header asks for (a number or an HTTP date; `now` is wall time), or None."""
    if not value:
        return None
    value = value.strip()
    if re.fullmatch(r"\d+(\.\d+)?", value):
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - now)


class HostGate:
    """The way every request of a run goes to its host: one of the host's slots (its concurrency), its turn
    (spacing, the pause after a 429), then one of the slots of all hosts.

    A paused host holds none of the slots other hosts need: its slot is taken first and the global one
    only once its turn has come. `enter`/`leave` are the two halves (a response holds its slots until
    it is closed); a synchronous caller in a worker thread uses `enter_from_thread`/`leave_from_thread`.
    """

    def __init__(self, settings: Settings, *, now: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep, clock: Callable[[], float] = time.time,
                 rng: random.Random | None = None):
        self.settings = settings
        self.pacer = HostPacer(settings, now=now, sleep=sleep)
        self.all = asyncio.Semaphore(settings.concurrency)
        self._slots: dict[str, asyncio.Semaphore] = {}
        self._lent: set[str] = set()  # hosts another process paces now (lend, take_back)
        self._slots_lent = 0  # of `all`, held for other processes (lend_slots)
        self._clock = clock  # wall time: Retry-After may be a date
        self._rng = rng or random.Random()

    def limit(self, host: str) -> int:
        rule = self.settings.host_rule(host)
        return (rule.concurrency if rule and rule.concurrency else None) or self.settings.host_concurrency

    def slots(self, host: str) -> asyncio.Semaphore:
        slots = self._slots.get(host)
        if slots is None:
            slots = self._slots[host] = asyncio.Semaphore(self.limit(host))
        return slots

    async def enter(self, host: str) -> None:
        """Wait for a slot of `host`, its turn and a global slot; raises HostPaused (holding nothing) when the
        host asked for a pause longer than `retry_after_ceiling`."""
        slots = self.slots(host)
        await slots.acquire()
        try:
            away = await self.pacer.turn(host)
            if away is not None:
                raise HostPaused(host, away)
            await self.all.acquire()
        except BaseException:
            slots.release()
            raise

    def leave(self, host: str) -> None:
        self.all.release()
        self.slots(host).release()

    @asynccontextmanager
    async def turn(self, host: str) -> AsyncIterator[None]:
        await self.enter(host)
        try:
            yield
        finally:
            self.leave(host)

    # -- what the host answered ------------------------------------------------------------------------
    def backoff(self, attempt: int) -> float:
        """Exponential backoff with full jitter for the `attempt`-th try (from 1)."""
        base = self.settings.backoff_base * (2 ** (attempt - 1))
        return self._rng.uniform(base / 2, base)

    def pause_for(self, host: str, seconds: float | None, backoff: Callable[[int], float] | None = None) -> float:
        """`host` answered 429: pause it for `seconds` (its Retry-After), else for a backoff that grows with
        its 429s in a row, and at least its rule's pause. Returns the pause."""
        rule = self.settings.host_rule(host)
        wait = seconds if seconds is not None else (backoff or self.backoff)(self.pacer.strikes(host) + 1)
        wait = max(wait, (rule.pause if rule else None) or 0.0)
        self.pacer.pause(host, wait)
        return wait

    def heard(self, host: str, status: int, headers: Mapping[str, str]) -> None:
        """What a request the gate let through was answered: a 429 pauses the host (unless the host's rule
        accepts 429 as an answer), anything else ends its run of 429s. `headers` looks names up in lower case
        (httpx's headers do, whatever the case)."""
        rule = self.settings.host_rule(host)
        if status == 429 and not (rule and 429 in rule.accept):
            self.pause_for(host, retry_after(headers.get("retry-after"), self._clock()))
        else:
            self.pacer.answered(host)

    # -- a host lent to another process's gate (crawler.checking.workers) ----------------------------------
    async def lend(self, host: str) -> HostState:
        """Hand `host` to another process: take all of its slots here (once the requests in flight have ended), so
        that no request of this process goes to it until `take_back`, and return what the pacer knows of it (its
        pause, spacing and next start) for the borrower's gate to `adopt`. One gate paces a host at a time."""
        if host in self._lent:
            raise ValueError(f"{host} is lent already")
        await _acquire(self.slots(host), self.limit(host))
        self._lent.add(host)
        return self.pacer.state(host)

    def take_back(self, host: str, state: HostState | None = None) -> None:
        """`host` is back, with what the borrower's gate learned of it (None: as it was lent); its slots are free."""
        if host not in self._lent:
            return
        self._lent.discard(host)
        if state is not None:
            self.pacer.adopt(host, state)
        _release(self.slots(host), self.limit(host))

    def lent(self) -> frozenset[str]:
        return frozenset(self._lent)

    def adopt(self, host: str, state: HostState) -> None:
        """The borrower's side of `lend`: pace `host` from where the lender left it."""
        self.pacer.adopt(host, state)

    def state(self, host: str) -> HostState:
        """The borrower's side of `take_back`: what this gate knows of `host` now."""
        return self.pacer.state(host)

    async def lend_slots(self, count: int) -> int:
        """Hold `count` of the slots of all hosts for other processes (as many as are not lent yet, at most);
        returns how many."""
        count = min(count, self.settings.concurrency - self._slots_lent)
        self._slots_lent += count
        try:
            await _acquire(self.all, count)
        except BaseException:
            self._slots_lent -= count
            raise
        return count

    def take_back_slots(self, count: int) -> None:
        self._slots_lent -= count
        _release(self.all, count)

    # -- for synchronous callers in a worker thread (the `arxiv` package) ------------------------------------
    def enter_from_thread(self, loop: asyncio.AbstractEventLoop, host: str) -> None:
        asyncio.run_coroutine_threadsafe(self.enter(host), loop).result()

    def leave_from_thread(self, loop: asyncio.AbstractEventLoop, host: str) -> None:
        loop.call_soon_threadsafe(self.leave, host)

    def heard_from_thread(self, loop: asyncio.AbstractEventLoop, host: str, status: int,
                          headers: Mapping[str, str]) -> None:
        loop.call_soon_threadsafe(self.heard, host, status, {k.lower(): v for k, v in headers.items()})


async def _acquire(semaphore: asyncio.Semaphore, count: int) -> None:
    """`count` of the semaphore's slots, or none of them if the wait is cancelled."""
    taken = 0
    try:
        for _ in range(count):
            await semaphore.acquire()
            taken += 1
    except BaseException:
        _release(semaphore, taken)
        raise


def _release(semaphore: asyncio.Semaphore, count: int) -> None:
    for _ in range(count):
        semaphore.release()
