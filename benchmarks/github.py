"""The GitHub case: 300 GitHub links with real-world fates, with a token and without one.

    python -m benchmarks.github              # about ten seconds
    python -m benchmarks.github --json out.json

A loopback GitHub (tests/fakes/github.py) holds one world: repositories that are fine, renamed or
transferred, deleted, private, archived; files and folders that moved; branches renamed
master -> main (github.com redirects their pages) or deleted; a branch with a '/' in its name; raw
files; release tags; profiles of accounts that were renamed. github.com and raw.githubusercontent.com
answer page loads from that world and allow 25 a minute (429 with Retry-After: 60 beyond, as
github.com does to a crawler's address); api.github.com answers GraphQL.

- **token**: `GitHubVerifier` judges what it claims in batches; whatever it leaves (`to_web`) gets
  the ordinary web check (`crawler.checking.checker.Checker`), as the pipeline does.
- **token, GitHub struggling**: the same, with GraphQL answering 502 to any query of more than 20
  repositories and one secondary rate limit (403, retry-after 60) on the way.
- **no token**: every link gets the web check, as today.

Waiting runs 60 times faster: the checker, the verifier and the page limiter share one clock on
which a Retry-After of 60 s costs one real second, and concurrent waits overlap as they would.
"Wall" counts working time as it is and waiting time in GitHub's seconds. The checker is used as it
stands; the host-wide 429 pause belongs to the checker and is measured once it lands.

Nothing leaves 127.0.0.1: every request is routed there whatever its host, and the token is made up.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import time
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

from crawler.checking.checker import Checker
from crawler.config import Settings
from crawler.listfile.links import normalize_url
from crawler.models import LinkStatus
from crawler.net.pool import ClientPool
from crawler.sources.base import Claim
from crawler.sources.github import GRAPHQL_URL, GitHubVerifier
from tests.fakes.github import FakeGitHub, GitHubPages, World
from tests.fakes.web import FakeWeb, RoutingTransport

ROOT = Path(__file__).resolve().parent.parent

TOKEN = "ghp_benchmarkMadeUpToken000000000000000000"
PER_MINUTE = 25
OK, REDIRECTED, BROKEN = LinkStatus.OK, LinkStatus.REDIRECTED, LinkStatus.BROKEN


# --- the list ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Link:
    url: str
    fate: str
    expected: LinkStatus
    suggestion: str | None = None  # for a rename: where the link should point now


def make_world(seed: int = 12) -> tuple[World, list[Link]]:
    """300 links over about 250 repositories, each with the fate a reader would meet today."""
    rng = random.Random(seed)
    w = World()
    links: list[Link] = []
    labs = [f"lab{i:02d}" for i in range(40)]
    counter = iter(range(10_000))

    def new_repo(**kw) -> str:
        name = f"{rng.choice(labs)}/paper-code-{next(counter):03d}"
        w.repo(name, branches=kw.pop("branches", {"main": {"README.md", "train.py", "models/net.py"}}),
               stars=rng.randint(0, 5000), pushed_at=f"20{rng.randint(18, 25)}-0{rng.randint(1, 9)}-15T10:00:00Z", **kw)
        return name

    def add(url: str, fate: str, expected: LinkStatus, suggestion: str | None = None) -> None:
        links.append(Link(url, fate, expected, suggestion))

    written = ["{}", "{}.git", "{}/", "{}?tab=readme-ov-file", "{}#installation"]
    for i in range(170):
        form = written[i % len(written)] if i % 3 == 0 else "{}"
        add(form.format(f"https://github.com/{new_repo()}"), "fine", OK)
    for _ in range(15):  # renamed or transferred: GraphQL follows, github.com answers 301
        new = new_repo()
        old = f"{rng.choice(labs)}-old/{new.split('/')[1]}-v0"
        w.rename(old, new)
        add(f"https://github.com/{old}", "renamed", REDIRECTED, f"https://github.com/{new}")
    for _ in range(3):
        new = new_repo()
        old = f"{new.split('/')[0]}/old-name-{next(counter)}"
        w.rename(old, new)
        add(f"https://github.com/{old}/tree/main/models", "renamed, path", REDIRECTED,
            f"https://github.com/{new}/tree/main/models")
    for i in range(14):
        add(f"https://github.com/{rng.choice(labs)}/deleted-{i:02d}", "deleted", BROKEN)
    for _ in range(8):
        add(f"https://github.com/{new_repo(private=True)}", "private", BROKEN)
    for _ in range(20):
        add(f"https://github.com/{new_repo(archived_at='2023-04-01T00:00:00Z')}", "archived", OK)
    monorepos = [new_repo(branches={"master": {f"projects/p{j}/README.md" for j in range(12)} | {"README.md"}},
                          default="master") for _ in range(3)]
    for j in range(20):
        add(f"https://github.com/{monorepos[j % 3]}/tree/master/projects/p{j % 12}", "folder", OK)
    slash = new_repo(branches={"main": {"README.md"}, "release/v2": {"src/a.py"}})
    for _ in range(3):
        add(f"https://github.com/{slash}/tree/release/v2/src", "branch with a slash", OK)
    for j in range(8):
        add(f"https://github.com/{monorepos[j % 3]}/tree/master/projects/removed{j}", "folder moved", BROKEN)
    for _ in range(8):
        add(f"https://github.com/{new_repo()}/blob/main/models/net.py#L40", "file", OK)
    for _ in range(5):
        add(f"https://github.com/{new_repo()}/blob/main/models/old_net.py", "file moved", BROKEN)
    for _ in range(6):  # master renamed to main: GraphQL sees no `master`, github.com redirects
        name = new_repo(branch_renames={"master": "main"})
        add(f"https://github.com/{name}/blob/master/train.py", "branch renamed", REDIRECTED,
            f"https://github.com/{name}/blob/main/train.py")
    for _ in range(2):
        add(f"https://github.com/{new_repo()}/tree/dev/experiments", "branch deleted", BROKEN)
    for _ in range(4):
        add(f"https://raw.githubusercontent.com/{new_repo()}/main/README.md", "raw file", OK)
    for _ in range(2):
        add(f"https://raw.githubusercontent.com/{new_repo()}/main/weights.pth", "raw file gone", BROKEN)
    tagged = new_repo(tags={"v1.0": "main", "v1.1": "main"}, releases={"v1.0"})
    for tag in ("v1.0", "v1.1", "v1.0"):
        add(f"https://github.com/{tagged}/releases/tag/{tag}", "release", OK)
    add(f"https://github.com/{tagged}/releases/tag/v9.9", "release gone", BROKEN)
    for i in range(4):
        login = f"researcher{i}"
        w.account(login)
        add(f"https://github.com/{login}", "profile", OK)
    for i in range(2):
        add(f"https://github.com/renamed-person{i}", "profile renamed", BROKEN)
    issues = new_repo(issues={4, 9})
    for n in (4, 9):
        add(f"https://github.com/{issues}/issues/{n}", "issue", OK)
    return w, links


# --- time --------------------------------------------------------------------------------------------


class ScaledClock:
    """Time that runs `speed` times faster while anyone sleeps: a Retry-After of 60 s is one real second.

    The checker, the verifier and the page limiter all read and sleep on it, so concurrent waits overlap
    as they would. Working time (requests, parsing) counts as it is; `wall` is real time with every
    stretch in which at least one task slept counted `speed` times.
    """

    def __init__(self, speed: float = 60.0) -> None:
        self.speed = speed
        self.start = time.monotonic()
        self._sleepers = 0
        self._since = 0.0
        self._slept = 0.0  # real seconds in which someone slept

    def __call__(self) -> float:
        return 1_800_000_000.0 + self.wall

    async def sleep(self, seconds: float) -> None:
        if self._sleepers == 0:
            self._since = time.monotonic()
        self._sleepers += 1
        try:
            await asyncio.sleep(seconds / self.speed)
        finally:
            self._sleepers -= 1
            if self._sleepers == 0:
                self._slept += time.monotonic() - self._since

    @property
    def wall(self) -> float:
        now = time.monotonic()
        slept = self._slept + (now - self._since if self._sleepers else 0.0)
        return (now - self.start) + slept * (self.speed - 1)


# --- one run -----------------------------------------------------------------------------------------


@dataclass
class Figures:
    scenario: str
    links: int
    repositories: int
    graphql_requests: int
    graphql_target: float
    html_requests: int
    html_share: float
    answers_429: int
    judged_right: int
    right_share: float
    rate_limited: int
    wrongly_broken: int
    suggestions_right: int
    suggestions_expected: int
    wall_s: float
    real_s: float
    wrong: list[str]


def run(scenario: str, world: World, links: list[Link], *, token: bool, struggling: bool = False) -> Figures:
    clock = ScaledClock()
    web = FakeWeb().start()
    fake = FakeGitHub(world, token=TOKEN, clock=clock,
                      **({"max_batch": 20, "overload": "502"} if struggling else {}))
    if struggling:
        fake.script = ["secondary"]
    pages = GitHubPages(world, per_minute=PER_MINUTE, clock=clock)
    web.add(GRAPHQL_URL, fake)
    web.host("github.com", pages)
    web.host("raw.githubusercontent.com", pages)
    settings = Settings(progress=False, retries=2, timeout=10.0)
    saved = {k: os.environ.pop(k) for k in ("GITHUB_TOKEN", "GH_TOKEN") if k in os.environ}
    if token:
        os.environ["GITHUB_TOKEN"] = TOKEN
    started = time.monotonic()
    try:
        results = asyncio.run(_check(settings, web, clock, links))
    finally:
        os.environ.pop("GITHUB_TOKEN", None)
        os.environ.update(saved)
        web.stop()
    real = time.monotonic() - started
    right = [lk for lk in links if results[normalize_url(lk.url)].status is lk.expected]
    wrong = [f"{lk.fate}: {lk.url} -> {results[normalize_url(lk.url)].status} "
             f"({results[normalize_url(lk.url)].error})" for lk in links if lk not in right]
    renamed = [lk for lk in links if lk.suggestion]
    repositories = len({normalize_url(lk.url).split("/")[3] + "/" + normalize_url(lk.url).split("/")[4].removesuffix(
        ".git") for lk in links if len(normalize_url(lk.url).split("/")) > 4})
    html = pages.seen
    return Figures(
        scenario=scenario, links=len(links), repositories=repositories,
        graphql_requests=fake.requests, graphql_target=round(repositories / 40 + 2, 1),
        html_requests=html, html_share=round(html / len(links), 3), answers_429=pages.throttled,
        judged_right=len(right), right_share=round(len(right) / len(links), 3),
        rate_limited=sum(1 for r in results.values() if r.status is LinkStatus.RATE_LIMITED),
        wrongly_broken=sum(1 for lk in links if lk.expected is not BROKEN
                           and results[normalize_url(lk.url)].status is BROKEN),
        suggestions_right=sum(1 for lk in renamed if results[normalize_url(lk.url)].suggestion == lk.suggestion),
        suggestions_expected=len(renamed), wall_s=round(clock.wall, 1), real_s=round(real, 2), wrong=wrong,
    )


async def _check(settings: Settings, web: FakeWeb, clock: ScaledClock, links: list[Link]) -> dict:
    async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits),
                          monotonic=clock, sleep=clock.sleep) as pool:
        verifier = GitHubVerifier(pool.client(GRAPHQL_URL), sleep=clock.sleep, clock=clock)
        keys = list(dict.fromkeys(normalize_url(lk.url) for lk in links))
        claimed = [Claim(k, k) for k in keys if verifier.claims(k)]
        out = await verifier.verify_all(claimed)
        results = dict(out.results)
        rest = [k for k in keys if k not in results]
        checker = Checker(pool, settings, sleep=clock.sleep, clock=clock)

        async def one(url: str) -> None:
            results[url] = await checker.check(url)

        await asyncio.gather(*(one(k) for k in rest))
        return results


# --- the command -------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path, help="keep the figures here")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--show-wrong", action="store_true", help="list the links judged wrong")
    args = parser.parse_args(argv)
    world, links = make_world(args.seed)
    fates = Counter(lk.fate for lk in links)
    print(f"{len(links)} GitHub links: " + ", ".join(f"{n} {fate}" for fate, n in fates.most_common()))
    figures = [
        run("token", world, links, token=True),
        run("token, GitHub struggling", world, links, token=True, struggling=True),
        run("no token", world, links, token=False),
    ]
    print()
    print("| | GraphQL requests (target) | github.com HTML requests (share) | 429 answers | judged right "
          "| rate_limited | wrongly broken | suggestions right | wall s | real s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for f in figures:
        print(f"| {f.scenario} | {f.graphql_requests} (<= {f.graphql_target}) | {f.html_requests} "
              f"({f.html_share:.1%}) | {f.answers_429} | {f.judged_right}/{f.links} ({f.right_share:.1%}) "
              f"| {f.rate_limited} | {f.wrongly_broken} | {f.suggestions_right}/{f.suggestions_expected} "
              f"| {f.wall_s} | {f.real_s} |")
    print(f"\n{figures[0].repositories} distinct repositories; github.com allows {PER_MINUTE} page "
          "loads a minute.")
    if args.show_wrong:
        for f in figures:
            for line in f.wrong:
                print(f"  {f.scenario}: {line}")
    if args.json:
        args.json.write_text(json.dumps([asdict(f) for f in figures], indent=2))


if __name__ == "__main__":
    main()
