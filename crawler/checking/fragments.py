"""--check-fragments: the `#fragment` of a remote page looked up in the HTML its check already read.

The check's capped GET keeps the page's ids (`page_ids`); once the checks are done, each place a URL is
written with a fragment gets a note when the page does not hold it (`with_fragment_notes`). A note, never a
failure: pages built by scripts add ids after loading (lychee#2179).
"""

from __future__ import annotations

import dataclasses
import html
import re
from collections.abc import Iterable
from urllib.parse import unquote

from crawler.listfile.links import host_of
from crawler.models import CheckResult, Link, PageIds

# Every id= and name= in the bytes read, found by searching: one in a comment or a script counts too, since
# a false "missing" costs a maintainer more than a missed one.
_ID_ATTR = re.compile(rb"""[\s"'](?:id|name)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""", re.I)
# Fragments that are no element's id: line anchors of code viewers (drawn by scripts), routes of
# single-page sites (`#!/x`, `#/x`), media and text fragments (`#t=30`, `#page=3`, `#:~:text=`).
_NOT_AN_ID = re.compile(r"L\d+(C\d+)?(-L\d+(C\d+)?)?|[!/].*|.*[=&].*|:~:.*")


def page_ids(body: bytes, limit: int) -> PageIds:
    """The ids a page's HTML holds; `complete` when the read stopped before the cap."""
    found = (next(g for g in m.groups() if g is not None) for m in _ID_ATTR.finditer(body))
    return PageIds(frozenset(html.unescape(i.decode("utf-8", "replace")) for i in found), complete=len(body) < limit)


def fragment_note(result: CheckResult, url: str) -> str | None:
    """A note when `url`'s #fragment is on none of the ids of the page `result` read. Nothing when the page
    was cut before the fragment could be found, or when the fragment names no element. On github.com the
    ids of a README are `user-content-` + the slug, and its script finds them lower-cased."""
    ids = result.page_ids
    fragment = unquote(url.partition("#")[2])
    if ids is None or not ids.complete or not fragment or _NOT_AN_ID.fullmatch(fragment) or fragment.lower() == "top":
        return None
    wanted = {fragment, fragment.lower()}
    if host_of(result.final_url or result.url) == "github.com":
        wanted |= {f"user-content-{w}" for w in wanted}
    if wanted & ids.ids:
        return None
    return f'no element "#{fragment}" on the page (a page built by scripts may still have it)'


def with_fragment_notes(result: CheckResult, links: Iterable[Link]) -> CheckResult:
    """--check-fragments: a `#fragment` the fetched page does not hold is a note at the place it is written
    (the URL's key has no fragment: `page#a` and `page#b` are one page). The page's ids are let go after."""
    if result.page_ids is None:
        return result
    notes = {}
    for lk in links:
        note = fragment_note(result, lk.url)
        if note and (lk.file, lk.line) not in notes:
            here = result.at(lk.file, lk.line)
            both = f"{here.note}; {note}" if here.note else note
            notes[(lk.file, lk.line)] = dataclasses.replace(here, note=both)
    occurrences = [notes.pop((o.file, o.line), o) for o in result.occurrences] + list(notes.values())
    return dataclasses.replace(result, page_ids=None, occurrences=tuple(occurrences))
