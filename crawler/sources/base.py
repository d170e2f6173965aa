"""The one interface every source implements, and the state of each source's answers.

Two kinds of source, abstract base classes after pip-audit's `VulnerabilityService` (`query`, plus a batched
`query_all` whose default loops) and lychee's chain of handlers; a source that lacks one of the methods its
kind must have fails when it is built, not in the middle of a run:

- A *verifier* claims the URLs it can judge by itself and judges many in one request: GitHub
  repositories through GraphQL. A URL no verifier claims gets the ordinary per-URL check.
- A *paper source* knows papers. It names the paper a URL of its site points at (`ref`), looks papers
  up (`lookup`, batched by `lookup_all`), lists a venue's papers for a year (`listing`), searches titles
  (`search`) and reads abstracts (`abstract`). Links to its pages are judged against what it knows,
  by one rule for every source (crawler.papers.judge). A paper source whose `batch_verifies` is set (arXiv)
  is asked *instead of* fetching its pages one by one; the others after the page itself was checked.

Sources only fetch and parse. Caching, offline mode and availability live in one place for all of
them (crawler.sources.gateway, through crawler.sources.answers), so adding a source is one module plus one
line in the registry (crawler.sources.REGISTRY).

Availability is typed and scoped: a source is `ok`, `unavailable` (with a reason) or `not_asked`,
for the whole source or for one scope of it ("ICCV 2019"). A listing that fails for ICCV 2019 stops
nothing but ICCV 2019; a challenge page or a 429 stops the whole source for the run.
"""

from __future__ import annotations

import abc
import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

from crawler.errors import SourceUnavailable
from crawler.findings import Finding, Known
from crawler.models import Availability, CheckResult, Entry, PaperMeta, RepoInfo, SourceState

WHOLE = ""  # the scope that stands for the whole source


# --- availability ------------------------------------------------------------------------------------


class SourceStates:
    """What each source (and each scope of it) did this run. One instance per run, shared by all askers."""

    def __init__(self) -> None:
        self._states: dict[tuple[str, str], SourceState] = {}

    def answered(self, source: str, scope: str = WHOLE) -> None:
        """The source answered for this scope; a scope already unavailable stays so."""
        for key in dict.fromkeys(((source, scope), (source, WHOLE))):
            current = self._states.get(key)
            if current is None or current.availability is Availability.NOT_ASKED:
                self._states[key] = SourceState(source, key[1], Availability.OK)

    def failed(self, exc: SourceUnavailable) -> None:
        """Record why a source (or one scope of it) cannot answer; the first reason is kept."""
        key = (exc.source, exc.scope)
        current = self._states.get(key)
        if current is None or current.availability is not Availability.UNAVAILABLE:
            self._states[key] = SourceState(exc.source, exc.scope, Availability.UNAVAILABLE, exc.reason)

    def mention(self, source: str) -> None:
        """Make a source appear in the reports as `not_asked` when it has no other state."""
        self._states.setdefault((source, WHOLE), SourceState(source, WHOLE, Availability.NOT_ASKED))

    def down(self, source: str, scope: str = WHOLE) -> SourceState | None:
        """The unavailable state that stops asking `source` about `scope` (the whole source's, or the scope's)."""
        for key in ((source, WHOLE), (source, scope)):
            state = self._states.get(key)
            if state is not None and state.availability is Availability.UNAVAILABLE:
                return state
        return None

    def all(self) -> list[SourceState]:
        return sorted(self._states.values(), key=lambda s: (s.source, s.scope))

    def unavailable(self) -> list[SourceState]:
        return [s for s in self.all() if s.availability is Availability.UNAVAILABLE]


# --- what sources are asked and what they answer -------------------------------------------------------


@dataclass(frozen=True)
class PaperRef:
    """The paper a URL names on one source's site, as that site identifies it. Never built, only parsed.

    `venue` and `year` are set when the site lists its papers by venue-year: the paper is then
    looked up in that listing (fetched once per venue-year) instead of page by page.
    """

    source: str
    id: str  # arXiv id, CVF page name, NeurIPS hash, PMLR key, ACL Anthology id
    venue: str | None = None
    year: int | None = None
    url: str = ""  # the URL it was read from, for sources that look a paper up by its page
    # The titles of the entries the URL stands under, for a source that finds the paper by title because
    # the URL's id cannot be looked up (an IEEE Xplore document, through Crossref's search).
    titles: tuple[str, ...] = ()


@dataclass(frozen=True)
class Claim:
    """One distinct URL handed to a verifier, with the paper entries it is written on."""

    key: str  # normalised URL: the cache key
    url: str  # as written in the list
    entries: tuple[Entry, ...] = ()


@dataclass
class Verification:
    """A verifier's answer for a batch of claims.

    A key in `results` is judged; a key in `to_web` is left to the ordinary per-URL check; a key in
    neither could not be judged this run (the source was unavailable) and keeps its last verdict.
    """

    results: dict[str, CheckResult] = field(default_factory=dict)
    to_web: set[str] = field(default_factory=set)
    repos: dict[str, RepoInfo] = field(default_factory=dict)  # key -> what GitHub said of the repository
    requests: int = 0  # requests this batch cost
    unavailable: SourceUnavailable | None = None  # why the verifier stopped asking, if it did


class Defer(enum.Enum):
    """What a batch-verifying source says of a link it gives no verdict on."""

    WEB = "web"  # the ordinary check of the page decides
    KEEP = "keep"  # nothing is judged this run: the last verdict stands


# --- the two kinds -------------------------------------------------------------------------------------


class Verifier(abc.ABC):
    """Claims URLs it can judge without fetching them, and judges them in batches."""

    name: ClassVar[str]
    requests_sent: int = 0  # requests the verifier sent this run
    # The hosts whose URLs it may claim (None: any): the check stage asks `claims` only about those.
    claimed_hosts: frozenset[str] | None = None

    @abc.abstractmethod
    def claims(self, url: str) -> bool:
        """Pure and cheap: whether this verifier judges `url` (it may depend on a token being set)."""

    @abc.abstractmethod
    async def verify_all(self, claims: Sequence[Claim]) -> Verification:
        """The verdicts on a batch of claimed links, and which of them the ordinary check is left."""

    async def aclose(self) -> None:  # noqa: B027 (a hook: most verifiers hold nothing of their own)
        """Release what the verifier holds (clients are the pool's: nothing by default)."""


class PaperSource(abc.ABC):
    """Knows papers: by URL, by venue listing, by title. Every method but `ref` may do I/O.

    Every source names the paper a URL of its site points at (`ref`) and looks it up (`lookup`); the other
    methods are hooks whose defaults say "nothing of the kind here". Methods that ask the site raise
    `SourceUnavailable` (with `scope` set when only one listing is affected) when it cannot answer; that is
    never evidence that a paper or a link does not exist.
    """

    name: ClassVar[str]
    # Venues whose entries' empty paper links this source fills from its listings ("CVPR", "NeurIPS").
    venues: ClassVar[frozenset[str]] = frozenset()
    # True: links to this site are judged from `lookup_all` instead of fetching each page (arXiv's terms).
    batch_verifies: ClassVar[bool] = False
    # True: `search` answers title queries (arXiv).
    searches: ClassVar[bool] = False
    requests_sent: int = 0  # requests the source sent this run
    # The hosts whose URLs `ref` may name a paper for (None: any): nothing else is asked about.
    claimed_hosts: frozenset[str] | None = None

    @abc.abstractmethod
    def ref(self, url: str) -> PaperRef | None:
        """The paper `url` names on this site, or None when the URL is not a paper page of this site. Pure."""

    def claim_ref(self, claim: Claim) -> PaperRef | None:
        """The ref a claimed link is asked by: `ref` of its URL, which a source may complete from the entries
        the link stands on (OpenReview picks its API by the entry's year). Pure."""
        return self.ref(claim.url)

    def verdict(self, claim: Claim, meta: PaperMeta | None) -> Finding | Defer:
        """What a batch-verifying source's answer says of a link (crawler.findings), from the paper it returned
        (None: it says there is none). By default the paper, to judge against the entries; a paper the source
        does not return goes to the page itself (arXiv sometimes answers an empty page for a known id)."""
        return Known(meta) if meta is not None else Defer.WEB

    def unsettled(self, claim: Claim, ref: PaperRef, reason: str | None) -> Finding | Defer:
        """What can be said of a link the source could not answer for this run (`reason`: why the source is
        unavailable, when it is). By default nothing: the last verdict stands."""
        return Defer.KEEP

    @abc.abstractmethod
    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        """The paper behind `ref`; None when the site says it does not exist."""

    async def lookup_all(self, refs: Sequence[PaperRef]) -> dict[str, PaperMeta | None]:
        """ref.id -> paper (None: does not exist). A ref left out was not settled (ask again, or check the page).

        The default asks one by one; at the first SourceUnavailable it stops, and the exception's
        `partial` carries what was settled before. A source with a batched API overrides it.
        """
        out: dict[str, PaperMeta | None] = {}
        for ref in refs:
            try:
                out[ref.id] = await self.lookup(ref)
            except SourceUnavailable as exc:
                exc.partial = {**out, **(exc.partial or {})}
                raise
        return out

    def venue_key(self, venue: str | None) -> str | None:
        """The venue as this source names its listings ("NIPS 2017" -> "NeurIPS"), or None when it has no
        listing for that venue (a workshop, another conference). Listings are cached and scoped by this key,
        so two spellings of one venue-year are one listing."""
        wanted = re.sub(r"[\W_]+", "", venue or "").upper()
        return next((v for v in self.venues if re.sub(r"[\W_]+", "", v).upper() == wanted), None)

    def lists(self, venue: str, year: int) -> bool:
        """Whether this site may have a listing for venue-year, without asking (False: do not ask)."""
        return False

    async def listing(self, venue: str, year: int) -> list[PaperMeta] | None:
        """Every paper of a venue-year, or None when the site does not host that venue-year (its listing is a 404)."""
        return None

    def listed_ids(self, meta: PaperMeta) -> tuple[str, ...]:
        """The ids a listed paper is found by (a ref's id names it): by default the one its URL names."""
        ref = self.ref(meta.url)
        return (ref.id,) if ref is not None else ()

    def index(self, listing: Sequence[PaperMeta]) -> dict[str, PaperMeta | None]:
        """id -> listed paper, built once per listing (crawler.sources.gateway.Listing keeps it): finding each
        link's paper by scanning a listing of thousands was quadratic. An id two papers share names neither (None)."""
        out: dict[str, PaperMeta | None] = {}
        for meta in listing:
            for ident in self.listed_ids(meta):
                out[ident] = meta if out.get(ident, meta) is meta else None
        return out

    def find(self, ref: PaperRef, listing: Sequence[PaperMeta]) -> PaperMeta | None:
        """The listed paper `ref` names (None: none, or more than one)."""
        return self.index(listing).get(ref.id)

    async def search(self, titles: Sequence[str]) -> dict[str, list[PaperMeta]]:
        """title -> candidates the site returns for it (only for sources with `searches`)."""
        return {}

    async def abstract(self, meta: PaperMeta) -> PaperMeta:
        """`meta` with its abstract (and authors) from the paper's page, when the listing had none."""
        return meta

    async def aclose(self) -> None:  # noqa: B027 (a hook: most sources hold nothing of their own)
        """Release what the source holds (clients are the pool's: nothing by default)."""


__all__ = [
    "WHOLE", "Availability", "Claim", "Defer", "PaperRef", "PaperSource", "SourceState", "SourceStates",
    "SourceUnavailable", "Verification", "Verifier",
]
