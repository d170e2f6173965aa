"""Renamed papers through the whole run: the same paper under a new title is `ok` with a note.

A fake arXiv answers with the papers' current titles and authors, as the real API would for the four
false alarms the issue names; the list keeps the old titles, written in the corpus lists' own styles.
"""

import asyncio
import json

import pytest

from crawler.cli.outputs import write_outputs
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Pipeline
from crawler.sources.arxiv import ArxivSource
from crawler.store.cache import Store
from tests.fakes.sites import FakeArxiv, make_entry
from tests.fakes.web import RoutingTransport

CATALOGUE = [
    make_entry("2106.04570", "BERT Learns to Teach: Knowledge Distillation with Meta Learning", 2021,
               authors=("Wangchunshu Zhou", "Canwen Xu", "Julian McAuley")),
    make_entry("1709.00513", "Learning Loss for Knowledge Distillation with Conditional Adversarial Networks", 2017,
               authors=("Zheng Xu", "Yen-Chang Hsu", "Jiawei Huang")),
    make_entry("1710.09505", "Knowledge Projection for Deep Neural Networks", 2017,
               authors=("Zhi Zhang", "Guanghan Ning", "Zhihai He")),
    make_entry("1503.02531", "Distilling the Knowledge in a Neural Network", 2015,
               authors=("Geoffrey Hinton", "Oriol Vinyals", "Jeff Dean")),
]

LIST = """# Knowledge distillation

- [Meta Learning for Knowledge Distillation](https://arxiv.org/abs/2106.04570), Wangchunshu Zhou, Canwen Xu, \
Julian McAuley, 2021
1. Training Shallow and Thin Networks for Acceleration via Knowledge Distillation with Conditional Adversarial \
Networks. Xu, Zheng et al. [arXiv](https://arxiv.org/abs/1709.00513)
- [Knowledge Projection for Effective Design of Thinner and Faster Deep Neural Networks](https://arxiv.org/abs/1710.09505)
- [Born Again Neural Networks](https://arxiv.org/abs/1503.02531), Tommaso Furlanello, Zachary C. Lipton, 2018
"""


@pytest.fixture
def renamed_run(make_settings, web, tmp_path):
    api = FakeArxiv(CATALOGUE)
    web.host("127.0.0.1", api)
    lst = tmp_path / "list.md"
    lst.write_text(LIST)
    settings = make_settings(fail_on="any")

    async def go():
        async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits)) as pool:
            arxiv = ArxivSource(url_format=f"http://127.0.0.1:{web.port}/api/query?{{}}", delay=0, timeout=5)
            with Store(settings.db) as store:
                pipeline = Pipeline(settings, store, pool=pool, sources=[arxiv])
                return await pipeline.execute(Job("check", lst))

    outcome = asyncio.run(go())
    write_outputs(outcome, settings, "check")
    return outcome, settings


def by_id(outcome) -> dict[str, dict]:
    return {lo["url"].rsplit("/", 1)[-1]: lo for lo in outcome.report.to_json()["links"]}


def test_a_renamed_paper_with_its_authors_listed_is_ok_with_a_note(renamed_run):
    links = by_id(renamed_run[0])
    for arxiv_id, new_title in (("2106.04570", "BERT Learns to Teach"), ("1709.00513", "Learning Loss for")):
        link = links[arxiv_id]
        assert link["status"] == "ok", link
        assert link["authors_matched"] is True and link["title_score"] < 0.5
        assert link["note"].startswith("title changed: now") and new_title in link["note"]


def test_a_renamed_paper_without_authors_but_a_distinctive_phrase_is_not_a_wrong_paper(renamed_run):
    link = by_id(renamed_run[0])["1710.09505"]
    assert link["status"] == "ok" and link["authors_matched"] is None
    assert "Knowledge Projection for Deep Neural Networks" in link["note"]


def test_a_link_to_an_unrelated_paper_by_other_authors_is_still_a_wrong_paper(renamed_run):
    link = by_id(renamed_run[0])["1503.02531"]
    assert link["status"] == "wrong_paper" and link["authors_matched"] is False
    assert "Distilling the Knowledge in a Neural Network" in link["error"]


def test_the_notes_are_shown_apart_and_fail_nothing(renamed_run):
    outcome, settings = renamed_run
    assert outcome.report.summary.notes == 3 and outcome.report.summary.failing == 1  # only the wrong paper
    md = (settings.reports / "health.md").read_text()
    notes = md[md.index("## Notes (3)"):]
    assert "BERT Learns to Teach" in notes and "Born Again" not in notes
    assert "## Link to the wrong paper (1)" in md
    health = json.loads((settings.reports / "health.json").read_text())
    assert health["summary"]["notes"] == 3
