"""Run history, pure: from last night's rows and tonight's results to new, dead and fixed links.

A failure is *new* the first run it is seen and *dead* once it has persisted `dead_after` runs
spanning `dead_span`. Only judged results count (LinkStatus.is_judged): a bot wall or a rate limit
says nothing about the link, so it neither extends nor ends a run of failures, and never dies.
A result reused from the cache is the same observation as before and is not counted twice.
A failure judged from the repository's own files (a missing heading or file) is no network accident:
it is dead from the first run it is seen.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.models import CheckResult


@dataclass(frozen=True)
class LinkState:
    new: bool = False
    dead: bool = False
    fixed: bool = False
    first_failed_at: float | None = None
    consecutive_failures: int = 0


def update_history(history: dict[str, dict], results: dict[str, CheckResult], now: float, *,
                   dead_after: int, dead_span: float) -> tuple[list[dict], dict[str, LinkState]]:
    """The history rows to store and each URL's state after tonight."""
    rows: list[dict] = []
    states: dict[str, LinkState] = {}
    for key, result in results.items():
        old = history.get(key) or {}
        run = _tonight(old, result, now)
        states[key] = _state(result, run, now, was_failing=(old.get("consecutive_failures") or 0) > 0,
                             dead_after=dead_after, dead_span=dead_span)
        rows.append(_row(key, old, result, run, now))
    return rows, states


@dataclass(frozen=True)
class _Run:
    """A link's run of failures after tonight."""

    consecutive: int  # failures in a row
    first_failed: float | None  # when the run began
    observed: bool  # tonight's result is a new observation of the link
    same_observation: bool  # it is the observation stored last time, reused from the cache


def _tonight(old: dict, result: CheckResult, now: float) -> _Run:
    status = result.status
    consecutive = old.get("consecutive_failures") or 0
    first_failed = old.get("first_failed")
    same_observation = bool(old) and old.get("last_checked") == result.checked_at
    observed = status.is_judged and not same_observation
    if observed:
        if status.is_failure:
            consecutive += 1
            first_failed = first_failed or result.checked_at or now
        else:
            consecutive, first_failed = 0, None
    return _Run(consecutive, first_failed, observed, same_observation)


def _state(result: CheckResult, run: _Run, now: float, *, was_failing: bool, dead_after: int,
           dead_span: float) -> LinkState:
    status = result.status
    failing = status.is_failure
    # The span is the failure's as observed (first to last time seen), not up to the clock: a report
    # rendered a day later, or a result reused from the cache, must not make a link dead.
    seen = result.checked_at or now
    persisted = (run.consecutive >= dead_after and run.first_failed is not None
                 and seen - run.first_failed >= dead_span)
    return LinkState(
        new=failing and run.consecutive == 1 and (run.observed or run.same_observation),
        dead=failing and status.can_die and (result.in_repository or persisted),
        fixed=run.observed and not failing and was_failing,
        first_failed_at=run.first_failed if failing else None,
        consecutive_failures=run.consecutive if failing else 0,
    )


def _row(key: str, old: dict, result: CheckResult, run: _Run, now: float) -> dict:
    status = result.status
    # An unjudged night keeps the failure run as it was, for the next judged night to continue.
    keeps_run = status.is_failure or not status.is_judged
    return {
        "url": key, "first_seen": old.get("first_seen") or now,
        "last_ok": now if status.is_healthy and run.observed else old.get("last_ok"),
        "first_failed": run.first_failed if keeps_run else None,
        "consecutive_failures": run.consecutive if keeps_run else 0,
        "last_status": status.value, "last_checked": result.checked_at,
    }
