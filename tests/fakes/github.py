"""A loopback GitHub: the GraphQL endpoint (api.github.com/graphql) and github.com's pages, on one world.

The GraphQL side reads each query the way GitHub's server does, not by matching our text: it parses
the document (operation, variable definitions, aliases, arguments, nested selections), validates it
against a subset of GitHub's schema (octokit/graphql-schema: field names, argument names and types,
scalars versus objects versus the IssueOrPullRequest union), checks every variable's declared type
and value, and then executes it on the world. Its answers have GitHub's shapes:

- a missing or private repository: the alias is `null` and `errors` holds
  `{"type": "NOT_FOUND", "path": ["r3"], "locations": [...], "message": "Could not resolve to a Repository
  with the name 'o/n'."}` while the other aliases carry their data;
- renames and transfers are followed (`nameWithOwner` is the new name);
- `object(expression: "REF:PATH")` is a Blob, a Tree, a Commit or `null`; `release(tagName:)` is `null`
  for no such release; `issueOrPullRequest(number:)` is `null` plus a NOT_FOUND error under its path;
- a validation error (unknown field, undeclared or mistyped variable) answers with `errors` and no `data`;
- 401 `{"message": "Bad credentials"}` for a wrong token, "This endpoint requires you to be
  authenticated." for none; `integration_forbidden` makes every repository FORBIDDEN
  "Resource not accessible by integration" (a token without `contents: read`);
- `points`: the hourly budget; each query costs 1 (scalar fields only) and `rateLimit` reports it; past it,
  `{"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit", ...}]}`; `others_spend` drains it
  between two queries, as other steps of a job sharing the token do;
- `max_batch` with `overload`: a query naming more repositories times out at GitHub: 502 with the
  "Something went wrong while executing your query" body, a bare 504, or a slow answer;
- `script`: answers to give first, one per request: "secondary" (403, retry-after and GitHub's secondary
  limit message), "secondary-bare" (the same without retry-after), "garbled" (an HTML error page with 200),
  "truncated" (a JSON body cut short), "something" (200 with `data: null`), "502", or a `Reply`.

`GitHubPages` answers github.com and raw.githubusercontent.com page loads from the same world (200,
301 for renamed repositories and branches, 404), limited to `per_minute` requests a minute on an
injected clock (429 with `Retry-After: 60` beyond), as github.com does to a crawler.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

from tests.fakes.web import Reply, Request

DOCS = "https://docs.github.com/graphql"
SOMETHING_WENT_WRONG = ("Something went wrong while executing your query. This may be the result of a timeout, "
                        "or it could be a GitHub bug. Please include `C0DE:1D2E:3F40:5162:73849A` when reporting "
                        "this issue.")
SECONDARY = ("You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you "
             "reach out to GitHub Support for help, please include the request ID C0DE:1D2E:3F40:5162:73849A.")


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class FakeRepo:
    name_with_owner: str
    branches: dict[str, set[str]] = field(default_factory=lambda: {"main": {"README.md"}})
    default: str = "main"
    tags: dict[str, str] = field(default_factory=dict)  # tag -> branch it was cut from
    releases: set[str] = field(default_factory=set)
    archived_at: str | None = None
    disabled: bool = False
    private: bool = False  # exists, but no reader (and no token of ours) may see it
    stars: int = 0
    pushed_at: str = "2024-03-01T12:00:00Z"
    issues: set[int] = field(default_factory=set)
    pulls: set[int] = field(default_factory=set)
    branch_renames: dict[str, str] = field(default_factory=dict)  # old -> new: github.com redirects

    def files(self, rev: str) -> set[str] | None:
        """The files at a revision (branch, tag, refs/heads/X, refs/tags/X, a commit id, HEAD); None if none."""
        if rev == "HEAD":
            rev = self.default
        if rev.startswith("refs/heads/"):
            return self.branches.get(rev[len("refs/heads/"):])
        if rev.startswith("refs/tags/"):
            branch = self.tags.get(rev[len("refs/tags/"):])
            return self.branches.get(branch) if branch else None
        if rev in self.branches:
            return self.branches[rev]
        if rev in self.tags:
            return self.branches.get(self.tags[rev])
        for branch in self.branches:
            if commit_id(self.name_with_owner, branch) == rev:
                return self.branches[branch]
        return None

    def lookup(self, expression: str) -> str | None:
        """The type of the object `REV[:PATH]` names ("Blob", "Tree", "Commit"), or None (rev-parse's rules)."""
        rev, colon, path = expression.partition(":")
        files = self.files(rev)
        if files is None:
            return None
        if not colon:
            return "Commit"
        path = path.strip("/")
        if not path:
            return "Tree"
        if path in files:
            return "Blob"
        return "Tree" if any(f.startswith(path + "/") for f in files) else None


def commit_id(name_with_owner: str, branch: str) -> str:
    """A stable made-up 40-hex commit id for a branch's head."""
    import hashlib

    return hashlib.sha1(f"{name_with_owner}@{branch}".encode()).hexdigest()


class World:
    def __init__(self) -> None:
        self.repos: dict[str, FakeRepo] = {}
        self.renames: dict[str, str] = {}  # old owner/name (lower) -> current (lower)
        self.accounts: dict[str, tuple[str, str]] = {}  # login (lower) -> (login, "User" | "Organization")

    def repo(self, name_with_owner: str, **kw) -> FakeRepo:
        repo = FakeRepo(name_with_owner, **kw)
        self.repos[name_with_owner.lower()] = repo
        owner = name_with_owner.split("/")[0]
        self.accounts.setdefault(owner.lower(), (owner, "User"))
        return repo

    def rename(self, old: str, new: str) -> None:
        """`old` now answers as `new` (a rename or a transfer); `new` must exist."""
        self.renames[old.lower()] = new.lower()

    def account(self, login: str, kind: str = "User") -> None:
        self.accounts[login.lower()] = (login, kind)

    def resolve(self, owner: str, name: str, follow: bool = True) -> FakeRepo | None:
        """The repository a reader sees under owner/name, renames followed; None if missing or private."""
        key = f"{owner}/{name}".lower()
        seen = 0
        while follow and key in self.renames and seen < 10:
            key, seen = self.renames[key], seen + 1
        repo = self.repos.get(key)
        return None if repo is None or repo.private else repo


# --- a small GraphQL reader --------------------------------------------------------------------------


class GraphQLError(Exception):
    def __init__(self, message: str, line: int = 1, column: int = 1, **extra: Any):
        super().__init__(message)
        self.error = {"message": message, "locations": [{"line": line, "column": column}], **extra}


_TOKEN = re.compile(
    r'(?P<ws>[\s,\ufeff]+)|(?P<comment>#[^\n]*)|(?P<spread>\.\.\.)|(?P<punct>[!$&():=@\[\]{|}])'
    r'|(?P<name>[_A-Za-z][_0-9A-Za-z]*)|(?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)'
    r'|(?P<string>"(?:[^"\\\n]|\\.)*")'
)


@dataclass
class Tok:
    kind: str
    text: str
    line: int
    column: int


def tokenize(source: str) -> list[Tok]:
    tokens: list[Tok] = []
    pos, line, line_start = 0, 1, 0
    while pos < len(source):
        m = _TOKEN.match(source, pos)
        column = pos - line_start + 1
        if not m:
            raise GraphQLError(f"Parse error on \"{source[pos]}\" at [{line}, {column}]", line, column)
        kind = m.lastgroup or ""
        text = m.group(0)
        if kind not in ("ws", "comment"):
            tokens.append(Tok(kind, text, line, column))
        newlines = text.count("\n")
        if newlines:
            line += newlines
            line_start = pos + text.rindex("\n") + 1
        pos = m.end()
    tokens.append(Tok("eof", "", line, pos - line_start + 1))
    return tokens


@dataclass
class Var:
    name: str


@dataclass
class Field:
    alias: str
    name: str
    args: dict[str, Any]
    selections: list[Field] | None
    line: int
    column: int


@dataclass
class Operation:
    kind: str
    variables: dict[str, tuple[str, Any, Tok]]  # name -> (type, default, where)
    selections: list[Field]


class Parser:
    def __init__(self, source: str):
        self.toks = tokenize(source)
        self.i = 0

    def peek(self) -> Tok:
        return self.toks[self.i]

    def take(self, kind: str | None = None, text: str | None = None) -> Tok:
        tok = self.toks[self.i]
        if (kind and tok.kind != kind) or (text is not None and tok.text != text):
            shown = tok.text or "end of file"
            raise GraphQLError(f'Parse error on "{shown}" ({tok.kind.upper()}) at [{tok.line}, {tok.column}]',
                               tok.line, tok.column)
        self.i += 1
        return tok

    def document(self) -> Operation:
        tok = self.peek()
        if tok.text == "{":
            op = Operation("query", {}, self.selection_set())
        else:
            kind = self.take("name").text
            if kind not in ("query", "mutation", "subscription"):
                raise GraphQLError(f'Parse error on "{kind}" (IDENTIFIER) at [{tok.line}, {tok.column}]',
                                   tok.line, tok.column)
            if self.peek().kind == "name":
                self.take("name")
            variables = self.variable_definitions() if self.peek().text == "(" else {}
            op = Operation(kind, variables, self.selection_set())
        if self.peek().kind != "eof":  # fragments and second operations: not used by the crawler
            tok = self.peek()
            raise GraphQLError(f'Parse error on "{tok.text}" at [{tok.line}, {tok.column}] (this fake reads one '
                               "operation)", tok.line, tok.column)
        return op

    def variable_definitions(self) -> dict[str, tuple[str, Any, Tok]]:
        out: dict[str, tuple[str, Any, Tok]] = {}
        self.take(text="(")
        while self.peek().text != ")":
            where = self.take(text="$")
            name = self.take("name").text
            self.take(text=":")
            kind = self.type_ref()
            default = None
            if self.peek().text == "=":
                self.take(text="=")
                default = self.value(const=True)
            out[name] = (kind, default, where)
        self.take(text=")")
        return out

    def type_ref(self) -> str:
        if self.peek().text == "[":
            self.take(text="[")
            inner = self.type_ref()
            self.take(text="]")
            kind = f"[{inner}]"
        else:
            kind = self.take("name").text
        if self.peek().text == "!":
            self.take(text="!")
            kind += "!"
        return kind

    def selection_set(self) -> list[Field]:
        self.take(text="{")
        fields = []
        while self.peek().text != "}":
            if self.peek().kind == "spread":
                tok = self.peek()
                raise GraphQLError(f"Parse error on \"...\" at [{tok.line}, {tok.column}] (fragments are not "
                                   "supported by this fake)", tok.line, tok.column)
            fields.append(self.field())
        self.take(text="}")
        if not fields:
            tok = self.peek()
            raise GraphQLError(f'Parse error on "}}" (RCURLY) at [{tok.line}, {tok.column}]', tok.line, tok.column)
        return fields

    def field(self) -> Field:
        first = self.take("name")
        alias = name = first.text
        if self.peek().text == ":":
            self.take(text=":")
            name = self.take("name").text
        args: dict[str, Any] = {}
        if self.peek().text == "(":
            self.take(text="(")
            while self.peek().text != ")":
                arg = self.take("name").text
                self.take(text=":")
                args[arg] = self.value()
            self.take(text=")")
        selections = self.selection_set() if self.peek().text == "{" else None
        return Field(alias, name, args, selections, first.line, first.column)

    def value(self, const: bool = False) -> Any:
        tok = self.peek()
        if tok.text == "$" and not const:
            self.take(text="$")
            return Var(self.take("name").text)
        if tok.kind == "string":
            self.take()
            return json.loads(tok.text)
        if tok.kind == "number":
            self.take()
            return float(tok.text) if any(c in tok.text for c in ".eE") else int(tok.text)
        if tok.kind == "name":
            self.take()
            return {"true": True, "false": False, "null": None}.get(tok.text, tok.text)
        raise GraphQLError(f'Parse error on "{tok.text}" at [{tok.line}, {tok.column}]', tok.line, tok.column)


# --- the schema subset (octokit/graphql-schema) -----------------------------------------------------

SCALARS = {"String", "Int", "Boolean", "URI", "DateTime", "GitObjectID", "ID"}
UNIONS = {"IssueOrPullRequest"}
# type -> field -> (result type, {argument: type})
SCHEMA: dict[str, dict[str, tuple[str, dict[str, str]]]] = {
    "Query": {
        "rateLimit": ("RateLimit", {"dryRun": "Boolean"}),
        "repository": ("Repository", {"owner": "String!", "name": "String!", "followRenames": "Boolean"}),
        "repositoryOwner": ("RepositoryOwner", {"login": "String!"}),
    },
    "RateLimit": {k: (t, {}) for k, t in (("cost", "Int!"), ("limit", "Int!"), ("nodeCount", "Int!"),
                                           ("remaining", "Int!"), ("resetAt", "DateTime!"), ("used", "Int!"))},
    "Repository": {
        **{k: (t, {}) for k, t in (
            ("nameWithOwner", "String!"), ("name", "String!"), ("url", "URI!"), ("isArchived", "Boolean!"),
            ("archivedAt", "DateTime"), ("isDisabled", "Boolean!"), ("isFork", "Boolean!"),
            ("isPrivate", "Boolean!"), ("isEmpty", "Boolean!"), ("isLocked", "Boolean!"), ("pushedAt", "DateTime"),
            ("stargazerCount", "Int!"), ("description", "String"), ("id", "ID!"), ("defaultBranchRef", "Ref"))},
        "object": ("GitObject", {"expression": "String", "oid": "GitObjectID"}),
        "release": ("Release", {"tagName": "String!"}),
        "ref": ("Ref", {"qualifiedName": "String!"}),
        "issueOrPullRequest": ("IssueOrPullRequest", {"number": "Int!"}),
    },
    "RepositoryOwner": {"login": ("String!", {}), "url": ("URI!", {}), "id": ("ID!", {})},
    "GitObject": {"oid": ("GitObjectID!", {}), "abbreviatedOid": ("String!", {})},
    "Release": {"tagName": ("String!", {}), "name": ("String", {}), "url": ("URI!", {}), "isDraft": ("Boolean!", {})},
    "Ref": {"name": ("String!", {}), "prefix": ("String!", {})},
    "IssueOrPullRequest": {},
}


def _base(kind: str) -> str:
    return kind.rstrip("!").strip("[]").rstrip("!")


def _coerce_ok(kind: str, value: Any) -> bool:
    if value is None:
        return not kind.endswith("!")
    base = _base(kind)
    if base == "Int":
        return isinstance(value, int) and not isinstance(value, bool) and -2**31 <= value < 2**31
    if base == "Boolean":
        return isinstance(value, bool)
    return isinstance(value, str)


def validate(op: Operation, variables: dict[str, Any]) -> list[dict]:
    """GitHub's static checks, before anything runs: a list of errors (empty: the query may run)."""
    errors: list[dict] = []
    if op.kind != "query":
        return [{"message": f"Schema is not configured for {op.kind}s", "locations": [{"line": 1, "column": 1}]}]
    used: set[str] = set()

    def walk(fields: list[Field], parent: str, path: list[str]) -> None:
        seen: dict[str, Field] = {}
        for f in fields:
            here = [*path, f.alias]
            where = {"locations": [{"line": f.line, "column": f.column}], "path": here}
            if f.name == "__typename":
                if f.args or f.selections:
                    errors.append({"message": "Selections can't be made on scalars", **where})
                continue
            if parent in UNIONS:
                errors.append({"message": f"Selections can't be made directly on unions (see selections on {parent})",
                               **where, "extensions": {"code": "selectionMismatch", "nodeName": parent}})
                continue
            spec = SCHEMA.get(parent, {}).get(f.name)
            if spec is None:
                errors.append({"message": f"Field '{f.name}' doesn't exist on type '{parent}'", **where,
                               "extensions": {"code": "undefinedField", "typeName": parent, "fieldName": f.name}})
                continue
            result, arg_types = spec
            other = seen.get(f.alias)
            if other is not None and (other.name != f.name or _args_key(other.args) != _args_key(f.args)):
                errors.append({"message": f"Field '{f.alias}' has an argument conflict", **where,
                               "extensions": {"code": "fieldConflict"}})
            seen[f.alias] = f
            for arg, value in f.args.items():
                if arg not in arg_types:
                    errors.append({"message": f"Field '{f.name}' doesn't accept argument '{arg}'", **where,
                                   "extensions": {"code": "argumentNotAccepted", "name": f.name, "argumentName": arg}})
                    continue
                want = arg_types[arg]
                if isinstance(value, Var):
                    used.add(value.name)
                    declared = op.variables.get(value.name)
                    if declared is None:
                        errors.append({"message": f"Variable ${value.name} is used by anonymous query but not "
                                       "declared", **where, "extensions": {"code": "variableNotDefined",
                                                                            "variableName": value.name}})
                    elif _base(declared[0]) != _base(want) or (want.endswith("!") and not declared[0].endswith("!")
                                                               and declared[1] is None):
                        errors.append({"message": f"Type mismatch on variable ${value.name} and argument {arg} "
                                       f"({declared[0]} / {want})", **where,
                                       "extensions": {"code": "variableMismatch", "variableName": value.name}})
                elif not _coerce_ok(want, value):
                    errors.append({"message": f"Argument '{arg}' on Field '{f.name}' has an invalid value "
                                   f"({json.dumps(value)}). Expected type '{want}'.", **where,
                                   "extensions": {"code": "argumentLiteralsIncompatible"}})
            missing = [a for a, t in arg_types.items() if t.endswith("!") and a not in f.args]
            if missing:
                errors.append({"message": f"Field '{f.name}' is missing required arguments: {', '.join(missing)}",
                               **where, "extensions": {"code": "missingRequiredArguments"}})
            base = _base(result)
            if base in SCALARS:
                if f.selections:
                    errors.append({"message": f"Selections can't be made on scalars (field '{f.name}' returns "
                                   f"{base} but has selections [...])", **where,
                                   "extensions": {"code": "selectionMismatch"}})
            elif not f.selections:
                errors.append({"message": f"Field must have selections (field '{f.name}' returns {base} but has "
                               f"no selections. Did you mean '{f.name} {{ ... }}'?)", **where,
                               "extensions": {"code": "selectionMismatch"}})
            else:
                walk(f.selections, base, here)

    walk(op.selections, "Query", ["query"])
    for name, (kind, default, where) in op.variables.items():
        loc = {"locations": [{"line": where.line, "column": where.column}]}
        if name not in used:
            errors.append({"message": f"Variable ${name} is declared by anonymous query but not used", **loc,
                           "path": ["query"], "extensions": {"code": "variableNotUsed", "variableName": name}})
        value = variables.get(name, default)
        if not _coerce_ok(kind, value):
            errors.append({"message": f"Variable ${name} of type {kind} was provided invalid value", **loc,
                           "extensions": {"value": value, "problems": [{"path": [], "explanation":
                                          "Expected value to not be null" if value is None else
                                          f"Could not coerce value {json.dumps(value)} to {_base(kind)}"}]}})
    return errors


def _args_key(args: dict[str, Any]) -> str:
    return json.dumps({k: (f"${v.name}" if isinstance(v, Var) else v) for k, v in sorted(args.items())})


# --- the endpoint ------------------------------------------------------------------------------------


class FakeGitHub:
    """The GraphQL endpoint. Route it with `web.add("https://api.github.com/graphql", fake)`."""

    def __init__(self, world: World | None = None, *, token: str | None = None, points: int = 5000,
                 limit: int = 5000, max_batch: int | None = None, overload: str = "502",
                 integration_forbidden: bool = False, others_spend: int = 0,
                 clock: Callable[[], float] = time.time):
        self.world = world or World()
        self.token = token
        self.points = points
        self.limit = limit
        self.max_batch = max_batch
        self.overload = overload
        self.integration_forbidden = integration_forbidden
        self.others_spend = others_spend  # points other users of the token spend between two of our queries
        self.script: list[str | Reply] = []
        self.clock = clock
        self.requests = 0
        self.batches: list[int] = []  # repository fields per query that ran
        self.seen_variables: list[dict[str, Any]] = []
        self.seen_queries: list[str] = []
        self._lock = threading.Lock()

    # -- HTTP --------------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.requests += 1
            return self._handle(request)

    def _handle(self, request: Request) -> Reply:
        if request.method != "POST" or urlsplit(request.path).path != "/graphql":
            return _json_reply(404, {"message": "Not Found", "documentation_url": "https://docs.github.com/rest"})
        auth = {k.lower(): v for k, v in request.headers.items()}.get("authorization")
        if not auth:
            return _json_reply(401, {"message": "This endpoint requires you to be authenticated.",
                                     "documentation_url": DOCS + "/guides/forming-calls-with-graphql#authenticating"
                                     "-with-graphql", "status": "401"})
        scheme, _, given = auth.partition(" ")
        if scheme.lower() not in ("bearer", "token") or self.token is None or given != self.token:
            return _json_reply(401, {"message": "Bad credentials", "documentation_url": DOCS, "status": "401"})
        if self.script:
            scripted = self.script.pop(0)
            if isinstance(scripted, Reply):
                return scripted
            return self._scripted(scripted)
        try:
            payload = json.loads(request.body)
            query, variables = payload["query"], payload.get("variables") or {}
            if not isinstance(query, str) or not isinstance(variables, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return _json_reply(400, {"message": "Problems parsing JSON", "documentation_url": DOCS})
        self.seen_queries.append(query)
        self.seen_variables.append(variables)
        try:
            op = Parser(query).document()
        except GraphQLError as exc:
            return _json_reply(200, {"errors": [exc.error]})
        errors = validate(op, variables)
        if errors:
            return _json_reply(200, {"errors": errors})
        repos = sum(1 for f in op.selections if f.name == "repository")
        if self.max_batch is not None and repos > self.max_batch:
            return self._overloaded()
        cost = 1
        if self.points < cost:
            return _json_reply(200, {"errors": [{"type": "RATE_LIMITED", "code": "graphql_rate_limit",
                                                 "message": "API rate limit exceeded for user ID 1."}]},
                               self._rate_headers())
        self.points -= cost
        self.batches.append(repos)
        reply = _json_reply(200, self.execute(op, variables, cost), self._rate_headers())
        self.points = max(0, self.points - self.others_spend)
        return reply

    def _rate_headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(max(self.points, 0)),
                "X-RateLimit-Used": str(self.limit - max(self.points, 0)), "X-RateLimit-Resource": "graphql",
                "X-RateLimit-Reset": str(int(self.clock()) + 3600)}

    def _overloaded(self) -> Reply:
        if self.overload == "504":
            return Reply(504, b"We couldn't respond to your request in time. Sorry about that. Please try resubmitting"
                              b" your request and contact us if the problem persists.",
                         {"Content-Type": "text/plain"})
        if self.overload == "something":
            return _json_reply(200, {"data": None, "errors": [{"message": SOMETHING_WENT_WRONG}]})
        if self.overload == "slow":
            return Reply(502, b"", delay=3.0)
        return _json_reply(502, {"data": None, "errors": [{"message": SOMETHING_WENT_WRONG}]})

    def _scripted(self, name: str) -> Reply:
        if name == "secondary":
            return _json_reply(403, {"documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/"
                                     "rate-limits-for-the-rest-api#about-secondary-rate-limits", "message": SECONDARY},
                               {"Retry-After": "60"})
        if name == "secondary-bare":
            return _json_reply(403, {"documentation_url": "https://docs.github.com/free-pro-team@latest/rest/overview/"
                                     "rate-limits-for-the-rest-api#about-secondary-rate-limits", "message": SECONDARY})
        if name == "garbled":
            return Reply(200, b"<!DOCTYPE html><html><head><title>Unicorn! &middot; GitHub</title></head><body>"
                              b"No server is currently available to service your request.</body></html>",
                         {"Content-Type": "text/html; charset=utf-8"})
        if name == "truncated":
            body = json.dumps({"data": {"r0": {"nameWithOwner": "x/y"}}}).encode()
            return Reply(200, body[: len(body) // 2], {"Content-Type": "application/json",
                                                      "Content-Length": str(len(body))}, close=True)
        if name == "something":
            return _json_reply(200, {"data": None, "errors": [{"message": SOMETHING_WENT_WRONG}]})
        if name == "502":
            return _json_reply(502, {"data": None, "errors": [{"message": SOMETHING_WENT_WRONG}]})
        raise ValueError(f"no scripted answer {name!r}")

    # -- execution ---------------------------------------------------------------------------------
    def execute(self, op: Operation, variables: dict[str, Any], cost: int) -> dict[str, Any]:
        data: dict[str, Any] = {}
        errors: list[dict] = []

        def arg(f: Field, name: str, default: Any = None) -> Any:
            value = f.args.get(name, default)
            if isinstance(value, Var):
                value = variables.get(value.name, op.variables[value.name][1])
            return value

        for f in op.selections:
            where = {"locations": [{"line": f.line, "column": f.column}]}
            if f.name == "__typename":
                data[f.alias] = "Query"
            elif f.name == "rateLimit":
                reset = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.clock() + 3600))
                values = {"cost": cost, "limit": self.limit, "nodeCount": 0, "remaining": self.points,
                          "resetAt": reset, "used": self.limit - self.points}
                data[f.alias] = _pick(f.selections or [], values, "RateLimit")
            elif f.name == "repositoryOwner":
                found = self.world.accounts.get(str(arg(f, "login")).lower())
                if found is None:
                    data[f.alias] = None  # no error: the field is simply null
                else:
                    login, kind = found
                    data[f.alias] = _pick(f.selections or [], {"login": login, "url": f"https://github.com/{login}",
                                                               "id": f"U_{login}"}, kind)
            elif f.name == "repository":
                owner, name = str(arg(f, "owner")), str(arg(f, "name"))
                if self.integration_forbidden:
                    data[f.alias] = None
                    errors.append({"type": "FORBIDDEN", "path": [f.alias], "extensions": {"saml_failure": False},
                                   **where, "message": "Resource not accessible by integration"})
                    continue
                repo = self.world.resolve(owner, name, follow=arg(f, "followRenames", True) is not False)
                if repo is None:
                    data[f.alias] = None
                    errors.append({"type": "NOT_FOUND", "path": [f.alias], **where,
                                   "message": f"Could not resolve to a Repository with the name '{owner}/{name}'."})
                    continue
                data[f.alias] = self._repository(repo, f, arg, errors)
        out: dict[str, Any] = {"data": data}
        if errors:
            out["errors"] = errors
        return out

    def _repository(self, repo: FakeRepo, f: Field, arg: Callable, errors: list[dict]) -> dict[str, Any]:
        nwo = repo.name_with_owner
        values: dict[str, Any] = {
            "nameWithOwner": nwo, "name": nwo.split("/")[1], "url": f"https://github.com/{nwo}",
            "isArchived": repo.archived_at is not None, "archivedAt": repo.archived_at,
            "isDisabled": repo.disabled, "isFork": False, "isPrivate": False, "isEmpty": False, "isLocked": False,
            "pushedAt": repo.pushed_at, "stargazerCount": repo.stars, "description": None, "id": f"R_{nwo}",
            "defaultBranchRef": {"name": repo.default, "prefix": "refs/heads/"},
        }
        out: dict[str, Any] = {}
        for sub in f.selections or []:
            if sub.name == "object":
                kind = repo.lookup(str(arg(sub, "expression") or ""))
                out[sub.alias] = None if kind is None else _pick(
                    sub.selections or [], {"oid": "0" * 40, "abbreviatedOid": "0000000"}, kind)
            elif sub.name == "release":
                tag = str(arg(sub, "tagName"))
                out[sub.alias] = _pick(sub.selections or [], {"tagName": tag, "name": tag, "isDraft": False,
                                                              "url": f"https://github.com/{nwo}/releases/tag/{tag}"},
                                       "Release") if tag in repo.releases else None
            elif sub.name == "ref":
                qualified = str(arg(sub, "qualifiedName"))
                short = qualified.removeprefix("refs/heads/").removeprefix("refs/tags/")
                exists = short in repo.branches or short in repo.tags
                out[sub.alias] = _pick(sub.selections or [], {"name": short, "prefix": "refs/heads/"}, "Ref") \
                    if exists else None
            elif sub.name == "issueOrPullRequest":
                number = arg(sub, "number")
                if number in repo.issues or number in repo.pulls:
                    out[sub.alias] = {"__typename": "Issue" if number in repo.issues else "PullRequest"}
                else:
                    out[sub.alias] = None
                    errors.append({"type": "NOT_FOUND", "path": [f.alias, sub.alias],
                                   "locations": [{"line": sub.line, "column": sub.column}],
                                   "message": f"Could not resolve to an issue or pull request with the number of "
                                              f"{number}."})
            elif sub.name == "defaultBranchRef":
                out[sub.alias] = _pick(sub.selections or [], values["defaultBranchRef"], "Ref")
            elif sub.name == "__typename":
                out[sub.alias] = "Repository"
            else:
                out[sub.alias] = values[sub.name]
        return out


def _pick(selections: list[Field], values: dict[str, Any], typename: str) -> dict[str, Any]:
    return {s.alias: typename if s.name == "__typename" else values[s.name] for s in selections}


def _json_reply(status: int, payload: dict, headers: dict[str, str] | None = None) -> Reply:
    return Reply(status, json.dumps(payload).encode(),
                 {"Content-Type": "application/json; charset=utf-8", **(headers or {})})


# --- github.com pages --------------------------------------------------------------------------------


class GitHubPages:
    """github.com and raw.githubusercontent.com page loads, answered from the world, rate limited.

    `per_minute` answers in any 60 s of `clock`; past it every request gets 429 with Retry-After: 60
    until the window has room again (what github.com does to one address).
    """

    def __init__(self, world: World, *, per_minute: int | None = None, clock: Callable[[], float] = time.monotonic):
        self.world = world
        self.per_minute = per_minute
        self.clock = clock
        self.answered: list[float] = []
        self.throttled = 0
        self.seen = 0
        self._lock = threading.Lock()

    def handle(self, request: Request) -> Reply:
        with self._lock:
            self.seen += 1
            now = self.clock()
            if self.per_minute is not None:
                self.answered = [t for t in self.answered if t > now - 60]
                if len(self.answered) >= self.per_minute:
                    self.throttled += 1
                    return Reply(429, b"<html><head><title>Too many requests</title></head><body>Too many requests"
                                      b"</body></html>", {"Retry-After": "60", "Content-Type": "text/html"})
                self.answered.append(now)
        status, location = self.locate(request.host, urlsplit(request.path).path)
        if status == 301:
            return Reply(301, b"", {"Location": location})
        if status == 404:
            return Reply(404, b"<!DOCTYPE html><html><head><title>Page not found &middot; GitHub</title></head>"
                              b"<body>Not Found</body></html>", {"Content-Type": "text/html; charset=utf-8"})
        return Reply(200, b"<!DOCTYPE html><html><head><title>" + location.encode() + b" &middot; GitHub</title>"
                          b"</head><body><main>code</main></body></html>", {"Content-Type": "text/html; charset=utf-8"})

    def locate(self, host: str, path: str) -> tuple[int, str]:
        """(200, title) | (301, new URL) | (404, '') for a page of github.com or raw.githubusercontent.com."""
        segs = [unquote(s) for s in path.split("/")[1:] if s != ""]
        if not segs:
            return 200, "GitHub"
        if len(segs) == 1:
            return (200, segs[0]) if host == "github.com" and segs[0].lower() in self.world.accounts else (404, "")
        owner, name = segs[0], segs[1]
        if host == "github.com" and len(segs) == 2 and name.endswith(".git"):
            name = name[:-4]
        repo = self.world.resolve(owner, name)
        if repo is None:
            return 404, ""
        if repo.name_with_owner.lower() != f"{owner}/{name}".lower():
            rest = path.split("/", 3)[3] if path.count("/") >= 3 else ""
            return 301, f"https://{host}/{repo.name_with_owner}" + (f"/{rest}" if rest else "")
        if repo.disabled:
            return 404, ""
        if host == "raw.githubusercontent.com":
            return self._at(repo, host, segs[2:], "", blob_only=True)
        if len(segs) == 2:
            return 200, repo.name_with_owner
        page, more = segs[2], segs[3:]
        if page in ("tree", "blob") and more:
            return self._at(repo, host, more, page)
        if page == "releases" and len(more) == 2 and more[0] == "tag":
            return (200, more[1]) if more[1] in repo.tags else (404, "")
        if page in ("issues", "pull") and more and more[0].isdigit():
            return (200, more[0]) if int(more[0]) in repo.issues | repo.pulls else (404, "")
        return 200, repo.name_with_owner

    def _at(self, repo: FakeRepo, host: str, rest: list[str], page: str, blob_only: bool = False) -> tuple[int, str]:
        for i in range(1, len(rest) + 1):
            branch, path = "/".join(rest[:i]), "/".join(rest[i:])
            kind = repo.lookup(f"{branch}:{path}")
            if kind is not None and (not blob_only or kind == "Blob"):
                return 200, path or branch
            if branch in repo.branch_renames:  # GitHub redirects a renamed branch's pages
                new = repo.branch_renames[branch]
                prefix = f"https://{host}/{repo.name_with_owner}" + (f"/{page}" if page else "")
                return 301, f"{prefix}/{new}" + (f"/{path}" if path else "")
        return 404, ""
