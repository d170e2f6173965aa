"""README.md is for the maintainer first: adoption, then commands and settings, then the contributors' two
commands, exactly as .ci/run runs them; the design and the benchmark figures live in their own files."""

import re

from tests import paths

ROOT = paths.ROOT
README = (ROOT / "README.md").read_text()


def headings() -> list[str]:
    return re.findall(r"^## (.+)$", README, re.M)


def test_readme_starts_with_adoption_and_ends_with_the_contributors_commands():
    titles = headings()
    assert titles[0] == "Adopt it in two minutes"
    assert titles.index("Commands") < titles.index("Contributing: two commands") == len(titles) - 1
    adoption = README.split("## Adopt it in two minutes")[1].split("\n## ")[0]
    for point in ("crawler init", "Secrets", "--publish", "badge.svg", "pull-request check", "--no-pr-check"):
        assert point in adoption, point


def test_the_contributors_commands_are_the_ones_ci_runs():
    contributing = README.split("## Contributing: two commands")[1]
    blocks = re.findall(r"```sh\n(.*?)\n```", contributing, re.S)
    assert blocks == ["python3 -m venv .venv && .venv/bin/pip install -e '.[dev]' && .venv/bin/crawler run",
                      ".venv/bin/python -m pytest -q -n 2"]
    ci = (ROOT / ".ci" / "run").read_text()
    assert "python3 -m venv .venv" in ci and "pip install --quiet -e '.[dev]'" in ci
    assert [line for line in ci.splitlines() if "pytest" in line and not line.startswith("#")
            and "echo" not in line] == [blocks[1]]  # the one test invocation, exactly the README's


def test_the_design_and_the_figures_are_linked_not_inlined():
    assert "(docs/DESIGN.md)" in README and "(benchmarks/README.md)" in README
    assert "## Layout" not in README and "| crawler now" not in README
    design = (ROOT / "docs" / "DESIGN.md").read_text()
    for module in sorted(p.name for p in (ROOT / "crawler").glob("*.py") if p.name not in ("__init__.py",
                                                                                          "__main__.py")):
        assert module in design, f"docs/DESIGN.md does not place crawler/{module}"
    assert "| crawler now" in (ROOT / "benchmarks" / "README.md").read_text()
