"""Whole runs over a list of OpenReview forum links and Springer, ACM, PLOS and Elsevier papers by DOI, with
IEEE Xplore documents, a table of contents, relative links and URLs pasted under a second entry, the services
answering as they really do: OpenReview challenges anonymous reads and wants a login per API host
(tests/fakes/openreview.py), Crossref keeps to its limits and 429s whoever does not, doi.org knows the DOIs of
other agencies, ACM DL, ScienceDirect, Springer and IEEE Xplore answer robots with a 403
(tests/fakes/crossref.py). Each run is one `Pipeline` on loopback (tests/fakes/web.py), outputs written.

Together they are the whole promise for such a list: with an account and a contact every OpenReview, DOI,
anchor and relative link is judged right, within the request bounds; without the account OpenReview links
are `blocked` (never failures, never dead) and the rest is still right; a refused login is one line.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pytest

from crawler.cli.outputs import write_outputs
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Outcome, Pipeline
from crawler.sources.crossref import CrossrefSource
from crawler.sources.openreview import SIGN_IN, OpenReviewSource
from crawler.store.cache import Store
from tests.fakes.crossref import FakeCrossref, ieee_work, work
from tests.fakes.openreview import API1, API2, FakeOpenReview, Note
from tests.fakes.web import FakeWeb, RoutingTransport

USER, PASSWORD = "reader@example.org", "right-password"
CONTACT = "mailto:lists@example.org"
SPRINGER = "10.1007/s41109-024-00626-2"
SPRINGER_TITLE = ("Linking perspectives: a field experiment on the role of multi-layer networks in refugee "
                  "information sharing")
ACM = "10.1145/3027385.3027428"
PLOS_TITLE = ("Methylphenidate Exposure Induces Dopamine Neuron Loss and Activation of Microglia in the Basal "
              "Ganglia of Mice")
ELSEVIER_TITLE = ("Human umbilical cord blood-derived mesenchymal stem cells improve neuropathology and cognitive "
                  "impairment in an Alzheimer's disease mouse model through modulation of neuroinflammation")
IEEE_TITLE = "Spectral Widget Lattices for Image Recognition"
WORDS = ("sparse", "graph", "widget", "kernel", "lattice", "spectral", "causal", "robust", "tensor", "manifold",
         "quantized", "latent", "adaptive", "contrastive", "stochastic", "neural", "bayesian", "hashing")


def title_of(i: int, topic: str) -> str:
    """A distinct title per number: distinct words, as real titles have."""
    a, b, c = WORDS[i % len(WORDS)], WORDS[(i // len(WORDS)) % len(WORDS)], WORDS[(i * 7 + 3) % len(WORDS)]
    return f"{a.title()} {b.title()} {topic} with {c.title()} Priors Number {i}"


@dataclass
class World:
    openreview: FakeOpenReview
    crossref: FakeCrossref
    text: str
    expect: dict[str, str]  # url -> status
    pasted: dict[tuple[str, int], str]  # (url, line) -> status, for URLs written under two entries
    openreview_ids: dict[str, int]  # host -> ids that host was asked for first
    dois: int  # DOIs and PIIs on the list
    ieee: int = 2  # IEEE Xplore links: one Crossref search each


def build_world(api2_notes: int = 60, api1_notes: int = 55, dois: int = 70) -> World:
    notes: list[Note] = []
    lines = ["# Papers", "", "## Contents"]
    expect: dict[str, str] = {}
    pasted: dict[tuple[str, int], str] = {}
    # The table of contents: four headings below, and one the list does not have.
    for name, fragment in (("ICLR 2024", "iclr-2024"), ("ICLR 2023", "iclr-2023"), ("ICLR 2019", "iclr-2019"),
                           ("Journals", "journals"), ("ICLR 2022", "iclr-2022")):
        lines.append(f"- [{name}](#{fragment})")
        expect[f"#{fragment}"] = "broken" if fragment == "iclr-2022" else "ok"
    lines.append("")

    def entry(heading_url: str, title: str, authors: str, venue_year: str, status: str) -> None:
        lines.append(f"- [{title}]({heading_url}), {authors}, {venue_year}")
        expect[heading_url] = status

    lines.append("## ICLR 2024")
    for i in range(api2_notes):
        ident = f"v2Note{i:04d}x"
        notes.append(Note(ident, title_of(i, "Learning"), ("Ada Lovelace", f"Grace Hopper{i}"), "ICLR 2024 Poster",
                          "ICLR.cc/2024/Conference", abstract=f"We study widgets {i}.", api=API2, number=i))
        entry(f"https://openreview.net/forum?id={ident}", title_of(i, "Learning"), f"Ada Lovelace, Grace Hopper{i}",
              "ICLR 2024", "ok")
    # Another paper's note, a note deleted since, a renamed paper (same authors), the pdf and attachment forms.
    notes.append(Note("OtherPaper1", "Quantum Annealing for Sheep Herding", ("Zed Zulu", "Yan Yankee"),
                      "ICLR 2024 Oral", "ICLR.cc/2024/Conference", api=API2))
    entry("https://openreview.net/forum?id=OtherPaper1", "Spectral Sparsifiers for Widget Graphs",
          "Ada Lovelace, Grace Hopper", "ICLR 2024", "wrong_paper")
    entry("https://openreview.net/forum?id=DeletedNote1", "Kernel Lattices Revisited", "Ada Lovelace", "ICLR 2024",
          "broken")
    notes.append(Note("RenamedOne1", "Adaptive Tensor Widgets at Scale", ("Ada Lovelace", "Alan Turing"),
                      "ICLR 2024 Spotlight", "ICLR.cc/2024/Conference", api=API2))
    entry("https://openreview.net/forum?id=RenamedOne1", "Tensor Widget Networks", "Ada Lovelace, Alan Turing",
          "ICLR 2024", "ok")
    lines.append(f"- {title_of(0, 'Learning')} [[pdf](https://openreview.net/pdf?id=v2Note0000x)] "
                 "[[supp](https://openreview.net/attachment?id=v2Note0000x&name=supplementary_material)]")
    expect["https://openreview.net/pdf?id=v2Note0000x"] = "ok"
    expect["https://openreview.net/attachment?id=v2Note0000x&name=supplementary_material"] = "ok"
    lines.append("- Hashed Widgets [[pdf](https://openreview.net/pdf/0123456789abcdef0123456789abcdef01234567.pdf)]")
    expect["https://openreview.net/pdf/0123456789abcdef0123456789abcdef01234567.pdf"] = "blocked"
    lines += ["", "## ICLR 2023"]
    # ICLR 2023 stayed on API 1: asked of API 2 first (its year), then of API 1.
    notes.append(Note("MovedOld01", "Latent Lattices for Causal Widgets", ("Ada Lovelace", "Kurt Goedel"),
                      "ICLR 2023 poster", "ICLR.cc/2023/Conference", api=API1))
    entry("https://openreview.net/forum?id=MovedOld01", "Latent Lattices for Causal Widgets",
          "Ada Lovelace, Kurt Goedel", "ICLR 2023", "ok")
    lines += ["", "## ICLR 2019"]
    for i in range(api1_notes):
        ident = f"v1Note{i:04d}y"
        notes.append(Note(ident, title_of(i, "Inference"), ("Emmy Noether", f"Alan Turing{i}"), "ICLR 2019 Poster",
                          "ICLR.cc/2019/Conference", abstract=f"Old widgets {i}.", api=API1, number=i))
        entry(f"https://openreview.net/forum?id={ident}", title_of(i, "Inference"),
              f"Emmy Noether, Alan Turing{i}", "ICLR 2019", "ok")

    crossref = FakeCrossref(registered={"10.48550/arxiv.1706.03762": "https://arxiv.org/abs/1706.03762"})
    lines += ["", "## Journals"]
    entry(f"https://link.springer.com/article/{SPRINGER}", SPRINGER_TITLE, "Aaron Thomas Clark, Jennifer M. Larson",
          "Applied Network Science 2024", "ok")
    entry(f"https://dl.acm.org/doi/abs/{ACM}", "Widget, widget as you lead, I am performing well indeed!",
          "Maren Scheffel, Hendrik Drachsler", "LAK 2017", "ok")
    entry("https://doi.org/10.1371/JOURNAL.PONE.0033693", PLOS_TITLE, "Shankar Sadasivan, Brooks B. Pond",
          "PLoS ONE 2012", "ok")
    entry("https://www.sciencedirect.com/science/article/pii/S0197458010001570", ELSEVIER_TITLE,
          "Hyun Ju Lee, Jong Kil Lee", "Neurobiology of Aging 2012", "ok")
    entry("https://dx.doi.org/10.1371/journal.pone.0033693", "Deep Residual Learning for Image Recognition",
          "Kaiming He, Xiangyu Zhang", "CVPR 2016", "wrong_paper")
    entry("https://doi.org/10.1007/s00000-000-0000-0", "A Paper Whose DOI Was Mistyped", "Ada Lovelace", "2021",
          "broken")
    entry("https://doi.org/10.48550/arXiv.1706.03762", "Attention Is All You Need", "Ashish Vaswani, Noam Shazeer",
          "NeurIPS 2017", "ok")
    # IEEE Xplore: a document found by its entry's title, and one no work Crossref finds names (its page, walled).
    crossref.works.append(ieee_work("10.1109/cvpr46437.2021.00001", IEEE_TITLE, "9577001",
                                    ("Ada Lovelace", "Alan Turing"), 2021))
    entry("https://ieeexplore.ieee.org/document/9577001/", IEEE_TITLE, "Ada Lovelace, Alan Turing", "CVPR 2021", "ok")
    entry("https://ieeexplore.ieee.org/abstract/document/9577002", "Quantized Hashing Nobody Indexed", "Ada Lovelace",
          "ICIP 2021", "blocked")
    for i in range(dois):
        doi = f"10.1007/s99999-021-{i:05d}-X"
        crossref.works.append(work(doi, title_of(i, "Journals"), ("Mary Somerville", f"Ada Byron{i}")))
        entry(f"https://link.springer.com/article/{doi}", title_of(i, "Journals"), f"Mary Somerville, Ada Byron{i}",
              "2021", "ok")
    # Copy-paste errors: an OpenReview note and a Springer paper pasted under a second entry. Each is right at
    # its own entry's line and `wrong_paper` at the pasted one; the URL's verdict is its worst place's.
    for url in ("https://openreview.net/forum?id=v2Note0000x", "https://link.springer.com/article/"
                "10.1007/s99999-021-00000-X"):
        own_line = next(n for n, line in enumerate(lines, 1) if f"]({url})" in line)
        entry(url, "Quantum Sheep Herding Revisited", "Zed Zulu, Yan Yankee", "ICLR 2024", "wrong_paper")
        pasted[(url, own_line)] = "ok"
        pasted[(url, len(lines))] = "wrong_paper"
    # Links inside the repository: a file and a heading of it that exist, a file and a heading that do not.
    lines += ["", "## About", "", "See [how to contribute](docs/CONTRIBUTING.md) and [how to add a paper]"
              "(docs/CONTRIBUTING.md#adding-a-paper);", "[the old guide](./docs/missing.md) and [its other part]"
              "(docs/CONTRIBUTING.md#no-such-section) are gone."]
    expect.update({"docs/CONTRIBUTING.md": "ok", "docs/CONTRIBUTING.md#adding-a-paper": "ok",
                   "./docs/missing.md": "broken", "docs/CONTRIBUTING.md#no-such-section": "broken"})
    fake = FakeOpenReview(notes=notes, accounts={USER: PASSWORD})
    return World(fake, crossref, "\n".join(lines) + "\n", expect, pasted,
                 {API2: api2_notes + 4, API1: api1_notes}, dois + 7)


def run(web: FakeWeb, settings, path: Path, *, clock=None) -> Outcome:
    async def go() -> Outcome:
        routed = lambda limits: RoutingTransport(web.port, limits)  # noqa: E731
        async with ClientPool(settings, transport_factory=routed) as pool:
            sources = [OpenReviewSource.from_settings(settings, pool), CrossrefSource.from_settings(settings, pool)]
            with Store(settings.db) as store:
                pipeline = Pipeline(settings, store, pool=pool, sources=sources, **({"clock": clock} if clock else {}))
                try:
                    outcome = await pipeline.execute(Job("run", path))
                finally:
                    await pipeline.aclose()
        write_outputs(outcome, settings, "run")
        return outcome

    return asyncio.run(go())


def links_of(outcome: Outcome) -> dict[str, dict]:
    return {lo["url"]: lo for lo in outcome.report.to_json()["links"]}


def without_openreview(places: dict[tuple[str, int], str]) -> dict[tuple[str, int], str]:
    return {(url, line): status for (url, line), status in places.items() if "openreview.net" not in url}


def at_lines(links: dict[str, dict], places: dict[tuple[str, int], str]) -> dict[tuple[str, int], str]:
    """The status health.json gives each place: its own when it differs from the URL's, else the URL's."""
    return {(url, line): next(p.get("status", links[url]["status"]) for p in links[url]["lines"] if p["line"] == line)
            for url, line in places}


@pytest.fixture
def signed_in(monkeypatch):
    monkeypatch.setenv("OPENREVIEW_USERNAME", USER)
    monkeypatch.setenv("OPENREVIEW_PASSWORD", PASSWORD)


def setup(web: FakeWeb, tmp_path: Path, make_settings, **world) -> tuple[World, Path, object]:
    w = build_world(**world)
    w.openreview.install(web)
    w.crossref.install(web)
    (tmp_path / ".git").mkdir()  # the list's repository: its relative links are resolved inside it
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "CONTRIBUTING.md").write_text("# Contributing\n\n## Adding a paper\n", encoding="utf-8")
    path = tmp_path / "papers.md"
    path.write_text(w.text, encoding="utf-8")
    return w, path, make_settings(contact=CONTACT)


# --- with an account and a contact -----------------------------------------------------------------------------


def test_every_openreview_and_doi_link_is_judged_right(web, tmp_path, make_settings, signed_in, caplog):
    caplog.set_level(logging.DEBUG)
    w, path, settings = setup(web, tmp_path, make_settings)
    outcome = run(web, settings, path)
    links = links_of(outcome)
    got = {url: links[url]["status"] for url in w.expect}
    assert got == w.expect
    assert at_lines(links, w.pasted) == w.pasted  # the pasted URLs fail at the pasted lines only
    assert links["#iclr-2022"]["error"] == f'no heading "#iclr-2022" in {path.name}'
    assert links["./docs/missing.md"]["error"] == "no file docs/missing.md"
    assert links["docs/CONTRIBUTING.md#no-such-section"]["error"] == \
        'no heading "#no-such-section" in docs/CONTRIBUTING.md'
    assert "no note DeletedNote1" in links["https://openreview.net/forum?id=DeletedNote1"]["error"]
    assert "Quantum Annealing" in links["https://openreview.net/forum?id=OtherPaper1"]["error"]
    assert "title changed" in links["https://openreview.net/forum?id=RenamedOne1"]["note"]
    assert "PDF named by its content hash" in links[
        "https://openreview.net/pdf/0123456789abcdef0123456789abcdef01234567.pdf"]["error"]
    assert "not registered" in links["https://doi.org/10.1007/s00000-000-0000-0"]["error"]

    # OpenReview: one login per API host, at most n/50 + 2 notes requests each, one at a time, no page fetched.
    fake = w.openreview
    assert fake.logins == {API2: 1, API1: 1}
    for host, n in w.openreview_ids.items():
        assert fake.notes_requests[host] <= n / 50 + 2, (host, fake.notes_requests[host])
    assert all(len(ids) <= 50 for _, ids in fake.asked)
    assert fake.peak[API1] == fake.peak[API2] == 1 and fake.pages == 0
    # Crossref: at most n/50 + 2 requests for the DOIs and one search per IEEE Xplore link, each with mailto,
    # none refused; no walled publisher asked but the IEEE document no search named.
    cr = w.crossref
    assert len(cr.requests) <= w.dois / 50 + 2 + w.ieee and all(polite for _, polite, _, _ in cr.requests)
    assert cr.refused == 0 and cr.walled_requests == ["ieeexplore.ieee.org/abstract/document/9577002"]
    assert "10.1109/cvpr46437.2021.00001" in links["https://ieeexplore.ieee.org/document/9577001/"]["final_url"]
    assert sorted(cr.handles) == ["10.1007/s00000-000-0000-0", "10.48550/arxiv.1706.03762"]

    # The export has the abstracts and the venues the sources give.
    papers = {p["title"]: p for p in json.loads(settings.export.read_text())}
    first = papers[title_of(0, "Learning")]
    assert first["abstract"] == "We study widgets 0." and first["source_venue"] == "ICLR 2024 Poster"
    assert first["abstract_source"] == "openreview"
    springer = papers[SPRINGER_TITLE]
    assert springer["abstract"].startswith("The social networks that interconnect groups of people")
    assert "Abstract" not in springer["abstract"][:10] and springer["source_venue"] == "Applied Network Science"
    assert papers[PLOS_TITLE]["abstract"] is None  # Crossref has none deposited

    # The password and the tokens went to the API hosts' logins and requests only, and nowhere else.
    secrets = [PASSWORD, "made-up"]
    stored = settings.db.read_bytes() + b"".join(p.read_bytes() for p in settings.reports.iterdir())
    stored += settings.export.read_bytes()
    for secret in secrets:
        assert secret.encode() not in stored and secret not in caplog.text
    assert sum(PASSWORD.encode() in body for body in fake.bodies) == 2  # the two logins
    # Only the APIs were asked: no walled page, no archive for the links inside the repository (dead at once).
    assert {r.host for r in web.requests} == {API1, API2, "api.crossref.org", "doi.org", "ieeexplore.ieee.org"}
    assert not [r for r in web.requests if r.host not in (API1, API2)
                and any(k.lower() == "authorization" for k in r.headers)]


def test_a_rerun_asks_nothing_again(web, tmp_path, make_settings, signed_in):
    w, path, settings = setup(web, tmp_path, make_settings, api2_notes=3, api1_notes=2, dois=3)
    first = links_of(run(web, settings, path))
    asked = (sum(w.openreview.notes_requests.values()), len(w.crossref.requests), len(w.crossref.handles))
    again = links_of(run(web, settings, path))
    assert {u: again[u]["status"] for u in w.expect} == {u: first[u]["status"] for u in w.expect} == w.expect
    assert (sum(w.openreview.notes_requests.values()), len(w.crossref.requests), len(w.crossref.handles)) == asked


# --- without credentials, and when OpenReview refuses ----------------------------------------------------------


def test_without_an_account_openreview_links_are_blocked_for_two_nights(web, tmp_path, make_settings):
    w, path, settings = setup(web, tmp_path, make_settings, api2_notes=3, api1_notes=2, dois=3)
    settings = settings.replace(dead_after=2, dead_span=86400.0)
    day = [1_900_000_000.0]
    outcomes = []
    for _ in range(3):
        outcomes.append(run(web, settings, path, clock=lambda: day[0]))
        day[0] += 2 * 86400
    last = outcomes[-1].report.to_json()
    links = {lo["url"]: lo for lo in last["links"]}
    for url, status in w.expect.items():
        if "openreview.net" in url:
            assert links[url]["status"] == "blocked" and not links[url]["dead"], url
            assert links[url]["consecutive_failures"] == 0
            if "/pdf/" not in url:
                assert links[url]["error"] == f"OpenReview: {SIGN_IN}"
        else:
            assert links[url]["status"] == status, url  # everything else is still right
    assert at_lines(links, without_openreview(w.pasted)) == without_openreview(w.pasted)
    broken = links["https://doi.org/10.1007/s00000-000-0000-0"]
    assert broken["dead"]  # the control: a real failure does die
    assert not [r for r in web.requests if "openreview" in r.host]  # not one request
    states = [s for s in last["summary"]["sources"] if s["source"] == "openreview"]
    assert states == [{"source": "openreview", "scope": "", "state": "unavailable", "reason": SIGN_IN}]
    assert outcomes[-1].exit_code == 1  # the dead DOI fails the run; the blocked links never do


@pytest.mark.parametrize("case", ["wrong password", "mfa", "challenge", "429"])
def test_a_refusing_openreview_gives_one_line_and_the_run_goes_on(web, tmp_path, make_settings, monkeypatch, caplog,
                                                                  case):
    w, path, settings = setup(web, tmp_path, make_settings, api2_notes=3, api1_notes=2, dois=3)
    monkeypatch.setenv("OPENREVIEW_USERNAME", USER)
    monkeypatch.setenv("OPENREVIEW_PASSWORD", "wrong-password" if case == "wrong password" else PASSWORD)
    if case == "mfa":
        w.openreview.mfa = frozenset({USER})
    elif case == "challenge":  # the login itself answers with the challenge
        monkeypatch.setattr(w.openreview, "_login", lambda request: _challenge())
    elif case == "429":
        w.openreview.allowed = 1  # the login passes, the notes are refused
    caplog.set_level(logging.WARNING)
    outcome = run(web, settings, path)
    links = links_of(outcome)
    lines = [r.getMessage() for r in caplog.records if "openreview" in r.getMessage()]
    assert len(lines) == 1, lines
    expected = {"wrong password": "Invalid username or password", "mfa": "second factor (MFA)",
                "challenge": "challenge", "429": "HTTP 429"}[case]
    assert expected in lines[0] and "wrong-password" not in lines[0]
    for url, status in w.expect.items():
        if "openreview.net" in url:
            assert links[url]["status"] == "blocked", url
        else:
            assert links[url]["status"] == status, url
    assert at_lines(links, without_openreview(w.pasted)) == without_openreview(w.pasted)
    assert sum(w.openreview.logins.values()) <= 1  # the source gave up at the first refusal
    assert not [r for r in web.requests if r.host == "openreview.net"]


def _challenge():
    from tests.fakes.openreview import _error

    return _error(403, "ChallengeRequiredError", "Please complete the challenge to continue")


def test_crossref_down_sends_doi_links_to_their_pages(web, tmp_path, make_settings, signed_in, caplog):
    w, path, settings = setup(web, tmp_path, make_settings, api2_notes=1, api1_notes=1, dois=2)
    w.crossref.down = True
    caplog.set_level(logging.WARNING)
    links = links_of(run(web, settings, path))
    acm = links[f"https://dl.acm.org/doi/abs/{ACM}"]
    assert acm["status"] == "blocked" and acm["http_status"] == 403  # the walled page, as before
    assert links[f"https://link.springer.com/article/{SPRINGER}"]["status"] == "blocked"
    assert links["https://ieeexplore.ieee.org/document/9577001/"]["status"] == "blocked"
    assert any("crossref unavailable" in r.getMessage() for r in caplog.records)
