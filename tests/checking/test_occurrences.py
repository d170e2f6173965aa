"""One URL under two entries is judged against each (crawler.checking.verdicts): the real case of a PMLR page pasted
under a second ICML 2022 entry, through whole runs on a loopback PMLR (tests/fixtures/occurrences) and arXiv.

The page of "Linearity Grafting: ..." stands at line 135 under its own entry and at line 140 under
"PAC-Net: ...": `ok` at 135, `wrong_paper` at 140 with PAC-Net's page suggested, in health.json, health.md,
the page, the export, the CI texts and the exit code. The judgement is made again every run from the
cached papers: a pull request that fixes (or breaks) line 140 is seen by a rerun within --max-age with no
request to the page or the API.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from crawler.cli.outputs import write_outputs
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Outcome, Pipeline
from crawler.report import html
from crawler.report.model import RunReport
from crawler.report.summary import issue_body
from crawler.sources.arxiv import ArxivSource
from crawler.sources.pmlr import PmlrSource
from crawler.store.cache import Store
from tests.fakes.sites import FakeArxiv, make_entry
from tests.fakes.venues import FIXTURES, PMLR, VenueSites
from tests.fakes.web import FakeWeb, Reply, RoutingTransport

HERE = FIXTURES / "occurrences"
GRAFTING = f"https://{PMLR}/v162/chen22af.html"
PACNET = f"https://{PMLR}/v162/myung22a.html"
GRAFTING_TITLE = "Linearity Grafting: Relaxed Neuron Pruning Helps Certifiable Robustness"
PACNET_TITLE = "PAC-Net: A Model Pruning Approach to Inductive Transfer Learning"
_HTML = {"Content-Type": "text/html; charset=utf-8"}


def pruning_list(at_135: str, at_140: str) -> str:
    """An ICML 2022 section whose two papers stand at lines 135 and 140, as in the real list."""
    lines = ["# Awesome pruning", "", "### 2022", ""]
    while len(lines) < 134:
        lines.append(f"- Reading note {len(lines) + 1}: nothing to click here.")
    lines.append(f"- [[ICML]({at_135})] {GRAFTING_TITLE}.")
    while len(lines) < 139:
        lines.append(f"- Reading note {len(lines) + 1}: nothing to click here.")
    lines.append(f"- [[ICML]({at_140})] {PACNET_TITLE}.")
    return "\n".join(lines) + "\n"


def serve_pmlr(web: FakeWeb) -> None:
    sites = VenueSites().install(web)
    volume = (FIXTURES / "pmlr" / "v162.html").read_text(encoding="utf-8")
    extra = (HERE / "v162_papers.html").read_text(encoding="utf-8")
    volume = volume.replace('<p class="rss-subscribe">', extra + '<p class="rss-subscribe">', 1)
    sites.fail(f"https://{PMLR}/v162/", Reply(200, volume.encode(), _HTML))
    for key in ("chen22af", "myung22a"):
        sites.fail(f"https://{PMLR}/v162/{key}.html", Reply(200, (HERE / f"{key}.html").read_bytes(), _HTML))


def run(web: FakeWeb, settings, path: Path, *, arxiv: bool = False, clock=None, command: str = "run") -> Outcome:
    async def go() -> Outcome:
        async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits)) as pool:
            if arxiv:
                sources = [ArxivSource(url_format=f"http://127.0.0.1:{web.port}/api/query?{{}}", delay=0, timeout=5)]
            else:
                sources = [PmlrSource.from_settings(settings, pool)]
            with Store(settings.db) as store:
                pipeline = Pipeline(settings, store, pool=pool, sources=sources, **({"clock": clock} if clock else {}))
                try:
                    return await pipeline.execute(Job(command, path))
                finally:
                    await pipeline.aclose()

    outcome = asyncio.run(go())
    write_outputs(outcome, settings, command)
    return outcome


class Clock:
    def __init__(self) -> None:
        self.t = 1_900_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def pasted_twice(web, make_settings, tmp_path):
    serve_pmlr(web)
    lst = tmp_path / "pruning.md"
    lst.write_text(pruning_list(GRAFTING, GRAFTING), encoding="utf-8")
    settings = make_settings(fail_on="new")
    return run(web, settings, lst), settings, lst


def test_the_page_is_ok_under_its_entry_and_wrong_paper_under_the_other_in_health_json(pasted_twice):
    outcome, settings, _ = pasted_twice
    health = json.loads((settings.reports / "health.json").read_text())
    (link,) = [lo for lo in health["links"] if lo["key"] == GRAFTING]
    assert link["status"] == "wrong_paper" and link["new"]  # the URL's verdict is its worst place's
    assert GRAFTING_TITLE in link["error"] and link["suggestion"] == PACNET
    at_135, at_140 = link["lines"]
    assert (at_135["line"], at_135["entry"], at_135["status"], at_135["error"]) == (135, GRAFTING_TITLE, "ok", None)
    assert at_135["title_score"] == 1.0 and at_135["suggestion"] is None
    assert at_140 == {"file": str(outcome.documents[0].path), "line": 140, "entry": PACNET_TITLE}  # the URL's own
    assert health["summary"]["counts"]["wrong_paper"] == 1 and health["summary"]["failing"] == 1


def test_health_md_the_page_the_export_and_the_ci_texts_locate_the_failure_at_line_140(pasted_twice):
    outcome, settings, _ = pasted_twice
    md = (settings.reports / "health.md").read_text()
    wrong = md.split("## Link to the wrong paper (1)")[1].split("\n## ")[0]
    (row,) = [r for r in wrong.splitlines() if r.startswith("| 1")]
    assert row.startswith("| 140 | PAC-Net") and PACNET.split("/")[-1] in row and "| 135" not in md
    papers = json.loads(settings.export.read_text())
    status = {p["line"]: [lk["status"] for lk in p["links"]] for p in papers}
    assert status[135] == ["ok"] and status[140] == ["wrong_paper"]
    rows = {r["line"]: r for r in html.rows(outcome.report, papers)}
    assert rows[135]["worst"] == "ok" and "attention" not in rows[135]["tags"]
    assert rows[140]["links"][0]["status"] == "wrong_paper" and rows[140]["links"][0]["suggestion"] == PACNET
    ci = issue_body(RunReport.from_json(json.loads((settings.reports / "health.json").read_text())), md)
    (issue_row,) = [r for r in ci.split("<details>")[0].splitlines() if "chen22af" in r]
    assert issue_row.startswith("| 140 | PAC-Net") and "wrong_paper *new*" in issue_row


def test_the_exit_code_counts_the_failure_once(pasted_twice, web, make_settings):
    outcome, settings, lst = pasted_twice
    assert outcome.exit_code == 1  # --fail-on new: a new wrong_paper
    assert outcome.report.exit_code("dead") == 0 and outcome.report.exit_code("any") == 1


def test_a_fix_of_line_140_is_seen_by_a_rerun_within_max_age_without_asking_the_page_again(pasted_twice, web):
    first, settings, lst = pasted_twice
    asked = len(web.log)
    lst.write_text(pruning_list(GRAFTING, PACNET), encoding="utf-8")  # the pull request fixes line 140
    again = run(web, settings, lst)
    links = {lo.key: lo for lo in again.report.links}
    assert links[GRAFTING].status.value == "ok" and not links[GRAFTING].occurrences
    assert links[GRAFTING].fixed and again.exit_code == 0
    assert links[PACNET].status.value == "ok"
    new_requests = [path for _, _, path in web.log[asked:]]
    assert "/v162/chen22af.html" not in new_requests and "/v162/" not in new_requests  # judged from the cache


def test_a_paste_under_a_second_entry_is_seen_by_a_rerun_within_max_age(web, make_settings, tmp_path):
    serve_pmlr(web)
    lst = tmp_path / "pruning.md"
    lst.write_text(pruning_list(GRAFTING, PACNET), encoding="utf-8")
    settings = make_settings(fail_on="new")
    first = run(web, settings, lst)
    assert {lo.key: lo.status.value for lo in first.report.links} == {GRAFTING: "ok", PACNET: "ok"}
    asked = len(web.log)
    lst.write_text(pruning_list(GRAFTING, GRAFTING), encoding="utf-8")  # the copy-paste error
    again = run(web, settings, lst)
    (link,) = [lo for lo in again.report.links if lo.key == GRAFTING]
    assert link.status.value == "wrong_paper" and link.new and again.exit_code == 1
    assert [p.line for p in link.failing_places] == [140] and link.suggestion == PACNET
    assert not [path for _, _, path in web.log[asked:] if "chen22af" in path]


ARXIV_CATALOGUE = [
    make_entry("2206.07839", GRAFTING_TITLE, 2022, authors=("Tianlong Chen", "Huan Zhang", "Zhenyu Zhang")),
    make_entry("2206.05703", PACNET_TITLE, 2022, authors=("Sanghoon Myung", "In Huh", "Wonik Jang")),
]


def test_arxiv_links_verified_in_batches_are_judged_at_each_place_and_again_from_the_cache(web, make_settings,
                                                                                           tmp_path):
    api = FakeArxiv(ARXIV_CATALOGUE)
    web.host("127.0.0.1", api)
    grafting, pacnet = "https://arxiv.org/abs/2206.07839", "https://arxiv.org/abs/2206.05703"
    lst = tmp_path / "pruning.md"
    lst.write_text(pruning_list(grafting, grafting), encoding="utf-8")
    settings = make_settings(fail_on="any")
    first = run(web, settings, lst, arxiv=True)
    (link,) = [lo for lo in first.report.links if lo.key == grafting]
    assert link.status.value == "wrong_paper" and [p.line for p in link.failing_places] == [140]
    assert link.at(link.places[0]).status.value == "ok" and link.suggestion == pacnet
    assert first.exit_code == 1
    queries = len(api.queries)
    lst.write_text(pruning_list(grafting, pacnet), encoding="utf-8")
    again = run(web, settings, lst, arxiv=True, command="check")
    statuses = {lo.key: lo.status.value for lo in again.report.links}
    assert statuses[grafting] == "ok" and again.exit_code == 0
    assert not [q for q in api.queries[queries:] if q.get("id_list") and "2206.07839" in q["id_list"][0]]


def test_offline_the_verdict_follows_the_list_from_the_cached_papers(pasted_twice, web):
    first, settings, lst = pasted_twice
    asked = len(web.log)
    lst.write_text(pruning_list(GRAFTING, PACNET), encoding="utf-8")
    offline = run(web, settings.replace(offline=True), lst, command="check")
    statuses = {lo.key: lo.status.value for lo in offline.report.links}
    assert statuses[GRAFTING] == "ok" and len(web.log) == asked  # PAC-Net's page: "offline: not in the cache"
