"""Cache, then ask, then record: the one way a question to a source is answered.

A question the store holds a fresh answer to (younger than `max_age`: `--metadata-max-age`, a week by
default) is not asked again. The others are asked of the source, unless the run is offline or the source,
or the scope the question belongs to ("CVPR 2019"), already failed this run (SourceStates); what the source
answers is recorded at once, and a failure records nothing: the store keeps its last answer, and the run's
states say why the source stopped, so that nothing asks it again.

How the store keeps each kind of answer is a `Kept`; most are `InLookups`: the question's key in the
`lookups` table, the JSON the answer is kept as there, and the papers it names (kept in `papers`, beside it).
"""

from __future__ import annotations

import abc
import logging
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from crawler.errors import SourceUnavailable
from crawler.models import PaperMeta
from crawler.sources.base import WHOLE, SourceStates
from crawler.store.cache import Store, paper_key

log = logging.getLogger("crawler")

Q = TypeVar("Q")  # a question: an id, a title, a venue-year, a URL
A = TypeVar("A")  # its answer
STALE: Any = object()  # what `Kept.load` gives for a kept answer that cannot be used: ask again


def _paper_keys(kept: Any) -> list[str]:
    """The papers' keys a kept answer names: `{"key": k}` (one paper) or `[k, ...]` (a listing, a search)."""
    if isinstance(kept, dict):
        return [kept["key"]] if isinstance(kept.get("key"), str) else []
    return [k for k in kept if isinstance(k, str)] if isinstance(kept, list) else []


class Kept(abc.ABC, Generic[Q, A]):
    """How the store keeps the answers to one kind of question."""

    @abc.abstractmethod
    def recorded(self, store: Store, questions: Iterable[Q], now: float, max_age: float) -> dict[Q, A]:
        """The fresh answers the store holds among `questions`."""

    @abc.abstractmethod
    def record(self, store: Store, answers: Mapping[Q, A], now: float) -> None:
        """Keep what the source answered."""


class InLookups(Kept[Q, A]):
    """Answers kept in the store's `lookups` table, as JSON under the question's key, and the papers they name."""

    @abc.abstractmethod
    def key(self, question: Q) -> str:
        """The question's key in the store."""

    @abc.abstractmethod
    def dump(self, answer: A) -> Any:
        """The answer as the store keeps it."""

    @abc.abstractmethod
    def load(self, kept: Any, papers: Mapping[str, PaperMeta]) -> A:
        """The answer back from what the store kept and the papers it names; STALE when it cannot be used."""

    def papers(self, answer: A) -> Iterable[PaperMeta]:
        """The papers an answer names, kept beside it."""
        return ()

    def recorded(self, store: Store, questions: Iterable[Q], now: float, max_age: float) -> dict[Q, A]:
        keys = {q: self.key(q) for q in questions}
        kept = store.lookups(keys.values(), now, max_age)
        named = {k for answer in kept.values() for k in _paper_keys(answer)}
        papers = store.papers(named) if named else {}
        found = {q: self.load(kept[key], papers) for q, key in keys.items() if key in kept}
        return {q: answer for q, answer in found.items() if answer is not STALE}

    def record(self, store: Store, answers: Mapping[Q, A], now: float) -> None:
        store.save_papers({paper_key(p): p for answer in answers.values() for p in self.papers(answer)}.values())
        store.save_lookups({self.key(q): self.dump(answer) for q, answer in answers.items()}, now)


@dataclass
class Asker:
    """Asks one source its questions through the store, within the run's availability states."""

    source: str
    store: Store
    states: SourceStates
    now: float
    max_age: float
    offline: bool = False

    def can_ask(self, scope: str = WHOLE) -> bool:
        return not self.offline and self.states.down(self.source, scope) is None

    async def answer(self, kept: Kept[Q, A], questions: Iterable[Q], ask: Callable[[list[Q]], Awaitable[Mapping[Q, A]]],
                     *, scope: str = WHOLE, may_ask: bool = True, one_by_one: bool = False,
                     most: int | None = None) -> dict[Q, A]:
        """question -> answer, from the store or else from `ask`; a question that got neither is left out.

        `ask` raises SourceUnavailable (its `partial`: what it settled before) when the source cannot answer.
        `may_ask=False` answers from the store alone; `one_by_one` asks (and records) each question apart, and
        stops at the first failure; `most` bounds the questions asked.
        """
        wanted = list(dict.fromkeys(questions))
        out = kept.recorded(self.store, wanted, self.now, self.max_age)
        todo = [q for q in wanted if q not in out][:most]
        if not todo or not may_ask or not self.can_ask(scope):
            return out
        for batch in ([q] for q in todo) if one_by_one else [todo]:
            found, failed = await self._ask(ask, batch, scope)
            asked = set(batch)
            found = {q: answer for q, answer in found.items() if q in asked}
            kept.record(self.store, found, self.now)
            out.update(found)
            if failed:
                break
        return out

    async def _ask(self, ask: Callable[[list[Q]], Awaitable[Mapping[Q, A]]], batch: list[Q],
                   scope: str) -> tuple[Mapping[Q, A], bool]:
        try:
            found = await ask(batch)
        except SourceUnavailable as exc:
            log.warning("%s", exc)
            self.states.failed(exc)
            return exc.partial or {}, True
        self.states.answered(self.source, scope)
        return found, False
