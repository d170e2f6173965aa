"""Run a GitHub Actions workflow here, as a script: its jobs, its `run:` steps, the composite action and the
reusable workflows it calls, with no GitHub.

What it really runs: every `run:` script, with bash as the runner would start it, in a fresh clone of the
repository per job (as `actions/checkout` gives each job), with `$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`,
`$RUNNER_TEMP` and `$GITHUB_ACTION_PATH`; `${{ }}` expressions in `env`, `with`, `if` and `outputs`.
What it fakes, each by what it does to files: checkout (the clone), setup-python (the test's Python), the
cache (a folder of saved entries, restored by key prefix, newest first), artifacts (a folder per name and run,
each written once; another run's are downloaded by `run-id`), GitHub Pages (the uploaded site and its
deployment recorded), create-pull-request (records the files it would commit), `gh` (a script that logs its
arguments, remembers one open issue, and answers `gh api` for a pull request's comments and review comments,
kept in a JSON file across runs: see `_GH`). A step whose `id` is in `overrides` is not run: its outputs are
given (the action's `pip install` needs the network). The event (`pull_request`, `workflow_run`) is given to
the Runner as GitHub would send its payload, as far as our workflows read it.

Only the expression syntax our workflows use is understood; anything else fails loudly, so a workflow that
outgrows this runner breaks its tests instead of passing them untried.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import yaml

STATUS_FUNCTIONS = ("always", "success", "failure", "cancelled")


# -- expressions -------------------------------------------------------------------------------------------
_TOKEN = re.compile(r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>\d+(?:\.\d+)?)|(?P<op>==|!=|&&|\|\||!|\(|\)|,)"
                    r"|(?P<name>[A-Za-z_][\w-]*(?:\.[A-Za-z_*][\w-]*)*))")


class Expr:
    """A tiny evaluator for GitHub expressions: literals, context paths, ! == != && ||, and a few functions."""

    def __init__(self, text: str, ctx: dict, funcs: dict):
        self.tokens = self._lex(text)
        self.i = 0
        self.ctx = ctx
        self.funcs = funcs

    @staticmethod
    def _lex(text: str) -> list[tuple[str, str]]:
        out, pos = [], 0
        text = text.strip()
        while pos < len(text):
            m = _TOKEN.match(text, pos)
            if not m or m.end() == pos:
                raise ValueError(f"expression not understood at {text[pos:]!r}")
            kind = m.lastgroup
            out.append((kind, m.group(kind)))
            pos = m.end()
            while pos < len(text) and text[pos].isspace():
                pos += 1
        return out

    def value(self):
        v = self._or()
        if self.i != len(self.tokens):
            raise ValueError(f"trailing tokens {self.tokens[self.i:]}")
        return v

    def _peek(self):
        return self.tokens[self.i] if self.i < len(self.tokens) else (None, None)

    def _take(self, op=None):
        tok = self._peek()
        if op is not None and tok[1] != op:
            raise ValueError(f"expected {op}, got {tok}")
        self.i += 1
        return tok

    def _or(self):
        v = self._and()
        while self._peek()[1] == "||":
            self._take()
            w = self._and()
            v = v if truthy(v) else w
        return v

    def _and(self):
        v = self._unary()
        while self._peek()[1] == "&&":
            self._take()
            w = self._unary()
            v = w if truthy(v) else v
        return v

    def _unary(self):
        if self._peek()[1] == "!":
            self._take()
            return not truthy(self._unary())
        v = self._primary()
        if self._peek()[1] in ("==", "!="):
            op = self._take()[1]
            w = self._primary()
            same = _norm(v) == _norm(w)
            return same if op == "==" else not same
        return v

    def _primary(self):
        kind, text = self._take()
        if kind == "str":
            return text[1:-1].replace("''", "'")
        if kind == "num":
            return float(text)
        if text == "(":
            v = self._or()
            self._take(")")
            return v
        if kind == "name":
            if text in ("true", "false"):
                return text == "true"
            if text == "null":
                return None
            if self._peek()[1] == "(":
                self._take("(")
                args = []
                while self._peek()[1] != ")":
                    args.append(self._or())
                    if self._peek()[1] == ",":
                        self._take(",")
                self._take(")")
                if text not in self.funcs:
                    raise ValueError(f"function {text}() not supported")
                return self.funcs[text](*args)
            node = self.ctx
            for part in text.split("."):
                node = node.get(part) if isinstance(node, dict) else None
            return node
        raise ValueError(f"unexpected {text!r}")


def truthy(v) -> bool:
    return v not in (None, "", 0, 0.0, False)


def _norm(v):
    return v.lower() if isinstance(v, str) else v  # GitHub compares strings ignoring case


def text_of(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


_INTERP = re.compile(r"\$\{\{(.*?)\}\}", re.S)


# -- the runner ----------------------------------------------------------------------------------------------
@dataclass
class StepResult:
    name: str
    outcome: str  # success | failure | skipped | overridden | faked
    outputs: dict = field(default_factory=dict)


@dataclass
class JobResult:
    result: str  # success | failure | skipped
    outputs: dict
    steps: list[StepResult]
    summary: str = ""


class Runner:
    """Runs one workflow file's jobs in dependency order; see the module docstring for what is real."""

    def __init__(self, repo: Path, home: Path, *, actions: dict[str, Path], overrides: dict[str, dict] | None = None,
                 env: dict[str, str] | None = None, run_id: int = 1, event_name: str = "workflow_dispatch",
                 event: dict | None = None):
        self.repo = repo  # the repository the workflow runs for (a git repository with a commit)
        self.home = home
        self.actions = actions  # "OWNER/REPO" or "./" -> the folder holding action.yml and .github/workflows
        self.overrides = overrides or {}
        self.env = env or {}
        self.run_id = run_id
        self.event_name = event_name
        self.event = event or {}
        self.cache = home / "actions-cache"
        self.artifacts = home / f"artifacts-{run_id}"
        self.bin = home / "bin"
        self.gh_log = home / "gh.log"
        self.gh_state = home / "gh-state.json"  # shared by the runs of one home: GitHub's side of things
        self.pull_requests: list[dict] = []
        self.pages: list[dict] = []  # what actions/deploy-pages deployed
        self.log: list[str] = []
        for d in (self.cache, self.artifacts, self.bin):
            d.mkdir(parents=True, exist_ok=True)
        gh = self.bin / "gh"
        gh.write_text(f"#!{sys.executable}\n" + _GH)
        gh.chmod(0o755)

    # -- contexts ----------------------------------------------------------------------------------------
    def github(self) -> dict:
        return {"token": "ghs_fake_job_token_for_tests", "run_id": str(self.run_id), "run_attempt": "1",
                "server_url": "https://github.com", "repository": "someone/awesome-list", "workflow": "test",
                "event_name": self.event_name, "event": self.event}

    # -- GitHub's side, as the fake `gh` keeps it ------------------------------------------------------------
    def github_state(self) -> dict:
        return json.loads(self.gh_state.read_text()) if self.gh_state.exists() else {}

    def open_pull_request(self, number: int, head_sha: str) -> None:
        """A pull request as `gh api repos/R/pulls/N` answers it (pushing again moves its head)."""
        state = self.github_state()
        state.setdefault("pulls", {})[str(number)] = {"number": number, "head": {"sha": head_sha}}
        self.gh_state.write_text(json.dumps(state))

    def _eval(self, text, ctx: dict, funcs: dict):
        return Expr(text, ctx, funcs).value()

    def interpolate(self, value, ctx: dict, funcs: dict):
        if isinstance(value, dict):
            return {k: self.interpolate(v, ctx, funcs) for k, v in value.items()}
        if not isinstance(value, str):
            return text_of(value)
        whole = _INTERP.fullmatch(value.strip())
        if whole and value.count("${{") == 1:
            return text_of(self._eval(whole.group(1), ctx, funcs))
        return _INTERP.sub(lambda m: text_of(self._eval(m.group(1), ctx, funcs)), value)

    def condition(self, cond, ctx: dict, funcs: dict) -> bool:
        if cond is None:
            return not funcs["_failed"]()
        if isinstance(cond, bool):
            return cond and not funcs["_failed"]()
        text = str(cond).strip()
        m = _INTERP.fullmatch(text)
        if m and text.count("${{") == 1:
            text = m.group(1)
        if not any(re.search(rf"\b{f}\(", text) for f in STATUS_FUNCTIONS):
            text = f"success() && ({text})"
        return truthy(self._eval(text, ctx, funcs))

    def funcs(self, workspace: Path, failed: list[bool]) -> dict:
        def hash_files(*patterns):
            files = sorted(p for pat in patterns for p in workspace.glob(pat) if p.is_file())
            if not files:
                return ""
            h = hashlib.sha256()
            for f in files:
                h.update(f.read_bytes())
            return h.hexdigest()

        return {"always": lambda: True, "success": lambda: not failed[0], "failure": lambda: failed[0],
                "cancelled": lambda: False, "hashFiles": hash_files, "_failed": lambda: failed[0]}

    # -- workflows and jobs --------------------------------------------------------------------------------
    def run_workflow(self, path: Path, *, inputs: dict | None = None, secrets: dict | None = None,
                     needs_ctx: dict | None = None) -> dict[str, JobResult]:
        wf = yaml.safe_load(path.read_text())
        jobs: dict = wf["jobs"]
        results: dict[str, JobResult] = {}
        pending = list(jobs)
        while pending:
            ready = [j for j in pending if all(n in results for n in _as_list(jobs[j].get("needs")))]
            if not ready:
                raise ValueError(f"jobs wait on each other: {pending}")
            for job_id in ready:
                pending.remove(job_id)
                results[job_id] = self.run_job(job_id, jobs[job_id], results, inputs or {}, secrets or {})
        return results

    def run_job(self, job_id: str, job: dict, done: dict[str, JobResult], inputs: dict, secrets: dict) -> JobResult:
        needs = {n: {"result": done[n].result, "outputs": done[n].outputs} for n in _as_list(job.get("needs"))}
        ctx = {"github": self.github(), "needs": needs, "inputs": inputs, "secrets": secrets,
               "runner": {"temp": ""}, "env": {}}
        failed_need = any(n["result"] != "success" for n in needs.values())
        cond_funcs = {"always": lambda: True, "success": lambda: not failed_need, "failure": lambda: failed_need,
                      "cancelled": lambda: False, "_failed": lambda: failed_need}
        if not self.condition(job.get("if"), ctx, cond_funcs):
            self.log.append(f"job {job_id}: skipped")
            return JobResult("skipped", {}, [])
        if "uses" in job:
            self.log.append(f"job {job_id}: calls {job['uses']}")
            called = self._workflow_path(job["uses"])
            called_secrets = {k: self.interpolate(v, ctx, cond_funcs) for k, v in (job.get("secrets") or {}).items()}
            called_inputs = {k: self.interpolate(v, ctx, cond_funcs) for k, v in (job.get("with") or {}).items()}
            inner = self.run_workflow(called, inputs=called_inputs, secrets=called_secrets)
            result = "success" if all(r.result in ("success", "skipped") for r in inner.values()) else "failure"
            steps = [s for r in inner.values() for s in r.steps]
            return JobResult(result, {}, steps, "".join(r.summary for r in inner.values()))
        self.log.append(f"job {job_id}: runs")
        work = self.home / f"run-{self.run_id}" / job_id
        workspace, temp = work / "workspace", work / "temp"
        temp.mkdir(parents=True)
        subprocess.run(["git", "clone", "--quiet", str(self.repo), str(workspace)], check=True, timeout=60)
        ctx["runner"] = {"temp": str(temp)}
        ctx["env"] = dict(job.get("env") or {})
        summary = work / "summary.md"
        summary.touch()
        job_env = {"GITHUB_WORKSPACE": str(workspace), "RUNNER_TEMP": str(temp), "GITHUB_STEP_SUMMARY": str(summary)}
        failed, steps, steps_ctx = self.run_steps(job["steps"], ctx, workspace, job_env, action_path=None)
        outputs = {k: self.interpolate(v, {**ctx, "steps": steps_ctx}, self.funcs(workspace, [failed]))
                   for k, v in (job.get("outputs") or {}).items()}
        return JobResult("failure" if failed else "success", outputs, steps, summary.read_text())

    def _workflow_path(self, uses: str) -> Path:
        if uses.startswith("./"):
            return self.actions["./"] / uses[2:]
        target, _, _ref = uses.partition("@")
        owner_repo = "/".join(target.split("/")[:2])
        return self.actions[owner_repo] / "/".join(target.split("/")[2:])

    # -- steps ---------------------------------------------------------------------------------------------
    def run_steps(self, steps: list[dict], ctx: dict, workspace: Path, job_env: dict, *,
                  action_path: Path | None) -> tuple[bool, list[StepResult], dict]:
        ctx = {**ctx, "steps": {}}
        failed = [False]
        funcs = self.funcs(workspace, failed)
        results = []
        for n, step in enumerate(steps):
            name = step.get("name") or step.get("uses") or step.get("id") or f"step {n}"
            sid = step.get("id")
            if not self.condition(step.get("if"), ctx, funcs):
                results.append(StepResult(name, "skipped"))
                if sid:
                    ctx["steps"][sid] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
                continue
            if sid and sid in self.overrides and action_path is not None:
                outputs, outcome = dict(self.overrides[sid]), "overridden"
            elif "run" in step:
                outputs, ok = self._run(step, ctx, funcs, workspace, job_env, action_path)
                outcome = "success" if ok else "failure"
            else:
                outputs, ok, outcome = self._uses(step, ctx, funcs, workspace, job_env)
                outcome = outcome if ok else "failure"
            self.log.append(f"  {outcome}: {name}")
            results.append(StepResult(name, outcome, outputs))
            tolerated = str(step.get("continue-on-error", False)).lower() == "true"
            if outcome == "failure" and not tolerated:
                failed[0] = True
            if sid:
                ctx["steps"][sid] = {"outputs": outputs, "outcome": "failure" if outcome == "failure" else "success",
                                     "conclusion": "failure" if outcome == "failure" and not tolerated
                                     else "success"}
        return failed[0], results, ctx["steps"]

    def _env(self, step: dict, ctx: dict, funcs: dict, job_env: dict, action_path: Path | None) -> dict:
        base = {k: os.environ[k] for k in ("HOME", "LANG", "LC_ALL", "TMPDIR", "SSL_CERT_FILE") if k in os.environ}
        env = {**base, "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}", "CI": "true",
               "GITHUB_ACTIONS": "true", "GH_LOG": str(self.gh_log), "GH_STATE": str(self.gh_state),
               **self.env, **job_env}
        if action_path is not None:
            env["GITHUB_ACTION_PATH"] = str(action_path)
        for scope in (ctx.get("env") or {}, step.get("env") or {}):
            env.update({k: self.interpolate(v, ctx, funcs) for k, v in scope.items()})
        return env

    def _run(self, step, ctx, funcs, workspace, job_env, action_path) -> tuple[dict, bool]:
        temp = Path(job_env["RUNNER_TEMP"])
        script = temp / f"step-{len(self.log)}.sh"
        script.write_text(step["run"])  # the script as written: expressions inside it are never expanded
        output = temp / f"output-{len(self.log)}"
        output.touch()
        env = {**self._env(step, ctx, funcs, job_env, action_path), "GITHUB_OUTPUT": str(output)}
        shell = step.get("shell")
        argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)] if shell == "bash" else \
            ["bash", "-e", str(script)]
        if shell not in (None, "bash"):
            raise ValueError(f"shell {shell!r} not supported")
        done = subprocess.run(argv, cwd=workspace, env=env, capture_output=True, text=True, timeout=300)
        self.log.append(f"    $ {step['run'].strip().splitlines()[0][:100]} -> {done.returncode}")
        if done.returncode:
            self.log.append(_indent(done.stdout + done.stderr))
        return _read_outputs(output.read_text()), done.returncode == 0

    def _uses(self, step, ctx, funcs, workspace, job_env) -> tuple[dict, bool, str]:
        uses = step["uses"]
        with_ = {k: self.interpolate(v, ctx, funcs) for k, v in (step.get("with") or {}).items()}
        target = uses.partition("@")[0]
        owner_repo = "/".join(target.split("/")[:2])
        if uses == "./" or owner_repo in self.actions and target == owner_repo:
            folder = self.actions["./" if uses == "./" else owner_repo]
            return *self._composite(folder, with_, ctx, workspace, job_env), "success"
        fake = getattr(self, "_fake_" + target.replace("/", "_").replace("-", "_"), None)
        if fake is None:
            raise ValueError(f"no fake for {uses}")
        try:
            return fake(with_, workspace, job_env), True, "faked"
        except StepFailed as exc:
            self.log.append(f"    {uses}: {exc}")
            return {}, False, "failure"

    def _composite(self, folder: Path, with_: dict, ctx: dict, workspace: Path, job_env: dict) -> tuple[dict, bool]:
        action = yaml.safe_load((folder / "action.yml").read_text())
        assert action["runs"]["using"] == "composite"
        unknown = set(with_) - set(action.get("inputs") or {})
        if unknown:
            raise ValueError(f"inputs the action does not have: {sorted(unknown)}")
        inner = {"github": ctx["github"], "runner": ctx["runner"], "env": {}}
        funcs = self.funcs(workspace, [False])
        inputs = {name: with_[name] if name in with_ else self.interpolate(spec.get("default", ""), inner, funcs)
                  for name, spec in (action.get("inputs") or {}).items()}
        inner["inputs"] = inputs
        failed, _, steps_ctx = self.run_steps(action["runs"]["steps"], inner, workspace, job_env, action_path=folder)
        done_ctx = {**inner, "steps": steps_ctx}
        outputs = {k: self.interpolate(v["value"], done_ctx, funcs) for k, v in (action.get("outputs") or {}).items()}
        return outputs, not failed

    # -- fakes -------------------------------------------------------------------------------------------
    def _fake_actions_checkout(self, with_, workspace, job_env):
        assert with_.get("persist-credentials") == "false", "a checkout must not keep the token on disk"
        if with_.get("ref"):  # the clone holds every commit: fetch-depth 0, as a merge base needs
            subprocess.run(["git", "checkout", "--quiet", "--detach", with_["ref"]], cwd=workspace, check=True,
                           timeout=60)
        return {}  # the job's workspace is already a fresh clone

    def _fake_actions_setup_python(self, with_, workspace, job_env):
        return {"python-version": with_.get("python-version", ""), "python-path": sys.executable}

    def _fake_actions_cache_restore(self, with_, workspace, job_env):
        prefixes = [with_["key"]] + [p for p in with_.get("restore-keys", "").splitlines() if p.strip()]
        entries = sorted(self.cache.iterdir(), key=lambda p: p.stat().st_mtime_ns, reverse=True)
        for prefix in prefixes:
            hit = next((e for e in entries if e.name.startswith(prefix.strip())), None)
            if hit:
                dest = workspace / with_["path"]
                dest.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(hit / "entry", dest)
                return {"cache-hit": "true" if hit.name == with_["key"] else "false", "cache-matched-key": hit.name}
        return {"cache-hit": "false"}

    def _fake_actions_cache_save(self, with_, workspace, job_env):
        entry = self.cache / with_["key"]
        if entry.exists():
            raise AssertionError(f"cache key {with_['key']} saved twice: entries are immutable")
        entry.mkdir()
        shutil.copy2(workspace / with_["path"], entry / "entry")
        return {}

    def _fake_actions_upload_artifact(self, with_, workspace, job_env):
        dest = self.artifacts / with_["name"]
        if dest.exists():
            raise AssertionError(f"artifact {with_['name']} uploaded twice in one run")
        src = Path(with_["path"]) if Path(with_["path"]).is_absolute() else workspace / with_["path"]
        if src.is_dir():
            shutil.copytree(src, dest)
        else:
            dest.mkdir()
            shutil.copy2(src, dest)
        return {"artifact-id": "7", "artifact-url": f"https://github.com/someone/awesome-list/actions/runs/"
                                                    f"{self.run_id}/artifacts/7"}

    def _fake_actions_download_artifact(self, with_, workspace, job_env):
        src = self.artifacts / with_["name"]
        if with_.get("run-id"):  # another run's artifact: only with a token that may read it
            assert with_.get("github-token"), "downloading another run's artifact needs github-token"
            src = self.home / f"artifacts-{with_['run-id']}" / with_["name"]
        if not src.is_dir():
            raise StepFailed(f"no artifact {with_['name']} in run {with_.get('run-id') or self.run_id}")
        shutil.copytree(src, Path(with_["path"]), dirs_exist_ok=True)
        return {"download-path": with_["path"]}

    def _fake_actions_upload_pages_artifact(self, with_, workspace, job_env):
        dest = self.artifacts / with_.get("name", "github-pages")
        if dest.exists():
            raise AssertionError("the pages artifact uploaded twice in one run")
        shutil.copytree(Path(with_["path"]), dest)  # the real one is a tar of the folder
        return {"artifact_id": "8"}

    def _fake_actions_deploy_pages(self, with_, workspace, job_env):
        site = self.artifacts / with_.get("artifact_name", "github-pages")
        if not site.is_dir():
            raise StepFailed("no github-pages artifact in this run")
        self.pages.append({p.name: p.read_bytes() for p in site.iterdir()})
        return {"page_url": "https://someone.github.io/awesome-list/"}

    def _fake_peter_evans_create_pull_request(self, with_, workspace, job_env):
        paths = [p for p in re.split(r"[,\n]", with_.get("add-paths", "")) if p.strip()]
        subprocess.run(["git", "add", "--", *(paths or ["."])], cwd=workspace, check=True, timeout=60)
        changed = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=workspace, check=True,
                                 capture_output=True, text=True, timeout=60).stdout.split()
        self.pull_requests.append({"branch": with_.get("branch"), "token": with_.get("token"),
                                   "files": {f: (workspace / f).read_text() for f in changed},
                                   "body": Path(with_["body-path"]).read_text()})
        return {"pull-request-operation": "created" if changed else "none"}


class StepFailed(Exception):
    """A faked action failed as the real one would (an artifact that is not there)."""


def _as_list(v) -> list:
    return [] if v is None else [v] if isinstance(v, str) else list(v)


def _read_outputs(text: str) -> dict:
    out, lines, i = {}, text.splitlines(), 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            key, marker = line.split("<<", 1)
            body = []
            i += 1
            while lines[i] != marker:
                body.append(lines[i])
                i += 1
            out[key] = "\n".join(body)
        elif "=" in line:
            key, value = line.split("=", 1)
            out[key] = value
        i += 1
    return out


def _indent(text: str) -> str:
    return "\n".join("      " + line for line in text.splitlines()[-40:])


# `gh`, as far as our workflows use it (run with the test's Python): every call logged to $GH_LOG; `issue list`
# prints the open issue's number, `issue create` opens number 1, `issue close` closes it; `gh api` answers for
# the pull requests the test opened (Runner.open_pull_request): their issue comments and review comments, kept
# in $GH_STATE, each written by the job's bot. A review comment needs the pull request's head commit, and a
# line of the diff is assumed (GitHub would refuse a line outside it with 422).
_GH = r"""
import json, os, re, sys

args = sys.argv[1:]
with open(os.environ["GH_LOG"], "a") as log:
    log.write(" ".join(args) + "\n")
path = os.environ["GH_STATE"]
state = json.load(open(path)) if os.path.exists(path) else {}
BOT = {"login": "github-actions[bot]", "type": "Bot"}


def save():
    with open(path, "w") as fh:
        json.dump(state, fh)


def fail(status, message):
    print(f"gh: {message} (HTTP {status})", file=sys.stderr)
    sys.exit(1)


def api(argv):
    method, body, rest = "GET", None, []
    i = 0
    while i < len(argv):
        if argv[i] in ("--method", "-X"):
            method = argv[i + 1]
            i += 2
        elif argv[i] == "--input":
            body = json.load(open(argv[i + 1]))
            i += 2
        elif argv[i] == "--paginate":
            i += 1
        else:
            rest.append(argv[i])
            i += 1
    (route,) = rest
    m = re.fullmatch(r"repos/[^/]+/[^/]+/(pulls|issues)/(\d+)(/comments)?|repos/[^/]+/[^/]+/issues/comments/(\d+)",
                     route)
    if not m:
        fail(404, f"no route {route}")
    if m.group(4):  # PATCH an issue comment
        (found,) = [c for c in state.get("comments", []) if c["id"] == int(m.group(4))] or [None]
        if method != "PATCH" or found is None:
            fail(404, "no such comment")
        found["body"] = body["body"]
        found["edits"] = found.get("edits", 0) + 1
        save()
        return found
    kind, number = m.group(1), m.group(2)
    pull = state.get("pulls", {}).get(number)
    if pull is None:
        fail(404, f"no pull request {number}")
    if not m.group(3):
        return pull
    table = "comments" if kind == "issues" else "review_comments"
    mine = [c for c in state.get(table, []) if c["number"] == int(number)]
    if method == "GET":
        return mine
    if method != "POST":
        fail(405, method)
    if table == "review_comments":
        missing = {"body", "commit_id", "path", "line", "side"} - set(body)
        if missing or body["commit_id"] != pull["head"]["sha"]:
            fail(422, f"review comment refused: {sorted(missing) or 'not the head commit'}")
    state["next_id"] = state.get("next_id", 100) + 1
    comment = {**body, "id": state["next_id"], "number": int(number), "user": BOT}
    state.setdefault(table, []).append(comment)
    save()
    return comment


if args[:1] == ["api"]:
    print(json.dumps(api(args[1:])))
elif args[:2] == ["issue", "list"]:
    if state.get("open_issue"):
        print(state["open_issue"])
elif args[:2] == ["issue", "create"]:
    state["open_issue"] = 1
    save()
    print("https://github.com/someone/awesome-list/issues/1")
elif args[:2] == ["issue", "close"]:
    state["open_issue"] = None
    save()
"""
