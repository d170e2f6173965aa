"""reports/health.json: the stable, documented machine-readable report (crawler.report.model, schema 2)."""

from __future__ import annotations

import json

from crawler.report.model import RunReport, link_json


def render(report: RunReport) -> str:
    # One link per line: readable with `jq` or in a diff, and written by json's C encoder (an indent
    # switches to the pure-Python one: a third of the time it took to write all four reports).
    # Each link's dict is built, written and dropped: all of them at once took 55 MB at 20,000 links.
    head = json.dumps(report.to_json(links=False), ensure_ascii=False)
    body = ",\n".join(json.dumps(link_json(lo), ensure_ascii=False) for lo in report.links)
    return head[:-1] + ', "links": [\n' + body + "\n]}\n"
