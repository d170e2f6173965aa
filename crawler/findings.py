"""What a look at a link found, before it is a verdict: a small closed set of values. No I/O here.

Whatever looks at a link says what it saw in these terms: the precheck (crawler.listfile.links), the
repository's own files (crawler.checking.localrefs), the web check (crawler.checking.checker), and the
sources that answer for links without fetching them (GitHub, arXiv, OpenReview, Crossref and doi.org).
crawler.checking.verdicts alone turns a finding into a CheckResult and its LinkStatus, so that what each
finding means for the list (a failure, not judged, healthy) is decided in one place.

A finding carries its own data: why a link is gone, where it moved, which rule excluded it. A text for
a report is `why`, on every finding that has one.
"""

from __future__ import annotations

from dataclasses import dataclass

from crawler.models import Hop, PaperMeta

PERMANENT = frozenset({301, 308})  # the HTTP redirects that say "use the new address from now on"


@dataclass(frozen=True)
class Works:
    """It answers as it should. `note` is worth telling without being a failure ("archived")."""

    note: str | None = None


@dataclass(frozen=True)
class Moved:
    """It works, at another address from now on: a permanent redirect, a renamed repository."""

    to: str | None
    note: str | None = None


@dataclass(frozen=True)
class Exists:
    """A source knows the thing the link names and has nothing more to judge (a note that is not a
    paper's, a DOI of a book): it works, at `url`."""

    url: str


@dataclass(frozen=True)
class Known:
    """A source knows the paper the link names: it is judged against the entry at each place it is written."""

    meta: PaperMeta


@dataclass(frozen=True)
class Gone:
    """It does not exist: a 404 or 410, a page saying "not found", a name that does not resolve, a
    repository, path, note or DOI its authority says is not there."""

    why: str | None = None


@dataclass(frozen=True)
class Walled:
    """A login or bot wall, or a server refusing our client: it says nothing about the link."""

    why: str


@dataclass(frozen=True)
class Throttled:
    """Rate limited (HTTP 429), by the link's host or by the source that answers for it."""

    why: str


@dataclass(frozen=True)
class Unknown:
    """Nobody could say this run: a source that could not answer, a link not in the cache offline."""

    why: str


@dataclass(frozen=True)
class Excluded:
    """Left out on purpose: a rule or comment of the user's, a scheme that is not the web's, a private
    address the settings refuse."""

    why: str


@dataclass(frozen=True)
class Invalid:
    """Not a URL that could work: a typo in the scheme, no host, a path out of the repository."""

    why: str


@dataclass(frozen=True)
class TimedOut:
    """No answer in time."""

    why: str


@dataclass(frozen=True)
class Unreachable:
    """No usable answer from the network: refused, reset, a TLS failure, a redirect that leads nowhere."""

    why: str


@dataclass(frozen=True)
class ServerError:
    """The server answered with a 5xx."""

    why: str


@dataclass(frozen=True)
class Empty:
    """An empty link: `[paper]()`."""

    why: str = "empty link"


@dataclass(frozen=True)
class CrawlerError:
    """The crawler failed to look (a bug, a worker that died): nothing is known about the link."""

    why: str


Finding = (Works | Moved | Exists | Known | Gone | Walled | Throttled | Unknown | Excluded | Invalid | TimedOut
           | Unreachable | ServerError | Empty | CrawlerError)


def loaded(hops: tuple[Hop, ...], final: str | None) -> Works | Moved:
    """What a page that answered 2xx after `hops` says: moved to where the last permanent hop points, else works."""
    for i in range(len(hops) - 1, -1, -1):
        if hops[i].status in PERMANENT:
            return Moved(hops[i + 1].url if i + 1 < len(hops) else final)
    return Works()
