"""URL rules, all pure: validation, normalisation (the cache key), arXiv ids, and the table of site rules.

Every rule about a host lives in SITES (after lychee's quirks table): whether a link there is
a paper, a page that is not one, or says nothing either way; how its paper ids parse; the manners it
needs. Entries, the settings' built-in host rules and the arXiv source read it. A source module still
declares which URLs it claims itself; which credential may go to which host is crawler.net.credentials' table.
"""

from __future__ import annotations

import enum
import functools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import SplitResult, urlsplit, urlunsplit

from crawler.findings import Empty, Excluded, Finding, Invalid
from crawler.models import ArxivId

if TYPE_CHECKING:
    from crawler.listfile.exclusions import Rule

WEB_SCHEMES = frozenset({"http", "https"})
# Schemes a list may legitimately hold that we do not fetch. Anything else (`hhttps:`) is a typo: invalid.
OTHER_SCHEMES = frozenset(
    {"mailto", "ftp", "ftps", "sftp", "tel", "javascript", "data", "file", "irc", "ircs", "git", "ssh",
     "news", "nntp", "sms", "magnet", "xmpp", "slack", "zotero", "doi", "urn", "webcal", "about"}
)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_DEFAULT_PORT = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Precheck:
    """What can be said about a URL before any request (crawler.findings): None means 'go and check it'."""

    finding: Finding | None
    # A link inside the repository (an in-page anchor, a relative path): excluded from the web, judged
    # from the repository's own files (crawler.checking.localrefs).
    local: bool = False
    by_user: bool = False  # excluded by one of the user's rules: a verdict about the run, not the link

    @property
    def reason(self) -> str | None:
        return self.finding.why if self.finding is not None else None


def precheck(url: str, exclude: Sequence[Rule] = ()) -> Precheck:
    """Decide invalid / excluded without the network. The user's exclusions come first: an excluded URL is
    left out whatever it holds, with the rule that excluded it named."""
    raw = url.strip()
    if not raw:
        return Precheck(Empty())
    for rule in exclude:
        if rule.matches(raw):
            return Precheck(Excluded(rule.reason), by_user=True)
    if raw.startswith("#"):
        return Precheck(Excluded("in-page anchor"), local=True)
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises on a bad port
    except ValueError as exc:
        return Precheck(Invalid(f"malformed URL: {exc}"))
    scheme = parts.scheme.lower()
    if not scheme:
        if _host_without_scheme(raw):
            return Precheck(Invalid("no scheme (http:// or https://)"))
        return Precheck(Excluded("relative link"), local=True)
    if scheme not in WEB_SCHEMES:
        if scheme in OTHER_SCHEMES:
            return Precheck(Excluded(f"not a web link ({scheme}:)"))
        return Precheck(Invalid(f"unknown scheme {scheme!r}"))
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return Precheck(Invalid("no host"))
    if port == 0:
        return Precheck(Invalid("port 0"))
    if not _valid_host(host):
        return Precheck(Invalid(f"bad host name {host!r}"))
    return Precheck(None)


def _host_without_scheme(raw: str) -> bool:
    """`www.example.org/x`, `arxiv.org/abs/1`, `//host/x`: a web address that lost its scheme. A file beside
    the list (`README.md`, `paper.pdf`) is a relative link, as GitHub reads it, even where its extension is
    a country's domain (`.md`, `.py`): only a dotted name with a path under it, or `www.`, looks like a host."""
    head, slash, _ = raw.partition("/")
    if raw.startswith("//") or head.lower().startswith("www."):
        return True
    return bool(slash) and "." in head and not head.startswith(".")


def _valid_host(host: str) -> bool:
    if host.startswith("[") or ":" in host:  # IPv6 literal; urlsplit already validated brackets
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return all(_HOST_LABEL.match(label) for label in ascii_host.lower().split("."))


@functools.lru_cache(maxsize=1 << 16)  # the same URLs are keyed by every stage and output of a run
def normalize_url(url: str) -> str:
    """The cache and de-duplication key: same resource, same string.

    Lower-cases scheme and host, drops the default port, the fragment and an empty path's
    difference ("http://a.org" == "http://a.org/"). Paths and queries are kept as written:
    servers may treat them case-sensitively.
    """
    raw = url.strip()
    try:
        parts = urlsplit(raw)
        port = parts.port
    except ValueError:
        return raw
    scheme = parts.scheme.lower()
    if scheme not in WEB_SCHEMES or not parts.hostname:
        return raw.split("#", 1)[0] if scheme in WEB_SCHEMES else raw
    host = parts.hostname.rstrip(".")
    try:
        host = host.encode("idna").decode("ascii").lower()
    except UnicodeError:
        host = host.lower()
    if ":" in host:
        host = f"[{host}]"
    netloc = host if port in (None, _DEFAULT_PORT[scheme]) else f"{host}:{port}"
    if parts.username or parts.password:
        creds = parts.username or ""
        if parts.password:
            creds += f":{parts.password}"
        netloc = f"{creds}@{netloc}"
    return urlunsplit((scheme, netloc, parts.path or "/", parts.query, ""))


def url_key(url: str) -> str:
    """The one cache and de-duplication key of a link's URL ("" for an empty link)."""
    return normalize_url(url) if url.strip() else ""


@functools.lru_cache(maxsize=1 << 16)
def host_of(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname or "").lower()


def web_parts(url: str) -> tuple[str, SplitResult] | None:
    """An http(s) URL's host (lower case) and parts; None for any other URL, or one that does not parse."""
    try:
        parts = urlsplit(url.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return None
    return (host, parts) if parts.scheme.lower() in WEB_SCHEMES else None


# --- arXiv ids -------------------------------------------------------------------------------------------

_ID = (
    r"(?:(?P<yy>\d{2})(?P<mm>\d{2})\.(?P<num>\d{4,5})"  # new style: 1503.02531, 1412.6550
    # old style: hep-th/9901001, math.GT/0309136
    r"|(?P<archive>[a-z]+(?:-[a-z]+)?)(?:\.[a-z]{2})?/(?P<oyy>\d{2})(?P<omm>\d{2})(?P<onum>\d{3}))"
    r"(?:v(?P<version>[1-9]\d*))?"
)
_BARE_ID = re.compile(rf"(?:arxiv:\s*)?{_ID}", re.IGNORECASE)
_URL_ID = re.compile(
    rf"https?://(?:www\.|export\.)?arxiv\.org/(?P<kind>abs|pdf|html)/{_ID}(?P<ext>\.pdf)?/?(?:[?#].*)?",
    re.IGNORECASE,
)


def parse_arxiv_id(text: str) -> ArxivId | None:
    """The canonical, versionless id in an arXiv id or abs/pdf/html URL; None for anything else.

    Old-style ids lose their subject class (`math.GT/0309136` -> `math/0309136`): arXiv's own
    canonical form, and what the API puts in `<id>`, so lookups key back to what was asked.
    """
    text = text.strip()
    m = _URL_ID.fullmatch(text)
    if m and m["ext"] and m["kind"].lower() != "pdf":
        return None
    m = m or _BARE_ID.fullmatch(text)
    if not m:
        return None
    if m["num"] is not None:
        yymm, num = int(m["yy"] + m["mm"]), m["num"]
        # Four-digit numbers until 2014-12, five from 2015-01; the scheme itself began in 2007-04.
        if not 1 <= int(m["mm"]) <= 12 or yymm < 704 or len(num) != (4 if yymm < 1501 else 5):
            return None
        if int(num) == 0:
            return None
        return ArxivId(f"{m['yy']}{m['mm']}.{num}")
    oyy = int(m["oyy"])
    if not 1 <= int(m["omm"]) <= 12 or not (oyy >= 91 or oyy <= 7) or int(m["onum"]) == 0:
        return None
    return ArxivId(f"{m['archive'].lower()}/{m['oyy']}{m['omm']}{m['onum']}")


def abs_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/abs/{arxiv_id}"


def pdf_url(arxiv_id: str) -> str:
    return f"https://arxiv.org/pdf/{arxiv_id}"


# --- the table of site rules -----------------------------------------------------------------------------


class SiteKind(enum.StrEnum):
    """What a link to the site says about the entry it is written on."""

    PAPER = "paper"  # the page is a paper and nothing else (evidence the entry is a paper)
    NOT_PAPER = "not_paper"  # code, a video, a badge, a search page: an entry titled by it is not a paper
    NO_EVIDENCE = "no_evidence"  # personal and project pages: they say nothing either way


@dataclass(frozen=True)
class Site:
    """The rules for one site. `pattern` matches after the scheme: a host (any subdomain) and maybe a path."""

    pattern: str
    kind: SiteKind | None = None
    hosts: frozenset[str] = frozenset()  # exact host names, for the rules below that are per host
    ids: Callable[[str], str | None] | None = None  # its paper ids, from a URL of the site
    concurrency: int | None = None  # built-in manners, which [tool.crawler.hosts."<host>"] overrides
    spacing: float | None = None
    pause: float | None = None


ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})

SITES: tuple[Site, ...] = (
    Site(r"arxiv\.org/(abs|pdf)/", SiteKind.PAPER, ARXIV_HOSTS, ids=lambda url: parse_arxiv_id(url)),
    # github.com answers a burst of page loads from one address with 429 and `Retry-After: 60` and does not
    # publish its limit. Two requests in flight at least a second apart is lychee-style
    # politeness (public reports see 429s at one request a second, LightGBM #3785); a 429 then pauses the
    # whole host for at least 60 s and stretches the spacing to the rate it allows (crawler.net.pacing).
    Site(r"github\.com", SiteKind.NOT_PAPER, frozenset({"github.com"}), concurrency=2, spacing=1.0, pause=60.0),
    # OpenReview's two APIs (crawler.sources.openreview): one request at a time each (guests get 20 a minute,
    # accounts more since 2026-08; openreview/openreview#254, #437).
    Site(r"api2?\.openreview\.net", None, frozenset({"api.openreview.net", "api2.openreview.net"}), concurrency=1),
    # Crossref's REST API (crawler.sources.crossref): list queries at most 3 a second, 3 at a time with `mailto`
    # and 1 without (Crossref's limits since 2025-12); one at a time, a third of a second apart, keeps to both.
    Site(r"api\.crossref\.org", None, frozenset({"api.crossref.org"}), concurrency=1, spacing=0.34),
    *(Site(pattern, SiteKind.PAPER) for pattern in (
        r"openaccess\.thecvf\.com/content", r"openreview\.net/(pdf|forum)", r"aclweb\.org/anthology/",
        r"aclanthology\.org/", r"papers\.nips\.cc/paper", r"proceedings\.neurips\.cc/paper",
        r"proceedings\.mlr\.press/", r"raw\.githubusercontent\.com/mlresearch/v\d+/", r"jmlr\.org/proceedings/papers/",
        r"ecva\.net/papers/", r"ojs\.aaai\.org/",
        r"ieeexplore\.ieee\.org/(document|abstract|stamp)", r"dl\.acm\.org/doi/",
        r"link\.springer\.com/(article|chapter|content)", r"sciencedirect\.com/science/article")),
    *(Site(pattern, SiteKind.NOT_PAPER) for pattern in (
        r"gitlab\.com", r"bitbucket\.org", r"img\.shields\.io", r"shields\.io", r"badge\.fury\.io",
        r"travis-ci\.(org|com)", r"colab\.research\.google\.com", r"huggingface\.co", r"twitter\.com", r"x\.com",
        r"youtube\.com", r"youtu\.be", r"paperswithcode\.com", r"awesome\.re", r"scholar\.google\.[a-z.]+",
        r"bing\.com", r"google\.com", r"archive\.is", r"codalab\.org", r"zhihu\.com", r"weixin\.qq\.com",
        r"bilibili\.com", r"vimeo\.com")),
    *(Site(pattern, SiteKind.NO_EVIDENCE) for pattern in (r"github\.io", r"sites\.google\.com", r"weebly\.com")),
)


def _kind_pattern(kind: SiteKind, tail: str = "") -> re.Pattern[str]:
    alternatives = "|".join(s.pattern for s in SITES if s.kind is kind)
    return re.compile(rf"^https?://([^/]*\.)?({alternatives}){tail}", re.I)


# One compiled pattern per kind: entries test every link of a list against them.
PAPER_URL = re.compile(_kind_pattern(SiteKind.PAPER).pattern + r"|\.pdf([?#]|$)", re.I)  # a PDF is a paper too
NOT_PAPER_URL = _kind_pattern(SiteKind.NOT_PAPER, r"(/|$)")
NO_EVIDENCE_URL = _kind_pattern(SiteKind.NO_EVIDENCE, r"(/|$)")

def builtin_manners() -> dict[str, tuple[int | None, float | None, float | None]]:
    """host -> (concurrency, spacing, pause) for the hosts the table gives manners."""
    return {h: (s.concurrency, s.spacing, s.pause) for s in SITES
            if s.concurrency is not None or s.spacing is not None or s.pause is not None for h in s.hosts}


def paper_id(url: str) -> str | None:
    """The paper id a URL names on a site the table knows the ids of (arXiv), else None."""
    host = host_of(url)
    for site in SITES:
        if site.ids is not None and host in site.hosts:
            return site.ids(url)
    return None
