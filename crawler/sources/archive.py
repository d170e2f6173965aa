"""Archived copies for dead links that no paper replaces (issue 15), from the Wayback Machine.

Asked only for a link that is dead tonight and has no suggestion of its own (the right paper, a
redirect's target), once per link a week (answers, "no copy" included, are cached in the store), never for
a healthy link and never on a first failure. The capture asked for is the one closest to the last time the
link worked, so the copy shows the page as it was. A service that cannot answer stops the asking for the
run and changes no verdict.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import httpx

from crawler.errors import SourceUnavailable
from crawler.sources import wayback
from crawler.sources.base import SourceStates
from crawler.store.cache import Store

log = logging.getLogger("crawler")

MAX_AGE = 7 * 86400.0  # a week, as for other answers about papers and pages
# Questions per run: the service answers one at a time in seconds, and a list that lost a thousand pages
# in one night must not spend the job's hour on it. The rest are asked on the following nights.
MAX_PER_RUN = 100


async def archived_copies(wanted: dict[str, float | None], store: Store, client: Callable[[str], httpx.AsyncClient],
                          *, now: float, timeout: float, states: SourceStates, offline: bool = False) -> dict[str, str]:
    """key -> the snapshot to suggest, for the dead links in `wanted` (key -> when it last worked, if known)."""
    keys = {url: f"wayback:{url}" for url in wanted}
    cached = store.lookups(keys.values(), now, MAX_AGE)
    out = {url: cached[key]["snapshot"] for url, key in keys.items() if key in cached and cached[key]["snapshot"]}
    ask = [url for url, key in keys.items() if key not in cached][:MAX_PER_RUN]
    if not ask or offline:
        return out
    for url in ask:
        try:
            snapshot = await wayback.closest_snapshot(client(wayback.API_URL), url, timeout, near=wanted[url])
        except SourceUnavailable as exc:
            log.warning("%s", exc)
            states.failed(exc)
            break  # one failure says the service is down or limiting us: ask no more this run
        states.answered(wayback.SOURCE)
        store.save_lookups({keys[url]: {"snapshot": snapshot}}, now)  # kept even if the run stops here
        if snapshot:
            out[url] = snapshot
    return out

