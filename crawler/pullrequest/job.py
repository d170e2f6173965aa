"""`crawler pr`: check and enrich only what a pull request changes.

git names the lines a pull request adds or changes (crawler.pullrequest.gitdiff); `select_links` keeps the links on
them, and the links anywhere in the lists into a heading the pull request renames, removes or adds (each
list's anchors at the merge base against its anchors now: `changed_headings`); the pipeline checks and
fills those alone (`job`: a Job with that selection); `build` turns the outcome into the comment and the
suggestions (crawler.report.pullrequest), each suggestion the line as crawler.listfile.rewrite would write it with
one fill or one URL replaced. Nothing here runs git: the command reads the lists at the merge base with
crawler.pullrequest.gitdiff.base_texts.
"""

from __future__ import annotations

import functools
import posixpath
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import replace
from pathlib import Path
from urllib.parse import unquote, urlsplit

from crawler.errors import one_line
from crawler.listfile import rewrite
from crawler.listfile.links import url_key
from crawler.listfile.parse import read_links
from crawler.models import Anchors, Enrichment, Fill, Link, ParsedList
from crawler.pipeline import Document, Job, Outcome
from crawler.pullrequest.gitdiff import ListChange
from crawler.report.model import LinkRow
from crawler.report.pullrequest import Elsewhere, PullRequestReport, Suggestion
from crawler.store.cache import Store


def anchor_of(link: Link) -> tuple[str, str] | None:
    """(list, fragment) for a link into a list's heading (`#fragment`, `other.md#fragment`), else None. The list
    is named as the lists are (relative to the linking list's folder); `/other.md#f`, from the repository's
    root, gives `/other.md`, which `changed_headings` names too."""
    parts = urlsplit(link.url)
    if parts.scheme or parts.netloc or not parts.fragment:
        return None
    target = posixpath.join(posixpath.dirname(link.file), unquote(parts.path)) if parts.path else link.file
    return posixpath.normpath(target), unquote(parts.fragment)


def changed_fragments(change: ListChange, before: Anchors | None, after: Anchors) -> frozenset[str]:
    """The fragments of one list whose target the pull request moves: every anchor (a heading's slug, a raw
    `id=`/`name=`) it removes or adds, comparing the list at the merge base (`before`, None for a new list) with
    the list now, which catches a heading renamed, removed or renumbered (GitHub numbers repeated headings in
    document order); and the slug of every heading on a line it changes."""
    targets = set() if before is None else set((before.slugs | before.ids) ^ (after.slugs | after.ids))
    targets.update(slug for first, last, slug in after.headings
                   if any(change.touches(line) for line in range(first, last + 1)))
    return frozenset(targets)


def changed_headings(changes: Sequence[ListChange], before: Mapping[str, Anchors | None],
                     after: Sequence[Anchors]) -> frozenset[tuple[str, str]]:
    """(list, fragment) pairs for `select_links`, each list named as the lists are and, for links written from
    the repository's root, as `/` + its path there. `before` and `after` hold each changed list's anchors at the
    merge base (by list name) and now (by `Anchors.file`)."""
    now = {posixpath.normpath(a.file): a for a in after}
    out: set[tuple[str, str]] = set()
    for change in changes:
        anchors = now.get(posixpath.normpath(change.name))
        if anchors is None:  # an empty list, left out of the run
            continue
        for fragment in changed_fragments(change, before.get(change.name), anchors):
            out.add((posixpath.normpath(change.name), fragment))
            out.add(("/" + change.path, fragment))
    return frozenset(out)


def select_links(parsed: ParsedList, changes: Mapping[str, ListChange], *,
                 changed_headings: AbstractSet[tuple[str, str]] = frozenset()) -> ParsedList:
    """The links a pull request answers for: those on the lines it adds or changes; every link of an entry whose
    first line (its title) it changes, since a paper link is judged against the title; and the links into a
    list's headings, wherever they stand, whose target it changes, given as `changed_headings`, (list, fragment)
    pairs (crawler.pullrequest.job.changed_headings). The lists' anchors and disabled lines are kept: the anchor
    check and the inline comments need them."""

    def on_changed_line(file: str, line: int) -> bool:
        change = changes.get(file)
        return change is not None and change.touches(line)

    def into_changed_heading(link: Link) -> bool:
        anchor = anchor_of(link) if changed_headings else None
        if anchor is None:
            return False
        target, fragment = anchor
        # GitHub's page script finds `#Foo` for the heading slugged `foo` too (crawler.checking.localrefs).
        return (target, fragment) in changed_headings or (target, fragment.lower()) in changed_headings

    def wanted(link: Link) -> bool:
        return on_changed_line(link.file, link.line) or into_changed_heading(link)

    entries = []
    taken: set[Link] = set()
    for entry in parsed.entries:
        retitled = entry.is_paper and on_changed_line(entry.file, entry.line)
        mine = tuple(lk for lk in entry.links if retitled or wanted(lk))
        if mine:
            entries.append(replace(entry, links=mine))
            taken.update(mine)
    links = tuple(lk for lk in parsed.links if lk in taken or wanted(lk))
    return replace(parsed, links=links, entries=tuple(entries))


def select(parsed: ParsedList, changes: Sequence[ListChange], before: Mapping[str, Anchors | None]) -> ParsedList:
    """`select_links` with the headings the pull request changes, from the lists' anchors then (`before`) and
    now (the parse's)."""
    return select_links(parsed, {c.name: c for c in changes},
                        changed_headings=changed_headings(changes, before, parsed.anchors))


def base_anchors(texts: Mapping[str, str | None]) -> dict[str, Anchors | None]:
    """Each list's anchors from its text at the merge base (None: the list is new)."""
    return {name: None if text is None else read_links(text).anchors for name, text in texts.items()}


def job(lists: Sequence[Path], changes: Sequence[ListChange], *,
        base_texts: Mapping[str, str | None] | None = None) -> Job:
    """The pipeline's job for a pull request: every list is read (the comment names the older problems, and a
    link in any list may point at a heading the pull request changes), only the selected links are checked and
    filled. `base_texts`: each changed list's text at the merge base (crawler.pullrequest.gitdiff.base_texts); without
    them only headings on changed lines count as changed."""
    before = base_anchors(base_texts or {})
    return Job("pr", lists, selection=functools.partial(select, changes=tuple(changes), before=before))


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
        by_line: dict[tuple[str, int], list[Link]] = {}  # the URL written twice on a line: one suggestion
        for link in outcome.parsed.links:
            if link.file in docs and not link.is_empty and url_key(link.url) == row.key:
                by_line.setdefault((link.file, link.line), []).append(link)
        for (file, line), links in by_line.items():
            doc = docs[file]
            moved = {lk.url: _with_fragment(lk.url, target) for lk in links}
            after = rewrite.apply(doc.text, ParsedList(links=tuple(links), entries=(), file=file), Enrichment(),
                                  redirects=moved)
            out += _line_change(doc, line, after, paths, reason)
    return sorted(out, key=lambda s: (s.file, s.line))


def _with_fragment(url: str, target: str) -> str:
    """`target` keeping the section `url` pointed at (`…/p#x` moved to `…/new` is `…/new#x`)."""
    fragment = urlsplit(url).fragment
    return f"{target}#{fragment}" if fragment and "#" not in target else target


def _fix(row: LinkRow) -> tuple[str, str] | None:
    """The URL a link should have, and why; None when none is known."""
    if not row.suggestion:
        return None
    if row.status.is_moved:
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
