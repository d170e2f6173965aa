"""The bundled seed list against a web that answers like arXiv, CVF and GitHub (all on loopback)."""

import json

import pytest

from crawler.listfile.rewrite import apply
from crawler.report import export
from tests.fakes.sites import install
from tests.fakes.web import Reply
from tests.support.runs import CVF, SEED, papers_of, run


def unavailable(outcome) -> set[str]:
    return {st["source"] for st in outcome.report.to_json()["summary"]["sources"] if st["state"] == "unavailable"}


@pytest.fixture
def seed_run(make_settings, web):
    api = install(web)
    outcome = run(make_settings(), web, SEED)
    return outcome, api


def test_every_seed_link_is_classified_right(seed_run, web):
    outcome, _ = seed_run
    status = {lo["url"]: lo["status"] for lo in outcome.report.to_json()["links"]}
    assert len(status) == 13  # 17 links, 4 of them empty
    for url, st in status.items():
        if url.startswith("http://openaccess.thecvf.com"):
            assert st == "redirected", url
        else:
            assert st == "ok", url
    moved = [lo for lo in outcome.report.to_json()["links"] if lo["status"] == "redirected"]
    assert {lo["suggestion"] for lo in moved} == {lo["url"].replace("http://", "https://", 1) for lo in moved}
    assert outcome.exit_code == 0
    # arXiv links are verified through the API, never by fetching arxiv.org pages one by one.
    assert web.requests_to("arxiv.org") == []


def test_the_four_empty_links_are_filled_with_the_right_papers(seed_run):
    outcome, _ = seed_run
    fills = {f["line"]: (f["url"], f["source"]) for f in outcome.report.to_json()["fills"]}
    assert fills == {
        15: ("https://arxiv.org/abs/1612.03928", "arxiv"),
        19: ("https://arxiv.org/abs/1803.00443", "arxiv"),
        23: ("https://arxiv.org/abs/1811.03233", "arxiv"),
        30: (f"{CVF}/content_CVPR_2020/html/Hou_Inter-Region_Affinity_Distillation_for_Road_Marking_Segmentation"
             "_CVPR_2020_paper.html", "cvf"),
    }
    assert outcome.report.to_json()["unresolved"] == []
    assert all(f["confidence"] >= 0.9 for f in outcome.report.to_json()["fills"])


def test_every_seed_entry_has_its_abstract_in_the_export(seed_run):
    outcome, _ = seed_run
    papers = json.loads(export.render(papers_of(outcome)))
    assert len(papers) == 14
    missing = [p["title"] for p in papers if not p["abstract"]]
    assert missing == []
    gift = next(p for p in papers if p["line"] == 14)
    assert gift["abstract_source"] == "cvf" and gift["authors"]


def test_the_filled_list_changes_only_the_empty_destinations(seed_run):
    outcome, _ = seed_run
    (doc,) = outcome.documents
    new = apply(doc.text, doc.parsed, outcome.enrichment)
    old_lines, new_lines = doc.text.splitlines(keepends=True), new.splitlines(keepends=True)
    assert len(old_lines) == len(new_lines)
    changed = [i + 1 for i, (a, b) in enumerate(zip(old_lines, new_lines, strict=True)) if a != b]
    assert changed == [15, 19, 23, 30]
    assert "[[paper]](https://arxiv.org/abs/1612.03928)" in new_lines[14]


def test_rerun_within_max_age_asks_arxiv_and_cvf_nothing(make_settings, web):
    api = install(web)
    settings = make_settings()
    run(settings, web, SEED)
    sent, asked = len(web.log), len(api.queries)
    again = run(settings, web, SEED)
    assert len(web.log) == sent and len(api.queries) == asked
    assert len(again.report.to_json()["fills"]) == 4
    assert sum(1 for m in again.enrichment.metas.values() if m.abstract) == 14


def test_a_link_to_the_wrong_paper_is_flagged_with_the_right_one_suggested(make_settings, web, tmp_path):
    install(web)
    lst = tmp_path / "list.md"
    lst.write_text("## 2018\n### Born Again Neural Networks ICML 2018 [[paper]](https://arxiv.org/abs/1503.02531)\n")
    outcome = run(make_settings(), web, lst)
    (link,) = outcome.report.to_json()["links"]
    assert link["status"] == "wrong_paper"
    assert "Distilling the Knowledge in a Neural Network" in link["error"]
    assert link["suggestion"] == "https://arxiv.org/abs/1805.04770"


def test_an_arxiv_id_that_does_not_exist_is_broken(make_settings, web, tmp_path):
    install(web)
    lst = tmp_path / "list.md"
    lst.write_text("### Some Paper That Is Not There ICML 2018 [[paper]](https://arxiv.org/abs/1899.99999)\n")
    outcome = run(make_settings(), web, lst)
    (link,) = outcome.report.to_json()["links"]
    assert link["status"] == "broken"


@pytest.mark.parametrize("failure", [Reply(429, b"Rate exceeded."), Reply(503, b"busy")])
def test_arxiv_unavailable_guesses_nothing_and_breaks_nothing(make_settings, web, failure):
    api = install(web)
    api.down = failure
    outcome = run(make_settings(), web, SEED)
    assert unavailable(outcome) == {"arxiv"}
    statuses = {lo["url"]: lo["status"] for lo in outcome.report.to_json()["links"]}
    assert all(st != "broken" for st in statuses.values())
    fills = {f["line"] for f in outcome.report.to_json()["fills"]}
    assert fills <= {30}  # only the CVF fill, which needs no arXiv
    assert {u["line"] for u in outcome.report.to_json()["unresolved"]} == {15, 19, 23}
    assert outcome.exit_code == 0


@pytest.mark.parametrize("answer", [Reply(403, b"<title>Just a moment...</title><div id='cf-chl'>"),
                                    Reply(503, b"down"), Reply(200, b"<html><title>Just a moment...</title>"
                                                                   b"<script src='/cdn-cgi/challenge-platform/x'>")])
def test_cvf_unavailable_guesses_nothing_and_breaks_nothing(make_settings, web, answer):
    install(web)
    web.host("openaccess.thecvf.com", answer)
    outcome = run(make_settings(), web, SEED)
    assert unavailable(outcome) == {"cvf"}
    statuses = {lo["url"]: lo["status"] for lo in outcome.report.to_json()["links"]}
    assert not [u for u, st in statuses.items() if st in ("broken", "wrong_paper")]
    fills = {f["line"] for f in outcome.report.to_json()["fills"]}
    assert fills == {15, 19, 23}  # the arXiv fills; the CVPR entry waits for CVF
    (waiting,) = outcome.report.to_json()["unresolved"]
    assert waiting["line"] == 30 and waiting["reason"].startswith("cvf") and "unavailable" in waiting["reason"]


def test_a_cvf_link_to_another_paper_is_wrong_paper(make_settings, web, tmp_path):
    install(web)
    lst = tmp_path / "list.md"
    lst.write_text("## 2019\n### Snapshot Distillation Teacher-Student Optimization in One Generation CVPR 2019 "
                   f"[[paper]]({CVF}/content_CVPR_2019/html/Yu_Learning_Metrics_From_Teachers_Compact_Networks_for_"
                   "Image_Embedding_CVPR_2019_paper.html)\n")
    outcome = run(make_settings(), web, lst)
    (link,) = outcome.report.to_json()["links"]
    assert link["status"] == "wrong_paper"
    assert "Learning Metrics" in link["error"]
    assert link["suggestion"].endswith("Yang_Snapshot_Distillation_Teacher-Student_Optimization_in_One_Generation"
                                       "_CVPR_2019_paper.html")
