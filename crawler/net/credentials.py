"""Which credential may go to which host: one table, and the one place that gives credentials out.

A credential goes only over https, on the default port, to the exact hosts of its row, and only with the
first request of a client call (never with a redirect: httpx runs a client's auth for the request it was
given, not for the hops it follows). Its value comes from the environment, from a setting, or from a
login at run time (a token), and never goes into a log, a report or the cache. Adding a credentialed
source is its own module, a line in the source registry and a row here.

- GitHub's token (`GITHUB_TOKEN`, else `GH_TOKEN`): github.com and api.github.com, as a bearer token.
- OpenReview's account (`OPENREVIEW_USERNAME`, `OPENREVIEW_PASSWORD`, openreview-py's own names): sent by
  the OpenReview source in the body of its login to each API host, never attached to anything else; the
  token each login returns is attached to that host's requests only.
- Crossref's `mailto=` (the `contact` setting, when it is an e-mail address): api.crossref.org, as a query
  parameter, which puts the crawler in Crossref's polite pool.
"""

from __future__ import annotations

import enum
import os
import re
from collections.abc import Callable, Generator, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import httpx

if TYPE_CHECKING:
    from crawler.config import Settings


class Use(enum.Enum):
    """How a credential travels."""

    BEARER = "bearer"  # `Authorization: Bearer <value>` on every request to its hosts
    QUERY = "query"  # `?<param>=<value>` on every request to its hosts
    LOGIN = "login"  # in the body of its source's login request only: never attached


@dataclass(frozen=True)
class Credential:
    """One row of the table."""

    name: str
    hosts: frozenset[str]  # exact host names
    use: Use
    env: tuple[str, ...] = ()  # environment variables its value is read from, the first set wins
    setting: Callable[[Settings], str | None] | None = None  # or the setting it is taken from
    param: str = ""  # the query parameter, for Use.QUERY
    # Neither: its value is granted at run time (a login's token), per host.


_MAILTO = re.compile(r"^(?:mailto:)?([^@\s:/]+@[^@\s/]+\.[^@\s/]+)$", re.I)


def mailto_address(contact: str | None) -> str | None:
    """The e-mail address in a `contact` setting ('mailto:you@example.org' or 'you@example.org'), else None."""
    found = _MAILTO.match((contact or "").strip())
    return found.group(1) if found else None


GITHUB_HOSTS = frozenset({"github.com", "api.github.com"})
OPENREVIEW_API_HOSTS = frozenset({"api.openreview.net", "api2.openreview.net"})
CROSSREF_HOSTS = frozenset({"api.crossref.org"})

GITHUB_TOKEN = Credential("github-token", GITHUB_HOSTS, Use.BEARER, env=("GITHUB_TOKEN", "GH_TOKEN"))
OPENREVIEW_USERNAME = Credential("openreview-username", OPENREVIEW_API_HOSTS, Use.LOGIN, env=("OPENREVIEW_USERNAME",))
OPENREVIEW_PASSWORD = Credential("openreview-password", OPENREVIEW_API_HOSTS, Use.LOGIN, env=("OPENREVIEW_PASSWORD",))
OPENREVIEW_TOKEN = Credential("openreview-token", OPENREVIEW_API_HOSTS, Use.BEARER)
CROSSREF_MAILTO = Credential("crossref-mailto", CROSSREF_HOSTS, Use.QUERY, param="mailto",
                             setting=lambda s: mailto_address(s.contact))

TABLE: tuple[Credential, ...] = (GITHUB_TOKEN, OPENREVIEW_USERNAME, OPENREVIEW_PASSWORD, OPENREVIEW_TOKEN,
                                 CROSSREF_MAILTO)


def allowed(credential: Credential, url: str | httpx.URL) -> bool:
    """Whether `credential` may go with a request to `url`: https, the default port, one of its exact hosts."""
    if isinstance(url, httpx.URL):
        scheme, host, port = url.scheme, url.host, url.port
    else:
        parts = urlsplit(url)
        try:
            scheme, host, port = parts.scheme.lower(), (parts.hostname or "").lower(), parts.port
        except ValueError:
            return False
    return scheme == "https" and port in (None, 443) and host in credential.hosts


class Credentials:
    """The run's credential values, each given out only for a URL its row allows.

    Values are read once, when the run starts; a token is granted for one host when its login succeeds.
    """

    def __init__(self, values: Mapping[str, str] | None = None, table: Iterable[Credential] = TABLE):
        self.table = tuple(table)
        self._values: dict[tuple[str, str | None], str] = {(k, None): v for k, v in (values or {}).items() if v}
        self._attached = tuple(c for c in self.table if c.use is not Use.LOGIN)

    @classmethod
    def from_environment(cls, settings: Settings | None = None, environ: Mapping[str, str] | None = None,
                         table: Iterable[Credential] = TABLE) -> Credentials:
        environ = os.environ if environ is None else environ
        table = tuple(table)
        values: dict[str, str] = {}
        for row in table:
            value = next((environ[name] for name in row.env if environ.get(name)), None)
            if value is None and row.setting is not None and settings is not None:
                value = row.setting(settings)
            if value:
                values[row.name] = value
        return cls(values, table)

    def has(self, credential: Credential) -> bool:
        """Whether a value is set for the credential (for any of its hosts)."""
        return any(name == credential.name for name, _ in self._values)

    def value(self, credential: Credential, url: str | httpx.URL) -> str | None:
        """The credential's value for a request to `url`, or None: not set, or not allowed there."""
        if not allowed(credential, url):
            return None
        host = url.host if isinstance(url, httpx.URL) else (urlsplit(url).hostname or "").lower()
        return self._values.get((credential.name, host)) or self._values.get((credential.name, None))

    def grant(self, credential: Credential, host: str, value: str) -> None:
        """A value obtained at run time (a login's token), for one of the credential's hosts."""
        if host not in credential.hosts:
            raise ValueError(f"{credential.name} may not go to {host}")
        self._values[(credential.name, host)] = value

    def revoke(self, credential: Credential, host: str) -> None:
        self._values.pop((credential.name, host), None)

    def attach(self, request: httpx.Request) -> None:
        """Add every credential the table allows for this request (a bearer token, a query parameter)."""
        if request.url.scheme != "https":
            return
        for row in self._attached:
            value = self.value(row, request.url)
            if value is None:
                continue
            if row.use is Use.BEARER:
                request.headers["Authorization"] = f"Bearer {value}"
            elif row.param not in request.url.params:
                request.url = request.url.copy_add_param(row.param, value)

    def redact(self, text: str) -> str:
        """`text` with every secret value replaced by `***` (for a message that might echo one)."""
        for (name, _), value in self._values.items():
            if name != CROSSREF_MAILTO.name and len(value) >= 4:
                text = text.replace(value, "***")
        return text


class Attach(httpx.Auth):
    """httpx's per-request hook: the client calls it for each request it is given (not for redirects)."""

    def __init__(self, credentials: Credentials):
        self.credentials = credentials

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if request.url.username or request.url.password:
            # What httpx does for a URL with user information when a client has no auth of its own.
            yield from httpx.BasicAuth(request.url.username, request.url.password).auth_flow(request)
            return
        self.credentials.attach(request)
        yield request
