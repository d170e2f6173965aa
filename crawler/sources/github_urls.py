"""Which GitHub URLs the GraphQL verifier answers for, and what each names. Pure.

In scope: github.com/OWNER/REPO (+ `.git`, a trailing slash, a query or fragment), its `/tree/`,
`/blob/`, `/raw/`, `/releases/tag/`, `/issues/N` and `/pull/N` pages, raw.githubusercontent.com files,
and profiles github.com/OWNER. Out: GitHub's own pages (features, orgs, topics, search, ...), gists,
*.github.io sites, and every other page of a repository.
"""

from __future__ import annotations

import dataclasses
import enum
import re
from dataclasses import dataclass
from urllib.parse import SplitResult, unquote, urlsplit

MAX_SPLITS = 4  # `/tree/a/b/c/d/e`: branch names with more than three slashes are not worth asking

# First path segments of github.com that are GitHub's own pages, not accounts (after github-reserved-names).
RESERVED = frozenset({
    "about", "account", "apps", "blog", "business", "codespaces", "collections", "contact", "copilot",
    "customer-stories", "dashboard", "discussions", "enterprise", "enterprises", "events", "explore", "features",
    "gist", "gists", "github-copilot", "issues", "join", "login", "logout", "marketplace", "mobile", "new",
    "notifications", "organizations", "orgs", "pricing", "pulls", "readme", "resources", "search", "security",
    "settings", "site", "solutions", "sponsors", "stars", "team", "topics", "trending", "users", "watching",
})
_LOGIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})$")
_REPO = re.compile(r"^[A-Za-z0-9._-]{1,100}$")
_SHA = re.compile(r"^[0-9a-f]{40}$")
GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})
RAW_HOST = "raw.githubusercontent.com"


class Kind(enum.StrEnum):
    REPO = "repo"  # github.com/OWNER/REPO
    TREE = "tree"  # /tree/REF/PATH, /blob/REF/PATH, raw files: a path at a ref
    RELEASE = "release"  # /releases/tag/TAG
    ISSUE = "issue"  # /issues/N, /pull/N
    PROFILE = "profile"  # github.com/OWNER


@dataclass(frozen=True)
class GitHubRef:
    """What a GitHub URL names. `rest` is the ref and path as written (decoded): which part is the
    branch is only known by asking, since branch names may contain '/'."""

    kind: Kind
    owner: str
    repo: str | None = None
    rest: tuple[str, ...] = ()
    tag: str | None = None
    number: int | None = None
    host: str = "github.com"
    tail: str = ""  # everything after OWNER/REPO as written (path, query, fragment): kept by a suggestion
    canonical: bool = True  # written as https://github.com/... (http:// and www. redirect there)

    @property
    def repo_key(self) -> str:
        return f"{self.owner}/{self.repo}".lower()

    @property
    def item_key(self) -> str:
        """The key of what a query asks about it: its repository, or "@login" for a profile."""
        return "@" + self.owner.lower() if self.kind is Kind.PROFILE else self.repo_key

    def splits(self) -> list[tuple[str, str]]:
        """(ref, path) readings of `rest`: `a/b/c` -> (a, b/c), (a/b, c), (a/b/c, '')."""
        if not self.rest:
            return []
        if _SHA.match(self.rest[0]):
            return [(self.rest[0], "/".join(self.rest[1:]))]
        count = min(len(self.rest), MAX_SPLITS)
        if self.rest[:2] in (("refs", "heads"), ("refs", "tags")):  # raw.githubusercontent.com/O/R/refs/heads/main/x
            count = min(len(self.rest), MAX_SPLITS + 2)
        return [("/".join(self.rest[:i]), "/".join(self.rest[i:])) for i in range(1, count + 1)]

    def url_for(self, name_with_owner: str) -> str:
        """This URL with the repository (or account) named as GitHub names it now, over https."""
        return f"https://{self.host}/{name_with_owner}{self.tail}"


def parse_github_url(url: str) -> GitHubRef | None:
    """The repository, path, tag, issue or profile a GitHub URL names; None when out of scope."""
    parts = _web_parts(url)
    if parts is None:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    raw_path = parts.path
    segs = raw_path.split("/")[1:]
    if segs and segs[-1] == "":
        segs = segs[:-1]  # one trailing slash
    if any(s == "" for s in segs):
        return None  # `//` inside: not a URL GitHub serves as written
    extra = (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    if host in GITHUB_HOSTS:
        ref = _github_page(segs, raw_path, extra)
    elif host == RAW_HOST:
        ref = _raw_file(segs, raw_path, extra)
    else:
        return None
    canonical = parts.scheme.lower() == "https" and host in ("github.com", RAW_HOST)
    return ref if ref is None or canonical else dataclasses.replace(ref, canonical=False)


def _web_parts(url: str) -> SplitResult | None:
    """The URL's parts, when it is an http(s) URL on the default port without a user name."""
    try:
        parts = urlsplit(url.strip())
        if parts.scheme.lower() not in ("http", "https"):
            return None
        if parts.port not in (None, 80, 443) or parts.username or parts.password:
            return None
    except ValueError:
        return None
    return parts


def _account(name: str) -> bool:
    return bool(_LOGIN.match(name)) and not name.endswith("-") and "--" not in name


def _repo_name(name: str) -> bool:
    return bool(_REPO.match(name)) and name not in (".", "..")


def _tail(raw_path: str, skip: int) -> str:
    """The part of the path after its first `skip` segments, as written."""
    pieces = raw_path.split("/", skip + 1)
    return "/" + pieces[skip + 1] if len(pieces) > skip + 1 else ""


def _raw_file(segs: list[str], raw_path: str, extra: str) -> GitHubRef | None:
    if len(segs) < 4 or not _account(segs[0]) or not _repo_name(segs[1]):
        return None
    return GitHubRef(Kind.TREE, segs[0], segs[1], rest=tuple(unquote(s) for s in segs[2:]), host=RAW_HOST,
                     tail=_tail(raw_path, 2) + extra)


def _github_page(segs: list[str], raw_path: str, extra: str) -> GitHubRef | None:
    if not segs or not _account(segs[0]) or segs[0].lower() in RESERVED:
        return None
    owner = segs[0]
    if len(segs) == 1:
        return GitHubRef(Kind.PROFILE, owner, tail=extra)
    name = segs[1]
    if len(segs) == 2 and name.lower().endswith(".git"):
        name = name[:-4]
    if not _repo_name(name):
        return None
    tail = _tail(raw_path, 2) + extra
    if name != segs[1]:
        tail = ".git" + tail
    if len(segs) == 2:
        return GitHubRef(Kind.REPO, owner, name, tail=tail)
    return _repository_page(owner, name, segs[2], segs[3:], tail)


def _repository_page(owner: str, name: str, page: str, more: list[str], tail: str) -> GitHubRef | None:
    """A page below github.com/OWNER/REPO: a path at a ref, a release, an issue or pull request; else None."""
    if page in ("tree", "blob", "raw") and more:
        return GitHubRef(Kind.TREE, owner, name, rest=tuple(unquote(s) for s in more), tail=tail)
    if page == "releases" and len(more) == 2 and more[0] == "tag":
        return GitHubRef(Kind.RELEASE, owner, name, tag=unquote(more[1]), tail=tail)
    if page in ("issues", "pull") and len(more) in (1, 2) and more[0].isdigit() and 0 < int(more[0]) < 2**31:
        if len(more) == 2 and more[1] not in ("files", "commits", "checks"):
            return None
        return GitHubRef(Kind.ISSUE, owner, name, number=int(more[0]), tail=tail)
    return None
