"""URL rules, all pure: validation, normalisation (the cache key), and the site quirk table."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

from crawler.models import ArxivId, LinkStatus

WEB_SCHEMES = frozenset({"http", "https"})
ARXIV_HOSTS = frozenset({"arxiv.org", "www.arxiv.org", "export.arxiv.org"})
# Schemes a list may legitimately hold that we do not fetch. Anything else (`hhttps:`) is a typo: invalid.
OTHER_SCHEMES = frozenset(
    {"mailto", "ftp", "ftps", "sftp", "tel", "javascript", "data", "file", "irc", "ircs", "git", "ssh",
     "news", "nntp", "sms", "magnet", "xmpp", "slack", "zotero", "doi", "urn", "webcal", "about"}
)
_HOST_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")
_DEFAULT_PORT = {"http": 80, "https": 443}


@dataclass(frozen=True)
class Precheck:
    """What can be said about a URL before any request: None means 'go and check it'."""

    status: LinkStatus | None
    reason: str | None = None


def precheck(url: str, exclude: tuple[re.Pattern, ...] = ()) -> Precheck:
    """Decide invalid / skipped without the network."""
    raw = url.strip()
    if not raw:
        return Precheck(LinkStatus.EMPTY, "empty link")
    if raw.startswith("#"):
        return Precheck(LinkStatus.SKIPPED, "in-page anchor")
    try:
        parts = urlsplit(raw)
        port = parts.port  # raises on a bad port
    except ValueError as exc:
        return Precheck(LinkStatus.INVALID, f"malformed URL: {exc}")
    scheme = parts.scheme.lower()
    if not scheme:
        if raw.startswith("//") or "." in raw.split("/", 1)[0] and not raw.startswith((".", "/")):
            return Precheck(LinkStatus.INVALID, "no scheme (http:// or https://)")
        return Precheck(LinkStatus.SKIPPED, "relative link")
    if scheme not in WEB_SCHEMES:
        if scheme in OTHER_SCHEMES:
            return Precheck(LinkStatus.SKIPPED, f"not a web link ({scheme}:)")
        return Precheck(LinkStatus.INVALID, f"unknown scheme {scheme!r}")
    host = (parts.hostname or "").rstrip(".")
    if not host:
        return Precheck(LinkStatus.INVALID, "no host")
    if port == 0:
        return Precheck(LinkStatus.INVALID, "port 0")
    if not _valid_host(host):
        return Precheck(LinkStatus.INVALID, f"bad host name {host!r}")
    for pattern in exclude:
        if pattern.search(raw):
            return Precheck(LinkStatus.SKIPPED, f"excluded by config ({pattern.pattern})")
    return Precheck(None)


def _valid_host(host: str) -> bool:
    if host.startswith("[") or ":" in host:  # IPv6 literal; urlsplit already validated brackets
        return True
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    return all(_HOST_LABEL.match(label) for label in ascii_host.lower().split("."))


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


def host_of(url: str) -> str:
    parts = urlsplit(url)
    return (parts.hostname or "").lower()


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
