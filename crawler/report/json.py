"""reports/health.json: the stable, documented machine-readable report (schema_version 1)."""

from __future__ import annotations

import json


def render(report: dict) -> str:
    public = {**report, "links": [{k: v for k, v in lo.items() if k != "key"} for lo in report["links"]]}
    return json.dumps(public, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
