"""How many nights in a row a venue listing could not be read, from what the store keeps of each run.

An entry whose venue listing cannot be read waits rather than take arXiv's copy: right for a night, wrong
for a site that changed or blocks the runner for weeks. So every run that enriches records, per source and
listing scope ("cvf", "CVPR 2020"), the nights it found the listing unavailable; a night the listing was
read (or answered from the cache) clears the record.

A night is the run's date in UTC. Several runs in one night count once (a rerun that could not ask either
adds nothing), and a night without a run neither counts nor breaks the streak: what is counted is the
nights the crawler ran and could not read the listing, since it last could.
"""

from __future__ import annotations

import datetime

from crawler.store.cache import Store

_FOREVER = float("inf")  # records are kept until the listing is read again, however old


def night_of(now: float) -> str:
    """The night a run at `now` belongs to: its UTC date, '2026-11-30'."""
    return datetime.datetime.fromtimestamp(now, datetime.UTC).date().isoformat()


def _key(source: str, scope: str) -> str:
    return f"{source}-unavailable:{scope}"


class Outages:
    """The nights each listing has been unavailable, read once per run and written back at its end."""

    def __init__(self, store: Store, now: float):
        self.store = store
        self.now = now
        self.tonight = night_of(now)
        self._nights: dict[tuple[str, str], set[str]] = {}
        self._seen: dict[tuple[str, str], bool] = {}  # scope -> readable tonight?

    def _recorded(self, source: str, scope: str) -> set[str]:
        key = (source, scope)
        if key not in self._nights:
            answer = self.store.lookup(_key(source, scope), self.now, _FOREVER)
            nights = answer.get("nights", []) if isinstance(answer, dict) else []
            self._nights[key] = {n for n in nights if isinstance(n, str)}
        return self._nights[key]

    def unavailable(self, source: str, scope: str) -> int:
        """The listing could not be read tonight: how many nights in a row that makes, tonight included."""
        self._seen[(source, scope)] = False
        return len(self._recorded(source, scope) | {self.tonight})

    def available(self, source: str, scope: str) -> None:
        """The listing was read (or is not hosted): its streak ends."""
        self._seen.setdefault((source, scope), True)

    def save(self) -> None:
        """Tonight's outcome for every listing asked about; one write."""
        answers: dict[str, dict] = {}
        for (source, scope), readable in self._seen.items():
            if not readable:
                answers[_key(source, scope)] = {"nights": sorted(self._recorded(source, scope) | {self.tonight})}
            elif self._recorded(source, scope):
                answers[_key(source, scope)] = {"nights": []}
        self.store.save_lookups(answers, self.now)
