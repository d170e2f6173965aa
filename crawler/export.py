"""data/papers.json: one object per paper entry, with its links, metadata and abstract."""

from __future__ import annotations

import json

from crawler.pipeline import Outcome, link_key


def records(outcome: Outcome) -> list[dict]:
    status = {lo["key"]: lo["status"] for lo in outcome.report["links"]}
    filled = {(f.line, f.label): f.url for f in outcome.enrichment.fills}
    out = []
    for entry in outcome.parsed.entries:
        if not entry.is_paper:
            continue
        meta = outcome.enrichment.metas.get(entry.line)
        links = []
        for lk in entry.links:
            if lk.is_empty:
                url = filled.get((lk.line, lk.label))
                links.append({"label": lk.label, "url": url or "", "status": "filled" if url else "empty"})
            else:
                links.append({"label": lk.label, "url": lk.url, "status": status.get(link_key(lk), "unknown")})
        out.append({
            "line": entry.line, "section": entry.section, "title": entry.title, "venue": entry.venue,
            "year": entry.year, "links": links,
            "arxiv_id": meta.arxiv_id if meta else None,
            "abstract": meta.abstract if meta else None,
            "abstract_source": meta.source if meta and meta.abstract else None,
            "authors": list(meta.authors) if meta else [],
            "matched_title": meta.title if meta else None,
            "paper_url": meta.url if meta else None,
        })
    return out


def render(papers: list[dict]) -> str:
    return json.dumps(papers, indent=2, ensure_ascii=False) + "\n"


def redirects(outcome: Outcome) -> dict[str, str]:
    """URL as written -> the final URL, for links that moved permanently."""
    moved = {lo["key"]: lo["suggestion"] for lo in outcome.report["links"]
             if lo["status"] == "redirected" and lo["suggestion"]}
    return {lk.url: moved[link_key(lk)] for lk in outcome.parsed.links if lk.url and link_key(lk) in moved}
