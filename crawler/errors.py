"""The crawler's own errors, in one tree.

A dead link is never an exception (it is a CheckResult); these are for when the tool itself
cannot do what it was asked. Foreign errors (httpx, requests, sqlite3, lxml) are translated
where they are caught, at the module that talks to them.
"""


class CrawlerError(Exception):
    """Base of every error the crawler raises on purpose."""

    exit_code = 1


class UsageError(CrawlerError):
    """Bad input, option or config: the CLI prints one line and exits 2."""

    exit_code = 2


class InputError(UsageError):
    """The list cannot be read as a Markdown paper list."""


class StoreError(CrawlerError):
    """The cache cannot be opened, locked or migrated."""

    exit_code = 2


class NetworkDown(CrawlerError):
    """No host at all could be reached: the network, not the links, is broken."""

    exit_code = 3


class SourceUnavailable(CrawlerError):
    """A source (arXiv, CVF, GitHub, ...) cannot answer this run: throttled, challenged, down.

    Never evidence about a link: whatever depended on it is left undecided. `scope` names the part
    of the source that is affected ("ICCV 2019" for one listing; "" for the whole source), and
    `partial` may carry what a batched question settled before the failure.
    """

    def __init__(self, source: str, reason: str, *, scope: str = "", partial: dict | None = None):
        where = f" ({scope})" if scope else ""
        super().__init__(f"{source}{where} unavailable: {reason}")
        self.source = source
        self.reason = reason
        self.scope = scope
        self.partial = partial
