"""`crawler run` and then `crawler report` from its cache both write all four reports."""

import json
import re

from crawler.cli.outputs import write_outputs
from tests.e2e.test_seed import SEED, run
from tests.fakes.sites import install

NAMES = ("health.md", "health.json", "index.html", "badge.svg")


def page_rows(page: str) -> list[dict]:
    return json.loads(re.search(r'id="crawler-data">(.*?)</script>', page, re.S).group(1))["rows"]


def test_run_then_report_write_all_four_reports(make_settings, web):
    install(web)
    settings = make_settings()
    outcome = run(settings, web, SEED)
    write_outputs(outcome, settings, "run")
    first = {n: (settings.reports / n).read_text() for n in NAMES}
    for n in NAMES:
        (settings.reports / n).unlink()
    asked = len(web.log)
    again = run(settings, web, SEED, command="report")
    write_outputs(again, settings, "report")
    assert len(web.log) == asked  # the cache alone, no network
    second = {n: (settings.reports / n).read_text() for n in NAMES}
    for page in (first["index.html"], second["index.html"]):
        rows = page_rows(page)
        assert len(rows) == 14 and all(r["abstract"] for r in rows)
        assert sorted(r["line"] for r in rows if any(lk["filled"] for lk in r["links"])) == [15, 19, 23, 30]
    assert "100% healthy" in first["badge.svg"] and "100% healthy" in second["badge.svg"]
    for name in ("health.json",):
        a, b = json.loads(first[name]), json.loads(second[name])
        assert a["summary"]["fills"] == b["summary"]["fills"] == 4
        assert a["summary"]["abstracts"] == b["summary"]["abstracts"] == 14
        assert [lo["status"] for lo in a["links"]] == [lo["status"] for lo in b["links"]]
