"""The command line: parse options, build settings, client and store, call the pipeline, map errors to exits."""

from __future__ import annotations

import asyncio
import atexit
import logging
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from crawler import __version__
from crawler.checking.progress import Progress
from crawler.cli.ci import ci
from crawler.cli.outputs import WriteBack, write_outputs
from crawler.config import DEFAULT_LIST, FAIL_ON_CHOICES, ConfigError, Settings, load_config, parse_duration
from crawler.errors import CrawlerError, NetworkDown
from crawler.listfile.exclusions import accept_codes, ignore_rules, kept_lists, rules
from crawler.listfile.read import resolve_lists
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Outcome, Pipeline
from crawler.store.cache import Store

log = logging.getLogger("crawler")
T = TypeVar("T")


class Duration(click.ParamType):
    name = "duration"

    def convert(self, value, param, ctx):
        try:
            return parse_duration(value)
        except ConfigError as exc:
            self.fail(str(exc), param, ctx)


def _common(fn):
    """Options shared by every command that reads a list. None means 'not given': config or default wins."""
    options = [
        click.argument("lists", metavar="[LIST...]", nargs=-1),
        click.option("--db", type=click.Path(path_type=Path), help="SQLite cache [data/cache.db]"),
        click.option("--reports", type=click.Path(path_type=Path), help="report folder [reports/]"),
        click.option("--config", "config_path", type=click.Path(path_type=Path), help="crawler.toml or pyproject.toml"),
        click.option("--allow-private", is_flag=True, default=None, help="permit loopback/private/link-local targets"),
        click.option("--offline", is_flag=True, default=None, help="no network: answer from the cache"),
        click.option("--max-age", type=Duration(), help="reuse cached results younger than this [20h]"),
        click.option("--concurrency", type=click.IntRange(1, 10_000), help="requests in flight [64]"),
        click.option("--host-concurrency", type=click.IntRange(1, 1_000), help="requests in flight per host [8]"),
        click.option("--timeout", type=click.FloatRange(0.001, 3600), help="seconds per request [20]"),
        click.option("--run-timeout", type=Duration(), help="time allowed for all checks of a run [1h]"),
        click.option("--fail-on", type=click.Choice(FAIL_ON_CHOICES), help="what makes the exit code 1 [dead]"),
        click.option("--dead-after", type=click.IntRange(1, 1000), help="runs a failure must persist to be dead [2]"),
        click.option("--dead-span", type=Duration(), help="time a failure must persist to be dead [20h]"),
        click.option("--no-archive", "archive", flag_value=False, default=None,
                     help="suggest no Wayback Machine copy for dead links"),
        click.option("--check-fragments", is_flag=True, default=None,
                     help="also check #fragments of remote pages in the HTML each check reads (a note when missing)"),
        click.option("--exclude", metavar="REGEX", multiple=True,
                     help="skip URLs matching REGEX, sending them nothing (repeatable; adds to the config's "
                          "exclude and .crawlerignore)"),
        click.option("--exclude-path", metavar="GLOB", multiple=True,
                     help="leave list files matching GLOB out of the run, like lychee's (repeatable)"),
        click.option("--accept", metavar="CODES", multiple=True,
                     help="status codes that count as fine on every host, e.g. 403,999 (never 429)"),
        click.option("--no-progress", is_flag=True, default=False, help="no progress bar or progress lines"),
        click.option("--quiet", "-q", is_flag=True, default=False, help="print nothing but errors"),
        click.option("--verbose", "-v", is_flag=True, default=False, help="log each request"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _enrich_options(fn):
    options = [
        click.option("--export", type=click.Path(path_type=Path), help="paper export [data/papers.json]"),
        click.option("--output", type=click.Path(path_type=Path), help="write the enriched list here"),
        click.option("--write", is_flag=True, default=False, help="apply fills to LIST in place (atomically)"),
        click.option("--abstracts", is_flag=True, default=False, help="with --write/--output/--diff: add abstracts"),
        click.option("--diff", "show_diff", is_flag=True, default=False,
                     help="print the changes to LIST as a unified diff; write no list"),
        click.option("--update-redirects", is_flag=True, default=False,
                     help="also replace permanently redirected URLs with their final URL"),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _without(*names: str):
    """Drop options that do not apply to a command (after `_common`), so its --help offers only what does."""

    def drop(fn):
        fn.__click_params__ = [p for p in fn.__click_params__ if p.name not in names]  # where click.option puts them
        return fn

    return drop


# What only a command that asks the network uses: `report` and `links` ask nothing.
_NETWORK = ("allow_private", "offline", "max_age", "concurrency", "host_concurrency", "timeout", "run_timeout",
            "archive")

_SETTING_FLAGS = ("db", "reports", "allow_private", "offline", "max_age", "concurrency", "host_concurrency",
                  "timeout", "run_timeout", "fail_on", "dead_after", "dead_span", "export", "archive",
                  "check_fragments")


def build_settings(opts: dict) -> Settings:
    kwargs = load_config(opts.get("config_path"))
    for name in _SETTING_FLAGS:
        if opts.get(name) is not None:
            kwargs[name] = opts[name]
    _add_exclusions(kwargs, opts)
    kwargs["progress"] = not opts.get("no_progress") and not opts.get("quiet")
    kwargs["quiet"] = bool(opts.get("quiet"))
    kwargs["verbose"] = bool(opts.get("verbose"))
    try:
        return Settings(**kwargs)
    except TypeError as exc:
        raise ConfigError(f"bad setting: {exc}") from None


def _add_exclusions(kwargs: dict, opts: dict) -> None:
    """--exclude, --exclude-path and --accept add to the config's; .crawlerignore adds its regexes too."""
    kwargs["exclusions"] = rules(opts.get("exclude") or (), "--exclude") + ignore_rules()
    if opts.get("exclude_path"):
        kwargs["exclude_path"] = (*kwargs.get("exclude_path", ()), *opts["exclude_path"])
    if opts.get("accept"):
        kwargs["accept"] = tuple(dict.fromkeys((*kwargs.get("accept", ()), *accept_codes(opts["accept"]))))


def resolve(opts: dict, settings: Settings) -> tuple[Path, ...]:
    """The lists a command reads: LIST..., else the config's, else the default; less what --exclude-path leaves
    out."""
    given = list(opts.get("lists") or settings.lists or [str(DEFAULT_LIST)])
    return kept_lists(resolve_lists(given, skip=(settings.reports,)), settings.exclude_path)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="crawler")
def cli() -> None:
    """Keep a Markdown paper list healthy: check links, fill empty ones, collect abstracts."""


cli.add_command(ci)


@cli.command()
@_common
@_enrich_options
def run(**opts) -> None:
    """The nightly job: check every link, fill and enrich, write reports and export."""
    _execute("run", opts)


@cli.command()
@_common
def check(**opts) -> None:
    """Check links only."""
    _execute("check", opts)


@cli.command()
@_common
@_enrich_options
def enrich(**opts) -> None:
    """Fill empty links and collect abstracts (links are not re-checked)."""
    _execute("enrich", opts)


@cli.command()
@_without(*_NETWORK)
@_common
def report(**opts) -> None:
    """Re-render the reports from the cache alone, with no network."""
    _execute("report", opts)


@cli.command("pr")
@_without("fail_on", "dead_after", "dead_span", "archive")
@_common
@click.option("--base", required=True, metavar="REF",
              help="the branch or commit the pull request goes into (compared from its merge base with HEAD)")
def pull_request(**opts) -> None:
    """Check and fill only the lines a pull request adds or changes, and the links to headings it renames;
    write its comment and suggestions.

    Exit 1 when it adds a failing link."""
    from crawler.cli.outputs import write_pull_request
    from crawler.pullrequest import gitdiff
    from crawler.pullrequest import job as pullrequest

    settings = _setup(opts)
    lists = resolve(opts, settings)
    changes = gitdiff.list_changes(lists, opts["base"])
    # The lists as they were: a link to a heading the pull request renames is its to answer for, wherever it is.
    job = pullrequest.job(lists, changes, base_texts=gitdiff.base_texts(changes, opts["base"]))
    pr = _run(job, settings, lambda outcome, store: pullrequest.build(outcome, changes, store))
    comment, suggested = write_pull_request(pr, settings)
    if not settings.quiet:
        s = pr.report.summary
        empty = f" and {s.empty_links} empty ({s.fills} filled)" if s.empty_links else ""
        click.echo(f"crawler: pull request: {s.distinct_urls} links{empty} on its lines: {len(pr.failing)} failing, "
                   f"{s.healthy} healthy; {len(pr.suggestions)} suggestions in {comment} and {suggested}")
    sys.exit(pr.exit_code)


@cli.command("links")
@click.argument("lists", metavar="[LIST...]", nargs=-1)
@click.option("--json", "as_json", is_flag=True, default=False, help="one JSON object a line")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="crawler.toml or pyproject.toml")
def links_command(lists, as_json, config_path) -> None:
    """List every link (file:line, kind, URL, entry) without checking it: no network, no cache."""
    from crawler.cli import linkdump
    from crawler.listfile.parse import parse_list
    from crawler.listfile.read import read_lists
    from crawler.models import ParsedList

    settings = _setup({"config_path": config_path, "no_progress": True})
    paths = resolve({"lists": lists}, settings)
    parsed = ParsedList.join([parse_list(text).in_file(str(path)) for path, text in read_lists(paths)])
    render = linkdump.render_json_lines if as_json else linkdump.render_text
    sys.stdout.writelines(render(parsed))


def _setup(opts: dict) -> Settings:
    settings = build_settings(opts)
    level = logging.DEBUG if settings.verbose else logging.ERROR if settings.quiet else logging.WARNING
    logging.basicConfig(level=level, format="crawler: %(message)s")
    return settings


def _run(job: Job, settings: Settings, then: Callable[[Outcome, Store], T]) -> T:
    """The job through the pipeline with the cache open, and `then` with the outcome while it still is."""
    existed = settings.db.exists()
    try:
        with Store(settings.db) as store:
            return then(asyncio.run(_pipeline(job, settings, store)), store)
    except NetworkDown:
        if not existed:  # a night without network leaves no trace, not even a new empty cache
            for suffix in ("", "-wal", "-shm", ".lock"):
                Path(f"{settings.db}{suffix}").unlink(missing_ok=True)
        raise


def _execute(command: str, opts: dict) -> None:
    settings = _setup(opts)
    lists = resolve(opts, settings)
    back = WriteBack(write=bool(opts.get("write")), output=opts.get("output"), diff=bool(opts.get("show_diff")),
                     abstracts=bool(opts.get("abstracts")), update_redirects=bool(opts.get("update_redirects")))
    back.check(lists)
    outcome = _run(Job(command, lists), settings, lambda outcome, store: outcome)
    diff = write_outputs(outcome, settings, command, back)
    if diff:
        sys.stdout.write(diff)
    if not settings.quiet:
        click.echo(_summary_line(outcome, settings, command))
    sys.exit(outcome.exit_code)


async def _pipeline(job: Job, settings: Settings, store: Store) -> Outcome:
    from crawler import sources as registry

    progress = Progress(enabled=settings.progress)
    async with ClientPool(settings, transport=settings.transport) as pool:
        # `report` asks no source: it renders from the cache alone.
        sources = None if job.command == "report" else registry.build(settings, pool)
        pipeline = Pipeline(settings, store, pool=pool, sources=sources, progress=progress)
        try:
            return await pipeline.execute(job)
        finally:
            await pipeline.aclose()


def _summary_line(outcome: Outcome, settings: Settings, command: str) -> str:
    """One line with the report's counts: links = healthy + failing + not judged + skipped, always all four."""
    s = outcome.report.summary
    parts = [s.tally(), f"{len(s.new)} new, {len(s.dead)} dead"]
    if command in ("run", "enrich") and (s.fills or s.empty_links):
        parts.append(f"{s.fills}/{s.empty_links} empty filled")  # only a command that fills talks of fills
    elif s.empty_links:
        parts.append(f"{s.empty_links} empty")
    return f"crawler: {'; '.join(parts)}; report in {settings.reports / 'health.md'}"


def _stop_on_sigterm() -> None:
    # CI cancels a job with SIGTERM: turn it into the same clean stop as Ctrl-C, so finished results are saved.
    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def entry() -> None:
    """The `crawler` program: main(), then out without the interpreter's teardown.

    Freeing a big heap object by object, module by module, took 0.1-0.2 s of a 2000-link run.
    By then the cache is closed and every file written; the atexit handlers (logging's flush among them)
    still run and the streams are flushed. main() itself, which tests call in-process, exits normally.
    """
    code: int | str | None = 0
    try:
        main()
    except SystemExit as exc:
        code = exc.code
    if not isinstance(code, int):
        if code is not None:
            print(code, file=sys.stderr)
        code = 0 if code is None else 1
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def main(argv: list[str] | None = None) -> None:
    _stop_on_sigterm()
    try:
        cli.main(args=argv, prog_name="crawler", standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("crawler: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"crawler: error: {exc.format_message()}", err=True)
        sys.exit(2)
    except CrawlerError as exc:
        click.echo(f"crawler: {'error: ' if exc.exit_code == 2 else ''}{exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("crawler: interrupted; finished results are kept in the cache", err=True)
        sys.exit(130)
    except Exception as exc:  # a bug: say so in one line; --verbose shows where
        if "-v" in (argv or sys.argv) or "--verbose" in (argv or sys.argv):
            raise
        click.echo(f"crawler: internal error: {type(exc).__name__}: {exc} (rerun with --verbose for details)", err=True)
        sys.exit(1)



@cli.command("init")
@click.argument("lists", nargs=-1, metavar="[LIST...]")
@click.option("--dir", "root", type=click.Path(path_type=Path), default=Path("."), show_default=True,
              help="the list repository")
@click.option("--contact", help="who runs the crawler, for the User-Agent [the repository's GitHub address]")
@click.option("--action", "action_ref", metavar="OWNER/REPO@COMMIT",
              help="the action the workflow pins [the installed crawler's own commit]")
@click.option("--force", is_flag=True, default=False, help="replace the workflows and crawler.toml if they exist")
@click.option("--no-pr-check", "pr_check", flag_value=False, default=True,
              help="write no pull-request check (its two workflows)")
@click.option("--publish", is_flag=True, default=False,
              help="publish the page and the badge on GitHub Pages (a `pages` job in the nightly workflow)")
def init_command(lists, root, contact, action_ref, force, pr_check, publish) -> None:
    """Set up a list repository: the nightly and pull-request workflows, crawler.toml, .gitignore."""
    from crawler.cli import init as setup

    action = setup.parse_action(action_ref) if action_ref else None
    done = setup.init(root, lists=lists, contact=contact, action=action, force=force, pr_check=pr_check,
                      publish=publish)
    click.echo(setup.describe(done))
