"""`crawler links` (crawler.cli.linkdump): every link with its place, kind and entry, with no network and no cache."""

import json
import subprocess
import sys

from crawler.cli.linkdump import records, render_json_lines, render_text
from crawler.listfile.parse import parse_list
from tests import paths

ROOT = paths.ROOT
GUARD = paths.GUARD

LIST = """# Papers

- Distilling the Knowledge in a Neural Network, NIPS 2015 [[paper]](https://arxiv.org/abs/1503.02531) \
[[code]](https://github.com/a/b)
- Paying More Attention to Attention, ICLR 2017 [[paper]]()

See <https://example.org/about> and [the top](#papers).
"""


def test_each_link_with_its_place_kind_and_entry():
    parsed = parse_list(LIST).in_file("README.md")
    rows = list(records(parsed))
    assert [(r["line"], r["kind"], r["url"], r["entry"], r["paper"]) for r in rows] == [
        (3, rows[0]["kind"], "https://arxiv.org/abs/1503.02531", "Distilling the Knowledge in a Neural Network", True),
        (3, rows[1]["kind"], "https://github.com/a/b", "Distilling the Knowledge in a Neural Network", True),
        (4, "empty", "", "Paying More Attention to Attention", True),
        (6, "autolink", "https://example.org/about", rows[3]["entry"], rows[3]["paper"]),
        (6, rows[4]["kind"], "#papers", rows[3]["entry"], rows[3]["paper"]),
    ]
    assert {r["file"] for r in rows} == {"README.md"} and rows[0]["label"] == "[paper]"
    text = list(render_text(parsed))
    assert text[0] == "README.md:3\t" + rows[0]["kind"] + "\thttps://arxiv.org/abs/1503.02531\tDistilling the " \
                      "Knowledge in a Neural Network\n"
    assert text[2] == "README.md:4\tempty\t\tPaying More Attention to Attention\n"
    assert [json.loads(line) for line in render_json_lines(parsed)] == rows


def run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "crawler", "links", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=60, env={"PYTHONPATH": f"{GUARD}:{ROOT}", "PATH": "/usr/bin:/bin"})


def test_the_command_reads_the_configs_lists_and_writes_nothing(tmp_path):
    (tmp_path / "papers").mkdir()
    (tmp_path / "papers" / "a.md").write_text(LIST)
    (tmp_path / "papers" / "b.md").write_text("- One More Paper Title, CVPR 2020 [[paper]](https://x.org/p)\n")
    (tmp_path / "papers" / "c.md").write_text("\n")  # an empty list among several: a warning
    (tmp_path / "crawler.toml").write_text('lists = ["papers/*.md"]\n')
    done = run(cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 6 and lines[-1] == "papers/b.md:1\tlink\thttps://x.org/p\tOne More Paper Title"
    assert done.stderr == "crawler: warning: list is empty: papers/c.md (left out)\n"
    as_json = run("--json", "papers/b.md", cwd=tmp_path)
    assert [json.loads(line) for line in as_json.stdout.splitlines()] == [
        {"file": "papers/b.md", "line": 1, "kind": "link", "url": "https://x.org/p", "label": "[paper]",
         "entry": "One More Paper Title", "paper": True}]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["crawler.toml", "papers"]  # no cache, no reports


def test_a_missing_list_is_one_line_and_exit_2(tmp_path):
    done = run("nope.md", cwd=tmp_path)
    assert done.returncode == 2 and done.stderr == "crawler: error: list not found: nope.md\n"
