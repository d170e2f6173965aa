"""The command line as a user meets it: real processes, one-line errors, exit codes."""

import json
import subprocess
import sys

import pytest

from crawler.cli.commands import cli
from tests.fakes.web import Reply
from tests.paths import ROOT


def crawler(*args, cwd=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "crawler", *map(str, args)], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout)


def assert_one_line_error(proc, code=2, match=None):
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = [ln for ln in proc.stderr.splitlines() if ln.strip()]
    assert len(lines) == 1, proc.stderr
    if match:
        assert match in lines[0]


@pytest.fixture
def paths(tmp_path):
    return ["--db", tmp_path / "c.db", "--reports", tmp_path / "r", "--no-progress"]


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.md", "list not found"),
        (lambda p: p, "no Markdown file in the directory"),
        (lambda p: (p / "bin.md").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00") and p / "bin.md", "binary"),
        (lambda p: (p / "latin.md").write_bytes("caf\xe9 [x](http://a.org)".encode("latin-1")) and p / "latin.md",
         "not UTF-8"),
        (lambda p: (p / "empty.md").write_text("  \n\n") and p / "empty.md", "empty"),
    ],
)
def test_bad_lists_exit_2_with_one_line(tmp_path, paths, make, message):
    target = make(tmp_path)
    assert_one_line_error(crawler("check", target, *paths), match=message)


def test_unreadable_list_is_one_clear_error(tmp_path, monkeypatch, capsys):
    # As root every file is readable, so the permission error is simulated where the list is read.
    from pathlib import Path

    from crawler.cli.commands import main

    lst = tmp_path / "locked.md"
    lst.write_text("# x\n")

    def denied(self):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "read_bytes", denied)
    with pytest.raises(SystemExit) as exc:
        main(["check", str(lst), "--db", str(tmp_path / "c.db"), "--reports", str(tmp_path / "r"), "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not readable" in err[0]


@pytest.mark.parametrize(
    "args",
    [
        ["--concurrency", "x"],
        ["--concurrency", "0"],
        ["--max-age", "5 parsecs"],
        ["--fail-on", "sometimes"],
        ["--timeout", "-1"],
        ["--no-such-option"],
    ],
)
def test_bad_options_exit_2_with_one_line(tmp_path, paths, args):
    lst = tmp_path / "l.md"
    lst.write_text("- [a paper title](https://example.org/)\n")
    assert_one_line_error(crawler("check", lst, *paths, *args))


def test_bad_config_and_corrupt_cache(tmp_path, paths):
    lst = tmp_path / "l.md"
    lst.write_text("- [a paper title](https://example.org/)\n")
    cfg = tmp_path / "crawler.toml"
    cfg.write_text("host-concurrency = 4\nbogus = 1\n")
    assert_one_line_error(crawler("check", lst, *paths, "--config", cfg), match="unknown setting")
    for bad, says in (("host-concurrency = 'many'", "must be a whole number"), ("lists = 5", "list of strings"),
                      ("processes-from = 'x'", "must be a whole number"), ("archive = 'yes'", "true or false")):
        cfg.write_text(bad + "\n")
        assert_one_line_error(crawler("check", lst, *paths, "--config", cfg), match=says)
    cfg.write_text("this is = = not toml")
    assert_one_line_error(crawler("check", lst, *paths, "--config", cfg), match="cannot read config")
    db = tmp_path / "junk.db"
    db.write_bytes(b"not sqlite" * 50)
    assert_one_line_error(crawler("check", lst, "--db", db, "--offline"), match="not a usable SQLite")
    assert db.read_bytes() == b"not sqlite" * 50


def test_end_to_end_check_against_a_loopback_server(tmp_path, paths, web):
    base = f"http://127.0.0.1:{web.port}"
    web.add(f"{base}/ok", Reply(200))
    web.add(f"{base}/moved", Reply(301, headers={"Location": f"{base}/ok"}))
    web.add(f"{base}/gone", Reply(404))
    web.add(f"{base}/nohead", Reply(200, head_status=405))
    lst = tmp_path / "list.md"
    lst.write_text(
        "# List\n\n## 2020\n"
        f"### A Paper About Things CVPR 2020 [[paper]]({base}/ok) [[mirror]]({base}/moved)\n"
        f"- [Another paper title here]({base}/gone), Someone, 2019\n"
        f"- [Head refusing paper title]({base}/nohead) and again <{base}/ok>\n"
        "- not a web link [m](mailto:a@b.org), a typo [t](hhttps://x.org)\n"
    )
    proc = crawler("check", lst, *paths, "--allow-private", "--fail-on", "any")
    assert proc.returncode == 1, proc.stderr
    report = json.loads((tmp_path / "r" / "health.json").read_text())
    assert report["schema_version"] == 2
    assert report["summary"]["lists"] == [str(lst)]
    status = {lo["url"]: (lo["status"], [p["line"] for p in lo["lines"] if p["file"] == str(lst)])
              for lo in report["links"]}
    assert status == {
        f"{base}/ok": ("ok", [4, 6]),
        f"{base}/moved": ("redirected", [4]),
        f"{base}/gone": ("broken", [5]),
        f"{base}/nohead": ("ok", [6]),
        "mailto:a@b.org": ("skipped", [7]),
        "hhttps://x.org": ("invalid", [7]),
    }
    moved = next(lo for lo in report["links"] if lo["url"].endswith("/moved"))
    assert moved["suggestion"] == f"{base}/ok"
    md = (tmp_path / "r" / "health.md").read_text()
    assert md.startswith("# Link health")
    assert "| 5 | Another paper title here |" in md
    # Each distinct URL was asked once (HEAD), however often it is listed.
    assert len([r for r in web.log if r[2] == "/ok"]) == 2  # one HEAD for /ok, one HEAD at the end of /moved


def test_private_targets_are_refused_without_the_flag(tmp_path, paths, web):
    lst = tmp_path / "list.md"
    lst.write_text(f"- [A paper on loopback](http://127.0.0.1:{web.port}/x)\n")
    web.add(f"http://127.0.0.1:{web.port}/x", Reply(200))
    proc = crawler("check", lst, *paths)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((tmp_path / "r" / "health.json").read_text())
    assert report["links"][0]["status"] == "skipped"
    assert "--allow-private" in report["links"][0]["error"]
    assert web.log == []


def test_report_renders_from_the_cache_without_network(tmp_path, paths, web):
    base = f"http://127.0.0.1:{web.port}"
    web.add(f"{base}/ok", Reply(200))
    lst = tmp_path / "list.md"
    lst.write_text(f"- [A paper title here]({base}/ok)\n")
    assert crawler("check", lst, *paths, "--allow-private").returncode == 0
    web.log.clear()
    (tmp_path / "r" / "health.json").unlink()
    proc = crawler("report", lst, *paths)
    assert proc.returncode == 0, proc.stderr
    assert web.log == []
    report = json.loads((tmp_path / "r" / "health.json").read_text())
    assert report["links"][0]["status"] == "ok"


def test_help_lists_every_spec_option():
    from click.testing import CliRunner

    out = CliRunner().invoke(cli, ["run", "--help"]).output
    for option in ("--db", "--reports", "--export", "--write", "--output", "--abstracts", "--offline",
                   "--allow-private", "--max-age", "--concurrency", "--host-concurrency", "--timeout", "--fail-on",
                   "--dead-after", "--dead-span", "--no-progress", "--quiet", "--verbose", "--config"):
        assert option in out


def test_readme_documents_every_command_and_option():

    readme = (ROOT / "README.md").read_text()
    for name, command in cli.commands.items():
        assert f"crawler {name}" in readme
        for param in command.params:
            for opt in param.opts:
                if opt.startswith("--") and opt != "--help":
                    assert opt in readme, f"{opt} of `crawler {name}` is not in README.md"


def test_a_night_without_network_exits_3_and_touches_nothing(tmp_path, capsys):
    # The test guard (conftest) makes every real name fail to resolve: no route to any host.
    from crawler.cli.commands import main

    lst = tmp_path / "l.md"
    lst.write_text("- [Paper one title](https://example.org/a)\n- [Paper two title](https://example.net/b)\n")
    args = ["check", str(lst), "--db", str(tmp_path / "c.db"), "--reports", str(tmp_path / "r"), "--no-progress",
            "--timeout", "2"]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 3
    assert "network is unavailable" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["l.md"]  # no cache, no lock, no reports


def test_report_and_pr_offer_only_the_options_that_apply():
    from click.testing import CliRunner

    report = CliRunner().invoke(cli, ["report", "--help"]).output
    for network in ("--offline", "--allow-private", "--max-age", "--concurrency", "--host-concurrency", "--timeout",
                    "--run-timeout", "--no-archive"):
        assert network not in report, network
    for option in ("--db", "--reports", "--config", "--fail-on", "--dead-after", "--quiet"):
        assert option in report
    pr = CliRunner().invoke(cli, ["pr", "--help"]).output
    assert "--base" in pr and "--timeout" in pr and "--fail-on" not in pr and "--dead-after" not in pr
    assert "--json" in CliRunner().invoke(cli, ["links", "--help"]).output


def test_an_empty_list_among_several_is_a_warning(tmp_path, paths):
    (tmp_path / "a.md").write_text("- [A paper title here](mailto:a@example.org)\n")
    (tmp_path / "b.md").write_text(" \n")
    proc = crawler("check", tmp_path / "a.md", tmp_path / "b.md", *paths, "--offline")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == f"crawler: warning: list is empty: {tmp_path / 'b.md'} (left out)\n"
    report = json.loads((tmp_path / "r" / "health.json").read_text())
    assert report["summary"]["lists"] == [str(tmp_path / "a.md")]
    (tmp_path / "a.md").write_text("\n")
    assert_one_line_error(crawler("check", tmp_path / "a.md", tmp_path / "b.md", *paths), match="every list is empty")
