"""GitHub links judged through the GraphQL API: many repositories per request (issue 12).

github.com answers a burst of page loads with `429 Retry-After: 60`, and a CI runner shares its address
with others; the job's own token answers fifty repositories in one request and says more than a page
load would: renamed, archived, stars, last push, whether a linked file still exists at that ref.

Pure parts: `parse_github_url` (which URLs are in scope), `build_query` (one query, everything the user
wrote passed as GraphQL variables, never spliced into its text), `read_answer` (alias by alias, partial
`data` next to `errors` included) and `judge` (one claim's verdict). `GitHubVerifier` does the I/O:
one request in flight, batches halved when GitHub times out, the point budget watched, secondary limits
waited out up to a cap.

What never makes a link broken: an answer we cannot read, a timeout, a refused token, a spent budget.
Those links go to the ordinary web check (`Verification.to_web`). Only GitHub's own word that a
repository, a tag or a path does not exist does (SOURCES.md "GitHub").
"""

from __future__ import annotations

import asyncio
import dataclasses
import enum
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import httpx

from crawler.config import DEFAULT_TIMEOUT, Settings
from crawler.errors import BodyTooLarge, HostPaused, NameNotResolved, PrivateAddressRefused, SourceUnavailable
from crawler.models import CheckResult, LinkStatus, RepoInfo
from crawler.net.body import read_capped
from crawler.net.credentials import GITHUB_TOKEN, Credentials
from crawler.net.pacing import retry_after as parse_retry_after
from crawler.net.pool import ClientPool
from crawler.sources.base import Claim, Verification, Verifier

log = logging.getLogger(__name__)

SOURCE = "github"
GRAPHQL_URL = "https://api.github.com/graphql"
DEFAULT_BATCH = 50  # repositories per query: scalar fields only, well under GitHub's 10 s (SOURCES.md)
DEFAULT_RESERVE = 50  # points left for the job's other steps (GITHUB_TOKEN has 1,000 an hour)
DEFAULT_MAX_WAIT = 180.0  # seconds a run may spend waiting out secondary limits, in all
MIN_SECONDARY_WAIT = 60.0  # GitHub: without retry-after, wait at least a minute
MAX_UNREADABLE = 3  # unreadable answers in a row before GraphQL is given up for the run
MAX_SPLITS = 4  # `/tree/a/b/c/d/e`: branch names with more than three slashes are not worth asking
MAX_BODY = 8 * 1024 * 1024  # a 50-repository answer is ~20 KB

NOT_FOUND_REPO = "repository not found (missing or private)"

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
_GITHUB_HOSTS = frozenset({"github.com", "www.github.com"})
_RAW_HOST = "raw.githubusercontent.com"


# --- URLs --------------------------------------------------------------------------------------------


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
    """The repository, path, tag, issue or profile a GitHub URL names; None when out of scope. Pure.

    In scope: github.com/OWNER/REPO (+ `.git`, a trailing slash, a query or fragment), its `/tree/`,
    `/blob/`, `/raw/`, `/releases/tag/`, `/issues/N` and `/pull/N` pages, raw.githubusercontent.com
    files, and profiles github.com/OWNER. Out: GitHub's own pages (features, orgs, topics, search, ...),
    gists, *.github.io sites, and every other page of a repository.
    """
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https"):
        return None
    try:
        if parts.port not in (None, 80, 443) or parts.username or parts.password:
            return None
    except ValueError:
        return None
    host = (parts.hostname or "").lower().rstrip(".")
    raw_path = parts.path
    segs = raw_path.split("/")[1:]
    if segs and segs[-1] == "":
        segs = segs[:-1]  # one trailing slash
    if any(s == "" for s in segs):
        return None  # `//` inside: not a URL GitHub serves as written
    extra = (f"?{parts.query}" if parts.query else "") + (f"#{parts.fragment}" if parts.fragment else "")
    canonical = parts.scheme.lower() == "https" and host in ("github.com", _RAW_HOST)
    if host in _GITHUB_HOSTS:
        ref = _github_page(segs, raw_path, extra)
    elif host == _RAW_HOST:
        if len(segs) < 4 or not _account(segs[0]) or not _repo_name(segs[1]):
            return None
        ref = GitHubRef(Kind.TREE, segs[0], segs[1], rest=tuple(unquote(s) for s in segs[2:]), host=_RAW_HOST,
                        tail=_tail(raw_path, 2) + extra)
    else:
        return None
    return ref if ref is None or canonical else dataclasses.replace(ref, canonical=False)


def _account(name: str) -> bool:
    return bool(_LOGIN.match(name)) and not name.endswith("-") and "--" not in name


def _repo_name(name: str) -> bool:
    return bool(_REPO.match(name)) and name not in (".", "..")


def _tail(raw_path: str, skip: int) -> str:
    """The part of the path after its first `skip` segments, as written."""
    pieces = raw_path.split("/", skip + 1)
    return "/" + pieces[skip + 1] if len(pieces) > skip + 1 else ""


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
    page, more = segs[2], segs[3:]
    if page in ("tree", "blob", "raw") and more:
        return GitHubRef(Kind.TREE, owner, name, rest=tuple(unquote(s) for s in more), tail=tail)
    if page == "releases" and len(more) == 2 and more[0] == "tag":
        return GitHubRef(Kind.RELEASE, owner, name, tag=unquote(more[1]), tail=tail)
    if page in ("issues", "pull") and len(more) in (1, 2) and more[0].isdigit() and 0 < int(more[0]) < 2**31:
        if len(more) == 2 and more[1] not in ("files", "commits", "checks"):
            return None
        return GitHubRef(Kind.ISSUE, owner, name, number=int(more[0]), tail=tail)
    return None


# --- the query ---------------------------------------------------------------------------------------

_REPO_FIELDS = "nameWithOwner url isArchived archivedAt isDisabled stargazerCount pushedAt"


@dataclass(frozen=True)
class Item:
    """One top-level field of a query: a repository with everything asked of it, or an account."""

    key: str  # "owner/name" or "@login", lower case
    owner: str
    name: str | None = None  # None: an account (repositoryOwner)
    expressions: tuple[str, ...] = ()  # object(expression:) asked: "REF:PATH", and "REF:" (does REF exist?)
    tags: tuple[str, ...] = ()
    numbers: tuple[int, ...] = ()

    @property
    def weight(self) -> int:
        """What the item costs GitHub to answer, in repositories: each ten git lookups count as one more."""
        return 1 + (len(self.expressions) + 2 * len(self.tags) + len(self.numbers)) // 10


def readings(ref: GitHubRef, first: bool) -> list[tuple[str, str]]:
    """The (ref, path) readings asked for a path link: the first alone (branch names rarely hold '/'), or the others."""
    splits = ref.splits()
    return splits[:1] if first else splits[1:]


def items_for(refs: Iterable[GitHubRef], *, first: bool = True) -> list[Item]:
    """One item per repository (or account), in first-seen order, with the union of what its links ask.

    `first`: path links ask their first (ref, path) reading; False: the other readings, for the links
    whose first reading named no ref at all.
    """
    found: dict[str, dict[str, Any]] = {}
    for ref in refs:
        if ref.kind is Kind.PROFILE:
            found.setdefault("@" + ref.owner.lower(), {"owner": ref.owner, "name": None})
            continue
        item = found.setdefault(ref.repo_key, {"owner": ref.owner, "name": ref.repo, "expressions": {},
                                               "tags": {}, "numbers": {}})
        if ref.kind is Kind.TREE:
            for branch, path in readings(ref, first):
                item["expressions"][f"{branch}:{path}"] = None
                item["expressions"][f"{branch}:"] = None  # does the ref exist at all?
        elif ref.kind is Kind.RELEASE and first:
            item["tags"][ref.tag] = None
        elif ref.kind is Kind.ISSUE and first:
            item["numbers"][ref.number] = None
    return [
        Item(key, v["owner"], v["name"], tuple(v.get("expressions", ())), tuple(v.get("tags", ())),
             tuple(v.get("numbers", ())))
        for key, v in found.items()
    ]


def build_query(items: Sequence[Item]) -> tuple[str, dict[str, Any]]:
    """One query for `items` and its variables. Item i answers under alias `r{i}` (repository) or `u{i}` (account).

    Everything that came from a list (owners, names, ref:path expressions, tags, numbers) is a variable:
    a name with a quote or a brace cannot change the query.
    """
    decls: list[str] = []
    fields: list[str] = ["rateLimit { cost remaining resetAt }"]
    variables: dict[str, Any] = {}

    def var(name: str, kind: str, value: Any) -> str:
        decls.append(f"${name}: {kind}")
        variables[name] = value
        return f"${name}"

    for i, item in enumerate(items):
        if item.name is None:
            fields.append(f"u{i}: repositoryOwner(login: {var(f'l{i}', 'String!', item.owner)}) {{ login url }}")
            continue
        owner, name = var(f"o{i}", "String!", item.owner), var(f"n{i}", "String!", item.name)
        inner = [_REPO_FIELDS]
        inner += [f"x{j}: object(expression: {var(f'x{i}_{j}', 'String!', e)}) {{ __typename }}"
                  for j, e in enumerate(item.expressions)]
        for j, tag in enumerate(item.tags):
            inner.append(f"t{j}: release(tagName: {var(f't{i}_{j}', 'String!', tag)}) {{ __typename }}")
            inner.append(f"g{j}: object(expression: {var(f'g{i}_{j}', 'String!', 'refs/tags/' + tag)}) "
                         "{ __typename }")
        inner += [f"q{j}: issueOrPullRequest(number: {var(f'q{i}_{j}', 'Int!', n)}) {{ __typename }}"
                  for j, n in enumerate(item.numbers)]
        fields.append(f"r{i}: repository(owner: {owner}, name: {name}) {{ {' '.join(inner)} }}")
    head = f"query({', '.join(decls)})" if decls else "query"
    return head + " {\n  " + "\n  ".join(fields) + "\n}", variables


# --- the answer --------------------------------------------------------------------------------------


class Found(enum.Enum):
    YES = "yes"
    NO = "no"  # GitHub says it does not exist (or the token may not see it: the same for a reader)
    UNKNOWN = "unknown"  # no usable word on it: an error of another kind, or nothing at all


@dataclass(frozen=True)
class Answer:
    """What one query said about one item."""

    found: Found
    data: dict[str, Any] = field(default_factory=dict)  # the repository's (or account's) scalar fields
    objects: dict[str, Found] = field(default_factory=dict)  # expression -> exists
    folders: frozenset[str] = frozenset()  # expressions that name a Tree (raw.githubusercontent.com serves files)
    tags: dict[str, Found] = field(default_factory=dict)
    numbers: dict[int, Found] = field(default_factory=dict)
    forbidden: bool = False  # "Resource not accessible by integration" and its kin


@dataclass(frozen=True)
class Budget:
    cost: int | None
    remaining: int | None
    reset_at: str | None


def _errors_by_path(errors: list[Any]) -> dict[tuple, list[dict]]:
    """GraphQL errors keyed by the path of the field they are about (("r3",), ("r0", "q1")); others dropped."""
    by_path: dict[tuple, list[dict]] = {}
    for error in errors:
        if isinstance(error, dict) and isinstance(error.get("path"), list) and error["path"]:
            by_path.setdefault(tuple(error["path"]), []).append(error)
    return by_path


def _is_forbidden(error: dict) -> bool:
    return error.get("type") == "FORBIDDEN" or "not accessible by integration" in str(error.get("message", ""))


def read_answer(items: Sequence[Item], payload: dict[str, Any]) -> tuple[dict[str, Answer], Budget | None]:
    """Item key -> what the answer says of it; items it says nothing readable about are left out.

    Read alias by alias: GitHub sends `data` for the aliases it could answer next to `errors` for the
    others (`{"type": "NOT_FOUND", "path": ["r3"]}`).
    """
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    errors = payload.get("errors")
    by_path = _errors_by_path(errors if isinstance(errors, list) else [])
    out: dict[str, Answer] = {}
    for i, item in enumerate(items):
        alias = f"u{i}" if item.name is None else f"r{i}"
        if alias not in data:
            continue  # the answer stopped short of it: nothing said
        own = by_path.get((alias,), [])
        value = data[alias]
        if value is None or not isinstance(value, dict):
            if any(e.get("type") == "NOT_FOUND" for e in own):
                out[item.key] = Answer(Found.NO)
            elif any(_is_forbidden(e) for e in own):
                out[item.key] = Answer(Found.UNKNOWN, forbidden=True)
            elif item.name is None and value is None and not own:
                out[item.key] = Answer(Found.NO)  # repositoryOwner is null, without an error, for no such login
            else:
                out[item.key] = Answer(Found.UNKNOWN)
            continue
        if item.name is None:
            out[item.key] = Answer(Found.YES, data=value) if value.get("login") else Answer(Found.UNKNOWN)
            continue
        if not isinstance(value.get("nameWithOwner"), str):
            out[item.key] = Answer(Found.UNKNOWN)
            continue

        def sub(local: str, alias: str = alias, value: dict = value) -> Found:
            errs = by_path.get((alias, local), [])
            if errs:
                return Found.NO if all(e.get("type") == "NOT_FOUND" for e in errs) else Found.UNKNOWN
            if local not in value:
                return Found.UNKNOWN
            return Found.YES if isinstance(value[local], dict) else Found.NO

        tags = {}
        for j, tag in enumerate(item.tags):
            release, tagged = sub(f"t{j}"), sub(f"g{j}")
            tags[tag] = Found.YES if Found.YES in (release, tagged) else (
                Found.NO if release is tagged is Found.NO else Found.UNKNOWN)
        out[item.key] = Answer(
            Found.YES,
            data={k: value.get(k) for k in _REPO_FIELDS.split()},
            objects={e: sub(f"x{j}") for j, e in enumerate(item.expressions)},
            folders=frozenset(e for j, e in enumerate(item.expressions)
                              if isinstance(value.get(f"x{j}"), dict) and value[f"x{j}"].get("__typename") == "Tree"),
            tags=tags,
            numbers={n: sub(f"q{j}") for j, n in enumerate(item.numbers)},
        )
    rate = data.get("rateLimit")
    budget = None
    if isinstance(rate, dict):
        budget = Budget(_int(rate.get("cost")), _int(rate.get("remaining")),
                        rate.get("resetAt") if isinstance(rate.get("resetAt"), str) else None)
    return out, budget


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


# --- verdicts ----------------------------------------------------------------------------------------


def judge(key: str, ref: GitHubRef, answer: Answer, now: float) -> CheckResult | None:
    """The verdict on one link from what GitHub said of its repository; None: leave it to the web check."""
    if answer.found is Found.UNKNOWN:
        return None
    if ref.kind is Kind.PROFILE:
        if answer.found is Found.NO:
            return CheckResult(url=key, status=LinkStatus.BROKEN, error="GitHub account not found", checked_at=now)
        login = str(answer.data.get("login"))
        final = str(answer.data.get("url") or f"https://github.com/{login}")
        if not ref.canonical:
            return CheckResult(url=key, status=LinkStatus.REDIRECTED, final_url=final, suggestion=ref.url_for(login),
                               checked_at=now)
        return CheckResult(url=key, status=LinkStatus.OK, final_url=final, checked_at=now)
    if answer.found is Found.NO:
        return CheckResult(url=key, status=LinkStatus.BROKEN, error=NOT_FOUND_REPO, checked_at=now)
    data = answer.data
    current = str(data["nameWithOwner"])
    final = str(data.get("url") or f"https://github.com/{current}")
    if data.get("isDisabled"):
        return CheckResult(url=key, status=LinkStatus.BROKEN, final_url=final, checked_at=now,
                           error="repository disabled by GitHub")
    missing = _missing(ref, answer)
    if missing is None:
        return None  # the path (or tag, or issue) could not be settled: the page itself will say
    if missing:
        return CheckResult(url=key, status=LinkStatus.BROKEN, final_url=final, error=missing, checked_at=now)
    note = None
    if data.get("isArchived"):
        since = data.get("archivedAt")
        note = f"archived on {since[:10]}" if isinstance(since, str) and len(since) >= 10 else "archived"
    if current.lower() != ref.repo_key or not ref.canonical:  # as the page would: 301 to the https URL
        suggestion = ref.url_for(current if current.lower() != ref.repo_key else f"{ref.owner}/{ref.repo}")
        return CheckResult(url=key, status=LinkStatus.REDIRECTED, final_url=final, suggestion=suggestion,
                           note=note, checked_at=now)
    return CheckResult(url=key, status=LinkStatus.OK, final_url=final, note=note, checked_at=now)


def _missing(ref: GitHubRef, answer: Answer) -> str | None:
    """'' when what the link points at exists, why not when it does not, None when it is not settled."""
    if ref.kind is Kind.TREE:
        splits = ref.splits()
        seen = [answer.objects.get(f"{b}:{p}", Found.UNKNOWN) for b, p in splits]
        if ref.host == _RAW_HOST:  # raw serves files only: a folder there is a 404
            seen = [Found.NO if f"{b}:{p}" in answer.folders else at for (b, p), at in zip(splits, seen, strict=True)]
        if Found.YES in seen:
            return ""
        refs = [answer.objects.get(f"{b}:", Found.UNKNOWN) for b, _ in splits]
        for (branch, path), at, exists in zip(splits, seen, refs, strict=True):
            if exists is Found.YES and at is Found.NO:
                return f"no {path or 'such path'} at {branch}"
        # No reading names a ref that exists: a renamed branch redirects on the web, a deleted one does not.
        return None
    if ref.kind is Kind.RELEASE:
        found = answer.tags.get(ref.tag or "", Found.UNKNOWN)
        return "" if found is Found.YES else (f"no release or tag {ref.tag}" if found is Found.NO else None)
    if ref.kind is Kind.ISSUE:
        # A transferred issue is gone from this repository but redirects on the web: only "yes" is settled.
        return "" if answer.numbers.get(ref.number or 0) is Found.YES else None
    return ""


def repo_info(answer: Answer, now: float) -> RepoInfo | None:
    if answer.found is not Found.YES or "nameWithOwner" not in answer.data:
        return None
    data = answer.data
    return RepoInfo(name_with_owner=str(data["nameWithOwner"]), stars=_int(data.get("stargazerCount")),
                    archived=bool(data.get("isArchived")),
                    pushed_at=data.get("pushedAt") if isinstance(data.get("pushedAt"), str) else None,
                    checked_at=now)


# --- asking ------------------------------------------------------------------------------------------


class _Outcome(enum.Enum):
    READ = "read"
    SMALLER = "smaller"  # GitHub timed out on the batch: halve it
    UNREADABLE = "unreadable"  # this batch's answer cannot be used
    WAIT = "wait"  # secondary limit: wait, then ask again
    STOP = "stop"  # no more GraphQL this run (token refused, budget spent, API unreachable)


@dataclass
class _Reply:
    outcome: _Outcome
    payload: dict[str, Any] = field(default_factory=dict)
    reason: str = ""
    wait: float = 0.0
    token_refused: bool = False


class GitHubVerifier(Verifier):
    """Judges GitHub links with GraphQL when a token is set; with none it claims nothing.

    One request in flight. The client is the pool's for https://api.github.com: the pool, not this
    class, adds the token (crawler.net.credentials), and only for GitHub's https origins.
    """

    name = SOURCE
    claimed_hosts = _GITHUB_HOSTS | {_RAW_HOST}

    def __init__(
        self,
        client: httpx.AsyncClient | None,
        *,
        endpoint: str = GRAPHQL_URL,
        batch: int = DEFAULT_BATCH,
        reserve: int = DEFAULT_RESERVE,
        max_wait: float = DEFAULT_MAX_WAIT,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.time,
        credentials: Credentials | None = None,
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        self.client = client
        self.credentials = credentials if credentials is not None else Credentials.from_environment()
        self.endpoint = endpoint
        self.batch = batch
        self.reserve = reserve
        self.max_wait = max_wait
        self.timeout = timeout
        self._sleep = sleep
        self._clock = clock
        self._requests = 0
        self._waited = 0.0
        self._token_refused = False
        self._stopped: str | None = None  # why GraphQL is not asked any more this run
        self._unreadable = 0
        self._secondary_hits = 0
        self._lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings, pool: ClientPool | None) -> GitHubVerifier:
        client = pool.client(GRAPHQL_URL) if pool is not None and not settings.offline else None
        return cls(client, timeout=settings.timeout, credentials=pool.credentials if pool is not None else None)

    def _has_token(self) -> bool:
        return self.credentials.value(GITHUB_TOKEN, self.endpoint) is not None

    @property
    def requests_sent(self) -> int:
        return self._requests

    @property
    def unavailable(self) -> SourceUnavailable | None:
        """Why GraphQL was given up this run (its links went to the web check), for the run's source states."""
        return SourceUnavailable(SOURCE, self._stopped) if self._stopped else None

    def claims(self, url: str) -> bool:
        if self.client is None or self._token_refused or not self._has_token():
            return False
        return parse_github_url(url) is not None

    async def verify_all(self, claims: Sequence[Claim]) -> Verification:
        async with self._lock:  # one request in flight, whoever calls
            before = self._requests
            result = await self._verify(claims)
            result.requests = self._requests - before
            result.unavailable = self.unavailable
            return result

    async def _verify(self, claims: Sequence[Claim]) -> Verification:
        out = Verification()
        refs: dict[str, GitHubRef] = {}
        for claim in claims:
            ref = parse_github_url(claim.url) or parse_github_url(claim.key)
            if ref is None:
                out.to_web.add(claim.key)
            else:
                refs[claim.key] = ref
        if self.client is None or self._stopped or not self._has_token():
            out.to_web.update(refs)
            return out
        answers = await self._run(items_for(refs.values()))
        # Links whose first reading named no ref: a branch with '/' in its name, or a ref that is gone.
        again = [ref for ref in refs.values() if ref.kind is Kind.TREE and len(ref.splits()) > 1
                 and (a := answers.get(ref.repo_key)) is not None and a.found is Found.YES
                 and a.objects.get(f"{ref.splits()[0][0]}:") is Found.NO]
        if again:
            more = await self._run(items_for(again, first=False))
            answers.update({k: merge(answers[k], v) for k, v in more.items()})
        now = self._clock()
        for key, ref in refs.items():
            answer = answers.get(_item_key(ref))
            verdict = judge(key, ref, answer, now) if answer is not None else None
            if verdict is None:
                out.to_web.add(key)
            else:
                out.results[key] = verdict
            info = repo_info(answer, now) if answer is not None and ref.kind is not Kind.PROFILE else None
            if info is not None:
                out.repos[key] = info
        return out

    async def _run(self, queue: list[Item]) -> dict[str, Answer]:
        """Ask about every item, batch by batch; an item left out of the answer could not be asked or read."""
        answers: dict[str, Answer] = {}
        while queue and not self._stopped:
            batch = _take(queue, self.batch)
            reply = await self._ask(batch)
            if reply.outcome is _Outcome.WAIT:
                if self._waited + reply.wait > self.max_wait:
                    self._stop(f"secondary rate limit (asked to wait {reply.wait:g} s after {self._waited:g} s "
                               "of waiting)")
                    break
                self._waited += reply.wait
                log.warning("github: secondary rate limit, waiting %g s", reply.wait)
                await self._sleep(reply.wait)
                continue
            if reply.outcome is _Outcome.STOP:
                self._stop(reply.reason, token_refused=reply.token_refused)
                break
            if reply.outcome is _Outcome.SMALLER:
                if len(batch) > 1:
                    self.batch = max(1, sum(i.weight for i in batch) // 2)
                    log.debug("github: %s; at most %d repositories per query from now on", reply.reason, self.batch)
                    continue
                del queue[:1]  # even alone it times out: the web check will say
                continue
            del queue[: len(batch)]
            if reply.outcome is _Outcome.UNREADABLE:
                self._unreadable += 1
                log.debug("github: unreadable answer (%s)", reply.reason)
                if self._unreadable >= MAX_UNREADABLE:
                    self._stop(f"{self._unreadable} unreadable answers in a row ({reply.reason})")
                continue
            self._unreadable = 0
            found, budget = read_answer(batch, reply.payload)
            repos = [found[i.key] for i in batch if i.name is not None and i.key in found]
            if repos and all(a.forbidden for a in repos):
                self._stop("the token cannot read repositories (Resource not accessible by integration)",
                           token_refused=True)
                break
            answers.update(found)
            if budget is not None and budget.remaining is not None and queue \
                    and budget.remaining < (budget.cost or 1) + self.reserve:
                self._stop(f"GraphQL budget nearly spent ({budget.remaining} points left until "
                           f"{budget.reset_at or 'the hour is over'})")
        return answers

    def _stop(self, reason: str, *, token_refused: bool = False) -> None:
        reason = self.credentials.redact(reason)  # GitHub never echoes the token; if it did, it stays out of logs
        if self._stopped is None:
            log.warning("github: %s; GitHub links are checked on the web instead", reason)
            self._stopped = reason
        self._token_refused = self._token_refused or token_refused

    async def _ask(self, batch: Sequence[Item]) -> _Reply:
        query, variables = build_query(batch)
        assert self.client is not None
        self._requests += 1
        try:
            async with asyncio.timeout(self.timeout):
                async with self.client.stream(
                    "POST", self.endpoint, json={"query": query, "variables": variables},
                    headers={"Accept": "application/json"}, follow_redirects=False,
                ) as response:
                    body = await read_capped(response, MAX_BODY, whole=True)
        except (TimeoutError, httpx.TimeoutException):
            return _Reply(_Outcome.SMALLER, reason=f"no answer within {self.timeout:g} s")
        except HostPaused as exc:  # a 429 paused api.github.com for longer than we wait
            return _Reply(_Outcome.STOP, reason=str(exc))
        except (NameNotResolved, PrivateAddressRefused, httpx.ConnectError, httpx.UnsupportedProtocol) as exc:
            return _Reply(_Outcome.STOP, reason=f"cannot reach {self.endpoint} ({type(exc).__name__})")
        except BodyTooLarge:
            return _Reply(_Outcome.UNREADABLE, reason="answer too large")
        except (httpx.HTTPError, OSError) as exc:  # a dropped connection, a body cut short
            return _Reply(_Outcome.UNREADABLE, reason=f"{type(exc).__name__}")
        return self._classify(response, body)

    def _classify(self, response: httpx.Response, body: bytes) -> _Reply:
        status = response.status_code
        payload = _json(body)
        message = _message(payload)
        lowered = message.lower()
        if status == 401:
            return _Reply(_Outcome.STOP, reason=f"the token cannot read (HTTP 401 {message or 'unauthorized'})",
                          token_refused=True)
        secondary = "secondary rate limit" in lowered or "abuse" in lowered
        if status in (403, 429) or (secondary and not isinstance((payload or {}).get("data"), dict)):
            # GitHub's order: retry-after first; remaining 0 is the hourly budget; else wait a minute, doubling.
            retry_after = parse_retry_after(response.headers.get("retry-after"), self._clock())
            if retry_after is not None or secondary:
                self._secondary_hits += 1
                wait = retry_after if retry_after is not None else MIN_SECONDARY_WAIT * 2 ** (self._secondary_hits - 1)
                return _Reply(_Outcome.WAIT, wait=wait, reason="secondary rate limit")
            if response.headers.get("x-ratelimit-remaining") == "0" or "rate limit" in lowered:
                return _Reply(_Outcome.STOP, reason=f"GraphQL budget spent (HTTP {status})")
            if "not accessible by integration" in lowered:
                return _Reply(_Outcome.STOP, reason=f"the token cannot read ({message})", token_refused=True)
            return _Reply(_Outcome.UNREADABLE, reason=f"HTTP {status}")
        if status in (502, 504):
            return _Reply(_Outcome.SMALLER, reason=f"HTTP {status}")
        if status != 200:
            return _Reply(_Outcome.UNREADABLE, reason=f"HTTP {status}")
        if payload is None:
            return _Reply(_Outcome.UNREADABLE, reason="not JSON")
        errors = payload.get("errors")
        if not isinstance(payload.get("data"), dict):
            if isinstance(errors, list) and any(isinstance(e, dict) and e.get("type") in ("RATE_LIMITED", "RATE_LIMIT")
                                                for e in errors):
                return _Reply(_Outcome.STOP, reason=f"GraphQL budget spent ({message})")
            if "something went wrong" in lowered or "timeout" in lowered:
                return _Reply(_Outcome.SMALLER, reason="GitHub could not finish the query")
            if "not accessible by integration" in lowered:
                return _Reply(_Outcome.STOP, reason=f"the token cannot read ({message})", token_refused=True)
            return _Reply(_Outcome.UNREADABLE, reason=f"no data ({message[:200] or 'empty answer'})")
        return _Reply(_Outcome.READ, payload=payload)


def _json(body: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return value if isinstance(value, dict) else None


def _message(payload: dict[str, Any] | None) -> str:
    """GitHub's words: REST-style `message`, or the first GraphQL error's (never the request, never a token)."""
    if not payload:
        return ""
    if isinstance(payload.get("message"), str):
        return payload["message"]
    errors = payload.get("errors")
    if isinstance(errors, list):
        for error in errors:
            if isinstance(error, dict) and isinstance(error.get("message"), str):
                return error["message"]
    return ""


def _take(queue: Sequence[Item], size: int) -> list[Item]:
    """The head of the queue that weighs at most `size` (at least one item)."""
    batch: list[Item] = []
    weight = 0
    for item in queue:
        if batch and weight + item.weight > size:
            break
        batch.append(item)
        weight += item.weight
    return batch


def merge(first: Answer, second: Answer) -> Answer:
    """Two answers on one repository: what the second pass adds to the first."""
    if first.found is not Found.YES:
        return first
    return dataclasses.replace(first, objects={**first.objects, **second.objects},
                               folders=first.folders | second.folders)


def _item_key(ref: GitHubRef) -> str:
    return "@" + ref.owner.lower() if ref.kind is Kind.PROFILE else ref.repo_key
