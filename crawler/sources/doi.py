"""DOIs in the URLs of papers, and doi.org's handle API: is a DOI registered at all?

Pure: `doi_in(url)` and `pii_in(url)` read the DOI (lower case: DOIs are case-insensitive and Crossref
answers them in lower case) or ScienceDirect's PII from the URL forms publishers use:

- doi.org, dx.doi.org, doi.acm.org: the path is the DOI;
- `/doi/[abs|full|pdf|epdf|fullHtml|...]/10.x/...` on any host (ACM DL, Wiley, Taylor & Francis, SAGE, ...);
- link.springer.com: `/article|chapter|book|referenceworkentry|protocol/10.1007/...`, `/content/pdf/....pdf`;
- www.sciencedirect.com: `/science/article/[abs/]pii/S...`, a PII, which Crossref knows as an alternative id.

`ieee_document(url)` reads IEEE Xplore's document number ("arnumber"), which its URLs carry instead of a DOI:
`/document/N`, `/abstract/document/N`, `/stamp/stamp.jsp?arnumber=N`, `/xpl/articleDetails.jsp?arnumber=N`,
`/iel7/<publication>/<issue>/0N.pdf` (the number zero-padded to 8 digits). IEEE deposits each document with
Crossref under its DOI with `resource.primary.URL` `https://ieeexplore.ieee.org/document/N/`.

`10.5555/...` at ACM is ACM's placeholder for works without a registered DOI: it is not read as a DOI.

`registration(client, doi)` asks `GET https://doi.org/api/handles/<doi>`, which answers
`{"responseCode": 1, "values": [{"type": "URL", "data": {"value": <url>}}, ...]}` for a registered DOI
(Crossref's, DataCite's, any agency's) and `404 {"responseCode": 100}` for one that is not.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, unquote

import httpx

from crawler.listfile.links import web_parts
from crawler.sources.api import Unanswered, ask

HANDLES = "https://doi.org/api/handles/"
_DOI = re.compile(r"^10\.\d{4,9}/\S+$")
_RESOLVERS = frozenset({"doi.org", "dx.doi.org", "www.doi.org", "doi.acm.org"})
_SPRINGER = frozenset({"link.springer.com"})
_SCIENCEDIRECT = frozenset({"www.sciencedirect.com", "sciencedirect.com"})
_DOI_PATH = re.compile(
    r"^/doi/(?:(?:abs|full|pdf|epdf|pdfdirect|pdfplus|fullhtml|book|proceedings|reader|chapter|epub)/)?"
    r"(10\.\d{4,9}/.+)$", re.I)
_SPRINGER_PATH = re.compile(
    r"^/(?:(?:article|chapter|book|referenceworkentry|protocol|content/pdf)/)?(10\.\d{4,9}/.+)$")
_PII_PATH = re.compile(r"^/science/article/(?:abs/)?pii/([A-Za-z0-9]{10,20})$")
_IEEE = frozenset({"ieeexplore.ieee.org"})
_IEEE_PATH = re.compile(r"^/(?:abstract/)?document/(\d{3,10})(?:/|$)|^/iel\w*/\d+/\d+/0*(\d{3,10})\.pdf$")
_IEEE_QUERY = re.compile(r"(?:^|&)arnumber=0*(\d{3,10})(?:&|$)")
_IEEE_PAGES = frozenset({"/stamp/stamp.jsp", "/stampPDF/getPDF.jsp", "/xpl/articleDetails.jsp", "/xpls/abs_all.jsp",
                         "/xpls/icp.jsp", "/xpl/freeabs_all.jsp", "/xpl/abstractAuthors.jsp"})
UNREGISTERED_PREFIXES = ("10.5555/",)  # ACM DL's placeholder for works that have no DOI


def _clean(text: str, *, pdf: bool = False) -> str | None:
    doi = text.strip().rstrip("/")  # the path is decoded once, before it is matched
    if pdf and doi.lower().endswith(".pdf"):
        doi = doi[:-4]
    doi = doi.rstrip(".,;")
    if not _DOI.match(doi) or doi.lower().startswith(UNREGISTERED_PREFIXES):
        return None
    return doi.lower()


def doi_in(url: str) -> str | None:
    """The DOI a paper URL carries (lower case), or None. Pure and cheap for URLs without one."""
    found = web_parts(url) if "10." in url else None
    if found is None:
        return None
    host, path = found[0], unquote(found[1].path)  # `/content/pdf/10.1007%2Fs11263-018-1081-7.pdf` is written too
    if host in _RESOLVERS:
        return _clean(path[1:])
    if host in _SPRINGER:
        found = _SPRINGER_PATH.match(path)
        return _clean(found.group(1), pdf=True) if found else None
    found = _DOI_PATH.match(path)
    return _clean(found.group(1)) if found else None


def pii_in(url: str) -> str | None:
    """The PII of a ScienceDirect article URL (upper case), or None."""
    parts = web_parts(url) if "/pii/" in url else None
    found = _PII_PATH.match(parts[1].path) if parts is not None and parts[0] in _SCIENCEDIRECT else None
    return found.group(1).upper() if found else None


def ieee_document(url: str) -> str | None:
    """IEEE Xplore's document number in one of its URLs ("9609654"), or None (a journal's page, a search)."""
    parts = web_parts(url) if "ieee" in url else None
    if parts is None or parts[0] not in _IEEE:
        return None
    path = parts[1].path
    found = _IEEE_PATH.match(path)
    if found:
        return found.group(1) or found.group(2)
    found = _IEEE_QUERY.search(parts[1].query) if path in _IEEE_PAGES else None
    return found.group(1) if found else None


@dataclass(frozen=True)
class Registration:
    registered: bool
    url: str | None = None  # where doi.org sends a reader, when registered


def read_handle(status: int, payload: object) -> Registration | None:
    """What a handle API answer says: registered (with its URL), not registered, or None (no usable answer)."""
    code = payload.get("responseCode") if isinstance(payload, dict) else None
    if code == 100 and status in (200, 404):
        return Registration(False)
    if code == 1 and status == 200:
        values = payload.get("values") if isinstance(payload, dict) else None
        urls = [v.get("data", {}).get("value") for v in values or () if isinstance(v, dict) and v.get("type") == "URL"
                and isinstance(v.get("data"), dict)]
        return Registration(True, next((u for u in urls if isinstance(u, str) and u), None))
    return None


async def registration(client: httpx.AsyncClient, doi: str, *, timeout: float) -> Registration:
    """Whether doi.org has `doi` registered. Raises Unanswered when it gives no usable answer."""
    url = HANDLES + quote(doi, safe="/")
    answer = await ask(client, "GET", url, timeout=timeout, max_body=256 * 1024,
                       headers={"Accept": "application/json"})
    found = read_handle(answer.status, answer.payload)
    if found is None:
        if answer.status == 429:
            raise Unanswered("doi.org is rate limiting us (HTTP 429)")
        raise Unanswered(f"doi.org handles: HTTP {answer.status}")
    return found
