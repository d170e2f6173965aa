"""The values that flow between stages. No I/O here.

text -> ParsedList(Link, Entry) -> CheckResult / PaperMeta -> store -> RunReport
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import NewType

ArxivId = NewType("ArxivId", str)  # canonical, without version: "1503.02531", "hep-th/9901001"


class LinkStatus(enum.StrEnum):
    """What a link's check concluded, one of a closed set; the value is what reports and the cache store."""

    OK = "ok"
    REDIRECTED = "redirected"
    BROKEN = "broken"
    WRONG_PAPER = "wrong_paper"
    TIMEOUT = "timeout"
    UNREACHABLE = "unreachable"
    SERVER_ERROR = "server_error"
    RATE_LIMITED = "rate_limited"
    BLOCKED = "blocked"
    INVALID = "invalid"
    SKIPPED = "skipped"
    EMPTY = "empty"

    # One meaning per status: every report, the badge, the exit code, the history and the check stage ask
    # these properties instead of keeping their own sets of statuses.
    @property
    def is_healthy(self) -> bool:
        """The link works (a permanent redirect works too; the report suggests the new URL)."""
        return self in (LinkStatus.OK, LinkStatus.REDIRECTED)

    @property
    def is_judged(self) -> bool:
        """The crawler could say whether the link works. A bot wall or a rate limit says nothing about
        the link; a skipped or empty link was not asked about."""
        return self not in (LinkStatus.BLOCKED, LinkStatus.RATE_LIMITED, LinkStatus.SKIPPED, LinkStatus.EMPTY)

    @property
    def is_failure(self) -> bool:
        """Judged, and not working: counts against the list (what `--fail-on any` fails on)."""
        return self.is_judged and not self.is_healthy

    @property
    def can_die(self) -> bool:
        """A failure that persists becomes dead; what could not be judged never does."""
        return self.is_failure

    @property
    def is_transient(self) -> bool:
        """Could be the network's fault rather than the link's: never cached as a fresh answer."""
        return self in (
            LinkStatus.TIMEOUT,
            LinkStatus.UNREACHABLE,
            LinkStatus.SERVER_ERROR,
            LinkStatus.RATE_LIMITED,
        )

    @property
    def is_skipped(self) -> bool:
        """Left out on purpose (an exclusion, a scheme that is not the web's): counted apart from the rest."""
        return self is LinkStatus.SKIPPED

    @property
    def is_unjudged(self) -> bool:
        """Not judged, and not skipped: a wall, a rate limit, a source that could not answer. Reports group
        these by reason; `links = healthy + failing + not judged + skipped`."""
        return not self.is_judged and not self.is_skipped

    @property
    def is_moved(self) -> bool:
        """Works at a new address: the list should use the one the report suggests."""
        return self is LinkStatus.REDIRECTED

    @property
    def is_rate_limited(self) -> bool:
        return self is LinkStatus.RATE_LIMITED

    @property
    def is_definite(self) -> bool:
        """A failure that is certainly the link's own: it is gone, or it is another paper. A timeout or a
        5xx may be the host's bad night, and waits until it is dead."""
        return self in (LinkStatus.BROKEN, LinkStatus.WRONG_PAPER)

    @property
    def needs_change(self) -> bool:
        """The list should change here: a failure, an empty link, or a link that moved."""
        return self.is_failure or self in (LinkStatus.EMPTY, LinkStatus.REDIRECTED)

    @property
    def is_quiet(self) -> bool:
        """Nothing to do and nothing to tell: it works where it is, or it was left out on purpose."""
        return self in (LinkStatus.OK, LinkStatus.SKIPPED)

    @property
    def may_mean_offline(self) -> bool:
        """What every link looks like from a machine without network, when no HTTP answer came: a timeout,
        no connection, a name that does not resolve (broken)."""
        return self in (LinkStatus.UNREACHABLE, LinkStatus.BROKEN, LinkStatus.TIMEOUT)

    @property
    def severity(self) -> int:
        """Rank in `worst_first()`: 0 is the worst. Reports sort and filter by it."""
        return _WORST_FIRST.index(self)

    @classmethod
    def worst_first(cls) -> tuple[LinkStatus, ...]:
        """Failures first (the certain ones first), then what could not be judged, then what only needs an
        update, then what needs nothing."""
        return _WORST_FIRST

    @classmethod
    def of_empty_link(cls) -> LinkStatus:
        """The status of `[paper]()`: reports count empty links under it."""
        return cls.EMPTY


_WORST_FIRST = (LinkStatus.BROKEN, LinkStatus.WRONG_PAPER, LinkStatus.INVALID, LinkStatus.UNREACHABLE,
                LinkStatus.TIMEOUT, LinkStatus.SERVER_ERROR, LinkStatus.RATE_LIMITED, LinkStatus.BLOCKED,
                LinkStatus.EMPTY, LinkStatus.REDIRECTED, LinkStatus.SKIPPED, LinkStatus.OK)


@dataclass(frozen=True)
class Link:
    """One clickable link (or empty link) as it stands in the list."""

    url: str  # destination as GitHub renders it in href ("" for an empty link)
    label: str  # the link text as a reader sees it
    line: int  # 1-based line of the list
    kind: str = "inline"  # inline | autolink | bare | html | reference | empty
    file: str = ""  # the list it stands in, as the user named it (several lists share one run)

    @property
    def is_empty(self) -> bool:
        return not self.url.strip()


@dataclass(frozen=True)
class Entry:
    """A paper (or other item) of the list with the links written on it."""

    line: int
    section: str  # nearest heading above that is not the entry itself ("2019")
    title: str
    venue: str | None
    year: int | None
    links: tuple[Link, ...]
    is_paper: bool = True
    raw: str = ""  # the item's visible text, for diagnostics
    file: str = ""  # the list it stands in
    why_not_paper: str | None = None  # when is_paper is False: why (crawler.listfile.entries), for a maintainer to read

    @property
    def place(self) -> tuple[str, int]:
        """(file, line): an entry's identity across several lists."""
        return (self.file, self.line)

    @property
    def empty_links(self) -> tuple[Link, ...]:
        return tuple(lk for lk in self.links if lk.is_empty)


@dataclass(frozen=True)
class Anchors:
    """What a `#fragment` may name in one Markdown file as GitHub renders it."""

    slugs: frozenset[str] = frozenset()  # its headings' anchors (crawler.listfile.slugs), every level
    ids: frozenset[str] = frozenset()  # `id=` and `name=` values in its raw HTML
    lines: int = 0  # lines of its source, for a line anchor on its plain view (`?plain=1#L10`)
    file: str = ""  # the list, as the user named it
    # (first line, last line, slug) of each heading, in document order: which anchors a changed line touches
    headings: tuple[tuple[int, int, str], ...] = ()


@dataclass(frozen=True)
class Disabled:
    """Lines of a list that an inline comment keeps from being checked (`<!-- crawler-disable-next-line -->`)."""

    first: int  # 1-based, inclusive
    last: int  # inclusive
    comment: str  # the comment as a report names it: "<!-- crawler-disable-next-line -->"
    line: int  # where the comment stands
    file: str = ""

    @property
    def reason(self) -> str:
        at = f"{self.file}:{self.line}" if self.file else f"line {self.line}"
        return f"disabled by {self.comment} at {at}"


@dataclass(frozen=True)
class ParsedList:
    links: tuple[Link, ...]
    entries: tuple[Entry, ...]
    file: str = ""  # the list these came from ("" for one list read alone)
    anchors: tuple[Anchors, ...] = ()  # each list's fragment targets (one per list)
    disabled: tuple[Disabled, ...] = ()  # lines its inline comments take out of the check

    def in_file(self, file: str) -> ParsedList:
        """The same links and entries, each labelled with the list they stand in."""
        return ParsedList(
            links=tuple(dataclasses.replace(lk, file=file) for lk in self.links),
            entries=tuple(dataclasses.replace(e, file=file, links=tuple(dataclasses.replace(lk, file=file)
                                                                        for lk in e.links)) for e in self.entries),
            file=file,
            anchors=tuple(dataclasses.replace(a, file=file) for a in self.anchors),
            disabled=tuple(dataclasses.replace(d, file=file) for d in self.disabled),
        )

    def entries_by_place(self) -> dict[tuple[str, int], Entry]:
        """(file, line) of every link written in an entry -> that entry (the first, where two share a line)."""
        out: dict[tuple[str, int], Entry] = {}
        for entry in self.entries:
            for lk in entry.links:
                out.setdefault((lk.file, lk.line), entry)
        return out

    @staticmethod
    def join(parts: list[ParsedList]) -> ParsedList:
        """Several lists read as one (their links and entries keep their files)."""
        return ParsedList(links=tuple(lk for p in parts for lk in p.links),
                          entries=tuple(e for p in parts for e in p.entries),
                          anchors=tuple(a for p in parts for a in p.anchors),
                          disabled=tuple(d for p in parts for d in p.disabled))


@dataclass(frozen=True)
class Hop:
    url: str
    status: int


@dataclass(frozen=True)
class Occurrence:
    """The verdict at one place a URL is written, when its places are judged apart: a paper page under two
    entries is judged against each; a `#fragment` is looked up for each spelling."""

    file: str
    line: int
    status: LinkStatus
    error: str | None = None
    note: str | None = None
    suggestion: str | None = None
    title_score: float | None = None
    authors_matched: bool | None = None


@dataclass(frozen=True)
class PageIds:
    """The ids a fetched HTML page holds (`id=`, `name=`), for `--check-fragments`."""

    ids: frozenset[str]
    complete: bool  # the whole page was read: a fragment not among `ids` is not on the page


@dataclass(frozen=True)
class CheckResult:
    """The verdict on one distinct URL."""

    url: str
    status: LinkStatus
    http_status: int | None = None
    final_url: str | None = None
    error: str | None = None
    redirects: tuple[Hop, ...] = ()  # every hop before the final answer
    checked_at: float = 0.0  # unix time
    etag: str | None = None
    last_modified: str | None = None
    suggestion: str | None = None
    from_cache: bool = False
    # Not a failure, but worth telling: "archived", "title changed: now '…'" (reports show notes apart from failures).
    note: str | None = None
    # The evidence of a paper check (crawler.papers.judge), when the link was judged as a paper.
    title_score: float | None = None
    authors_matched: bool | None = None
    # Judged from the repository's own files (an anchor, a relative link), with no network: a failure
    # is certain, not a network accident, so it is dead from the first run it is seen.
    in_repository: bool = False
    # The places whose verdict differs from one another; the fields above are then the worst place's.
    # Made afresh every run from the current entries, never stored.
    occurrences: tuple[Occurrence, ...] = ()
    page_ids: PageIds | None = None  # with --check-fragments: what the page's HTML could be linked at
    # What this run found (a crawler.findings value) that the status was decided from: a crawler error is
    # told apart by it. Never stored; a result read from the cache has none.
    finding: object | None = field(default=None, compare=False, repr=False)

    def at(self, file: str, line: int) -> Occurrence:
        """The verdict at one place it is written: its own when its places are judged apart, else the URL's."""
        for occ in self.occurrences:
            if occ.file == file and occ.line == line:
                return occ
        return Occurrence(file, line, self.status, self.error, self.note, self.suggestion, self.title_score,
                          self.authors_matched)


@dataclass(frozen=True)
class RepoInfo:
    """What GitHub says of a repository a code link points at (crawler.sources.github)."""

    name_with_owner: str  # as GitHub names it now ("owner/repo"), after renames and transfers
    stars: int | None = None
    archived: bool = False
    pushed_at: str | None = None  # ISO 8601, as GitHub sends it
    checked_at: float = 0.0


@dataclass(frozen=True)
class PaperMeta:
    """What a source knows about one paper."""

    source: str  # the name of the source that knows it (crawler.sources.REGISTRY): "arxiv", "cvf", "crossref", ...
    title: str  # "" for a record that is not one paper's (a DOI of a book): it only exists
    url: str  # the page a fill would point at (arXiv abs page, CVF html page)
    abstract: str | None = None
    authors: tuple[str, ...] = ()
    year: int | None = None
    venue: str | None = None  # as the source names it ("CVPR", "ICLR 2023 Poster"), None when it names none
    arxiv_id: str | None = None
    pdf_url: str | None = None
    fetched_at: float = 0.0


class Availability(enum.StrEnum):
    OK = "ok"  # asked, and it answered
    UNAVAILABLE = "unavailable"  # asked, and it could not answer: nothing that depends on it is judged
    NOT_ASKED = "not_asked"  # nothing needed it, or every answer came from the cache


@dataclass(frozen=True)
class SourceState:
    source: str
    scope: str  # WHOLE, or a part of the source such as a venue-year ("ICCV 2019")
    availability: Availability
    reason: str | None = None

    @property
    def label(self) -> str:
        """'cvf', 'cvf ICCV 2019': how reports name what the state is about."""
        return f"{self.source} {self.scope}" if self.scope else self.source


@dataclass(frozen=True)
class Fill:
    line: int
    entry: str
    label: str
    url: str
    source: str
    confidence: float
    matched_title: str
    file: str = ""
    note: str = ""  # why it was filled from another source than the entry's venue (its listing was unreadable)


@dataclass(frozen=True)
class Unresolved:
    line: int
    entry: str
    reason: str
    candidates: tuple[dict, ...] = field(default_factory=tuple)
    file: str = ""


@dataclass
class Enrichment:
    """What the enrichment stage hands on to history and reports."""

    fills: list[Fill] = field(default_factory=list)
    unresolved: list[Unresolved] = field(default_factory=list)
    metas: dict[tuple[str, int], PaperMeta] = field(default_factory=dict)  # entry's (file, line) -> its paper
    suggested: dict[str, CheckResult] = field(default_factory=dict)  # url key -> its result with the paper suggested
    sources: list[SourceState] = field(default_factory=list)  # what each source (and scope of it) did
    requests: dict[str, int] = field(default_factory=dict)
