"""One formatter per output; each takes the RunReport and returns text. `write_all` writes them."""

from __future__ import annotations

from pathlib import Path

from crawler.report.model import RunReport
from crawler.store.files import write_atomic


def write_all(report: RunReport, papers: list[dict], directory: Path) -> list[Path]:
    """health.json, health.md, index.html and badge.svg in `directory`, each written atomically."""
    from crawler.report import badge, html, json, markdown

    renderers = {
        "health.json": lambda: json.render(report),
        "health.md": lambda: markdown.render(report),
        "index.html": lambda: html.render(report, papers),
        "badge.svg": lambda: badge.render(report),
    }
    written = []
    for name, render in renderers.items():
        # One at a time: at 20,000 links each text is tens of megabytes, and none needs another.
        write_atomic(directory / name, render())
        written.append(directory / name)
    return written
