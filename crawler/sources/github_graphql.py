"""GitHub's GraphQL API, pure: the query for many repositories at once, and what its answer says.

`build_query` puts everything the user wrote in GraphQL variables, never in the query's text;
`read_answer` reads the answer alias by alias, partial `data` next to `errors` included; `link_finding`
says what the answer means for one link (crawler.findings). Only GitHub's own word that a repository, a
tag or a path does not exist makes a link gone: an answer that says nothing leaves the link to the web check.
"""

from __future__ import annotations

import dataclasses
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from crawler.findings import Finding, Gone, Moved, Works
from crawler.models import RepoInfo
from crawler.sources.github_urls import RAW_HOST, GitHubRef, Kind

NOT_FOUND_REPO = "repository not found (missing or private)"

# --- the query ---------------------------------------------------------------------------------------

_REPO_FIELDS = "nameWithOwner url isArchived archivedAt isDisabled stargazerCount pushedAt"


@dataclass(frozen=True)
class QueryItem:
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


def items_for(refs: Iterable[GitHubRef], *, first: bool = True) -> list[QueryItem]:
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
        QueryItem(key, v["owner"], v["name"], tuple(v.get("expressions", ())), tuple(v.get("tags", ())),
             tuple(v.get("numbers", ())))
        for key, v in found.items()
    ]


def build_query(items: Sequence[QueryItem]) -> tuple[str, dict[str, Any]]:
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
class RepoAnswer:
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


def read_answer(items: Sequence[QueryItem], payload: dict[str, Any]) -> tuple[dict[str, RepoAnswer], Budget | None]:
    """Item key -> what the answer says of it; items it says nothing readable about are left out.

    Read alias by alias: GitHub sends `data` for the aliases it could answer next to `errors` for the
    others (`{"type": "NOT_FOUND", "path": ["r3"]}`).
    """
    data = payload.get("data")
    data = data if isinstance(data, dict) else {}
    errors = payload.get("errors")
    by_path = _errors_by_path(errors if isinstance(errors, list) else [])
    out: dict[str, RepoAnswer] = {}
    for i, item in enumerate(items):
        alias = f"u{i}" if item.name is None else f"r{i}"
        if alias in data:  # else the answer stopped short of it: nothing said
            out[item.key] = _read_item(item, alias, data[alias], by_path)
    return out, _budget(data.get("rateLimit"))


def _read_item(item: QueryItem, alias: str, value: Any, by_path: dict[tuple, list[dict]]) -> RepoAnswer:
    if not isinstance(value, dict):
        own = by_path.get((alias,), [])
        if any(e.get("type") == "NOT_FOUND" for e in own):
            return RepoAnswer(Found.NO)
        if any(_is_forbidden(e) for e in own):
            return RepoAnswer(Found.UNKNOWN, forbidden=True)
        if item.name is None and value is None and not own:
            return RepoAnswer(Found.NO)  # repositoryOwner is null, without an error, for no such login
        return RepoAnswer(Found.UNKNOWN)
    if item.name is None:
        return RepoAnswer(Found.YES, data=value) if value.get("login") else RepoAnswer(Found.UNKNOWN)
    if not isinstance(value.get("nameWithOwner"), str):
        return RepoAnswer(Found.UNKNOWN)
    return _read_repository(item, alias, value, by_path)


def _read_repository(item: QueryItem, alias: str, value: dict, by_path: dict[tuple, list[dict]]) -> RepoAnswer:
    def sub(local: str) -> Found:
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
    return RepoAnswer(
        Found.YES,
        data={k: value.get(k) for k in _REPO_FIELDS.split()},
        objects={e: sub(f"x{j}") for j, e in enumerate(item.expressions)},
        folders=frozenset(e for j, e in enumerate(item.expressions)
                          if isinstance(value.get(f"x{j}"), dict) and value[f"x{j}"].get("__typename") == "Tree"),
        tags=tags,
        numbers={n: sub(f"q{j}") for j, n in enumerate(item.numbers)},
    )


def _budget(rate: Any) -> Budget | None:
    if not isinstance(rate, dict):
        return None
    return Budget(_int(rate.get("cost")), _int(rate.get("remaining")),
                  rate.get("resetAt") if isinstance(rate.get("resetAt"), str) else None)


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None



# --- what it says of one link ------------------------------------------------------------------------------


def link_finding(ref: GitHubRef, answer: RepoAnswer) -> Finding | None:
    """What GitHub's answer on its repository (or account) says of one link; None: leave it to the web check."""
    if answer.found is Found.UNKNOWN:
        return None
    if ref.kind is Kind.PROFILE:
        if answer.found is Found.NO:
            return Gone("GitHub account not found")
        return Works() if ref.canonical else Moved(ref.url_for(str(answer.data.get("login"))))
    if answer.found is Found.NO:
        return Gone(NOT_FOUND_REPO)
    if answer.data.get("isDisabled"):
        return Gone("repository disabled by GitHub")
    missing = _missing(ref, answer)
    if missing is None:
        return None  # the path (or tag, or issue) could not be settled: the page itself will say
    if missing:
        return Gone(missing)
    since = answer.data.get("archivedAt")
    note = None
    if answer.data.get("isArchived"):
        note = f"archived on {since[:10]}" if isinstance(since, str) and len(since) >= 10 else "archived"
    current = str(answer.data["nameWithOwner"])
    if current.lower() != ref.repo_key or not ref.canonical:  # as the page would: 301 to the https URL
        return Moved(ref.url_for(current if current.lower() != ref.repo_key else f"{ref.owner}/{ref.repo}"), note)
    return Works(note)


def where_now(ref: GitHubRef, answer: RepoAnswer) -> str | None:
    """The address GitHub gives the repository (or account) a link names, when it exists."""
    if answer.found is not Found.YES:
        return None
    name = str(answer.data.get("login") if ref.kind is Kind.PROFILE else answer.data["nameWithOwner"])
    return str(answer.data.get("url") or f"https://github.com/{name}")


def _missing(ref: GitHubRef, answer: RepoAnswer) -> str | None:
    """'' when what the link points at exists, why not when it does not, None when it is not settled."""
    if ref.kind is Kind.TREE:
        splits = ref.splits()
        seen = [answer.objects.get(f"{b}:{p}", Found.UNKNOWN) for b, p in splits]
        if ref.host == RAW_HOST:  # raw serves files only: a folder there is a 404
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


def repo_info(answer: RepoAnswer, now: float) -> RepoInfo | None:
    if answer.found is not Found.YES or "nameWithOwner" not in answer.data:
        return None
    data = answer.data
    return RepoInfo(name_with_owner=str(data["nameWithOwner"]), stars=_int(data.get("stargazerCount")),
                    archived=bool(data.get("isArchived")),
                    pushed_at=data.get("pushedAt") if isinstance(data.get("pushedAt"), str) else None,
                    checked_at=now)


def take(queue: Sequence[QueryItem], size: int) -> list[QueryItem]:
    """The head of the queue that weighs at most `size` (at least one item)."""
    batch: list[QueryItem] = []
    weight = 0
    for item in queue:
        if batch and weight + item.weight > size:
            break
        batch.append(item)
        weight += item.weight
    return batch


def merge(first: RepoAnswer, second: RepoAnswer) -> RepoAnswer:
    """Two answers on one repository: what the second pass adds to the first."""
    if first.found is not Found.YES:
        return first
    return dataclasses.replace(first, objects={**first.objects, **second.objects},
                               folders=first.folders | second.folders)
