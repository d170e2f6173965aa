"""crawler.sources.github: URL scope, the query, reading GitHub's answers, and the verifier against a loopback GitHub.

The fake (tests/fakes/github.py) parses each query's aliases and variables and validates them against a
subset of GitHub's schema, so a query that GitHub would refuse is refused here too.
"""

from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

from crawler.config import HostRule
from crawler.listfile.links import normalize_url
from crawler.models import LinkStatus
from crawler.net.pool import ClientPool
from crawler.sources import base
from crawler.sources.github import GRAPHQL_URL, GitHubVerifier, link_verdict
from crawler.sources.github_graphql import (
    NOT_FOUND_REPO,
    Found,
    QueryItem,
    RepoAnswer,
    build_query,
    items_for,
    read_answer,
)
from crawler.sources.github_urls import GitHubRef, Kind, parse_github_url
from tests.fakes.github import FakeGitHub, GitHubPages, Parser, World, validate
from tests.fakes.web import Reply, RoutingTransport

TOKEN = "ghp_madeUpTestToken0000000000000000000001"


# --- URLs --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("url", "kind", "owner", "repo", "rest"), [
    ("https://github.com/alice/net", Kind.REPO, "alice", "net", ()),
    ("https://github.com/alice/net/", Kind.REPO, "alice", "net", ()),
    ("https://github.com/alice/net.git", Kind.REPO, "alice", "net", ()),
    ("http://www.github.com/alice/net?tab=readme-ov-file#install", Kind.REPO, "alice", "net", ()),
    ("https://github.com/alice/net/tree/main/src/models", Kind.TREE, "alice", "net", ("main", "src", "models")),
    ("https://github.com/alice/net/tree/feature/x/a", Kind.TREE, "alice", "net", ("feature", "x", "a")),
    ("https://github.com/alice/net/blob/main/my%20file.py#L10-L20", Kind.TREE, "alice", "net", ("main", "my file.py")),
    ("https://github.com/alice/net/raw/main/w.pth", Kind.TREE, "alice", "net", ("main", "w.pth")),
    ("https://raw.githubusercontent.com/alice/net/main/README.md", Kind.TREE, "alice", "net", ("main", "README.md")),
    ("https://github.com/alice/net/releases/tag/v1.0", Kind.RELEASE, "alice", "net", ()),
    ("https://github.com/alice/net/issues/12", Kind.ISSUE, "alice", "net", ()),
    ("https://github.com/alice/net/pull/7/files", Kind.ISSUE, "alice", "net", ()),
    ("https://github.com/alice", Kind.PROFILE, "alice", None, ()),
    ("https://github.com/alice?tab=repositories", Kind.PROFILE, "alice", None, ()),
])
def test_urls_in_scope(url, kind, owner, repo, rest):
    ref = parse_github_url(url)
    assert ref is not None
    assert (ref.kind, ref.owner, ref.repo, ref.rest) == (kind, owner, repo, rest)


@pytest.mark.parametrize("url", [
    "https://github.com/", "https://github.com/features/actions", "https://github.com/orgs/openai/repositories",
    "https://github.com/topics/distillation", "https://github.com/search?q=distillation",
    "https://github.com/settings/tokens", "https://github.com/marketplace/actions/lychee",
    "https://github.com/sponsors/alice", "https://github.com/features", "https://github.com/trending",
    "https://gist.github.com/alice/0123456789abcdef", "https://alice.github.io/net/", "https://github.io/",
    "https://github.com/alice/net/issues", "https://github.com/alice/net/pulls", "https://github.com/alice/net/wiki",
    "https://github.com/alice/net/commit/0123abc", "https://github.com/alice/net/tree/", "https://github.com/alice/net/releases",
    "https://github.com/alice/net/releases/download/v1/w.pth", "https://github.com/-bad/net", "https://github.com/alice/..",
    "https://github.com/alice/ne%20t", "https://github.com:8443/alice/net", "https://user:pw@github.com/alice/net",
    "https://github.com.evil.example/alice/net", "ftp://github.com/alice/net", "https://github.com/alice//net",
    "https://raw.githubusercontent.com/alice/net/main", "https://api.github.com/repos/alice/net",
])
def test_urls_out_of_scope(url):
    assert parse_github_url(url) is None


def test_ambiguous_tree_paths_are_read_every_way():
    ref = parse_github_url("https://github.com/o/r/tree/release/v2/src/x")
    assert ref.splits() == [("release", "v2/src/x"), ("release/v2", "src/x"), ("release/v2/src", "x"),
                            ("release/v2/src/x", "")]
    sha = "0123456789abcdef0123456789abcdef01234567"
    assert parse_github_url(f"https://github.com/o/r/blob/{sha}/a/b.py").splits() == [(sha, "a/b.py")]
    raw = parse_github_url("https://raw.githubusercontent.com/o/r/refs/heads/dev/a.txt")
    assert ("refs/heads/dev", "a.txt") in raw.splits()


def test_suggestion_keeps_the_path_query_and_fragment():
    ref = parse_github_url("https://github.com/old/name/blob/main/a.py?plain=1#L3")
    assert ref.url_for("new/Name") == "https://github.com/new/Name/blob/main/a.py?plain=1#L3"
    assert parse_github_url("https://github.com/old/name.git").url_for("new/name") == "https://github.com/new/name.git"
    raw = parse_github_url("https://raw.githubusercontent.com/old/name/main/x.txt")
    assert raw.url_for("new/name") == "https://raw.githubusercontent.com/new/name/main/x.txt"
    assert raw.canonical and not parse_github_url("http://github.com/a/b").canonical
    assert not parse_github_url("https://www.github.com/a/b").canonical


# --- the query ---------------------------------------------------------------------------------------


def test_query_passes_everything_from_the_list_as_variables():
    hostile = 'main:a") { viewer { login } } #'
    items = [QueryItem("a/b", "a", "b", expressions=(hostile,), tags=('v"1',), numbers=(5,)), QueryItem("@c", "c")]
    query, variables = build_query(items)
    assert hostile not in query and 'v"1' not in query and '"' not in query
    assert set(variables.values()) >= {"a", "b", hostile, 'v"1', "refs/tags/v\"1", 5, "c"}
    # GitHub would accept it: every variable declared with the argument's type, every field in the schema.
    assert validate(Parser(query).document(), variables) == []


def test_items_group_links_by_repository_case_insensitively():
    refs = [parse_github_url(u) for u in (
        "https://github.com/Alice/Net", "https://github.com/alice/net/tree/main/src",
        "https://github.com/alice/net/releases/tag/v1", "https://github.com/bob/x", "https://github.com/alice")]
    items = items_for(refs)
    assert [i.key for i in items] == ["alice/net", "bob/x", "@alice"]
    assert items[0].expressions == ("main:src", "main:") and items[0].tags == ("v1",)


# --- reading answers (the shapes GitHub's GraphQL API sends) ---------------------------------------------------


def test_partial_data_is_read_alias_by_alias():
    items = [QueryItem("a/b", "a", "b", expressions=("main:x", "main:")), QueryItem("c/d", "c", "d"),
             QueryItem("e/f", "e", "f"), QueryItem("@g", "g"), QueryItem("h/i", "h", "i")]
    payload = {
        "data": {
            "rateLimit": {"cost": 1, "remaining": 4321, "resetAt": "2026-12-01T00:00:00Z"},
            "r0": {"nameWithOwner": "a/b", "url": "https://github.com/a/b", "isArchived": False, "archivedAt": None,
                   "isDisabled": False, "stargazerCount": 3, "pushedAt": "2024-01-01T00:00:00Z",
                   "x0": None, "x1": {"__typename": "Tree"}},
            "r1": None, "r2": None, "u3": None,
            # r4 missing altogether: the answer stopped short of it
        },
        "errors": [
            {"type": "NOT_FOUND", "path": ["r1"], "locations": [{"line": 3, "column": 3}],
             "message": "Could not resolve to a Repository with the name 'c/d'."},
            {"type": "FORBIDDEN", "path": ["r2"], "extensions": {"saml_failure": True},
             "message": "Resource protected by organization SAML enforcement."},
        ],
    }
    answers, budget = read_answer(items, payload)
    assert answers["a/b"].found is Found.YES and answers["a/b"].objects == {"main:x": Found.NO, "main:": Found.YES}
    assert answers["c/d"].found is Found.NO
    assert answers["e/f"].found is Found.UNKNOWN and answers["e/f"].forbidden
    assert answers["@g"].found is Found.NO  # repositoryOwner is null without an error for no such login
    assert "h/i" not in answers
    assert (budget.cost, budget.remaining) == (1, 4321)


def test_a_null_repository_without_not_found_is_not_evidence():
    answers, _ = read_answer([QueryItem("a/b", "a", "b")], {"data": {"r0": None}})
    assert answers["a/b"].found is Found.UNKNOWN
    ref = parse_github_url("https://github.com/a/b")
    assert link_verdict("k", ref, answers["a/b"], 0.0) is None


def test_link_verdicts():
    repo = {"nameWithOwner": "alice/net", "url": "https://github.com/alice/net", "isArchived": False,
            "archivedAt": None, "isDisabled": False, "stargazerCount": 1, "pushedAt": None}
    ok = RepoAnswer(Found.YES, data=repo, objects={"main:src": Found.YES, "main:": Found.YES, "main:gone": Found.NO})
    tree = parse_github_url("https://github.com/alice/net/tree/main/src")
    assert link_verdict("k", tree, ok, 1.0).status is LinkStatus.OK
    gone = link_verdict("k", parse_github_url("https://github.com/alice/net/tree/main/gone"), ok, 1.0)
    assert gone.status is LinkStatus.BROKEN and "gone" in gone.error and gone.final_url == "https://github.com/alice/net"
    moved = link_verdict("k", parse_github_url("https://github.com/Old/net/tree/main/src"), ok, 1.0)
    assert moved.status is LinkStatus.REDIRECTED and moved.suggestion == "https://github.com/alice/net/tree/main/src"
    archived = RepoAnswer(Found.YES, data={**repo, "isArchived": True, "archivedAt": "2023-05-01T10:00:00Z"})
    result = link_verdict("k", parse_github_url("https://github.com/alice/net"), archived, 1.0)
    assert result.status is LinkStatus.OK and result.note == "archived on 2023-05-01"
    missing = link_verdict("k", parse_github_url("https://github.com/alice/net"), RepoAnswer(Found.NO), 1.0)
    assert missing.status is LinkStatus.BROKEN and missing.error == NOT_FOUND_REPO


# --- the verifier against the loopback GitHub --------------------------------------------------------


def world() -> World:
    w = World()
    w.repo("alice/net", branches={"main": {"README.md", "src/model.py", "configs/a/b.yaml", 'we"ird}.py'},
                                  "feature/x": {"a/b.py"}},
           stars=1234, pushed_at="2025-06-01T08:00:00Z", tags={"v1.0": "main"}, releases={"v1.0"}, issues={3})
    w.repo("bob/new-name", stars=7)
    w.rename("bob/old-name", "bob/new-name")
    w.repo("carol/gone-stale", archived_at="2023-05-01T10:00:00Z", stars=40)
    w.repo("dave/secret", private=True)
    w.repo("erin/moved", branches={"main": {"docs/new.md"}}, branch_renames={"master": "main"})
    w.account("ExampleOrg", "Organization")
    return w


CASES = {
    "https://github.com/alice/net": (LinkStatus.OK, None),
    "https://github.com/alice/net.git": (LinkStatus.OK, None),
    "http://www.github.com/alice/net#readme": (LinkStatus.REDIRECTED, "https://github.com/alice/net#readme"),
    "https://github.com/alice/net/tree/main/configs/a": (LinkStatus.OK, None),
    "https://github.com/alice/net/blob/main/src/model.py#L3": (LinkStatus.OK, None),
    "https://github.com/alice/net/tree/feature/x/a": (LinkStatus.OK, None),  # a branch with a slash
    "https://github.com/alice/net/blob/main/src/old_model.py": (LinkStatus.BROKEN, None),
    "https://raw.githubusercontent.com/alice/net/main/README.md": (LinkStatus.OK, None),
    "https://raw.githubusercontent.com/alice/net/main/LICENSE": (LinkStatus.BROKEN, None),
    "https://raw.githubusercontent.com/alice/net/main/src": (LinkStatus.BROKEN, None),  # a folder: raw serves files
    "https://github.com/alice/net/releases/tag/v1.0": (LinkStatus.OK, None),
    "https://github.com/alice/net/releases/tag/v9": (LinkStatus.BROKEN, None),
    "https://github.com/alice/net/issues/3": (LinkStatus.OK, None),
    "https://github.com/bob/old-name/tree/main/README.md": (
        LinkStatus.REDIRECTED, "https://github.com/bob/new-name/tree/main/README.md"),
    "https://github.com/carol/gone-stale": (LinkStatus.OK, None),
    "https://github.com/dave/secret": (LinkStatus.BROKEN, None),
    "https://github.com/nobody/nothing": (LinkStatus.BROKEN, None),
    "https://github.com/ExampleOrg": (LinkStatus.OK, None),
    "https://github.com/renamed-user-1234": (LinkStatus.BROKEN, None),
}
TO_WEB = [
    "https://github.com/erin/moved/blob/master/docs/new.md",  # renamed branch: only the web knows it redirects
    "https://github.com/alice/net/issues/99",  # issues move between repositories: the web redirects
    "https://github.com/features/copilot",  # not GitHub's API's business at all
]


def claims_for(urls) -> list[base.Claim]:
    return [base.Claim(normalize_url(u), u) for u in urls]


class Clock:
    """Fake time: sleeping moves it on and returns at once."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def verify(web, make_settings, fake: FakeGitHub, urls, *, rounds: int = 1, clock: Clock | None = None,
           transport=RoutingTransport, **kw):
    settings = make_settings(**{k: kw.pop(k) for k in list(kw) if k in ("timeout", "offline")})
    web.add(GRAPHQL_URL, fake)
    clock = clock or Clock()

    async def go():
        async with ClientPool(settings, transport_factory=lambda limits: transport(web.port, limits)) as pool:
            verifier = GitHubVerifier(pool.client(GRAPHQL_URL), timeout=settings.timeout, sleep=clock.sleep,
                                      clock=clock, **kw)
            claimed = [u for u in urls if verifier.claims(u)]
            results = [await verifier.verify_all(claims_for(claimed)) for _ in range(rounds)]
            return verifier, claimed, results

    verifier, claimed, results = asyncio.run(go())
    return verifier, claimed, results[-1] if rounds == 1 else results


@pytest.fixture
def token(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    return TOKEN


def test_verdicts_against_github(web, make_settings, token, caplog):
    fake = FakeGitHub(world(), token=token)
    with caplog.at_level(logging.DEBUG):
        verifier, claimed, out = verify(web, make_settings, fake, [*CASES, *TO_WEB])
    assert set(claimed) == set(CASES) | set(TO_WEB[:2])
    for url, (status, suggestion) in CASES.items():
        result = out.results[normalize_url(url)]
        assert (result.status, result.suggestion) == (status, suggestion), url
    assert out.to_web == {normalize_url(u) for u in TO_WEB[:2]}
    assert out.results[normalize_url("https://github.com/carol/gone-stale")].note == "archived on 2023-05-01"
    assert out.results[normalize_url("https://github.com/dave/secret")].error == NOT_FOUND_REPO
    info = out.repos[normalize_url("https://github.com/alice/net/tree/feature/x/a")]
    assert (info.name_with_owner, info.stars, info.archived, info.pushed_at) == (
        "alice/net", 1234, False, "2025-06-01T08:00:00Z")
    assert out.repos[normalize_url("https://github.com/carol/gone-stale")].archived
    assert normalize_url("https://github.com/ExampleOrg") not in out.repos
    # One query for everything, one more for the links whose first reading named no ref.
    assert fake.requests == out.requests == verifier.requests_sent == 2
    assert TOKEN not in caplog.text


def test_the_token_goes_only_to_the_api(web, make_settings, token, caplog):
    """Every request that carried the token went to https://api.github.com; no log line, result or fixture holds it."""
    fake = FakeGitHub(world(), token=token)
    pages = GitHubPages(world())
    web.host("github.com", pages)
    web.host("example.org", Reply(200, b"<title>x</title>"))
    settings = make_settings(hosts={"github.com": HostRule(spacing=0.0)})  # where the token goes, not pacing
    web.add(GRAPHQL_URL, fake)

    async def go():
        from crawler.checking.checker import Checker

        async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits)) as pool:
            verifier = GitHubVerifier.from_settings(settings, pool)
            out = await verifier.verify_all(claims_for([*CASES, *TO_WEB[:2]]))
            checker = Checker(pool, settings)
            # What the pipeline does next: the web check of what GraphQL left, and of other hosts.
            for url in [*sorted(out.to_web), "http://example.org/", "https://example.org/page"]:
                await checker.check(url)
            return out

    with caplog.at_level(logging.DEBUG):
        out = asyncio.run(go())
    carrying = [r for r in web.requests if any(TOKEN in v for v in r.headers.values())]
    assert carrying, "the GraphQL requests carry the token"
    assert {(r.host, r.headers.get("X-Forwarded-Proto")) for r in carrying} <= {
        ("api.github.com", "https"), ("github.com", "https")}
    assert all(r.headers.get("Authorization") == f"Bearer {TOKEN}" for r in carrying)
    assert not any(TOKEN.encode() in r.body for r in web.requests)
    assert [r for r in web.requests if r.host == "example.org"] and not any(
        TOKEN in str(r.headers) for r in web.requests if r.host == "example.org")
    assert TOKEN not in caplog.text and TOKEN not in repr(out)


def test_no_token_claims_nothing_and_sends_nothing(web, make_settings, monkeypatch):
    fake = FakeGitHub(world(), token=TOKEN)
    verifier, claimed, out = verify(web, make_settings, fake, list(CASES))
    assert claimed == [] and fake.requests == 0
    monkeypatch.setenv("GH_TOKEN", TOKEN)  # the other name GitHub's CLI uses
    verifier, claimed, out = verify(web, make_settings, fake, list(CASES))
    assert set(claimed) == set(CASES)
    assert not verifier.claims("https://example.org/alice/net")


def test_offline_or_poolless_verifier_claims_nothing(make_settings, token):
    assert not GitHubVerifier.from_settings(make_settings(), None).claims("https://github.com/a/b")

    async def go():
        async with ClientPool(make_settings(offline=True)) as pool:
            return GitHubVerifier.from_settings(make_settings(offline=True), pool).claims("https://github.com/a/b")

    assert asyncio.run(go()) is False


def many_repos(n: int) -> tuple[World, list[str]]:
    w = World()
    urls = []
    for i in range(n):
        w.repo(f"lab{i % 7}/model-{i:03d}", stars=i)
        urls.append(f"https://github.com/lab{i % 7}/model-{i:03d}")
    return w, urls


def test_fifty_repositories_per_query(web, make_settings, token):
    w, urls = many_repos(120)
    fake = FakeGitHub(w, token=token)
    verifier, _, out = verify(web, make_settings, fake, urls)
    assert fake.batches == [50, 50, 20]
    assert all(r.status is LinkStatus.OK for r in out.results.values()) and len(out.results) == 120
    assert out.requests <= 120 / 40 + 2


@pytest.mark.parametrize("overload", ["502", "504", "something"])
def test_batches_are_halved_when_github_times_out(web, make_settings, token, overload):
    w, urls = many_repos(60)
    fake = FakeGitHub(w, token=token, max_batch=20, overload=overload)
    verifier, _, out = verify(web, make_settings, fake, urls)
    assert len(out.results) == 60 and not out.to_web
    assert max(fake.batches) <= 20 and sum(fake.batches) == 60
    assert verifier.batch == 12  # 50 -> 25 -> 12, kept for the rest of the run
    assert fake.requests == 2 + 5  # two refused, then five of twelve or fewer


def test_a_timeout_halves_too_and_alone_leaves_the_link_to_the_web(web, make_settings, token):
    w, urls = many_repos(3)
    fake = FakeGitHub(w, token=token, max_batch=1, overload="slow")
    verifier, _, out = verify(web, make_settings, fake, urls, timeout=0.3)
    assert len(out.results) == 3 and fake.batches == [1, 1, 1]

    fake = FakeGitHub(w, token=token, max_batch=0, overload="slow")  # every query times out, however small
    verifier, _, out = verify(web, make_settings, fake, urls[:2], timeout=0.3)
    assert out.results == {} and out.to_web == {normalize_url(u) for u in urls[:2]}


@pytest.mark.parametrize("failure", ["bad-token", "no-read-permission"])
def test_a_token_that_cannot_read_sends_everything_to_the_web(web, make_settings, token, caplog, failure):
    fake = FakeGitHub(world(), token="ghp_someOtherToken" if failure == "bad-token" else token,
                      integration_forbidden=failure == "no-read-permission")
    with caplog.at_level(logging.WARNING):
        verifier, _, results = verify(web, make_settings, fake, list(CASES), rounds=2)
    first, second = results
    assert first.results == {} and first.to_web == {normalize_url(u) for u in CASES}
    assert second.to_web == first.to_web and second.requests == 0
    assert fake.requests == 1
    assert not verifier.claims("https://github.com/alice/net")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "token cannot read" in warnings[0]
    assert ("Bad credentials" if failure == "bad-token" else "not accessible by integration") in warnings[0]
    assert TOKEN not in caplog.text and "ghp_someOtherToken" not in caplog.text
    assert verifier.unavailable is not None and verifier.unavailable.source == "github"


def test_secondary_limit_is_waited_out(web, make_settings, token):
    fake = FakeGitHub(world(), token=token)
    fake.script = ["secondary", "secondary-bare"]
    clock = Clock()
    verifier, _, out = verify(web, make_settings, fake, list(CASES), clock=clock)
    assert clock.slept == [60.0, 120.0]  # retry-after obeyed; without it a minute, then twice that
    assert {normalize_url(u) for u in CASES} == set(out.results)


def test_secondary_limit_waits_are_capped(web, make_settings, token, caplog):
    fake = FakeGitHub(world(), token=token)
    fake.script = ["secondary"] * 10
    clock = Clock()
    with caplog.at_level(logging.WARNING):
        verifier, _, out = verify(web, make_settings, fake, list(CASES), clock=clock, max_wait=150)
    assert sum(clock.slept) <= 150 and clock.slept == [60.0, 60.0]
    assert out.results == {} and out.to_web == {normalize_url(u) for u in CASES}
    assert "secondary rate limit" in caplog.text and "checked on the web" in caplog.text
    assert verifier.claims("https://github.com/alice/net")  # the token itself is fine


@pytest.mark.parametrize("garbage", ["garbled", "truncated"])
def test_an_unreadable_answer_never_makes_a_link_broken(web, make_settings, token, garbage):
    w, urls = many_repos(4)
    w.repo("dead/link", private=True)
    urls.insert(0, "https://github.com/dead/link")
    fake = FakeGitHub(w, token=token)
    fake.script = [garbage]
    verifier, _, out = verify(web, make_settings, fake, urls, batch=2)
    # The first batch's answer is lost: its links go to the web check; the others are judged.
    assert out.to_web == {normalize_url(u) for u in urls[:2]}
    assert {normalize_url(u) for u in urls[2:]} == set(out.results)
    assert all(r.status is LinkStatus.OK for r in out.results.values())


def test_unreadable_answers_in_a_row_give_graphql_up(web, make_settings, token, caplog):
    w, urls = many_repos(10)
    fake = FakeGitHub(w, token=token)
    fake.script = ["garbled", "something-else", "garbled"]
    fake.script[1] = Reply(500, b"<html>500</html>")
    with caplog.at_level(logging.WARNING):
        verifier, _, out = verify(web, make_settings, fake, urls, batch=2)
    assert fake.requests == 3 and out.results == {} and len(out.to_web) == 10
    assert "3 unreadable answers in a row" in caplog.text


def test_an_error_answer_without_data_is_not_evidence(web, make_settings, token):
    w, urls = many_repos(2)
    fake = FakeGitHub(w, token=token)
    fake.script = [Reply(200, json.dumps({"data": None, "errors": [{"message": "Timeout on validation of query"}]}
                                         ).encode(), {"Content-Type": "application/json"})]
    verifier, _, out = verify(web, make_settings, fake, urls)
    # Treated like GitHub's timeout: asked again in smaller batches, then judged.
    assert len(out.results) == 2 and fake.batches == [1, 1]


def test_the_budget_is_not_spent(web, make_settings, token, caplog):
    w, urls = many_repos(200)
    fake = FakeGitHub(w, token=token, points=52)
    with caplog.at_level(logging.WARNING):
        verifier, _, out = verify(web, make_settings, fake, urls, reserve=50)
    # 52 points: the second query leaves 50, and a third would eat into the 50 kept for the job's other steps.
    assert fake.requests == 2 and fake.points == 50
    assert len(out.results) == 100 and len(out.to_web) == 100
    assert caplog.text.count("budget nearly spent") == 1


def test_a_spent_budget_sends_the_rest_to_the_web(web, make_settings, token, caplog):
    w, urls = many_repos(80)
    fake = FakeGitHub(w, token=token, points=500, others_spend=1000)  # another step of the job uses the token too
    with caplog.at_level(logging.WARNING):
        verifier, _, out = verify(web, make_settings, fake, urls, reserve=0)
    assert fake.requests == 2  # the second answer: {"errors": [{"type": "RATE_LIMITED", ...}]}
    assert len(out.results) == 50 and len(out.to_web) == 30
    assert "budget spent" in caplog.text


def test_one_request_in_flight(web, make_settings, token):
    w, urls = many_repos(100)
    fake = FakeGitHub(w, token=token)
    peak = {"now": 0, "max": 0}

    class Counting(RoutingTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            peak["now"] += 1
            peak["max"] = max(peak["max"], peak["now"])
            try:
                await asyncio.sleep(0.01)
                response = await super().handle_async_request(request)
                await response.aread()
                return response
            finally:
                peak["now"] -= 1

    settings = make_settings()
    web.add(GRAPHQL_URL, fake)

    async def go():
        async with ClientPool(settings, transport_factory=lambda limits: Counting(web.port, limits)) as pool:
            verifier = GitHubVerifier.from_settings(settings, pool)
            halves = [claims_for(urls[:50]), claims_for(urls[50:])]
            return await asyncio.gather(*(verifier.verify_all(h) for h in halves))

    outs = asyncio.run(go())
    assert peak["max"] == 1 and sum(len(o.results) for o in outs) == 100


def test_names_that_would_break_a_spliced_query(web, make_settings, token):
    url = 'https://github.com/alice/net/blob/main/we%22ird%7D.py'
    fake = FakeGitHub(world(), token=token)
    verifier, _, out = verify(web, make_settings, fake, [url, "https://github.com/alice/net/blob/main/x%22)%7B.py"])
    assert out.results[normalize_url(url)].status is LinkStatus.OK
    assert 'main:we"ird}.py' in fake.seen_variables[0].values()


# --- the fake refuses what GitHub refuses ------------------------------------------------------------


@pytest.mark.parametrize(("query", "variables", "complaint"), [
    ('query { r0: repository(owner: "a", name: "b") { nameWithOwner stars } }', {}, "doesn't exist on type"),
    ("query { r0: repository(owner: $o, name: \"b\") { url } }", {"o": "a"}, "not declared"),
    ("query($o: String!) { r0: repository(owner: $o, name: \"b\") { url } }", {}, "invalid value"),
    ('query($n: String!) { r0: repository(owner: "a", name: "b") { issueOrPullRequest(number: $n) { __typename } } }',
     {"n": "5"}, "Type mismatch"),
    ('query { r0: repository(owner: "a", name: "b") { issueOrPullRequest(number: 1) { number } } }', {},
     "directly on unions"),
    ('query { rateLimit }', {}, "must have selections"),
    ('query { r0: repository(owner: "a") { url } }', {}, "missing required arguments: name"),
    ('query { r0: repository(owner: "a", name: "b") { url } r0: repository(owner: "c", name: "d") { url } }', {},
     "argument conflict"),
    ('query { r0: repository(owner: "a", name: "b" { url } }', {}, "Parse error"),
])
def test_the_fake_validates_queries(query, variables, complaint):
    fake = FakeGitHub(world(), token=TOKEN)
    from tests.fakes.web import Request

    body = json.dumps({"query": query, "variables": variables}).encode()
    reply = fake.handle(Request("POST", "api.github.com", "/graphql", {"Authorization": f"bearer {TOKEN}"}, body))
    answer = json.loads(reply.body)
    assert "data" not in answer and complaint in answer["errors"][0]["message"]


def test_github_pages_fake_rate_limits_and_redirects():
    clock = Clock()
    pages = GitHubPages(world(), per_minute=2, clock=clock)
    from tests.fakes.web import Request

    def get(path: str, host: str = "github.com") -> Reply:
        return pages.handle(Request("GET", host, path, {}))

    assert get("/bob/old-name/tree/main/README.md").headers["Location"] == \
        "https://github.com/bob/new-name/tree/main/README.md"
    assert get("/erin/moved/blob/master/docs/new.md").headers["Location"] == \
        "https://github.com/erin/moved/blob/main/docs/new.md"
    limited = get("/alice/net")
    assert limited.status == 429 and limited.headers["Retry-After"] == "60"
    clock.now += 61
    assert get("/dave/secret").status == 404 and get("/alice/net").status == 200


def test_ref_is_a_frozen_value():
    ref = GitHubRef(Kind.REPO, "a", "b")
    with pytest.raises(AttributeError):
        ref.owner = "c"  # type: ignore[misc]


def test_a_primary_limit_answer_stops_graphql_without_waiting(web, make_settings, token, caplog):
    w, urls = many_repos(3)
    fake = FakeGitHub(w, token=token)
    fake.script = [Reply(403, json.dumps({"message": "API rate limit exceeded for user ID 1.",
                                          "documentation_url": "https://docs.github.com/graphql"}).encode(),
                         {"Content-Type": "application/json", "X-RateLimit-Remaining": "0"})]
    clock = Clock()
    with caplog.at_level(logging.WARNING):
        verifier, _, out = verify(web, make_settings, fake, urls, clock=clock)
    assert clock.slept == [] and fake.requests == 1 and len(out.to_web) == 3 and not out.results
    assert "budget spent" in caplog.text


def test_an_unreachable_api_leaves_everything_to_the_web(web, make_settings, token, caplog):
    class Refusing(RoutingTransport):
        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            raise httpx.ConnectError("connection refused", request=request)

    w, urls = many_repos(60)
    with caplog.at_level(logging.WARNING):
        verifier, _, out = verify(web, make_settings, FakeGitHub(w, token=token), urls, transport=Refusing)
    assert verifier.requests_sent == 1 and len(out.to_web) == 60 and not out.results
    assert "cannot reach https://api.github.com/graphql" in caplog.text
    assert verifier.unavailable.reason.startswith("cannot reach")
