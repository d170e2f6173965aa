"""Error texts as every report shows them: one readable line, at most ERROR_MAX characters (issue 13).

An HTTP parser's complaint quotes the bytes it choked on, and those can be a PDF's ("Bad status line
... %PDF-1.5 000..."): such a message becomes a phrase naming the fault, and no byte of a response
reaches a report. Used by the checker for what it records and by the run report for what it shows, so
texts stored by older versions are cleaned too.
"""

from __future__ import annotations

import re

import httpx

ERROR_MAX = 200  # characters: an error text is one readable line in every report (issue 13)

# What HTTP parsers (h11 under httpcore, llhttp under aiohttp) say about an answer they cannot read,
# as a phrase naming the fault. Their own messages quote the bytes received, which are a PDF's when a
# server sent a body after its HEAD answer ("Bad status line ... %PDF-1.5 000...", issue 13).
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
# Prefixes this checker puts before a transport error's own message (texts stored by older versions too).
_TRANSPORT_PREFIXES = ("connection broken", "request failed")
# Where a message starts quoting raw data: a bytes repr, or escaped bytes.
_RAW = re.compile(r"""\bb['"]|bytearray\(|\\x[0-9a-fA-F]{2}""")
_TRIM = " :;,=([{'\"-"


def error_text(error: BaseException | str | None, fallback: str = "request failed") -> str:
    """An error as one readable line of at most ERROR_MAX characters, with no bytes of a response in it.

    An exception becomes `"<fallback>: <its message, made readable>"` (the fallback alone when nothing
    readable is left). A text (a stored result's error) is made readable the same way, `fallback`
    when nothing is left. An HTTP parser's complaint becomes a fixed phrase such as "malformed HTTP
    response (bad status line)". Safe to apply twice.
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
