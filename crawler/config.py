"""Settings: one frozen object, named defaults, and loading from pyproject.toml / crawler.toml."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from crawler import __version__
from crawler.errors import UsageError
from crawler.listfile.exclusions import Rule, accept_codes, rules
from crawler.listfile.links import builtin_manners

DEFAULT_LIST = Path("data/papers.md")
DEFAULT_DB = Path("data/cache.db")
DEFAULT_REPORTS = Path("reports")
DEFAULT_EXPORT = Path("data/papers.json")
DEFAULT_CONCURRENCY = 64
DEFAULT_HOST_CONCURRENCY = 8
DEFAULT_TIMEOUT = 20.0  # seconds for one request, all of it
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_RUN_TIMEOUT = 3600.0  # a whole check stage; what is unfinished then is reported as timeout
DEFAULT_MAX_AGE = 20 * 3600.0  # under a day: each nightly run rechecks, same-day reruns reuse
DEFAULT_RETRIES = 2  # attempts after the first
DEFAULT_RETRY_AFTER_CEILING = 60.0  # we wait at most this long for a server's Retry-After
DEFAULT_MAX_REDIRECTS = 10
DEFAULT_MAX_BODY = 64 * 1024  # bytes read from a GET body: enough for a <title>, never a whole PDF
DEFAULT_FAIL_ON = "dead"
DEFAULT_METADATA_MAX_AGE = 7 * 86400.0  # titles and abstracts do not change nightly; arXiv is asked weekly
DEFAULT_DEAD_AFTER = 2
DEFAULT_FALLBACK_AFTER = 3  # nights a venue listing may be unreadable before its entries are searched on arXiv
DEFAULT_DEAD_SPAN = 20 * 3600.0
DEFAULT_CONTACT = "https://github.com/paper-list-crawler"
DEFAULT_ARXIV_DELAY = 3.0  # arXiv's terms: one request every three seconds
DEFAULT_ARXIV_TIMEOUT = 30.0

DEFAULT_PROCESSES = 2
DEFAULT_PROCESSES_FROM = 5000  # URLs: at 2000 two workers cost as much as they save, at 20,000 they save a fifth
# What does the I/O under httpx, for the CLI and every ClientPool not told otherwise: aiohttp takes a third of
# httpcore's CPU per request on the benchmark; "httpcore" (httpx's own pool) is the fallback.
DEFAULT_TRANSPORT = "aiohttp"
TRANSPORT_CHOICES = ("aiohttp", "httpcore")
FAIL_ON_CHOICES = ("dead", "new", "any", "never")


class ConfigError(UsageError):
    """A setting or option has a value the crawler cannot use."""


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_duration(text: str | int | float) -> float:
    """'20h' -> 72000.0; a bare number is seconds."""
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        if text < 0:
            raise ConfigError(f"duration must not be negative: {text}")
        return float(text)
    m = _DURATION.match(str(text))
    if not m:
        raise ConfigError(f"not a duration: {text!r} (use e.g. 90s, 30m, 20h, 7d)")
    return float(m.group(1)) * _UNIT[m.group(2)]


@dataclass(frozen=True)
class HostRule:
    """Per-host settings from config: `[tool.crawler.hosts."example.org"]`."""

    concurrency: int | None = None
    headers: tuple[tuple[str, str], ...] = ()
    accept: tuple[int, ...] = ()  # extra status codes that count as ok
    spacing: float | None = None  # seconds at least between the starts of two requests to the host
    pause: float | None = None  # seconds at least that a 429 stops every request to the host

    def over(self, base: HostRule) -> HostRule:
        """This rule with `base`'s values where this one sets none (the user's rule over a built-in one)."""
        return HostRule(
            concurrency=self.concurrency if self.concurrency is not None else base.concurrency,
            headers=tuple({**dict(base.headers), **dict(self.headers)}.items()),
            accept=self.accept or base.accept,
            spacing=self.spacing if self.spacing is not None else base.spacing,
            pause=self.pause if self.pause is not None else base.pause,
        )


# Built-in manners for hosts known to rate-limit crawlers, from the table of site rules (crawler.listfile.links);
# `[tool.crawler.hosts."<host>"]` overrides any field.
DEFAULT_HOST_RULES: dict[str, HostRule] = {
    host: HostRule(concurrency=c, spacing=sp, pause=pa) for host, (c, sp, pa) in builtin_manners().items()
}


@dataclass(frozen=True)
class Settings:
    db: Path = DEFAULT_DB
    reports: Path = DEFAULT_REPORTS
    export: Path = DEFAULT_EXPORT
    concurrency: int = DEFAULT_CONCURRENCY
    host_concurrency: int = DEFAULT_HOST_CONCURRENCY
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    run_timeout: float = DEFAULT_RUN_TIMEOUT
    max_age: float = DEFAULT_MAX_AGE
    metadata_max_age: float = DEFAULT_METADATA_MAX_AGE
    retries: int = DEFAULT_RETRIES
    retry_after_ceiling: float = DEFAULT_RETRY_AFTER_CEILING
    backoff_base: float = 0.5
    max_redirects: int = DEFAULT_MAX_REDIRECTS
    max_body: int = DEFAULT_MAX_BODY
    transport: str = DEFAULT_TRANSPORT  # what does the I/O under httpx: "aiohttp" or "httpcore"
    soft404: bool = True  # read HTML pages (capped) to catch "not found" pages served with 200
    allow_private: bool = False
    offline: bool = False
    fail_on: str = DEFAULT_FAIL_ON
    dead_after: int = DEFAULT_DEAD_AFTER
    dead_span: float = DEFAULT_DEAD_SPAN
    progress: bool = True
    quiet: bool = False
    verbose: bool = False
    contact: str = DEFAULT_CONTACT
    user_agent: str | None = None
    exclude: tuple[str, ...] = ()  # regexes from the config; a matching URL is skipped
    exclusions: tuple[Rule, ...] = ()  # more, each naming where it came from: --exclude, .crawlerignore:3
    exclude_path: tuple[str, ...] = ()  # globs: matching list files are left out of the run
    accept: tuple[int, ...] = ()  # status codes that count as fine on every host (never 429)
    hosts: dict[str, HostRule] = field(default_factory=dict)
    arxiv_url: str = "https://export.arxiv.org/api/query?{}"
    arxiv_delay: float = DEFAULT_ARXIV_DELAY
    arxiv_timeout: float = DEFAULT_ARXIV_TIMEOUT
    cvf_base: str = "https://openaccess.thecvf.com"
    lists: tuple[str, ...] = ()  # the lists a run checks when none are named (paths, globs, directories)
    # Both cores: from this many URLs to check on the web, the checks run in `processes`
    # worker processes, hosts split between them. Below it the fork costs more than it saves.
    processes: int = DEFAULT_PROCESSES
    processes_from: int = DEFAULT_PROCESSES_FROM
    archive: bool = True  # suggest a Wayback Machine copy for dead links that no paper replaces
    fallback_after: int = DEFAULT_FALLBACK_AFTER  # nights an unreadable venue listing keeps its entries waiting
    check_fragments: bool = False  # also look `#fragments` of remote pages up in the HTML the check reads

    def __post_init__(self) -> None:
        for name in ("concurrency", "host_concurrency", "dead_after", "max_redirects", "processes", "fallback_after"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name.replace('_', '-')} must be at least 1")
        for name in ("timeout", "connect_timeout", "run_timeout"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name.replace('_', '-')} must be positive")
        if self.retries < 0:
            raise ConfigError("retries must not be negative")
        if self.transport not in TRANSPORT_CHOICES:
            raise ConfigError(f"transport must be one of {', '.join(TRANSPORT_CHOICES)}")
        if self.fail_on not in FAIL_ON_CHOICES:
            raise ConfigError(f"fail-on must be one of {', '.join(FAIL_ON_CHOICES)}")
        for pattern in self.exclude:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ConfigError(f"bad exclude pattern {pattern!r}: {exc}") from None
        accept_codes(self.accept)

    def url_rules(self) -> tuple[Rule, ...]:
        """Every URL exclusion of the run: the config's, then --exclude's and .crawlerignore's."""
        return rules(self.exclude, "config") + self.exclusions

    def host_rule(self, host: str) -> HostRule | None:
        """The rule for `host`: the user's (`hosts`) over the built-in one, None when neither exists."""
        mine, builtin = self.hosts.get(host), DEFAULT_HOST_RULES.get(host)
        if mine is None or builtin is None:
            return mine or builtin
        return mine.over(builtin)

    @property
    def agent(self) -> str:
        return self.user_agent or f"paper-list-crawler/{__version__} (+{self.contact})"

    def replace(self, **changes) -> Settings:
        return dataclasses.replace(self, **changes)


_KEYS = {f.name for f in dataclasses.fields(Settings)}
_DEFAULTS = {f.name: f.default for f in dataclasses.fields(Settings) if f.default is not dataclasses.MISSING}
_DURATION_KEYS = {"max_age", "dead_span", "metadata_max_age", "run_timeout"}
_PATH_KEYS = {"db", "reports", "export"}
_NOT_SETTINGS = {"exclusions"}  # built by the command line, never written in a config


def load_config(explicit: Path | None = None, start: Path | None = None) -> dict:
    """Read `[tool.crawler]` from pyproject.toml or the whole of crawler.toml.

    An explicit --config path must exist; otherwise the current folder is looked at.
    Returns keyword arguments for Settings (already converted).
    """
    raw: dict = {}
    if explicit is not None:
        raw = _read_toml(explicit)
        raw = raw.get("tool", {}).get("crawler", raw) if explicit.name == "pyproject.toml" else raw
    else:
        here = start or Path.cwd()
        if (here / "crawler.toml").is_file():
            raw = _read_toml(here / "crawler.toml")
        elif (here / "pyproject.toml").is_file():
            raw = _read_toml(here / "pyproject.toml").get("tool", {}).get("crawler", {})
    return settings_kwargs(raw)


def _read_toml(path: Path) -> dict:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"config file not found: {path}") from None
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from None


def settings_kwargs(raw: dict) -> dict:
    out: dict = {}
    for key, value in raw.items():
        name = key.replace("-", "_")
        if name == "hosts":
            out["hosts"] = _host_rules(value)
            continue
        if name not in _KEYS or name in _NOT_SETTINGS:
            raise ConfigError(f"unknown setting in config: {key}")
        if name in _DURATION_KEYS:
            value = parse_duration(value)
        elif name in _PATH_KEYS:
            if not isinstance(value, str):
                raise ConfigError(f"{key} must be a path (a string), not {value!r}")
            value = Path(value)
        elif name == "accept":
            value = accept_codes(value if isinstance(value, list) else [value], key)
        elif name in ("exclude", "lists", "exclude_path"):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{key} must be a list of strings, not {value!r}")
            value = tuple(value)
        else:
            _check_type(key, name, value)
        out[name] = value
    return out


def _check_type(key: str, name: str, value: object) -> None:
    """A config value of the wrong kind is one clear line now, not a TypeError in the middle of a run."""
    default = _DEFAULTS[name]
    if isinstance(default, bool):
        ok, kind = isinstance(value, bool), "true or false"
    elif isinstance(default, int):
        ok, kind = isinstance(value, int) and not isinstance(value, bool), "a whole number"
    elif isinstance(default, float):
        ok, kind = isinstance(value, int | float) and not isinstance(value, bool), "a number"
    elif isinstance(default, str) or (default is None and name == "user_agent"):
        ok, kind = isinstance(value, str), "a string"
    else:
        return
    if not ok:
        raise ConfigError(f"{key} must be {kind}, not {value!r}")


def _host_rules(raw: dict) -> dict[str, HostRule]:
    if not isinstance(raw, dict):
        raise ConfigError("hosts must be a table of host names")
    rules = {}
    for host, rule in raw.items():
        if not isinstance(rule, dict):
            raise ConfigError(f"hosts.{host} must be a table")
        unknown = set(rule) - {"concurrency", "headers", "accept", "spacing", "pause"}
        if unknown:
            raise ConfigError(f"unknown setting hosts.{host}.{sorted(unknown)[0]}")
        concurrency = rule.get("concurrency")
        if concurrency is not None and (not isinstance(concurrency, int) or isinstance(concurrency, bool)
                                        or concurrency < 1):
            raise ConfigError(f"hosts.{host}.concurrency must be a whole number of at least 1")
        rules[host.lower()] = HostRule(
            concurrency=concurrency,
            headers=tuple((str(k), str(v)) for k, v in rule.get("headers", {}).items()),
            accept=accept_codes(rule.get("accept", ()), f"hosts.{host}.accept"),
            spacing=parse_duration(rule["spacing"]) if "spacing" in rule else None,
            pause=parse_duration(rule["pause"]) if "pause" in rule else None,
        )
    return rules
