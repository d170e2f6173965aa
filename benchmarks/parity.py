"""Same output as before? `parse_list` of this checkout against the one of a git revision.

    python -m benchmarks.parity                 # against HEAD
    python -m benchmarks.parity --rev cabc759 --mixes 400 [--corpus DIR]

A speed change to parse.py or entries.py must not change a single Link or Entry. This runs both
versions on the same documents and compares the results field by field: the real lists of
../shared/corpus (read in place, never copied), the test fixtures, data/papers.md, the generated
benchmark lists, and `--mixes` documents stitched together from random runs of corpus lines (list
styles meeting each other, raw HTML cut in half, tables without their header: the seams a real
list never shows a test). The revision's code is unpacked into a temporary folder and run in a
child process; its output comes back pickled.
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent.parent / "shared" / "corpus" / "lists"

_CHILD = """
import pickle, sys
from crawler.listfile.parse import parse_list
docs = pickle.load(sys.stdin.buffer)
out = []
for text in docs:
    try:
        out.append(parse_list(text))
    except Exception as exc:  # compared too: both must fail alike
        out.append(f"error: {type(exc).__name__}: {exc}")
pickle.dump(out, sys.stdout.buffer)
"""


def documents(corpus: Path | None, mixes: int, seed: int) -> list[tuple[str, str]]:
    from benchmarks.listgen import arxiv_list, web_list

    docs: list[tuple[str, str]] = []
    sources = sorted(corpus.glob("*.md")) if corpus and corpus.is_dir() else []
    fixtures = sorted((ROOT / "tests" / "fixtures" / "lists").rglob("*.md")) + [ROOT / "data" / "papers.md"]
    for path in [*sources, *fixtures]:
        if path.is_file():
            docs.append((path.name, path.read_bytes().decode("utf-8")))
    docs.append(("web_list(2000)", web_list(2000, 20, 8080)))
    docs.append(("arxiv_list(300)", arxiv_list(300)))
    lines = [line for _, text in docs for line in text.splitlines()]
    rng = random.Random(seed)
    for n in range(mixes):
        parts = []
        for _ in range(rng.randint(1, 6)):
            start = rng.randrange(len(lines))
            parts.extend(lines[start : start + rng.randint(1, 120)])
        docs.append((f"mix {n}", "\n".join(parts) + rng.choice(["\n", "", "\r\n"])))
    return docs


def run_revision(rev: str, texts: list[str]) -> list:
    with tempfile.TemporaryDirectory(prefix="parity-") as tmp:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "crawler"], capture_output=True, check=True)
        subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
        env = {**os.environ, "PYTHONPATH": tmp}
        done = subprocess.run([sys.executable, "-c", _CHILD], input=pickle.dumps(texts), capture_output=True,
                              env=env, cwd=tmp, timeout=600)
        if done.returncode != 0:
            raise SystemExit(f"revision {rev} failed:\n{done.stderr.decode()[-2000:]}")
        return pickle.loads(done.stdout)


def run_here(texts: list[str]) -> list:
    from crawler.listfile.parse import parse_list

    out = []
    for text in texts:
        try:
            out.append(parse_list(text))
        except Exception as exc:
            out.append(f"error: {type(exc).__name__}: {exc}")
    return out


def _compared(obj) -> dict:
    """An Entry or Link as compared: the fields the older revision had (one unpickled from it lacks a field
    added since, such as Entry.why_not_paper, a diagnostic), nested links likewise."""
    return {k: (tuple(map(_compared, v)) if k == "links" else v) for k, v in vars(obj).items()
            if k != "why_not_paper"}


def first_difference(old, new) -> str | None:
    if isinstance(old, str) or isinstance(new, str):
        return None if old == new else f"{old!r} != {new!r}"[:400]
    for what in ("links", "entries"):
        a, b = getattr(old, what), getattr(new, what)
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if _compared(x) != _compared(y):
                return f"{what}[{i}]:\n  before {x!r}\n  now    {y!r}"[:1200]
        if len(a) != len(b):
            return f"{len(a)} {what} before, {len(b)} now"
    return None


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rev", default="HEAD", help="the revision to compare against [HEAD]")
    parser.add_argument("--corpus", type=Path, default=Path(os.environ.get("CRAWLER_CORPUS", CORPUS)))
    parser.add_argument("--mixes", type=int, default=300, help="stitched documents to add [300]")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    docs = documents(args.corpus, args.mixes, args.seed)
    texts = [t for _, t in docs]
    old = run_revision(args.rev, texts)
    new = run_here(texts)
    bad = 0
    for (name, _), a, b in zip(docs, old, new, strict=True):
        diff = first_difference(a, b)
        if diff:
            bad += 1
            if bad <= 10:
                print(f"DIFFERENT: {name}: {diff}")
    links = sum(len(p.links) for p in new if not isinstance(p, str))
    entries = sum(len(p.entries) for p in new if not isinstance(p, str))
    print(f"{len(docs)} documents ({links} links, {entries} entries): {bad} differ from {args.rev}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
