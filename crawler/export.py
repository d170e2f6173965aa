"""data/papers.json: one object per paper entry, with its links, metadata and abstract."""

from __future__ import annotations

import json

from crawler.links import url_key
from crawler.pipeline import Outcome


def records(outcome: Outcome) -> list[dict]:
    status = {lo["key"]: lo["status"] for lo in outcome.report["links"]}
    filled = {(f.line, f.label): f.url for f in outcome.enrichment.fills}
    out = []
    for entry in outcome.parsed.entries:
        if not entry.is_paper:
            continue
        meta = outcome.enrichment.metas.get(entry.line)
        links = []
        code = []
        for lk in entry.links:
            repo = outcome.repos.get(url_key(lk.url)) if lk.url else None
            if repo is not None:
                code.append({"url": lk.url, "repository": repo.name_with_owner, "stars": repo.stars,
                             "archived": repo.archived, "pushed_at": repo.pushed_at})
            if lk.is_empty:
                url = filled.get((lk.line, lk.label))
                links.append({"label": lk.label, "url": url or "", "status": "filled" if url else "empty"})
            else:
                links.append({"label": lk.label, "url": lk.url, "status": status.get(url_key(lk.url), "unknown")})
        out.append({
            "line": entry.line, "section": entry.section, "title": entry.title, "venue": entry.venue,
            "year": entry.year, "links": links,
            "arxiv_id": meta.arxiv_id if meta else None,
            "abstract": meta.abstract if meta else None,
            "abstract_source": meta.source if meta and meta.abstract else None,
            "authors": list(meta.authors) if meta else [],
            "matched_title": meta.title if meta else None,
            "paper_url": meta.url if meta else None,
            "code": code,
        })
    return out


def render(papers: list[dict]) -> str:
    return json.dumps(papers, indent=2, ensure_ascii=False) + "\n"


def redirects(outcome: Outcome) -> dict[str, str]:
    """URL as written -> the final URL, for links that moved permanently."""
    moved = {lo["key"]: lo["suggestion"] for lo in outcome.report["links"]
             if lo["status"] == "redirected" and lo["suggestion"]}
    return {lk.url: moved[url_key(lk.url)] for lk in outcome.parsed.links if lk.url and url_key(lk.url) in moved}
