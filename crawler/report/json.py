"""reports/health.json: the stable, documented machine-readable report (crawler.report.model, schema 2)."""

from __future__ import annotations

import json

from crawler.report.model import RunReport


def render(report: RunReport) -> str:
    return json.dumps(report.to_json(), indent=2, ensure_ascii=False, sort_keys=False) + "\n"
