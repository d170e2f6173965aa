"""A gate's hosts and slots lent to worker processes, each taken back once.

The checks of a big list run in worker processes (crawler.checking.workers), each with its own client pool
and gate, while the run's sources send their requests through the main process's pool. So that one gate
paces each host at a time, the main gate lends every host to the worker that checks it, with what it knows
of the host (its pause after a 429, its spacing, when its next request may start), and holds back the
workers' share of the slots of all hosts: while a host is lent, a request of the main process to it waits,
and the total in flight over all processes stays within `concurrency`. When a worker is done it hands back
what its gate learned of its hosts (a 429 it was answered pauses the sources' requests too).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Hashable, Mapping

from crawler.net.pacing import HostGate, HostState


class Loans:
    """What `gate` has lent to each borrower (a worker); with no gate, nothing is lent and nothing waits."""

    def __init__(self, gate: HostGate | None):
        self.gate = gate
        self._hosts: dict[Hashable, set[str]] = defaultdict(set)
        self._slots: dict[Hashable, int] = {}

    async def slots(self, borrower: Hashable, count: int) -> None:
        """Hold `count` of the slots of all hosts for `borrower` (waiting for requests in flight to end)."""
        if self.gate is not None:
            self._slots[borrower] = self._slots.get(borrower, 0) + await self.gate.lend_slots(count)

    async def host(self, borrower: Hashable, host: str) -> HostState | None:
        """Lend `host` to `borrower`: what the gate knew of it, for the borrower's gate to adopt."""
        if self.gate is None:
            return None
        state = await self.gate.lend(host)
        self._hosts[borrower].add(host)
        return state

    def back(self, borrower: Hashable, states: Mapping[str, HostState] | None = None) -> None:
        """`borrower` is done: its hosts come back with what it learned of them (as lent when it said nothing),
        and its slots are free. Once: a second call gives back nothing."""
        if self.gate is None:
            return
        states = states or {}
        for host in self._hosts.pop(borrower, ()):
            self.gate.take_back(host, states.get(host))
        self.gate.take_back_slots(self._slots.pop(borrower, 0))

    def all_back(self) -> None:
        for borrower in list(self._hosts.keys() | self._slots.keys()):
            self.back(borrower)
