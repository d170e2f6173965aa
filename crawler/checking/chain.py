"""The chain that decides every link's verdict: each handler finishes some links and passes the rest on.

After lychee's request chain (lychee-lib/src/chain/mod.rs), where each handler returns Next or Done. Ours
work on batches, since a verifier judges fifty GitHub repositories in one request and the web check runs
hundreds of requests at once: a handler is given every link still open and answers, for each link it has
something to say of, `Done(record)` (its verdict, final) or `Next(page)` (what it saw, for a later handler
to finish: a paper's page that loaded, for the paper judge). A link it says nothing of goes on as it came.

The check stage's chain (crawler.checking.stage) runs, in order: the precheck (what needs no network), the
cache, the verifiers that judge in batches, the web check of each page, and the paper judge. Each link's
record is made once, by crawler.checking.verdicts, and is final when a handler says Done: no handler
rewrites another's verdict.
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from crawler.models import CheckResult


@dataclass(frozen=True)
class Done:
    """The link's verdict: no later handler sees it."""

    record: CheckResult


@dataclass(frozen=True)
class Next:
    """Not decided here: the link goes on, with what this handler saw of it (`page`) for a later one."""

    page: CheckResult | None = None


Step = Done | Next


class Handler(abc.ABC):
    """One link of the chain."""

    @abc.abstractmethod
    async def handle(self, keys: list[str], seen: Mapping[str, CheckResult]) -> Mapping[str, Step]:
        """A step for each of `keys` this handler has something to say of; `seen` holds what earlier handlers
        passed on (Next.page) for some of them."""


class Chain:
    def __init__(self, handlers: Sequence[Handler]):
        self.handlers = tuple(handlers)

    async def decide(self, keys: Sequence[str]) -> dict[str, CheckResult]:
        """key -> its record, for every key: the last handler must finish what is still open."""
        records: dict[str, CheckResult] = {}
        seen: dict[str, CheckResult] = {}
        open_keys = list(keys)
        for handler in self.handlers:
            if not open_keys:
                break
            steps = await handler.handle(open_keys, seen)
            for key, step in steps.items():
                if isinstance(step, Done):
                    records[key] = step.record
                elif step.page is not None:
                    seen[key] = step.page
            open_keys = [k for k in open_keys if k not in records]
        if open_keys:
            raise RuntimeError(f"no handler decided {len(open_keys)} link(s), first {open_keys[0]!r}")
        return {key: records[key] for key in keys}
