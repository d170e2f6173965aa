"""data/papers.json: one object per paper entry, with its links, metadata, abstract and code repositories."""

from __future__ import annotations

import json

from crawler.checking.localrefs import link_key
from crawler.models import Enrichment, ParsedList, RepoInfo
from crawler.report.model import Place, RunReport


def records(report: RunReport, parsed: ParsedList, enrichment: Enrichment,
            repos: dict[str, RepoInfo] | None = None) -> list[dict]:
    repos = repos or {}
    rows = {lo.key: lo for lo in report.links}
    filled = {(f.file, f.line, f.label): f.url for f in report.fills}
    out = []
    for entry in parsed.entries:
        if not entry.is_paper:
            continue
        meta = enrichment.metas.get(entry.place)
        links = []
        code = []
        for lk in entry.links:
            if lk.is_empty:
                url = filled.get((lk.file, lk.line, lk.label))
                links.append({"label": lk.label, "url": url or "", "line": lk.line,
                              "status": "filled" if url else "empty"})
                continue
            key = link_key(lk.file, lk.url)
            # The verdict where the link is written: a URL under two entries may be right under one only.
            status = rows[key].at(Place(lk.file, lk.line)).status.value if key in rows else "unknown"
            links.append({"label": lk.label, "url": lk.url, "line": lk.line, "status": status})
            repo = repos.get(key)
            if repo is not None:
                code.append({"url": lk.url, "repository": repo.name_with_owner, "stars": repo.stars,
                             "archived": repo.archived, "pushed_at": repo.pushed_at})
        out.append({
            "file": entry.file, "line": entry.line, "section": entry.section, "title": entry.title,
            "venue": entry.venue, "year": entry.year, "links": links,
            "arxiv_id": meta.arxiv_id if meta else None,
            "abstract": meta.abstract if meta else None,
            "abstract_source": meta.source if meta and meta.abstract else None,
            "authors": list(meta.authors) if meta else [],
            "matched_title": meta.title if meta else None,
            "paper_url": meta.url if meta else None,
            # The venue as the paper's source names it ("ICLR 2023 Poster" on OpenReview, the journal on Crossref).
            "source_venue": meta.venue if meta else None,
            "code": code,
        })
    return out


def render(papers: list[dict]) -> str:
    return json.dumps(papers, indent=2, ensure_ascii=False) + "\n"


def redirects(report: RunReport, parsed: ParsedList) -> dict[str, str]:
    """URL as written -> the final URL, for links that moved permanently."""
    moved = {lo.key: lo.suggestion for lo in report.links if lo.status.is_moved and lo.suggestion}
    return {lk.url: moved[key] for lk in parsed.links if lk.url and (key := link_key(lk.file, lk.url)) in moved}
