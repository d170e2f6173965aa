"""Everything a run writes: the reports, the paper export and its BibTeX, and the lists themselves.

The library's one call for the CLI: the command maps options to a `WriteBack` and calls
`write_outputs`; nothing here knows about options or exit codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from crawler.config import Settings
from crawler.errors import UsageError
from crawler.listfile import rewrite
from crawler.pipeline import Outcome
from crawler.report import badge, bibtex, export, html, json, markdown, pullrequest
from crawler.report.model import RunReport
from crawler.report.pullrequest import PullRequestReport
from crawler.store.files import write_atomic


@dataclass(frozen=True)
class WriteBack:
    """What to do with the lists after a run that fills: nothing, write them in place, or write one elsewhere."""

    write: bool = False  # each list in place, atomically
    output: Path | None = None  # the one list, enriched, to this path
    diff: bool = False  # return the changes as a unified diff
    abstracts: bool = False  # put each abstract under its entry
    update_redirects: bool = False  # replace permanently redirected URLs by their final URL

    def __post_init__(self) -> None:
        if self.write and self.output is not None:
            raise UsageError("--write and --output exclude each other")
        if (self.abstracts or self.update_redirects) and not (self.write or self.output or self.diff):
            flag = "--abstracts" if self.abstracts else "--update-redirects"
            raise UsageError(f"{flag} needs --write, --output or --diff")

    def check(self, lists: Sequence[object]) -> None:
        """Refuse what cannot be done with these lists, before the run asks anything of anyone."""
        if self.output is not None and len(lists) > 1:
            raise UsageError("--output writes one list; with several lists use --write")


def write_outputs(outcome: Outcome, settings: Settings, command: str, back: WriteBack = WriteBack()) -> str:
    """Write what the run produced; returns the diff of the lists when `back.diff` asks for it."""
    papers = export.records(outcome.report, outcome.parsed, outcome.enrichment, outcome.repos)
    write_reports(outcome.report, papers, settings.reports)
    if command not in ("run", "enrich"):
        return ""
    write_atomic(settings.export, export.render(papers))
    write_atomic(settings.export.with_suffix(".bib"), bibtex.render(papers))
    if not (back.write or back.output or back.diff):
        return ""
    back.check(outcome.documents)
    redirects = export.redirects(outcome.report, outcome.parsed) if back.update_redirects else None
    diffs = []
    changed = []
    for doc in outcome.documents:
        new_text = rewrite.apply(doc.text, doc.parsed, outcome.enrichment, abstracts=back.abstracts,
                                 redirects=redirects)
        if back.diff:
            diffs.append(rewrite.unified_diff(doc.text, new_text, str(doc.path)))
        changed.append((doc, new_text))
    if back.write:
        # A list edited while we worked stops the writing before any list is written (each write is atomic,
        # but a disk that fails on the second list leaves the first written).
        for doc, new_text in changed:
            if new_text != doc.text and rewrite.read_back(doc.path) != doc.text:
                raise UsageError(f"{doc.path} changed on disk during the run; no list was written (rerun to apply "
                                 "fills)")
    for doc, new_text in changed:
        target = doc.path if back.write else back.output
        if target is not None:
            rewrite.write_list(target, new_text, original=doc.path, original_text=doc.text)
    return "".join(diffs)


def write_reports(report: RunReport, papers: list[dict], directory: Path) -> list[Path]:
    """health.json, health.md, index.html and badge.svg in `directory`, each written atomically."""
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


def write_pull_request(pr: PullRequestReport, settings: Settings) -> tuple[Path, Path]:
    """`crawler pr`'s two files: the comment (pull-request.md) and the suggestions (suggestions.json)."""
    comment, suggested = settings.reports / "pull-request.md", settings.reports / "suggestions.json"
    write_atomic(comment, pullrequest.render(pr))
    write_atomic(suggested, pullrequest.suggestions_json(pr))
    return comment, suggested
