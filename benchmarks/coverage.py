"""Which links of the corpus lists no one judges: by the rules of commit 1bd0498 and by today's.

    python -m benchmarks.coverage [DIR]            # default: $CRAWLER_CORPUS, else /work/shared/corpus/lists
    python -m benchmarks.coverage --json out.json

No network, nothing asked: every link as written in each list (each occurrence; an empty link is a fill,
not counted) is classified by who can judge it, with the crawler's own code: the parse (crawler.listfile.parse),
what needs no network (crawler.listfile.links.precheck) and what a link inside the repository names
(crawler.checking.localrefs), the sources' `ref` (the URLs each paper source answers for: OpenReview by note id,
Crossref by DOI or ScienceDirect PII through crawler.sources.doi), and the entries the links stand on.

- in the repository: an `#anchor` into the list, or a relative link to a file (with or without a fragment);
- OpenReview: any openreview.net link; one its API can be asked about (by note id) needs the account;
- DOI: a link carrying a DOI or a PII, judged through Crossref (doi.org's handles for other agencies);
- IEEE Xplore: a document number (crawler.sources.doi.ieee_document), searched in Crossref by its entry's title;
  counted judged when it stands under a titled paper entry: an upper bound, since the search must name
  that document (a static count cannot ask);
- walled, no DOI: a publisher whose pages wall robots (WALLS) and whose URL carries neither a DOI nor a
  document number (an IEEE journal's page, ACM's old `citation.cfm`);
- skipped by design: a non-web scheme (`mailto:`);
- the rest: arXiv, venue sites, GitHub and every other page, judged by their source or their page.

A link is *not judged* when the crawler can give it no verdict of its own (`skipped` or not judged).
Before (1bd0498): links inside the repository were skipped (but a relative `name.md`, taken for a host
name and judged `invalid`); OpenReview links blocked without a request;
a walled publisher's page, reached directly or through doi.org, blocked; and a paper URL written under
a second paper entry was judged once, for the entries together, so each occurrence under another entry
than the first was not judged against its own. Now: all of those are judged, OpenReview only with an
account, IEEE Xplore documents under a titled entry when Crossref's search names them; a walled publisher
without a DOI or a document number stays blocked.

What a static count cannot know: a site that is down, rate limits or walls robots on a given night
(ResearchGate, a lab's server) is not judged that night; a PII Crossref does not know falls back to its
walled page; Springer walls robots on some pages only (all are counted walled before).
"""

from __future__ import annotations

import argparse
import enum
import json
import os
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from crawler.checking.localrefs import target_of
from crawler.checking.verdicts import status_of
from crawler.config import Settings
from crawler.listfile.links import host_of, precheck, url_key
from crawler.listfile.parse import parse_list
from crawler.models import Entry, Link, ParsedList
from crawler.sources import build
from crawler.sources.base import PaperSource
from crawler.sources.doi import doi_in, ieee_document

DEFAULT_CORPUS = Path("/work/shared/corpus/lists")
# Publishers whose pages answer robots with a wall: IEEE Xplore (418/403), ACM DL and ScienceDirect (a
# Cloudflare challenge), Springer (on some pages); by host, and by DOI prefix for a doi.org link to them.
WALLS = frozenset({"ieeexplore.ieee.org", "dl.acm.org", "www.sciencedirect.com", "sciencedirect.com",
                   "link.springer.com"})
WALLED_PREFIXES = frozenset({"10.1109", "10.1145", "10.1016", "10.1007"})  # IEEE, ACM, Elsevier, Springer
RESOLVERS = frozenset({"doi.org", "dx.doi.org", "www.doi.org", "doi.acm.org"})  # a DOI link's redirect to the publisher
OPENREVIEW = frozenset({"openreview.net", "www.openreview.net"})
# The paper sources that judged a page against its entries at 1bd0498 (OpenReview was blocked, Crossref absent).
JUDGED_BEFORE = frozenset({"arxiv", "cvf", "ecva", "neurips", "pmlr", "acl"})


class Kind(enum.StrEnum):
    ANCHOR = "#anchor"
    FILE = "relative"
    OPENREVIEW = "OpenReview"
    DOI = "DOI"
    IEEE = "IEEE Xplore"
    WALLED = "walled, no DOI"
    SCHEME = "mailto: etc."
    REST = "the rest"


class Rules(enum.StrEnum):
    BEFORE = "before (1bd0498)"
    ACCOUNT = "now, OpenReview account"
    NO_ACCOUNT = "now, no account"


@dataclass(frozen=True)
class Occurrence:
    kind: Kind
    judged: frozenset[Rules]  # the rules under which the crawler judges it
    repeat: bool = False  # a paper URL under a second paper entry


@dataclass
class Tally:
    name: str
    links: int = 0
    kinds: Counter = field(default_factory=Counter)
    repeats: int = 0
    not_judged: Counter = field(default_factory=Counter)  # Rules -> links

    def add(self, occ: Occurrence) -> None:
        self.links += 1
        self.kinds[occ.kind] += 1
        self.repeats += occ.repeat
        for rules in Rules:
            self.not_judged[rules] += rules not in occ.judged

    def merge(self, other: Tally) -> None:
        self.links += other.links
        self.kinds.update(other.kinds)
        self.repeats += other.repeats
        self.not_judged.update(other.not_judged)


class Classifier:
    """Who can judge a link, from the crawler's own rules (no network: the sources are built without a pool)."""

    def __init__(self) -> None:
        sources = [s for s in build(Settings(), None) if isinstance(s, PaperSource)]
        self.openreview = next(s for s in sources if s.name == "openreview")
        self.crossref = next(s for s in sources if s.name == "crossref")
        self.before = [s for s in sources if s.name in JUDGED_BEFORE]

    def kind(self, link: Link) -> Kind:
        check = precheck(link.url)
        if check.local:
            target = target_of(link.file, link.url)
            return Kind.ANCHOR if target.path == target.list_path else Kind.FILE
        if check.finding is not None:
            # `invalid` is a verdict (a failure); a non-web scheme is skipped by design.
            return Kind.REST if status_of(check.finding).is_failure else Kind.SCHEME
        host = host_of(link.url)
        if host in OPENREVIEW:
            return Kind.OPENREVIEW
        if ieee_document(link.url) is not None:
            return Kind.IEEE
        if self.crossref.ref(link.url) is not None:
            return Kind.DOI
        return Kind.WALLED if host in WALLS else Kind.REST

    def judged(self, link: Link, kind: Kind, repeat: bool, titled: bool = False) -> frozenset[Rules]:
        now = {Rules.ACCOUNT, Rules.NO_ACCOUNT}
        if kind is Kind.IEEE:  # searched by its entry's title: none, none to search by
            return frozenset(now if titled else ())
        if kind is Kind.OPENREVIEW:
            # Its API is asked by note id; the source names the other links `hash:...` or `page:...` (a note id
            # never holds ':') and leaves them blocked.
            ref = self.openreview.ref(link.url)
            return frozenset({Rules.ACCOUNT} if ref is not None and ":" not in ref.id else ())
        if kind in (Kind.WALLED, Kind.SCHEME):
            return frozenset()
        if kind is Kind.DOI:
            return frozenset(now if _walled_before(link.url) else now | {Rules.BEFORE})
        if kind is Kind.REST and not repeat or kind is Kind.FILE and _invalid_before(link.url):
            return frozenset(now | {Rules.BEFORE})
        return frozenset(now)  # inside the repository, or a paper URL's occurrence under another entry

    def paper_url(self, url: str) -> bool:
        """Whether a source judged this URL's page against its entries at 1bd0498."""
        return any(s.ref(url) is not None for s in self.before)


def _invalid_before(url: str) -> bool:
    """Whether 1bd0498 gave a relative link a verdict: `invalid` ("no scheme") when its first part held a dot
    (`contributing.md`, read as a host name); it skipped the others (`./docs`, `LICENSE`)."""
    raw = url.strip()
    return "." in raw.split("/", 1)[0] and not raw.startswith((".", "/", "#"))


def _walled_before(url: str) -> bool:
    """Whether the page a DOI link leads to walls robots: the publisher's own host, or doi.org sending there."""
    host = host_of(url)
    if host in WALLS:
        return True
    doi = doi_in(url)
    return host in RESOLVERS and doi is not None and doi.split("/")[0] in WALLED_PREFIXES


def repeats(parsed: ParsedList, classifier: Classifier) -> set[tuple[str, int, str]]:
    """(file, line, url) of each occurrence of a paper URL under a paper entry other than the first it stands
    under: at 1bd0498 the URL was judged once, for its entries together."""
    first: dict[str, tuple[str, int]] = {}
    out: set[tuple[str, int, str]] = set()
    for entry in _paper_entries(parsed.entries):
        for link in entry.links:
            if link.is_empty or not classifier.paper_url(link.url):
                continue
            key = url_key(link.url)
            if first.setdefault(key, entry.place) != entry.place:
                out.add((link.file, link.line, link.url))
    return out


def _paper_entries(entries: Iterable[Entry]) -> Iterable[Entry]:
    return (e for e in entries if e.is_paper)


def tally(name: str, parsed: ParsedList, classifier: Classifier) -> Tally:
    again = repeats(parsed, classifier)
    titled = {(lk.file, lk.line, lk.url) for e in _paper_entries(parsed.entries) if e.title for lk in e.links}
    out = Tally(name)
    for link in parsed.links:
        if link.is_empty:
            continue
        kind = classifier.kind(link)
        place = (link.file, link.line, link.url)
        repeat = kind is Kind.REST and place in again
        out.add(Occurrence(kind, classifier.judged(link, kind, repeat, place in titled), repeat))
    return out


def short_name(path: Path) -> str:
    """`owner__repo__file.md` (the corpus's naming) -> `owner/repo`, plus the file when it is not a README."""
    parts = path.name.split("__")
    if len(parts) < 3:
        return path.name
    return f"{parts[0]}/{parts[1]}" + ("" if parts[2].lower() == "readme.md" else f" {parts[2]}")


def measure(folder: Path) -> list[Tally]:
    classifier = Classifier()
    out = []
    for path in sorted(folder.glob("*.md")):
        parsed = parse_list(path.read_text(encoding="utf-8")).in_file(str(path))
        out.append(tally(short_name(path), parsed, classifier))
    total = Tally("total")
    for t in out:
        total.merge(t)
    return [*out, total]


def _pct(n: int, of: int) -> str:
    return f"{n} ({100 * n / of:.1f} %)" if of else "0"


def table(tallies: Sequence[Tally]) -> str:
    head = ["list", "links", *[k.value for k in Kind], "repeats", *[r.value for r in Rules]]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for t in tallies:
        cells = [f"**{t.name}**" if t.name == "total" else t.name, str(t.links),
                 *[str(t.kinds[k]) for k in Kind], str(t.repeats),
                 *[_pct(t.not_judged[r], t.links) for r in Rules]]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path,
                        default=Path(os.environ.get("CRAWLER_CORPUS") or DEFAULT_CORPUS))
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    if not args.folder.is_dir() or not any(args.folder.glob("*.md")):
        print(f"coverage: no Markdown lists in {args.folder}", file=sys.stderr)
        return 2
    tallies = measure(args.folder)
    print(f"Links not judged (each occurrence, empty links left out), {len(tallies) - 1} lists in {args.folder}:\n")
    print(table(tallies))
    if args.json:
        args.json.write_text(json.dumps([{"list": t.name, "links": t.links, "kinds": dict(t.kinds),
                                          "repeats": t.repeats, "not_judged": dict(t.not_judged)}
                                         for t in tallies], indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
