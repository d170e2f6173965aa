"""The last enrichment, kept in the cache so that `crawler report` can render it again with no network.

Papers are remembered by (file, section, title), not by line: `--write` and `--abstracts` move lines.
Fills and unresolved entries are line-bound, so they come back only while every list is unchanged.
The lists are one set, whatever order they were named in (`crawler report b.md a.md` after `run a.md b.md`).
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict

from crawler.models import Availability, Enrichment, Fill, ParsedList, SourceState, Unresolved
from crawler.store.cache import Store, paper_key


def _key(lists: tuple[str, ...]) -> str:
    return "last-enrichment:" + "\n".join(sorted(lists))


def _digest(lists: tuple[str, ...], texts: list[str]) -> str:
    sha = hashlib.sha256()
    for _, text in sorted(zip(lists, texts, strict=True)):
        sha.update(hashlib.sha256(text.encode()).digest())
    return sha.hexdigest()


def remember(store: Store, lists: tuple[str, ...], texts: list[str], parsed: ParsedList, enrichment: Enrichment,
             now: float) -> None:
    entries = {e.place: e for e in parsed.entries}
    snapshot = {
        "text_sha": _digest(lists, texts),
        "fills": [asdict(f) for f in enrichment.fills],
        "unresolved": [asdict(u) for u in enrichment.unresolved],
        "sources": [{**asdict(state), "availability": state.availability.value} for state in enrichment.sources],
        "papers": [[place[0], entries[place].section, entries[place].title, paper_key(meta)]
                   for place, meta in enrichment.metas.items() if place in entries],
    }
    store.save_lookups({_key(lists): snapshot}, now)


def recall(store: Store, lists: tuple[str, ...], texts: list[str], parsed: ParsedList, now: float) -> Enrichment:
    snapshot = store.lookup(_key(lists), now, float("inf"))
    if not snapshot:
        return Enrichment()
    keys = {(file, section, title): key for file, section, title, key in snapshot["papers"]}
    metas = store.papers(set(keys.values()))
    enrichment = Enrichment(sources=[SourceState(**{**state, "availability": Availability(state["availability"])})
                                     for state in snapshot["sources"]])
    for entry in parsed.entries:
        key = keys.get((entry.file, entry.section, entry.title))
        if key in metas:
            enrichment.metas[entry.place] = metas[key]
    if snapshot["text_sha"] == _digest(lists, texts):  # the same lists: the same lines
        enrichment.fills = [Fill(**f) for f in snapshot["fills"]]
        enrichment.unresolved = [Unresolved(**{**u, "candidates": tuple(u["candidates"])})
                                 for u in snapshot["unresolved"]]
    return enrichment
