"""arXiv, CVF open access and GitHub as loopback fakes, built from the hand-written fixtures.

The arXiv API answers `id_list` and `search_query` from tests/fixtures/arxiv/papers.xml the way
the real one does (unknown ids absent, results in any order); CVF serves its listing and paper
pages through tests/fakes/cvf_pages.py; `http://` CVF URLs answer 301 to `https://` as the real
site does.
"""

from __future__ import annotations

import copy
import re
from urllib.parse import parse_qs, urlsplit

from lxml import etree

from tests import paths
from tests.fakes.cvf_pages import fixture_for_path
from tests.fakes.web import FakeWeb, Reply, Request

ARXIV_FIXTURES = paths.FIXTURES / "arxiv"
ATOM = "{http://www.w3.org/2005/Atom}"
OPENSEARCH = "{http://a9.com/-/spec/opensearch/1.1/}"


def _entries() -> list[etree._Element]:
    root = etree.parse(str(ARXIV_FIXTURES / "papers.xml")).getroot()
    return root.findall(f"{ATOM}entry")


def make_entry(arxiv_id: str, title: str, year: int, abstract: str = "An abstract.", authors=("A. Author",)):
    """One Atom <entry> in arXiv's format, for catalogues built by a test."""
    e = etree.Element(f"{ATOM}entry")
    etree.SubElement(e, f"{ATOM}id").text = f"http://arxiv.org/abs/{arxiv_id}v1"
    etree.SubElement(e, f"{ATOM}updated").text = f"{year}-01-15T00:00:00Z"
    etree.SubElement(e, f"{ATOM}published").text = f"{year}-01-15T00:00:00Z"
    etree.SubElement(e, f"{ATOM}title").text = title
    etree.SubElement(e, f"{ATOM}summary").text = abstract
    for name in authors:
        etree.SubElement(etree.SubElement(e, f"{ATOM}author"), f"{ATOM}name").text = name
    etree.SubElement(e, f"{ATOM}link", href=f"https://arxiv.org/abs/{arxiv_id}v1", rel="alternate", type="text/html")
    etree.SubElement(e, f"{ATOM}link", href=f"https://arxiv.org/pdf/{arxiv_id}v1", rel="related",
                     type="application/pdf", title="pdf")
    etree.SubElement(e, "{http://arxiv.org/schemas/atom}primary_category", term="cs.CV")
    etree.SubElement(e, f"{ATOM}category", term="cs.CV", scheme="http://arxiv.org/schemas/atom")
    return e


def _versionless(entry) -> str:
    url = entry.find(f"{ATOM}id").text.strip()
    return re.sub(r"v\d+$", "", url.split("/abs/", 1)[1])


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def feed(entries, total: int | None = None) -> bytes:
    root = etree.parse(str(ARXIV_FIXTURES / "papers.xml")).getroot()
    for old in root.findall(f"{ATOM}entry"):
        root.remove(old)
    for e in entries:
        root.append(e)
    total = root.find(f"{OPENSEARCH}totalResults")
    if total is not None:
        total.text = str(len(entries) if total is None else total)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")


class FakeArxiv:
    """GET /api/query?id_list=…|search_query=… on any host."""

    def __init__(self, catalogue: list | None = None):
        self.queries: list[dict] = []
        self.down: Reply | None = None  # set to make every answer a failure (429, 503, …)
        self.catalogue = catalogue  # <entry> elements; default: tests/fixtures/arxiv/papers.xml

    def handle(self, request: Request) -> Reply:
        query = parse_qs(urlsplit(request.path).query)
        self.queries.append(query)
        if self.down is not None:
            return self.down
        entries = list(self.catalogue) if self.catalogue is not None else _entries()
        if query.get("id_list"):
            wanted = set(query["id_list"][0].split(","))
            hits = [e for e in entries if _versionless(e) in wanted]
        else:
            phrases = re.findall(r'ti:"([^"]+)"', query.get("search_query", [""])[0])
            # ti:"phrase": the phrase's words in order inside the title (punctuation ignored).
            wanted = [" " + " ".join(_words(p)) + " " for p in phrases]
            hits = [e for e in entries if any(w in " " + " ".join(_words(e.find(f"{ATOM}title").text)) + " "
                                              for w in wanted)]
        start = int(query.get("start", ["0"])[0])
        size = int(query.get("max_results", ["100"])[0])
        hits.reverse()  # arXiv returns id_list results in any order
        body = feed([copy.deepcopy(e) for e in hits[start : start + size]], total=len(hits))
        return Reply(200, body, {"Content-Type": "application/atom+xml; charset=UTF-8"})


def cvf_site(request: Request) -> Reply:
    if request.scheme == "http":
        return Reply(301, headers={"Location": f"https://{request.host}{request.path}"})
    fixture = fixture_for_path(request.path)
    if fixture is None:
        return Reply(404, b"<html><title>404 Not Found</title></html>")
    return Reply(200, fixture.read_bytes(), {"Content-Type": "text/html; charset=utf-8"})


def plain_ok(request: Request) -> Reply:
    return Reply(200, b"<html><title>ok</title></html>", {"Content-Type": "text/html"})


def arxiv_site(request: Request) -> Reply:
    """arxiv.org abs pages: 200 for catalogue ids, 404 'Article identifier not recognized' otherwise."""
    m = re.match(r"/(?:abs|pdf)/(.+?)(?:v\d+)?(?:\.pdf)?$", request.path)
    known = {_versionless(e) for e in _entries()}
    if m and m.group(1) in known:
        return Reply(200, b"<html><title>arXiv</title></html>")
    return Reply(404, b"<html><title>Article identifier not recognized</title></html>")


def install(web: FakeWeb) -> FakeArxiv:
    api = FakeArxiv()
    web.host("127.0.0.1", api)  # ArxivSource is pointed at http://127.0.0.1:PORT/api/query
    web.host("export.arxiv.org", api)
    web.host("openaccess.thecvf.com", cvf_site)
    web.host("github.com", plain_ok)
    web.host("arxiv.org", arxiv_site)
    return api
