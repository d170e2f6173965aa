"""One formatter per output; each takes the RunReport and returns text. `write_all` writes them."""

from __future__ import annotations

from pathlib import Path

from crawler.files import write_atomic
from crawler.report.model import RunReport


def write_all(report: RunReport, papers: list[dict], directory: Path) -> list[Path]:
    """health.json, health.md, index.html and badge.svg in `directory`, each written atomically."""
    from crawler.report import badge, html, json, markdown

    outputs = {
        "health.json": json.render(report),
        "health.md": markdown.render(report),
        "index.html": html.render(report, papers),
        "badge.svg": badge.render(report),
    }
    written = []
    for name, text in outputs.items():
        write_atomic(directory / name, text)
        written.append(directory / name)
    return written
