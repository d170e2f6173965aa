"""Several lists in one run, as a maintainer meets them: the `crawler` command in a list repository
(a README plus `papers/*.md`), against loopback sites, with the guard that keeps a subprocess on loopback.

One run, one cache and one report: each distinct URL is checked once whichever lists hold it; each problem is
located `file:line` and grouped by file; fills and abstracts go back into each file byte for byte (CRLF, a
missing final newline); `crawler report` renders the same from the cache; the list arguments' forms (files,
globs, directories, `lists` in crawler.toml) and their mistakes (one line, exit 2).
"""

import html
import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from crawler.cli.outputs import WriteBack, write_outputs
from crawler.errors import UsageError
from tests import paths
from tests.fakes.sites import ATOM, FakeArxiv, _entries
from tests.fakes.web import Reply
from tests.support.runs import run

ROOT = paths.ROOT
GUARD = paths.GUARD
LISTS = ["README.md", "papers/2020.md", "papers/2021.md"]
ATTENTION = "https://arxiv.org/abs/1612.03928"
BORN_AGAIN = "https://arxiv.org/abs/1805.04770"


def crawler(*args, cwd: Path, timeout: float = 120, text: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": f"{GUARD}:{ROOT}"}  # our code, and no socket but loopback
    return subprocess.run([sys.executable, "-m", "crawler", *map(str, args)], capture_output=True, text=text,
                          cwd=cwd, timeout=timeout, env=env)


def ok(proc: subprocess.CompletedProcess, code: int = 0) -> subprocess.CompletedProcess:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in str(proc.stderr)
    return proc


def abstract(arxiv_id: str) -> str:
    """The abstract as the fixture's arXiv API serves it, as an abstract block holds it (one line, inert)."""
    for entry in _entries():
        if f"/abs/{arxiv_id}v" in entry.find(f"{ATOM}id").text:
            return html.escape(" ".join(entry.find(f"{ATOM}summary").text.split()), quote=True)
    raise KeyError(arxiv_id)


def block(text: str, eol: str, indent: str = "  ") -> str:
    return "".join(indent + line + eol for line in ("<!-- crawler:abstract -->", "<details><summary>Abstract</summary>",
                                                    f"<p>{text}</p>", "</details>", "<!-- /crawler:abstract -->")) + eol


class Repo:
    """A list repository: README.md with CRLF line ends, papers/2020.md, and papers/2021.md with no final newline."""

    def __init__(self, root: Path, base: str):
        self.root, self.base = root, base
        self.readme = ("# Awesome\r\n\r\n"
                       "- Paying More Attention to Attention: Improving the Performance of Convolutional Neural "
                       "Networks via Attention Transfer, ICLR 2017 [[paper]]()\r\n"
                       f"- A Shared Page Paper, ICLR 2018 [[paper]]({base}/ok) [[project]]({base}/gone)\r\n")
        self.older = ("# 2020\n\n"
                      f"- Some Old Paper, ICLR 2020 [[paper]]({base}/ok) [[code]]({base}/moved)\n"
                      f"- Another Old Paper, ICLR 2020 [[paper]]({base}/gone)\n")
        self.newer = ("- Born Again Neural Networks, ICLR 2018 [[paper]]()\n"
                      f"- The Shared Page Again, ICLR 2018 [[paper]]({base}/ok#top) [[project]]({base}/gone2)")
        (root / "papers").mkdir(parents=True)
        for name, text in zip(LISTS, self.texts(), strict=True):
            (root / name).write_bytes(text.encode())
        self.config(f'allow-private = true\narxiv-url = "{base}/api/query?{{}}"\narxiv-delay = 0\n'
                    f'cvf-base = "{base}/cvf"\ntimeout = 5\nretries = 0\n')

    def texts(self) -> list[str]:
        return [self.readme, self.older, self.newer]

    def config(self, text: str) -> None:
        (self.root / "crawler.toml").write_text(text)

    def read(self) -> list[bytes]:
        return [(self.root / name).read_bytes() for name in LISTS]

    def report(self, folder: str = "reports") -> dict:
        return json.loads((self.root / folder / "health.json").read_text())

    def markdown(self, folder: str = "reports") -> str:
        return (self.root / folder / "health.md").read_text()


@pytest.fixture
def site(web) -> str:
    base = f"http://127.0.0.1:{web.port}"
    web.host("127.0.0.1", FakeArxiv())  # the arXiv API, at {base}/api/query; any other path is a 404
    html_page = {"Content-Type": "text/html"}
    web.add(f"{base}/ok", Reply(200, b"<html><title>A project page</title></html>", html_page))
    web.add(f"{base}/gone", Reply(404, b"<html><title>Not Found</title></html>", html_page))
    web.add(f"{base}/gone2", Reply(404, b"<html><title>Not Found</title></html>", html_page))
    web.add(f"{base}/moved", Reply(301, headers={"Location": f"{base}/ok"}))
    return base


@pytest.fixture
def lists(tmp_path, site) -> Repo:
    return Repo(tmp_path / "lists", site)


def places(row: dict) -> list[str]:
    return [f"{p['file']}:{p['line']}" for p in row["lines"]]


def every_place(data, path="") -> list[tuple[str, dict]]:
    """Every object in a report that has a `line`, with where it is in the report."""
    found = []
    if isinstance(data, dict):
        if "line" in data:
            found.append((path, data))
        for key, value in data.items():
            found += every_place(value, f"{path}.{key}")
    elif isinstance(data, list):
        for i, value in enumerate(data):
            found += every_place(value, f"{path}[{i}]")
    return found


def sections(markdown: str) -> dict[str, str]:
    """health.md cut at its `## ` headings: heading -> the text under it."""
    out, current = {}, None
    for line in markdown.splitlines():
        if line.startswith("## "):
            current = line[3:]
            out[current] = ""
        elif current is not None:
            out[current] += line + "\n"
    return out


# -- one run over several lists ------------------------------------------------------------------------------
def test_each_distinct_url_is_checked_once_however_many_lists_hold_it(lists, web, tmp_path):
    # What checking each distinct URL once costs: one list holding each of them once, on a cache of its own.
    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "one.md").write_text("".join(f"- [Paper number {i} here]({lists.base}{path})\n"
                                          for i, path in enumerate(("/ok", "/gone", "/gone2", "/moved"))))
    shutil.copy(lists.root / "crawler.toml", alone)
    ok(crawler("check", "one.md", "--no-progress", cwd=alone))
    once = Counter(r for r in web.log if "/api/" not in r[2])
    web.log.clear()

    proc = ok(crawler("check", "README.md", "papers/*.md", "--no-progress", cwd=lists.root))
    assert Counter(r for r in web.log if "/api/" not in r[2]) == once  # /ok is in all three lists, /gone in two
    assert proc.stdout.startswith("crawler: 4 links: 2 healthy, 2 failing, 0 not judged, 0 skipped; 2 new, 0 dead")

    report = lists.report()
    assert report["schema_version"] == 2 and report["summary"]["lists"] == LISTS
    rows = {lo["url"]: lo for lo in report["links"]}
    assert {url: places(lo) for url, lo in rows.items()} == {
        f"{lists.base}/ok": ["README.md:4", "papers/2020.md:3", "papers/2021.md:2"],  # `#top` is the same URL
        f"{lists.base}/gone": ["README.md:4", "papers/2020.md:4"],
        f"{lists.base}/moved": ["papers/2020.md:3"],
        f"{lists.base}/gone2": ["papers/2021.md:2"],
    }
    assert [places({"lines": [e]}) for e in report["empty"]] == [["README.md:3"], ["papers/2021.md:1"]]
    # `file` wherever there is a `line`, and always one of the run's lists.
    located = every_place(report)
    assert len(located) >= 11
    assert all(obj.get("file") in LISTS for _, obj in located), located


def test_the_report_groups_problems_by_file_each_at_its_file_and_line(lists):
    (lists.root / "clean.md").write_text(f"- [A paper that works]({lists.base}/ok)\n")
    ok(crawler("check", "README.md", "papers/*.md", "clean.md", "--no-progress", cwd=lists.root))
    md = lists.markdown()
    parts = sections(md)
    assert list(parts)[:3] == [r"README.md", r"papers/2020.md", r"papers/2021.md"]
    assert r"clean.md" not in parts and "\nNo problems in clean.md.\n" in md  # no empty section
    gone, gone2, moved = f"`{lists.base}/gone`", f"`{lists.base}/gone2`", f"`{lists.base}/moved`"
    readme, older, newer = parts[r"README.md"], parts[r"papers/2020.md"], parts[r"papers/2021.md"]
    # A link written in two lists is shown under each, at that list's lines only.
    assert r"| README.md:4 | A Shared Page Paper | " + gone in readme
    assert r"| papers/2020.md:4 | " in older and gone in older
    assert r"| papers/2020.md:3 | Some Old Paper | " + moved in older
    assert "### Permanently redirected (update the link) (1)" in older
    assert r"| papers/2021.md:2 | The Shared Page Again | " + gone2 in newer
    assert gone2 not in readme + older and moved not in readme + newer and gone not in newer
    assert "2020" not in readme and "README" not in older + newer
    assert "**README.md, papers/2020.md, papers/2021.md, clean.md**" in md


def test_under_each_file_a_shared_link_names_that_files_entry(lists):
    ok(crawler("check", "README.md", "papers/*.md", "--no-progress", cwd=lists.root))
    older = sections(lists.markdown())[r"papers/2020.md"]
    assert rf"| papers/2020.md:4 | Another Old Paper | `{lists.base}/gone`" in older


# -- writing back ----------------------------------------------------------------------------------------------
def test_fills_and_abstracts_go_back_into_each_file_byte_for_byte_and_a_rerun_changes_nothing(lists):
    proc = ok(crawler("run", "README.md", "papers/*.md", "--write", "--abstracts", "--no-progress", cwd=lists.root))
    assert "2/2 empty filled" in proc.stdout
    readme, older, newer = lists.texts()
    # README.md keeps its CRLF, the block included.
    readme = readme.replace("[[paper]]()\r\n", f"[[paper]]({ATTENTION})\r\n" + block(abstract("1612.03928"), "\r\n"))
    # papers/2021.md gains its fill and abstract, and its last line still has no newline.
    newer = newer.replace("[[paper]]()\n", f"[[paper]]({BORN_AGAIN})\n" + block(abstract("1805.04770"), "\n"))
    assert lists.read() == [readme.encode(), older.encode(), newer.encode()]
    report = lists.report()
    assert [f"{f['file']}:{f['line']}" for f in report["fills"]] == ["README.md:3", "papers/2021.md:1"]

    stamps = [(lists.root / name).stat().st_mtime_ns for name in LISTS]
    again = ok(crawler("run", "README.md", "papers/*.md", "--write", "--abstracts", "--no-progress",
                       cwd=lists.root))
    assert "empty filled" not in again.stdout  # nothing is empty any more
    assert lists.read() == [readme.encode(), older.encode(), newer.encode()]
    assert [(lists.root / name).stat().st_mtime_ns for name in LISTS] == stamps  # not even rewritten
    diff = ok(crawler("run", "README.md", "papers/*.md", "--diff", "--abstracts", "-q", cwd=lists.root))
    assert diff.stdout == ""


def test_diff_shows_the_changes_to_each_list_and_writes_none(lists):
    before = lists.read()
    proc = ok(crawler("run", "README.md", "papers/*.md", "--diff", "-q", cwd=lists.root, text=False))
    assert lists.read() == before
    out = proc.stdout.decode()
    assert "--- a/README.md\n+++ b/README.md\n" in out and "--- a/papers/2021.md\n+++ b/papers/2021.md\n" in out
    assert "papers/2020.md" not in out  # nothing to change there
    assert out.index("a/README.md") < out.index("a/papers/2021.md")
    assert f"+- Born Again Neural Networks, ICLR 2018 [[paper]]({BORN_AGAIN})\n" in out
    assert f"[[paper]]({ATTENTION})\r\n" in out  # the diff carries the file's own line ends
    assert sum(line.startswith("+") and not line.startswith("+++") for line in out.splitlines()) == 2


def test_output_names_one_list_so_two_lists_are_exit_2(lists):
    before = lists.read()
    proc = crawler("run", "README.md", "papers/*.md", "--output", "filled.md", "--no-progress", cwd=lists.root)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert proc.stderr.splitlines() == ["crawler: error: --output writes one list; with several lists use --write"]
    assert not (lists.root / "filled.md").exists() and lists.read() == before
    # One list with --output is as before: that list, filled, elsewhere.
    ok(crawler("run", "papers/2021.md", "--output", "filled.md", "--no-progress", cwd=lists.root))
    assert (lists.root / "filled.md").read_text() == lists.newer.replace("[[paper]]()", f"[[paper]]({BORN_AGAIN})")


def test_a_list_edited_during_the_run_stops_every_write(lists, web, make_settings, monkeypatch):
    monkeypatch.chdir(lists.root)
    settings = make_settings(allow_private=True)
    outcome = run(settings, web, [Path(name) for name in LISTS])
    assert len(outcome.enrichment.fills) == 2
    edited = lists.newer + "\n- A Paper Added By Hand, ICLR 2024 [[paper]](https://example.org/p)\n"
    (lists.root / "papers" / "2021.md").write_text(edited)  # the maintainer, while the night ran
    with pytest.raises(UsageError, match="papers/2021.md changed on disk during the run; no list was written"):
        write_outputs(outcome, settings, "run", WriteBack(write=True))
    assert lists.read() == [lists.readme.encode(), lists.older.encode(), edited.encode()]  # README.md too


def test_output_with_two_lists_is_refused_before_any_request(lists, web):
    proc = crawler("run", "README.md", "papers/*.md", "--output", "filled.md", "--no-progress", cwd=lists.root)
    assert proc.returncode == 2
    assert web.log == [] and not (lists.root / "reports").exists()


def test_the_diff_of_several_lists_applies_with_git(lists, tmp_path):
    ok(crawler("run", "papers/*.md", "README.md", "--write", "-q", cwd=lists.root))
    written = lists.read()
    for name, text in zip(LISTS, lists.texts(), strict=True):
        (lists.root / name).write_bytes(text.encode())
    diff = ok(crawler("run", "papers/*.md", "README.md", "--diff", "-q", cwd=lists.root, text=False)).stdout
    assert b"\\ No newline at end of file\n--- a/README.md" in diff
    subprocess.run(["git", "init", "-q"], cwd=lists.root, check=True, timeout=30)
    applied = subprocess.run(["git", "apply", "-"], input=diff, cwd=lists.root, capture_output=True, timeout=30)
    assert applied.returncode == 0, applied.stderr
    assert lists.read() == written


# -- the report from the cache -------------------------------------------------------------------------------
def rendered(report: dict) -> dict:
    """health.json less what a re-rendering may change: when, which command, the requests, the cache flags."""
    summary = {k: v for k, v in report["summary"].items() if k not in ("generated_at", "command", "requests", "new")}
    links = [{k: v for k, v in lo.items() if k not in ("from_cache", "new")} for lo in report["links"]]
    return {**report, "summary": summary, "links": links, "runs": len(report["runs"])}


def problems(md: str) -> dict[str, str]:
    return {head: text.replace(" *new*", "") for head, text in sections(md).items()}


def test_report_after_run_renders_the_same_from_the_cache(lists, web):
    ok(crawler("run", "README.md", "papers/*.md", "--no-progress", cwd=lists.root))
    ran_md, ran = lists.markdown(), lists.report()
    assert ran["summary"]["fills"] == 2 and ran["summary"]["abstracts"] == 2
    shutil.rmtree(lists.root / "reports")
    asked = len(web.log)

    ok(crawler("report", "README.md", "papers/*.md", "--no-progress", cwd=lists.root))
    assert len(web.log) == asked  # the cache alone
    assert rendered(lists.report()) == rendered(ran)
    assert problems(lists.markdown()) == problems(ran_md)

    # The same lists named another way and in another order: the same files, the same remembered enrichment.
    ok(crawler("report", "papers", "./README.md", "--no-progress", "--reports", "again", cwd=lists.root))
    again = lists.report("again")
    assert again["summary"]["lists"] == ["papers/2020.md", "papers/2021.md", "README.md"]
    assert again["fills"] == ran["fills"] and again["summary"]["abstracts"] == 2
    assert sorted(map(places, again["links"])) == sorted(map(places, ran["links"]))
    assert len(web.log) == asked

    # A subset of the lists is another set: its own links, and no enrichment that belonged to the three.
    ok(crawler("report", "papers/2020.md", "--no-progress", "--reports", "one", cwd=lists.root))
    one = lists.report("one")
    assert one["summary"]["lists"] == ["papers/2020.md"] and one["fills"] == []
    assert {lo["url"] for lo in one["links"]} == {f"{lists.base}/ok", f"{lists.base}/moved", f"{lists.base}/gone"}


def test_report_after_run_keeps_the_nights_new_failures(lists):
    ok(crawler("run", "README.md", "papers/*.md", "--no-progress", cwd=lists.root))
    ran_md, ran = lists.markdown(), lists.report()
    assert len(ran["summary"]["new"]) == 2
    ok(crawler("report", "README.md", "papers/*.md", "--no-progress", cwd=lists.root))
    assert lists.report()["summary"]["new"] == ran["summary"]["new"]
    assert [ln for ln in lists.markdown().splitlines() if " UTC · " not in ln] == \
        [ln for ln in ran_md.splitlines() if " UTC · " not in ln]


# -- how the lists are named ---------------------------------------------------------------------------------
@pytest.mark.parametrize("args, config, named", [
    (["README.md", "papers/*.md"], "", LISTS),
    (["README.md", "papers"], "", LISTS),  # a directory: the Markdown files directly in it
    (["README.md", "papers/"], "", LISTS),
    (["./README.md", "./papers/*.md"], "", LISTS),
    (["papers/*.md", "README.md"], "", [*LISTS[1:], "README.md"]),  # in the order given
    (["*.md", "papers/2021.md"], "", ["README.md", "papers/2021.md"]),
    ([], 'lists = ["README.md", "papers"]\n', LISTS),  # crawler.toml
    ([], 'lists = ["papers/*.md"]\n', LISTS[1:]),
    (["README.md"], 'lists = ["papers/*.md"]\n', ["README.md"]),  # the command line wins
])
def test_files_globs_directories_and_the_config_name_the_same_lists(lists, args, config, named):
    (lists.root / "papers" / "notes.txt").write_text("not a list\n")
    (lists.root / "crawler.toml").write_text((lists.root / "crawler.toml").read_text() + config)
    ok(crawler("check", *args, "--offline", "--no-progress", cwd=lists.root))
    report = lists.report()
    assert report["summary"]["lists"] == named
    assert {p["file"] for lo in report["links"] for p in lo["lines"]} <= set(named)


def test_a_list_whose_name_looks_like_a_glob_is_that_file(lists):
    (lists.root / "[CVPR] 2021.md").write_text(f"- [A paper here]({lists.base}/ok)\n")
    ok(crawler("check", "[CVPR] 2021.md", "--no-progress", cwd=lists.root))
    assert lists.report()["summary"]["lists"] == ["[CVPR] 2021.md"]


@pytest.mark.parametrize("args, config, message", [
    (["nope/*.md"], "", "no list matches 'nope/*.md'"),
    (["README.md", "papers/*.md", "*.markdown"], "", "no list matches '*.markdown'"),
    (["README.md", "README.md"], "", "list given twice: README.md (as 'README.md' and as 'README.md')"),
    (["README.md", "./README.md"], "", "list given twice: README.md (as 'README.md' and as './README.md')"),
    (["papers/*.md", "papers/2021.md"], "", "list given twice: papers/2021.md (as 'papers/*.md' and as "
                                            "'papers/2021.md')"),
    (["papers", "papers/*.md"], "", "list given twice: papers/2020.md (as 'papers' and as 'papers/*.md')"),
    (["empty"], "", "no Markdown file in the directory empty"),
    (["nested"], "", "no Markdown file in the directory nested"),  # Markdown only deeper down
    ([], 'lists = ["README.md", "gone/*.md"]\n', "no list matches 'gone/*.md'"),
    ([], 'lists = "README.md"\n', "lists must be a list of strings, not 'README.md'"),
])
def test_bad_lists_are_one_line_and_exit_2_before_anything_is_asked(lists, web, args, config, message):
    (lists.root / "empty").mkdir()
    (lists.root / "empty" / "notes.txt").write_text("x\n")
    (lists.root / "nested" / "2020").mkdir(parents=True)
    (lists.root / "nested" / "2020" / "a.md").write_text(f"- [A paper]({lists.base}/ok)\n")
    (lists.root / "crawler.toml").write_text((lists.root / "crawler.toml").read_text() + config)
    proc = crawler("run", *args, "--no-progress", cwd=lists.root)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.splitlines() == [f"crawler: error: {message}"]
    assert web.log == [] and not (lists.root / "data").exists() and not (lists.root / "reports").exists()


def test_init_where_no_list_can_be_found_is_one_line_and_exit_2(tmp_path):
    root = tmp_path / "tool"
    (root / "docs").mkdir(parents=True)
    (root / "README.md").write_text("# A tool\n\nSee [the paper](https://arxiv.org/abs/1503.02531).\n")
    (root / "docs" / "usage.md").write_text("# Usage\n\n- [install](https://example.org/install)\n")
    for args in (["init"], ["init", "--dir", root]):
        proc = crawler(*args, cwd=root)
        assert proc.returncode == 2 and proc.stdout == ""
        (line,) = proc.stderr.splitlines()
        assert line.startswith("crawler: error: no paper list found in ") and "crawler init LIST..." in line
    assert sorted(p.name for p in root.iterdir()) == ["README.md", "docs"]  # nothing written


# -- found on the way ------------------------------------------------------------------------------------------
def test_a_link_is_judged_against_its_own_lists_entry(lists):
    (lists.root / "a.md").write_text("# A\n\n- Distilling the Knowledge in a Neural Network, NIPS Workshop 2015 "
                                     "[[paper]](https://arxiv.org/abs/1503.02531)\n")
    (lists.root / "b.md").write_text("# B\n\n- FitNets: Hints for Thin Deep Nets, ICLR 2015 "
                                     "[[paper]](https://arxiv.org/abs/1412.6550)\n")
    ok(crawler("check", "a.md", "b.md", "--no-progress", cwd=lists.root))
    status = {lo["url"]: lo["status"] for lo in lists.report()["links"]}
    # Each list alone says both are right; together, today, FitNets is "wrong_paper" for Distilling's title.
    assert status == {"https://arxiv.org/abs/1503.02531": "ok", "https://arxiv.org/abs/1412.6550": "ok"}


def test_a_venue_site_that_does_not_resolve_leaves_its_entries_waiting(lists):
    # The guard makes proceedings.mlr.press unresolvable, as a DNS failure on the runner would.
    (lists.root / "icml.md").write_text("- Born Again Neural Networks, ICML 2018 [[paper]]()\n")
    proc = ok(crawler("run", "icml.md", "--no-progress", cwd=lists.root))
    (waiting,) = lists.report()["unresolved"]
    assert "pmlr" in waiting["reason"].lower() and "nothing guessed" in waiting["reason"]
    assert "internal error" not in proc.stderr


def test_an_abstract_after_the_last_line_keeps_the_missing_final_newline_missing(lists):
    text = (f"- A Paper That Works, ICLR 2018 [[paper]]({lists.base}/ok)\n"
            "- Born Again Neural Networks, ICLR 2018 [[paper]]()")
    (lists.root / "last.md").write_text(text)
    ok(crawler("run", "last.md", "--write", "--abstracts", "-q", cwd=lists.root))
    expected = text.replace("[[paper]]()", f"[[paper]]({BORN_AGAIN})") + "\n" + block(abstract("1805.04770"), "\n")
    assert (lists.root / "last.md").read_text() == expected[:-2]  # no blank line, no final newline: as it was


def test_a_recursive_glob_does_not_take_the_crawlers_own_reports(tmp_path):
    from crawler.listfile.read import resolve_lists

    (tmp_path / "papers").mkdir()
    (tmp_path / "reports").mkdir()
    for name in ("README.md", "papers/a.md", "reports/health.md"):
        (tmp_path / name).write_text("- [A paper title](https://example.org/p)\n")
    found = resolve_lists(["**/*.md"], cwd=tmp_path, skip=(Path("reports"),))
    assert found == (Path("README.md"), Path("papers/a.md"))
