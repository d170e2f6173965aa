"""reports/index.html: one self-contained page: every paper entry, its links' status, fills, abstracts, history.

The page needs nothing from the network: styles, script, data and the chart are inline, and a
Content-Security-Policy (`default-src 'none'`, the script and style allowed by hash) proves it, since
anything fetched would be refused. It opens the same from a downloaded artifact as from a server.

Everything in it came from the list or from the web, so none of it is trusted: text the page renders on
the server goes through `html.escape`, a URL becomes an `href` only when it is http(s), and the rows' data
travels as JSON in a `<script type="application/json">` block with `<`, `>` and `&` escaped, so a title
holding `</script>` cannot end the block. The script builds the table with `textContent` only.
"""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import UTC, datetime
from html import escape
from importlib import resources

from crawler.checking.localrefs import link_key
from crawler.models import LinkStatus
from crawler.report import markdown
from crawler.report.model import LinkRow, Place, RunReport, RunRow

# Worst first: a row sorts and filters by its worst link. "dead" is a flag on a failing link, ranked first; a
# filled link and one not checked yet rank below what asks for a change, above what needs nothing.
SEVERITY = ("dead", *(s.value for s in LinkStatus.worst_first() if not s.is_quiet), "filled", "unknown",
            *(s.value for s in LinkStatus.worst_first() if s.is_quiet))
RANK = {s: i for i, s in enumerate(SEVERITY)}
ATTENTION = frozenset(s.value for s in LinkStatus if s.needs_change)  # blocked and rate limited: not judged
LABELS = {
    "attention": "needs attention", "dead": "dead", "new": "new failures", "broken": "broken",
    "wrong_paper": "wrong paper", "invalid": "invalid", "unreachable": "unreachable", "timeout": "timed out",
    "server_error": "server error", "rate_limited": "rate limited", "blocked": "blocked (cannot judge)",
    "empty": "empty link", "redirected": "redirected", "filled": "filled", "unknown": "not checked",
    "skipped": "skipped", "ok": "ok", "no-abstract": "no abstract",
}
CHART_RUNS = 60  # bars in the history chart; the store keeps as many


def safe_href(url: object) -> str | None:
    """A URL the page may link to: http(s) only, so no `javascript:` or `data:` link can come from the list."""
    if not isinstance(url, str):
        return None
    u = url.strip()
    return u if u.lower().startswith(("http://", "https://")) and len(u) > 8 else None


def rows(report: RunReport, papers: list[dict]) -> list[dict]:
    """One row per paper entry, its links joined with the report's link rows (fresher than the export's)."""
    by_key: dict[str, LinkRow] = {}
    for lo in report.links:
        by_key.setdefault(lo.key, lo)
    several = len(report.summary.lists) > 1
    # The export's order: list by list, line by line.
    return [_row(order, p, by_key, several) for order, p in enumerate(papers)]


def _row(order: int, p: dict, by_key: dict[str, LinkRow], several: bool) -> dict:
    """A paper entry of the export as the page's table shows it."""
    links = [_link_cell(lk, p.get("file") or "", p.get("line"), by_key) for lk in p.get("links", [])]
    worst = min((("dead" if lk["dead"] else lk["status"]) for lk in links),
                key=lambda s: RANK.get(s, RANK["unknown"]), default="unknown")
    return {
        "file": p.get("file") or "", "line": p.get("line"),
        "where": f"{p.get('file')}:{p.get('line')}" if several else str(p.get("line")), "order": order,
        "section": p.get("section") or "", "title": p.get("title") or "",
        "venue": p.get("venue") or "", "year": p.get("year"),
        "authors": list(p.get("authors") or []), "arxiv_id": p.get("arxiv_id"),
        "abstract": p.get("abstract") or "", "abstract_source": p.get("abstract_source") or "",
        "links": links, "worst": worst, "rank": RANK.get(worst, RANK["unknown"]),
        "tags": sorted(_tags(links, bool(p.get("abstract")))),
    }


def _link_cell(lk: dict, file: str, line: int | None, by_key: dict[str, LinkRow]) -> dict:
    """A link of an entry with the verdict where it is written: a URL under two entries may be right under one only."""
    url = lk.get("url") or ""
    cell = {"label": lk.get("label") or "", "url": url, "href": safe_href(url), "status": lk.get("status") or "unknown",
            "filled": lk.get("status") == "filled", "http": None, "error": None, "note": None, "suggestion": None,
            "suggestion_href": None, "dead": False, "new": False}
    row = by_key.get(link_key(file, url)) if url else None
    if row is None:
        return cell
    own = row.at(Place(file, lk.get("line") or line or 0))
    failing = own.status.is_failure
    return {**cell, "status": own.status.value, "http": row.http_status, "error": own.error, "note": own.note,
            "suggestion": own.suggestion, "suggestion_href": safe_href(own.suggestion),
            "dead": bool(row.dead and failing), "new": bool(row.new and failing)}


def _tags(links: list[dict], has_abstract: bool) -> set[str]:
    """What the status filter finds an entry under: its links' statuses and flags, and what it lacks."""
    tags = {lk["status"] for lk in links}
    tags |= {"filled" for lk in links if lk["filled"]}
    tags |= {"dead" for lk in links if lk["dead"]} | {"new" for lk in links if lk["new"]}
    if tags & ATTENTION or "dead" in tags:
        tags.add("attention")
    if not has_abstract:
        tags.add("no-abstract")
    return tags


def _json_for_script(data: object) -> str:
    """JSON that is inert inside <script>: no `<`, `>` or `&` can appear, so no `</script>` or `<!--`."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    for ch, esc in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                    ("\u2029", "\\u2029")):
        text = text.replace(ch, esc)
    return text


def _csp_hash(source: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source.encode("utf-8")).digest()).decode("ascii") + "'"


def _when(ts: float | None) -> str:
    if not ts:
        return ""
    return datetime.fromtimestamp(ts, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")


def _link(url: str | None, text: str | None = None) -> str:
    """An anchor for a http(s) URL, else the URL as plain text."""
    shown = escape(text if text is not None else (url or ""))
    href = safe_href(url)
    if href is None:
        return f"<code>{shown}</code>" if text is None else shown
    return f'<a href="{escape(href, quote=True)}" rel="noopener noreferrer nofollow">{shown}</a>'


# -- the run-history chart -------------------------------------------------------------------------
CHART_W, CHART_H = 720, 180
PAD_L, PAD_R, PAD_T, PAD_B = 40, 12, 12, 28
COLOURS = {"ok": "#2da44e", "failing": "#d4a72c", "dead": "#cf222e", "other": "#8c959f"}


def chart(runs: tuple[RunRow, ...] | list[RunRow]) -> str:
    """Inline SVG: one stacked bar per run (healthy, failing, dead, not judged); no script, no fetch."""
    runs = list(runs)[-CHART_RUNS:]
    head = (f'<svg id="history" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" '
            f'width="{CHART_W}" height="{CHART_H}" role="img" aria-labelledby="history-title">')
    if not runs:
        return (head + '<title id="history-title">Link health over past runs: no runs recorded yet</title>'
                f'<text x="{CHART_W // 2}" y="{CHART_H // 2}" text-anchor="middle" class="muted">'
                "No run history yet: the chart fills in as `crawler run` runs.</text></svg>")
    top = max(max(r.total for r in runs), 1)
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    slot = plot_w / max(len(runs), 30)  # a short history grows from the left, bars keep their width
    bar = max(min(slot * 0.8, 28.0), 1.0)
    parts = [head, f'<title id="history-title">Link health over the last {len(runs)} run(s)</title>']
    base_y = PAD_T + plot_h
    parts.append(f'<line x1="{PAD_L}" y1="{base_y}" x2="{CHART_W - PAD_R}" y2="{base_y}" class="axis"/>')
    parts.append(f'<text x="{PAD_L - 6}" y="{PAD_T + 10}" text-anchor="end" class="muted">{top}</text>')
    parts.append(f'<text x="{PAD_L - 6}" y="{base_y}" text-anchor="end" class="muted">0</text>')
    for i, r in enumerate(runs):
        total, healthy, failing = r.total, r.ok, r.failing
        dead = min(r.dead, failing)
        segments = (("ok", healthy), ("failing", failing - dead), ("dead", dead),
                    ("other", max(total - healthy - failing, 0)))
        x = PAD_L + i * slot + (slot - bar) / 2
        y = float(base_y)
        label = (f"{_when(r.started_at)} · {escape(r.command)}: {total} links, "
                 f"{healthy} healthy, {failing} failing, {dead} dead")
        parts.append(f'<g class="run"><title>{label}</title>')
        for name, n in segments:
            if n <= 0:
                continue
            h = n / top * plot_h
            y -= h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[name]}" data-part="{name}"/>')
        parts.append("</g>")
    first, last = _when(runs[0].started_at)[:10], _when(runs[-1].started_at)[:10]
    parts.append(f'<text x="{PAD_L}" y="{CHART_H - 8}" class="muted">{escape(first)}</text>')
    if len(runs) > 1:
        parts.append(f'<text x="{CHART_W - PAD_R}" y="{CHART_H - 8}" text-anchor="end" class="muted">'
                     f"{escape(last)}</text>")
    parts.append("</svg>")
    return "".join(parts)


# -- the page --------------------------------------------------------------------------------------
# The page's style and script are package data files: edited as CSS and JS, inlined at render time.
STYLE = resources.files("crawler.report").joinpath("page.css").read_text(encoding="utf-8")
SCRIPT = resources.files("crawler.report").joinpath("page.js").read_text(encoding="utf-8")



COLUMNS = (("line", "#"), ("section", "Section"), ("title", "Title"), ("venue", "Venue"), ("year", "Year"),
           ("links", "Links"), ("abstract", "Abstract"))


def _status_options(table_rows: list[dict]) -> str:
    counts: dict[str, int] = {}
    for r in table_rows:
        for t in r["tags"]:
            counts[t] = counts.get(t, 0) + 1
    order = ["attention", "dead", "new", *[s for s in SEVERITY if s != "dead"], "no-abstract"]
    # The filter picks entries (a row is an entry, with all its links): each option counts entries, and says so.
    opts = [f'<option value="">all ({_entries(len(table_rows))})</option>']
    for tag in order:
        if counts.get(tag):
            opts.append(f'<option value="{escape(tag)}">{escape(LABELS.get(tag, tag))} '
                        f'({_entries(counts[tag])})</option>')
    return "".join(opts)


def _entries(n: int) -> str:
    return f"{n} {'entry' if n == 1 else 'entries'}"


def _not_judged(report: RunReport) -> str:
    """The links not judged, by source or host and reason, in one place."""
    s = report.summary
    if not s.not_judged:
        return ""
    items = "".join(f"<li>{escape(str(group))}</li>" for group in s.not_judged_by)
    return (f'<section id="not-judged"><h2>Not judged: {s.not_judged} link{"s" if s.not_judged != 1 else ""}</h2>'
            f'<p class="muted">Never failures, never dead.</p><ul>{items}</ul></section>')


def _sources_down(report: RunReport) -> str:
    """The sources that could not answer: one short section after the tables, one line each."""
    down = report.summary.unavailable
    if not down:
        return ""
    items = "".join(f"<li><strong>{escape(st.label)}</strong>: {escape(st.reason or 'no reason given')}</li>"
                    for st in down)
    return (f'<section id="sources-down"><h2>Sources that could not answer ({len(down)})</h2>'
            f"<p>Nothing that depends on them was judged or filled this run.</p><ul>{items}</ul></section>")


def _others(report: RunReport, table_rows: list[dict]) -> str:
    """Failing or moved links outside any paper entry: the table above would hide them."""
    in_rows = {link_key(r["file"], lk["url"]) for r in table_rows for lk in r["links"] if lk["url"]}
    several = len(report.summary.lists) > 1
    rest = [lo for lo in report.links
            if lo.key not in in_rows and (lo.status.is_failure or lo.status.is_moved)]
    if not rest:
        return ""
    out = [f"<h2>Other links that need attention ({len(rest)})</h2>",
           "<table><thead><tr><th>Line</th><th>Link</th><th>Status</th><th>Problem</th><th>Suggestion</th>"
           "</tr></thead><tbody>"]
    for lo in sorted(rest, key=lambda lo: lo.first):
        flag = " dead" if lo.dead else (" new" if lo.new else "")
        problem = lo.error or (f"HTTP {lo.http_status}" if lo.http_status else "")
        places = ", ".join(str(p) if several else str(p.line) for p in lo.places)
        status = lo.status.value
        out.append(
            f'<tr><td class="num">{escape(places)}</td>'
            f'<td>{_link(lo.url)}</td><td><span class="st st-{escape(status)}">'
            f"{escape(LABELS.get(status, status))}{escape(flag)}</span></td>"
            f"<td>{escape(problem)}</td><td>{_link(lo.suggestion) if lo.suggestion else ''}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render(report: RunReport, papers: list[dict]) -> str:
    s = report.summary
    table_rows = rows(report, papers)
    data = {
        "rows": table_rows,
        "labels": LABELS,
        "empty_note": "No paper entries to show: the export (data/papers.json) is empty or missing; "
                      "run `crawler run` to create it.",
    }
    style, script = STYLE.strip(), SCRIPT.strip()
    csp = (f"default-src 'none'; script-src {_csp_hash(script)}; style-src {_csp_hash(style)}; img-src data:; "
           "base-uri 'none'; form-action 'none'")
    failing = s.failing
    verdict = "bad" if failing else "good" if not s.not_judged else "unsure"
    headline = f'<span class="verdict {verdict}">{escape(markdown.headline(report))}</span>'
    numbers = (("links", s.distinct_urls), ("healthy", s.healthy), ("failing", failing),
               ("not judged", s.not_judged), ("skipped", s.skipped), ("new", len(s.new)), ("dead", len(s.dead)),
               ("fixed", len(s.fixed)), ("empty", s.empty_links),
               # These two count what the table shows: `crawler report` enriches nothing, its rows come from
               # the last export.
               ("filled", sum(1 for r in table_rows for lk in r["links"] if lk["filled"])),
               ("unresolved", s.unresolved),
               ("abstracts", sum(1 for r in table_rows if r["abstract"])))
    summary = "".join(f"<div><dt>{escape(k)}</dt><dd>{int(v)}</dd></div>" for k, v in numbers)
    not_judged, down = _not_judged(report), _sources_down(report)
    heads = "".join(f'<th data-key="{k}" aria-sort="none"><button type="button">{escape(t)}</button></th>'
                    for k, t in COLUMNS)
    legend = "".join(f'<span><span class="key k-{k}"></span>{t}</span>' for k, t in
                     (("ok", "healthy"), ("failing", "failing"), ("dead", "dead"), ("other", "not judged or skipped")))
    lists = ", ".join(s.lists)
    title = f"Link health: {lists}"
    options, count, others = _status_options(table_rows), len(table_rows), _others(report, table_rows)
    payload = _json_for_script(data)
    del data, table_rows  # the page holds them as JSON now: at 20,000 links the rows are tens of megabytes
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="generator" content="crawler {escape(s.version)}">
<title>{escape(title)}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>Link health</h1>
<p><strong>{escape(lists)}</strong> · {escape(_when(s.generated_at))} · {headline}</p>
</header>
<dl class="summary">{summary}</dl>
{not_judged}
<h2>History</h2>
<figure>{chart(report.runs)}
<figcaption class="legend">{legend}</figcaption></figure>
<h2>Paper entries</h2>
<div class="controls">
<input id="q" type="search" placeholder="Filter: title, section, venue, author, URL, abstract…" aria-label="Filter">
<select id="status" aria-label="Status">{options}</select>
<output id="count" aria-live="polite">{count} entries</output>
</div>
<noscript><p>The table needs JavaScript; reports/health.md and health.json hold the same findings.</p></noscript>
<table id="papers">
<thead><tr>{heads}</tr></thead>
<tbody></tbody>
</table>
{others}
{down}
<footer><p class="muted">Made by crawler {escape(s.version)} · machine-readable: health.json ·
the list's entries: papers.json</p></footer>
<script type="application/json" id="crawler-data">{payload}</script>
<script>{script}</script>
</body>
</html>
"""
