"""NeurIPS, PMLR, ECVA and the ACL Anthology as one loopback fake for end-to-end runs (FakeWeb hosts).

Listings are the hand-written fixtures under tests/fixtures/<site>/ (their READMEs say where the markup
comes from), served at the real paths, failure pages included (NeurIPS 2018 empty, PMLR v202 empty and
v235 cut short, ACL 2021's empty short-paper volume). A paper page is its fixture when there is one;
otherwise, for a paper the listing holds, a page in the same site's markup (the fixture pages' layout)
carrying the listed title and `abstract_for(title)`: the real sites render both from one record, and the
fixtures hold only a few pages each. A paper the listing does not hold is the site's 404, as is any
other path. ECVA's BATS page answers 404, as it does in the ECVA fixtures (a listed paper without a page).

Old NeurIPS URLs (`papers.nips.cc/paper/YYYY/hash|file/…`) answer 301 to proceedings.neurips.cc, as the
site does. openreview.net answers every request with its 403 challenge: a run must never ask it.

`listed(site, year)` reads the listing fixtures with plain XPath of its own (not the crawler's parsers):
it is the ground truth tests compare fills with. `overrides[(host, path)]` swaps in any answer (a 503).
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import lxml.html

from tests import paths
from tests.fakes.web import FakeWeb, Reply, Request

FIXTURES = paths.FIXTURES

NEURIPS = "proceedings.neurips.cc"
NIPS_OLD = "papers.nips.cc"
PMLR = "proceedings.mlr.press"
ECVA = "www.ecva.net"
ACL = "aclanthology.org"
OPENREVIEW = "openreview.net"
HOSTS = {"neurips": NEURIPS, "pmlr": PMLR, "ecva": ECVA, "acl": ACL}

# Listing fixtures per site and year (PMLR: volume; ACL: volume ids), as the sites serve them.
NEURIPS_YEARS = {2017: "2017.html", 2018: "2018_empty.html", 2019: "2019_truncated.html", 2020: "2020.html",
                 2021: "2021.html", 2022: "2022.html", 2025: "2025.html"}
PMLR_VOLUMES = {162: "v162.html", 202: "v202_empty.html", 206: "v206.html", 235: "v235_truncated.html",
                267: "v267.html"}
PMLR_YEARS = {162: 2022, 202: 2023, 206: 2023, 235: 2024, 267: 2025}
ECVA_MISSING = frozenset({"/papers/eccv_2020/papers_ECCV/html/5894_ECCV_2020_paper.php"})  # BATS: no page
_HTML = {"Content-Type": "text/html; charset=utf-8"}
_PDF = {"Content-Type": "application/pdf"}
_NOT_FOUND = b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>"


def _cls(name: str) -> str:
    return f"contains(concat(' ', normalize-space(@class), ' '), ' {name} ')"


def _text(el) -> str:
    return " ".join(el.text_content().split()) if el is not None else ""


def _doc(path: Path):
    return lxml.html.document_fromstring(path.read_bytes())


def abstract_for(title: str) -> str:
    """The abstract a generated paper page carries: distinct per paper, so a test can tell whose it got."""
    return (f"This paper, {title.rstrip('.')}, states its problem, describes the method it proposes and "
            "reports what the experiments show against strong baselines.")


@dataclass(frozen=True)
class Listed:
    """One paper as a venue listing holds it."""

    site: str
    year: int
    title: str
    url: str  # its page, absolute and canonical
    authors: tuple[str, ...] = ()
    pdf: str | None = None


# --- the listings, read on their own terms ----------------------------------------------------------


@cache
def _neurips(year: int) -> tuple[Listed, ...]:
    name = NEURIPS_YEARS.get(year)
    if name is None or "_" in name:
        return ()
    out = []
    for li in _doc(FIXTURES / "neurips" / name).xpath(f"//ul[{_cls('paper-list')}]/li"):
        a = next(iter(li.xpath(".//a[contains(@href, '/hash/')]")), None)
        if a is None:
            continue
        url = urljoin(f"https://{NEURIPS}/", a.get("href"))
        by = next(iter(li.xpath(f".//i | .//span[{_cls('paper-authors')}]")), None)
        pdf = re.sub(r"/hash/([0-9a-f]{32})-Abstract(-\w+)?\.html$", r"/file/\1-Paper\2.pdf", url)
        out.append(Listed("neurips", year, _text(a), url, tuple(n.strip() for n in _text(by).split(",") if n.strip()),
                          pdf))
    return tuple(out)


@cache
def _pmlr(volume: int) -> tuple[Listed, ...]:
    name = PMLR_VOLUMES.get(volume)
    if name is None or "_" in name:
        return ()
    out = []
    for div in _doc(FIXTURES / "pmlr" / name).xpath(f"//div[{_cls('paper')}]"):
        title = _text(next(iter(div.xpath(f".//p[{_cls('title')}]")), None))
        abs_ = div.xpath(f".//p[{_cls('links')}]//a[normalize-space()='abs']/@href")
        pdf = div.xpath(f".//p[{_cls('links')}]//a[normalize-space()='Download PDF']/@href")
        by = _text(next(iter(div.xpath(f".//span[{_cls('authors')}]")), None))
        if title and abs_:
            authors = tuple(n.strip() for n in by.split(",") if n.strip())
            out.append(Listed("pmlr", PMLR_YEARS[volume], title, abs_[0], authors, pdf[0] if pdf else None))
    return tuple(out)


@cache
def _ecva() -> tuple[Listed, ...]:
    out = []
    base = f"https://{ECVA}/papers.php"
    for dt in _doc(FIXTURES / "ecva" / "papers.php.html").xpath(f"//dt[{_cls('ptitle')}]"):
        a = next(iter(dt.xpath(".//a[@href]")), None)
        href = urljoin(base, a.get("href").strip()) if a is not None else ""
        m = re.search(r"/eccv_(\d{4})/papers_ECCV/html/[^/]+\.php$", href)
        if not m:
            continue  # a title linking anywhere else is no paper of the listing
        dds = dt.xpath("following-sibling::dd[position() <= 2]")
        pdf = next((urljoin(base, x.get("href")) for dd in dds for x in dd.xpath(".//a[@href]")
                    if _text(x).lower() == "pdf"), None)
        by = re.sub(r"[*]", "", _text(dds[0])) if dds else ""
        out.append(Listed("ecva", int(m[1]), _text(a).strip("\"'“” "), href,
                          tuple(n.strip() for n in re.split(r",| and ", by) if n.strip()), pdf))
    return tuple(out)


_ACL_ID = re.compile(r"(\d{4}\.[a-z0-9]+-[a-z0-9]+\.\d+|[A-Z]\d\d-\d{4})")


@cache
def _acl(volume: str) -> tuple[Listed, ...]:
    path = FIXTURES / "acl" / "volumes" / f"{volume}.html"
    if not path.is_file():
        return ()
    out = []
    for a in _doc(path).xpath("//strong/a[@href]"):
        m = _ACL_ID.search(a.get("href"))
        if not m or m[1].endswith(".0") or re.fullmatch(r"[A-Z]\d\d-\d000", m[1]):
            continue  # front matter is listed like a paper; it is none
        ident = m[1]
        year = int(ident[:4]) if ident[0].isdigit() else 2000 + int(ident[1:3])
        out.append(Listed("acl", year, _text(a), f"https://{ACL}/{ident}/", (), f"https://{ACL}/{ident}.pdf"))
    return tuple(out)


def listed(site: str, key) -> tuple[Listed, ...]:
    """The papers a listing fixture holds: neurips/year, pmlr/volume, ecva/year, acl/volume id."""
    if site == "neurips":
        return _neurips(key)
    if site == "pmlr":
        return _pmlr(key)
    if site == "ecva":
        return tuple(p for p in _ecva() if p.year == key)
    if site == "acl":
        return _acl(key)
    raise ValueError(site)


@cache
def _by_url() -> dict[str, Listed]:
    papers = [p for y in NEURIPS_YEARS for p in _neurips(y)] + [p for v in PMLR_VOLUMES for p in _pmlr(v)]
    papers += list(_ecva())
    papers += [p for f in (FIXTURES / "acl" / "volumes").glob("*.html") for p in _acl(f.stem)]
    return {p.url: p for p in papers}


def paper_at(url: str) -> Listed | None:
    return _by_url().get(url)


# --- pages in each site's markup (the layout of the fixture pages) --------------------------------


def _neurips_page(p: Listed) -> str:
    e = html.escape
    metas = "".join(f'<meta name="citation_author" content="{e(n)}">\n' for n in p.authors)
    return f"""<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta name="citation_title" content="{e(p.title)}">
  {metas}<meta name="citation_pdf_url" content="{e(p.pdf or '')}">
  <meta name="citation_publication_date" content="{p.year}">
  <title>{e(p.title)}</title>
</head>
<body>
<nav class="navbar navbar-expand-md navbar-dark bg-dark"><a class="navbar-brand" href="/">NeurIPS Proceedings</a></nav>
<div class="container-fluid">
  <div class="col p-3">
<h4>{e(p.title)}</h4>
<p>Part of <a href="/paper_files/paper/{p.year}">Advances in Neural Information Processing Systems
 (NeurIPS {p.year})</a></p>
<h4>Authors</h4>
<p><i>{e(", ".join(p.authors))}</i></p>
<h4>Abstract</h4>
<p class="paper-abstract"><p>{e(abstract_for(p.title))}</p></p>
  </div>
</div>
</body>
</html>
"""


def _pmlr_page(p: Listed) -> str:
    e = html.escape
    metas = "".join(f'<meta name="citation_author" content="{e(n)}">\n' for n in p.authors)
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
  <meta charset="utf-8">
<title>{e(p.title)}</title>
<meta name="citation_publisher" content="PMLR"/>
<meta name="citation_title" content="{e(p.title)}"/>
<meta name="citation_pdf_url" content="{e(p.pdf or '')}">
{metas}<meta name="citation_publication_date" content="{p.year}/07/01">
</head>
  <body>
    <main class="page-content" aria-label="Content">
      <div class="wrapper">
<article class="post-content">
  <h1>{e(p.title)}</h1><span class="authors">{",&nbsp;".join(e(n) for n in p.authors)}</span>
  <h4>Abstract</h4>
  <div id="abstract" class="abstract">
    {e(abstract_for(p.title))}
  </div>
  <div id="extras"><ul><li><a href="{e(p.pdf or '')}" target="_blank">Download PDF</a></li></ul></div>
</article>
      </div>
    </main>
  </body>
</html>
"""


def _ecva_page(p: Listed) -> str:
    e = html.escape
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>ECVA | European Computer Vision Association</title>
</head>
<body>
<main>
<div class="container">
<div id="content">
<dl>
<dd>
<div id="papertitle">
{e(p.title)}</div>
<div id="authors">
<br><b><i>{e(", ".join(p.authors))}</i></b>;
<br>ECCV {p.year}
</div>
<font size="5">
<br><b>Abstract</b>
</font>
<br><br>
<div id="abstract">
{e(abstract_for(p.title))}
</div>
<font size="5">
<br><b>Related Material</b>
</font>
<br><br>
[<a href="{e(p.pdf or '')}">pdf</a>]
</dd>
</dl>
</div>
</div>
</main>
</body>
</html>
"""


def _acl_page(p: Listed) -> str:
    e = html.escape
    return (f"<!doctype html><html lang=en-us><head><meta charset=utf-8><title>{e(p.title)} - ACL Anthology</title>"
            f'<meta content="{e(p.title)}" name=citation_title>'
            f'<meta content="{p.year}/7" name=citation_publication_date>'
            f'<meta content="{e(p.pdf or "")}" name=citation_pdf_url></head><body>'
            f'<div id=main-container class=container><section id=main><h2 id=title><a href="{e(p.pdf or "")}">'
            f"{e(p.title)}</a></h2><p class=lead></p><hr>"
            '<div class="row acl-paper-details"><div class="col col-lg-10 order-2">'
            '<div class="card bg-light mb-2 mb-lg-3"><div class="card-body acl-abstract">'
            f"<h5 class=card-title>Abstract</h5><span>{e(abstract_for(p.title))}</span></div></div></div></div>"
            "</section></div></body></html>")


# --- the sites -------------------------------------------------------------------------------------


def _file(path: Path, status: int = 200) -> Reply:
    return Reply(status, path.read_bytes(), _HTML)


def _page(p: Listed, render) -> Reply:
    return Reply(200, render(p).encode("utf-8"), _HTML)


@dataclass
class VenueSites:
    overrides: dict[tuple[str, str], Reply] = field(default_factory=dict)

    def install(self, web: FakeWeb) -> VenueSites:
        web.host(NEURIPS, self._answer(self._neurips))
        web.host(NIPS_OLD, self._answer(self._nips_old))
        web.host(PMLR, self._answer(self._pmlr))
        web.host(ECVA, self._answer(self._ecva))
        web.host(ACL, self._answer(self._acl))
        web.host(OPENREVIEW, lambda request: _file(FIXTURES / "neurips" / "challenge.html", 403))
        return self

    def fail(self, url: str, reply: Reply) -> None:
        parts = urlsplit(url)
        self.overrides[(parts.hostname or "", parts.path)] = reply

    def _answer(self, site):
        def answer(request: Request) -> Reply:
            path = urlsplit(request.path).path
            return self.overrides.get((request.host, path)) or site(path)

        return answer

    @staticmethod
    def _neurips(path: str) -> Reply:
        if m := re.fullmatch(r"/paper_files/paper/(\d{4})/?", path):
            name = NEURIPS_YEARS.get(int(m[1]))
            return _file(FIXTURES / "neurips" / name) if name else Reply(404, _NOT_FOUND, _HTML)
        if m := re.fullmatch(r"/paper_files/paper/(\d{4})/(vol[\w-]+)/?", path):
            file = FIXTURES / "neurips" / f"{m[1]}_{m[2]}.html"
            return _file(file) if file.is_file() else Reply(404, _NOT_FOUND, _HTML)
        if m := re.fullmatch(r"/paper_files/paper/(\d{4})/hash/([0-9a-f]{32}-Abstract[\w-]*\.html)", path):
            file = FIXTURES / "neurips" / "papers" / m[1] / m[2]
            if file.is_file():
                return _file(file)
            if found := paper_at(f"https://{NEURIPS}{path}"):
                return _page(found, _neurips_page)
        if re.fullmatch(r"/paper_files/paper/\d{4}/file/[0-9a-f]{32}-Paper[\w-]*\.pdf", path):
            page = re.sub(r"/file/([0-9a-f]{32})-Paper([\w-]*)\.pdf$", r"/hash/\1-Abstract\2.html", path)
            if paper_at(f"https://{NEURIPS}{page}"):
                return Reply(200, b"%PDF-1.5\n", _PDF)
        return Reply(404, _NOT_FOUND, _HTML)

    @staticmethod
    def _nips_old(path: str) -> Reply:
        if m := re.fullmatch(r"/paper/(\d{4})/(hash|file)/(.+)", path):
            return Reply(301, headers={"Location": f"https://{NEURIPS}/paper_files/paper/{m[1]}/{m[2]}/{m[3]}"})
        if m := re.fullmatch(r"/paper/(\d+-[\w-]+?)(?:\.pdf)?", path):
            file = FIXTURES / "neurips" / "legacy" / f"{m[1]}.html"
            if file.is_file():
                return _file(file)
        return Reply(404, _NOT_FOUND, _HTML)

    @staticmethod
    def _pmlr(path: str) -> Reply:
        if path == "/":
            return _file(FIXTURES / "pmlr" / "index.html")
        if m := re.fullmatch(r"/v(\d+)/?", path):
            name = PMLR_VOLUMES.get(int(m[1]))
            return _file(FIXTURES / "pmlr" / name) if name else Reply(404, _NOT_FOUND, _HTML)
        if m := re.fullmatch(r"/(v\d+)/([\w-]+)\.html", path):
            file = FIXTURES / "pmlr" / "papers" / m[1] / f"{m[2]}.html"
            if file.is_file():
                return _file(file)
            if found := paper_at(f"https://{PMLR}{path}"):
                return _page(found, _pmlr_page)
        if (m := re.fullmatch(r"/(v\d+)/([\w-]+)/\2\.pdf", path)) and paper_at(f"https://{PMLR}/{m[1]}/{m[2]}.html"):
            return Reply(200, b"%PDF-1.5\n", _PDF)
        return Reply(404, _NOT_FOUND, _HTML)

    @staticmethod
    def _ecva(path: str) -> Reply:
        if path == "/papers.php":
            return _file(FIXTURES / "ecva" / "papers.php.html")
        m = re.fullmatch(r"/papers/(eccv_\d{4})/papers_ECCV/html/([^/]+\.php)", path)
        if m and path not in ECVA_MISSING:
            file = FIXTURES / "ecva" / "papers" / m[1] / f"{m[2]}.html"
            if file.is_file():
                return _file(file)
            if found := paper_at(f"https://{ECVA}{path}"):
                return _page(found, _ecva_page)
        if path.endswith(".pdf") and any(p.pdf == f"https://{ECVA}{path}" for p in _ecva()):
            return Reply(200, b"%PDF-1.5\n", _PDF)
        return Reply(404, _NOT_FOUND, _HTML)

    @staticmethod
    def _acl(path: str) -> Reply:
        not_found = _file(FIXTURES / "acl" / "not_found.html", 404)
        if m := re.fullmatch(r"/volumes/([^/]+)/?", path):
            file = FIXTURES / "acl" / "volumes" / f"{m[1]}.html"
            return _file(file) if file.is_file() else not_found
        if m := re.fullmatch(r"/([^/]+)/", path):
            file = FIXTURES / "acl" / "papers" / f"{m[1]}.html"
            if file.is_file():
                return _file(file)
            if found := paper_at(f"https://{ACL}{path}"):
                return _page(found, _acl_page)
        if (m := re.fullmatch(r"/([^/]+)\.pdf", path)) and paper_at(f"https://{ACL}/{m[1]}/"):
            return Reply(200, b"%PDF-1.5\n", _PDF)
        return not_found


# --- listings built from data, in each site's markup (the fixtures' layout), for experiments -------------


def neurips_listing_page(year: int, papers: list[Listed]) -> str:
    """A year page (`ul.paper-list li`, title link, authors in `<i>`), as the 2020–2024 fixtures."""
    e = html.escape
    items = "\n".join(
        f'<li class="none"><a title="paper title" href="{e(urlsplit(p.url).path)}">{e(p.title)}</a> '
        f"<i>{e(', '.join(p.authors))}</i></li>" for p in papers)
    return f"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>Advances in Neural Information Processing Systems (NeurIPS {year})</title></head>
<body>
<div class="container-fluid"><div class="col p-3">
<h4>Advances in Neural Information Processing Systems (NeurIPS {year})</h4>
<ul class="paper-list">
{items}
</ul>
</div></div>
</body>
</html>
"""


def pmlr_volume_page(volume: int, papers: list[Listed]) -> str:
    """A volume page (`div.paper`, `p.title`, `span.authors`, `p.links` [abs] [Download PDF]), as v162.html."""
    e = html.escape
    divs = "\n".join(f"""<div class="paper">
  <p class="title">{e(p.title)}</p>
  <p class="details"><span class="authors">{",&nbsp;".join(e(n) for n in p.authors)}</span>;</p>
  <p class="links">
    [<a href="{e(p.url)}">abs</a>][<a href="{e(p.pdf or '')}" target="_blank">Download PDF</a>]
  </p>
</div>""" for p in papers)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Proceedings of Machine Learning Research, Volume {volume}</title></head>
<body>
<main class="page-content" aria-label="Content"><div class="wrapper">
<h2>Volume {volume}</h2>
{divs}
</div></main>
</body>
</html>
"""


def ecva_papers_page(by_year: dict[int, list[Listed]]) -> str:
    """`papers.php`: one accordion section per year, `dt.ptitle` + authors `dd` + `[pdf]` `dd`, relative links."""
    e = html.escape
    sections = []
    for year in sorted(by_year, reverse=True):
        rows = "\n".join(f"""<dt class="ptitle"><br>
<a href="{e(urlsplit(p.url).path.lstrip('/'))}">
{e(p.title)}</a>
</dt>
<dd>
{e(", ".join(p.authors))}
</dd>
<dd>
[<a href='{e(urlsplit(p.pdf or '').path.lstrip('/'))}'>pdf</a>]
</dd>""" for p in by_year[year])
        sections.append(f"""<button class="accordion">ECCV {year} Papers</button>
<div class="accordion-content">
<div id="content">
<dl>
{rows}
</dl>
</div>
</div>""")
    body = "\n".join(sections)
    return f"""<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>ECVA | European Computer Vision Association</title></head>
<body>
<main>
<div class="container">
{body}
</div>
</main>
</body>
</html>
"""


def acl_volume_page(volume: str, papers: list[Listed]) -> str:
    """A volume page (Hugo, minified): `<strong><a class=align-middle href=/<id>/>`, `/people/` author links,
    a `pdf` badge, and the abstract in a collapsed `div#abstract-<id with . as -->` after the entry."""
    e = html.escape
    entries = []
    for p in papers:
        ident = urlsplit(p.url).path.strip("/")
        anchor = ident.replace(".", "--")
        people = "\n|\n".join(f"<a href=/people/x/{re.sub(r'[^a-z]+', '-', n.lower()).strip('-')}/>{e(n)}</a>"
                              for n in p.authors)
        entries.append(
            '<div class="d-sm-flex align-items-stretch mb-3"><div class="d-block me-2 list-button-row">'
            f'<a class="badge text-bg-primary align-middle me-1" href={e(p.pdf or "")}>pdf</a>'
            f'<a class="badge text-bg-info align-middle me-1" href=#abstract-{anchor} data-bs-toggle=collapse>abs</a>'
            f'</div><span class=d-block><strong><a class=align-middle href=/{ident}/>{e(p.title)}</a></strong><br>'
            f"{people}</span></div>"
            f'<div class="card bg-light mb-2 mb-lg-3 collapse abstract-collapse" id=abstract-{anchor}>'
            f'<div class="card-body p-3 small">{e(abstract_for(p.title))}</div></div>')
    return (f"<!doctype html><html lang=en-us><head><meta charset=utf-8><title>Volume {e(volume)} - ACL Anthology"
            f"</title></head><body><div id=main-container class=container><section id=main>"
            f"{''.join(entries)}</section></div></body></html>")


def paper_page(p: Listed) -> str:
    """The paper's own page in its site's markup (the layouts of the fixture pages)."""
    return {"neurips": _neurips_page, "pmlr": _pmlr_page, "ecva": _ecva_page, "acl": _acl_page}[p.site](p)
