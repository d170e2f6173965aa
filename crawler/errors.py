"""The crawler's own errors, in one tree, and how any error reads in a report.

A dead link is never an exception (it is a CheckResult); these are for when the tool itself cannot do
what it was asked. Foreign errors (httpx, requests, sqlite3, lxml) are translated where they are caught,
at the module that talks to them.

`NotSent` and its kinds are the transport's own refusals (crawler.net): they come out of an httpx client
unchanged, so the callers that send requests catch them beside httpx's errors. `HostPaused` is also an
httpx transport error, so every caller that handles a failed request handles it too.

`error_text` and `one_line` turn any error, or a stored error text, into the one readable line every
report shows.
"""

from __future__ import annotations

import re

import httpx


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


# --- the transport's refusals: no request went out --------------------------------------------------------


class NotSent(CrawlerError):
    """A request the transport did not send: its target is refused, unknown, or asked us to stay away."""


class PrivateAddressRefused(NotSent):
    """The target resolves only to addresses the crawler must not touch."""

    def __init__(self, host: str, address: str):
        super().__init__(f"refused private address {address} for {host}")
        self.host = host
        self.address = address


class NameNotResolved(NotSent):
    """DNS has no answer. `transient` when the resolver failed rather than said 'no such name'."""

    def __init__(self, host: str, transient: bool, detail: str):
        super().__init__(f"cannot resolve {host}: {detail}")
        self.host = host
        self.transient = transient


class HostPaused(NotSent, httpx.TransportError):
    """A request not sent: its host asked for a longer pause (HTTP 429) than we wait for anyone."""

    def __init__(self, host: str, seconds: float):
        super().__init__(f"not sent: {host} asked for a pause of {seconds:.0f} s more (HTTP 429)")
        self.host = host
        self.seconds = seconds


class BodyTooLarge(CrawlerError):
    """An answer that had to be read whole is larger than its cap (crawler.net.body)."""

    def __init__(self, cap: int):
        super().__init__(f"answer larger than {cap} bytes")
        self.cap = cap


# --- how an error reads -----------------------------------------------------------------------------------

ERROR_MAX = 200  # characters: an error text is one readable line in every report

# What HTTP parsers (h11 under httpcore, llhttp under aiohttp) say about an answer they cannot read, as a
# phrase naming the fault. Their own messages quote the bytes received, which are a PDF's when a server
# sent a body after its HEAD answer ("Bad status line ... %PDF-1.5 000...").
_PROTOCOL_FAULTS = (
    (re.compile(r"status line|request line|expected http/|invalid response status|http version", re.I),
     "malformed HTTP response (bad status line)"),
    (re.compile(r"got more than \d+ bytes|buffer too long|line too long|too (?:long|large|big)", re.I),
     "malformed HTTP response (header too long)"),
    (re.compile(r"chunk", re.I), "malformed HTTP response (bad chunked body)"),
    (re.compile(r"header", re.I), "malformed HTTP response (bad header)"),
    (re.compile(r"complete message body|payload is not completed|not enough data|content.length", re.I),
     "connection closed before the whole body arrived"),
)
# Prefixes the checker puts before a transport error's own message (texts stored by older versions too).
_TRANSPORT_PREFIXES = ("connection broken", "request failed")
# Where a message starts quoting raw data: a bytes repr, or escaped bytes.
_RAW = re.compile(r"""\bb['"]|bytearray\(|\\x[0-9a-fA-F]{2}""")
_TRIM = " :;,=([{'\"-"


def error_text(error: BaseException | str | None, fallback: str = "request failed") -> str:
    """An error as one readable line of at most ERROR_MAX characters, with no bytes of a response in it.

    An exception becomes `"<fallback>: <its message, made readable>"` (the fallback alone when nothing
    readable is left). A text (a stored result's error) is made readable the same way, `fallback`
    when nothing is left. An HTTP parser's complaint becomes a fixed phrase such as "malformed HTTP
    response (bad status line)". Safe to apply twice: the checker applies it to what it records and the
    run report to what it shows, so texts stored by older versions are cleaned too.
    """
    if isinstance(error, BaseException):
        message = str(error)
        if isinstance(error, httpx.RemoteProtocolError) and (fault := _protocol_fault(message)):
            return fault
        detail = _readable(message)
        return _cap(f"{fallback}: {detail}" if detail and detail != fallback else fallback)
    text = str(error or "")
    head, sep, tail = text.partition(":")
    if sep and head.strip().lower() in _TRANSPORT_PREFIXES and (fault := _protocol_fault(tail)):
        return fault
    return _cap(_readable(text) or fallback)


def _protocol_fault(message: str) -> str | None:
    for pattern, phrase in _PROTOCOL_FAULTS:
        if pattern.search(message):
            return phrase
    return None


def _readable(text: str) -> str:
    """`text` on one line, up to where it starts quoting raw data (and without what led up to that)."""
    cut = len(text)
    if raw := _RAW.search(text):
        cut = raw.start()
    for i, ch in enumerate(text[:cut]):
        if ch == "\ufffd" or not (ch.isprintable() or ch.isspace()):
            cut = i
            break
    line = " ".join(text[:cut].split())
    return line.rstrip(_TRIM) if cut < len(text) else line


def _cap(text: str) -> str:
    return text if len(text) <= ERROR_MAX else text[: ERROR_MAX - 1].rstrip() + "\u2026"


def one_line(text: str | None) -> str | None:
    """Any text a report shows beside a link (a note: "title changed: now '…'") as one line of at most ERROR_MAX."""
    if text is None:
        return None
    return _cap(" ".join("".join(ch if ch.isprintable() else " " for ch in text).split()))
