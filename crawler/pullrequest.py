"""`crawler pr`: check and enrich only what a pull request changes.

git names the lines a pull request adds or changes (crawler.gitdiff); `select_links` keeps the links on
them; the pipeline checks and fills those alone (`job`: a Job with that selection); `build` turns the
outcome into the comment and the suggestions (crawler.report.pullrequest), each suggestion the line as
crawler.rewrite would write it with one fill or one URL replaced.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from crawler import rewrite
from crawler.errortext import one_line
from crawler.gitdiff import ListChange
from crawler.links import url_key
from crawler.models import Enrichment, Fill, Link, LinkStatus, ParsedList
from crawler.pipeline import Document, Job, Outcome
from crawler.report.model import LinkRow
from crawler.report.pullrequest import Elsewhere, PullRequestReport, Suggestion
from crawler.store import Store


def anchor_of(link: Link) -> tuple[str, str] | None:
    """(list, fragment) for a link into a list's heading (`#fragment`, `other.md#fragment`), else None."""
    parts = urlsplit(link.url)
    if parts.scheme or parts.netloc or not parts.fragment:
        return None
    target = posixpath.normpath(posixpath.join(posixpath.dirname(link.file), parts.path)) if parts.path else link.file
    return target, unquote(parts.fragment)


def select_links(parsed: ParsedList, changes: Mapping[str, ListChange], *,
                 changed_headings: AbstractSet[tuple[str, str]] = frozenset()) -> ParsedList:
    """The links a pull request answers for: those on the lines it adds or changes; every link of an entry whose
    first line (its title) it changes, since a paper link is judged against the title; and the in-list links
    whose target heading it changes, given as `changed_headings`, (list, fragment) pairs: the anchor check
    names them (a heading on a changed line, or one the pull request removes or renames)."""

    def on_changed_line(file: str, line: int) -> bool:
        change = changes.get(file)
        return change is not None and change.touches(line)

    def wanted(link: Link) -> bool:
        return on_changed_line(link.file, link.line) or (bool(changed_headings)
                                                          and anchor_of(link) in changed_headings)

    entries = []
    taken: set[Link] = set()
    for entry in parsed.entries:
        retitled = entry.is_paper and on_changed_line(entry.file, entry.line)
        mine = tuple(lk for lk in entry.links if retitled or wanted(lk))
        if mine:
            entries.append(replace(entry, links=mine))
            taken.update(mine)
    links = tuple(lk for lk in parsed.links if lk in taken or wanted(lk))
    return ParsedList(links=links, entries=tuple(entries))


def job(lists: Sequence[Path], changes: Sequence[ListChange], *,
        changed_headings: AbstractSet[tuple[str, str]] = frozenset()) -> Job:
    """The pipeline's job for a pull request: every list is read (the comment names the older problems),
    only the changed links are checked and filled."""
    by_name = {c.name: c for c in changes}
    return Job("pr", lists, selection=functools.partial(select_links, changes=by_name,
                                                         changed_headings=frozenset(changed_headings)))


# -- what the comment and the suggestions say ---------------------------------------------------------------
def build(outcome: Outcome, changes: Sequence[ListChange], store: Store) -> PullRequestReport:
    return PullRequestReport(report=outcome.report, lists=tuple(c.name for c in changes),
                             suggestions=tuple(suggestions(outcome, changes)), elsewhere=elsewhere(outcome, store))


def suggestions(outcome: Outcome, changes: Sequence[ListChange]) -> list[Suggestion]:
    """One per fill, per permanent redirect and per failing link whose right URL is known, each the whole line."""
    docs = {str(d.path): d for d in outcome.documents}
    paths = {c.name: c.path for c in changes}
    out: list[Suggestion] = []
    for fill in outcome.report.fills:
        doc = docs.get(fill.file)
        if doc is not None:
            after = rewrite.apply(doc.text, doc.parsed, Enrichment(fills=[fill]))
            out += _line_change(doc, fill.line, after, paths, _fill_reason(fill))
    for row in outcome.report.links:
        fix = _fix(row)
        if fix is None:
            continue
        target, reason = fix
        for link in outcome.parsed.links:
            doc = docs.get(link.file)
            if doc is None or link.is_empty or url_key(link.url) != row.key:
                continue
            one = ParsedList(links=(link,), entries=(), file=link.file)
            after = rewrite.apply(doc.text, one, Enrichment(), redirects={link.url: target})
            out += _line_change(doc, link.line, after, paths, reason)
    return sorted(out, key=lambda s: (s.file, s.line))


def _fix(row: LinkRow) -> tuple[str, str] | None:
    """The URL a link should have, and why; None when none is known."""
    if not row.suggestion:
        return None
    if row.status is LinkStatus.REDIRECTED:
        code = f" (HTTP {row.redirects[0].status})" if row.redirects else ""
        return row.suggestion, f"the link redirects permanently{code}: this is where it leads now"
    if row.status.is_failure:
        what = one_line(row.error) or row.status.value
        if urlsplit(row.suggestion).hostname == "web.archive.org":
            return row.suggestion, f"{row.status.value} ({what}): an archived copy of the page"
        return row.suggestion, f"{row.status.value} ({what}): the entry's paper is at this address"
    return None


def _fill_reason(fill: Fill) -> str:
    return (f"empty link filled: {fill.source} has the paper '{one_line(fill.matched_title)}' "
            f"(confidence {fill.confidence:.2f})")


def _line_change(doc: Document, line: int, after: str, paths: Mapping[str, str], reason: str) -> list[Suggestion]:
    before_lines, after_lines = doc.text.splitlines(keepends=True), after.splitlines(keepends=True)
    if len(before_lines) != len(after_lines) or not 0 < line <= len(before_lines):
        return []  # a fill or a URL never adds a line; anything else is not a one-line suggestion
    old, new = before_lines[line - 1].rstrip("\r\n"), after_lines[line - 1].rstrip("\r\n")
    if old == new:
        return []  # rewrite was not sure where the URL stands on the line, and left it
    return [Suggestion(file=paths.get(str(doc.path), str(doc.path)), line=line, original=old, replacement=new,
                       reason=reason)]


def elsewhere(outcome: Outcome, store: Store) -> Elsewhere:
    """The lists' other links as the cache last judged them: what was wrong before the pull request."""
    mine = {lo.key for lo in outcome.report.links}
    keys = {url_key(lk.url) for d in outcome.documents for lk in d.parsed.links if not lk.is_empty} - mine
    known = store.cached_results(keys)
    return Elsewhere(links=len(keys), known=len(known),
                     failing=sum(1 for r in known.values() if r.status.is_failure),
                     checked_at=max((r.checked_at for r in known.values()), default=None))
