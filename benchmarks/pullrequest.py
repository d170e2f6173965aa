"""`crawler pr` on a typical pull request: does it finish within the politeness waits it needs?

    python -m benchmarks.pullrequest                 # about a minute
    python -m benchmarks.pullrequest --base-entries 5000 --json out.json

A git repository holds a list of `--base-entries` entries on main (their pages answer, but must not be
asked); a branch adds 20 entries: 10 with a page (100 ms an answer), 5 arXiv abstract links and 5 empty
links to fill from arXiv. `crawler pr --base main` runs twice, the first time with no cache, the second
with the cache of the first (as the pull-request job restores the nightly's). arXiv is asked at arXiv's pace,
one request every 3 s (the real `arxiv-delay`): those waits are the floor, (arXiv requests - 1) x 3 s; what
the run takes beyond them is its own cost.

Nothing leaves 127.0.0.1: the fake web (tests/fakes/web.py) answers for every host, the arXiv API is
tests/fakes/sites.py's, and the crawler runs with the loopback guard.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.fakes.sites import FakeArxiv
from tests.fakes.web import FakeWeb, Reply

ROOT = Path(__file__).resolve().parent.parent

GUARD = ROOT / "tests" / "loopback_only"
ARXIV_DELAY = 3.0
ARXIV = {"1503.02531": "Distilling the Knowledge in a Neural Network", "1412.6550": "FitNets Hints for Thin Deep Nets",
         "1610.09650": "Deep Model Compression Distilling Knowledge from Noisy Teachers",
         "1805.04770": "Born Again Neural Networks", "1803.00443": "Knowledge Transfer with Jacobian Matching"}
FILLS = ["Paying More Attention to Attention Improving the Performance of Convolutional Neural Networks via "
         "Attention Transfer", "Learning Metrics from Teachers Compact Networks for Image Embedding",
         "Improved Knowledge Distillation via Teacher Assistant",
         "Snapshot Distillation Teacher-Student Optimization in One Generation", "A Paper arXiv Does Not Know"]
HTML = {"Content-Type": "text/html"}


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=b", "-c", "user.email=b@example.org", *args], cwd=root, check=True,
                   capture_output=True, timeout=120)


def repository(root: Path, base: str, entries: int) -> None:
    main = "# Papers\n\n" + "".join(f"- Old Paper Number {i} About Things ICLR 2018 [[paper]]({base}/old/{i})\n"
                                    for i in range(entries))
    (root / "README.md").write_text(main)
    (root / "crawler.toml").write_text(
        f'lists = ["README.md"]\nallow-private = true\narxiv-url = "{base}/api/query?{{}}"\n'
        f'arxiv-delay = {ARXIV_DELAY}\ncvf-base = "{base}/cvf"\ntimeout = 10\n')
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "the list")
    git(root, "checkout", "-qb", "pr")
    added = [f"- New Paper Number {i} About Things ICLR 2021 [[paper]]({base}/new/{i})\n" for i in range(10)]
    added += [f"- {title} ICLR 2016 [[paper]](https://arxiv.org/abs/{a})\n" for a, title in ARXIV.items()]
    added += [f"- {title} ICLR 2017 [[paper]]()\n" for title in FILLS]
    with (root / "README.md").open("a") as fh:
        fh.write("".join(added))
    git(root, "commit", "-qam", "twenty papers")


def run_pr(root: Path, web: FakeWeb) -> dict:
    before = len(web.log)
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "crawler", "pr", "--base", "main", "--no-progress", "-q"], cwd=root,
                          capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONPATH": f"{GUARD}:{ROOT}"})
    wall = time.perf_counter() - started
    asked = web.log[before:]
    arxiv = sum(1 for _, _, path in asked if path.startswith("/api/query"))
    floor = max(arxiv - 1, 0) * ARXIV_DELAY
    return {"exit_code": done.returncode, "wall_s": round(wall, 2), "requests": len(asked), "arxiv_requests": arxiv,
            "old_lines_asked": sum(1 for _, _, path in asked if path.startswith("/old/")),
            "floor_s": floor, "beyond_floor_s": round(wall - floor, 2),
            "suggestions": len(json.loads((root / "reports" / "suggestions.json").read_text()))}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base-entries", type=int, default=2000, help="entries of the list on main [2000]")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args(argv)
    web = FakeWeb().start()
    try:
        web.host("127.0.0.1", FakeArxiv())
        base = f"http://127.0.0.1:{web.port}"
        for i in range(args.base_entries):
            web.add(f"{base}/old/{i}", Reply(200, b"<html><title>Old</title></html>", HTML))
        for i in range(10):
            web.add(f"{base}/new/{i}", Reply(200, b"<html><title>New</title></html>", HTML, delay=0.1))
        with tempfile.TemporaryDirectory(prefix="crawler-pr-bench-") as tmp:
            root = Path(tmp)
            repository(root, base, args.base_entries)
            figures = {"base_entries": args.base_entries, "added_entries": 20, "cold": run_pr(root, web),
                       "warm": run_pr(root, web)}
    finally:
        web.stop()
    for name in ("cold", "warm"):
        f = figures[name]
        print(f"{name}: {f['wall_s']} s, {f['requests']} requests ({f['arxiv_requests']} to arXiv, "
              f"{f['old_lines_asked']} to lines the pull request left alone), floor {f['floor_s']:g} s, "
              f"{f['beyond_floor_s']} s beyond it; {f['suggestions']} suggestions; exit {f['exit_code']}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
