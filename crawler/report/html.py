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

from crawler.links import url_key
from crawler.models import LinkStatus

# Worst first: a row sorts and filters by its worst link. "dead" is a flag on a failing link, ranked first.
SEVERITY = ("dead", "broken", "wrong_paper", "invalid", "unreachable", "timeout", "server_error", "rate_limited",
            "blocked", "empty", "redirected", "filled", "unknown", "skipped", "ok")
RANK = {s: i for i, s in enumerate(SEVERITY)}
FAILURES = frozenset(s.value for s in LinkStatus if s.is_failure)  # blocked and rate limited: not judged
ATTENTION = FAILURES | {"empty", "redirected"}
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


def rows(report: dict, papers: list[dict]) -> list[dict]:
    """One row per paper entry, its links joined with the report's verdicts (fresher than the export's)."""
    by_key: dict[str, dict] = {}
    for lo in report.get("links", []):
        by_key.setdefault(lo.get("key") or url_key(lo["url"]), lo)
    out = []
    for p in papers:
        links = []
        for lk in p.get("links", []):
            url = lk.get("url") or ""
            filled = lk.get("status") == "filled"
            verdict = by_key.get(url_key(url)) if url else None
            status = verdict["status"] if verdict else (lk.get("status") or "unknown")
            links.append({
                "label": lk.get("label") or "", "url": url, "href": safe_href(url), "status": status,
                "filled": filled,
                "http": verdict.get("http_status") if verdict else None,
                "error": verdict.get("error") if verdict else None,
                "suggestion": verdict.get("suggestion") if verdict else None,
                "suggestion_href": safe_href(verdict.get("suggestion")) if verdict else None,
                "dead": bool(verdict and verdict.get("dead")), "new": bool(verdict and verdict.get("new")),
            })
        tags = {lk["status"] for lk in links}
        tags |= {"filled" for lk in links if lk["filled"]}
        tags |= {"dead" for lk in links if lk["dead"]} | {"new" for lk in links if lk["new"]}
        if tags & ATTENTION or "dead" in tags:
            tags.add("attention")
        if not p.get("abstract"):
            tags.add("no-abstract")
        worst = min((("dead" if lk["dead"] else lk["status"]) for lk in links),
                    key=lambda s: RANK.get(s, RANK["unknown"]), default="unknown")
        out.append({
            "line": p.get("line"), "section": p.get("section") or "", "title": p.get("title") or "",
            "venue": p.get("venue") or "", "year": p.get("year"),
            "authors": list(p.get("authors") or []), "arxiv_id": p.get("arxiv_id"),
            "abstract": p.get("abstract") or "", "abstract_source": p.get("abstract_source") or "",
            "links": links, "worst": worst, "rank": RANK.get(worst, RANK["unknown"]), "tags": sorted(tags),
        })
    return out


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


def chart(runs: list[dict]) -> str:
    """Inline SVG: one stacked bar per run (healthy, failing, dead, not judged); no script, no fetch."""
    runs = list(runs)[-CHART_RUNS:]
    head = (f'<svg id="history" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_W} {CHART_H}" '
            f'width="{CHART_W}" height="{CHART_H}" role="img" aria-labelledby="history-title">')
    if not runs:
        return (head + '<title id="history-title">Link health over past runs: no runs recorded yet</title>'
                f'<text x="{CHART_W // 2}" y="{CHART_H // 2}" text-anchor="middle" class="muted">'
                "No run history yet: the chart fills in as `crawler run` runs.</text></svg>")
    top = max(max(int(r.get("total") or 0) for r in runs), 1)
    plot_w, plot_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B
    slot = plot_w / max(len(runs), 30)  # a short history grows from the left, bars keep their width
    bar = max(min(slot * 0.8, 28.0), 1.0)
    parts = [head, f'<title id="history-title">Link health over the last {len(runs)} run(s)</title>']
    base_y = PAD_T + plot_h
    parts.append(f'<line x1="{PAD_L}" y1="{base_y}" x2="{CHART_W - PAD_R}" y2="{base_y}" class="axis"/>')
    parts.append(f'<text x="{PAD_L - 6}" y="{PAD_T + 10}" text-anchor="end" class="muted">{top}</text>')
    parts.append(f'<text x="{PAD_L - 6}" y="{base_y}" text-anchor="end" class="muted">0</text>')
    for i, r in enumerate(runs):
        total = int(r.get("total") or 0)
        healthy = int(r.get("ok") or 0)
        failing = int(r.get("failing") or 0)
        dead = min(int(r.get("dead") or 0), failing)
        segments = (("ok", healthy), ("failing", failing - dead), ("dead", dead),
                    ("other", max(total - healthy - failing, 0)))
        x = PAD_L + i * slot + (slot - bar) / 2
        y = float(base_y)
        label = (f"{_when(r.get('started_at'))} · {escape(str(r.get('command') or ''))}: {total} links, "
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
    first, last = _when(runs[0].get("started_at"))[:10], _when(runs[-1].get("started_at"))[:10]
    parts.append(f'<text x="{PAD_L}" y="{CHART_H - 8}" class="muted">{escape(first)}</text>')
    if len(runs) > 1:
        parts.append(f'<text x="{CHART_W - PAD_R}" y="{CHART_H - 8}" text-anchor="end" class="muted">'
                     f"{escape(last)}</text>")
    parts.append("</svg>")
    return "".join(parts)


# -- the page --------------------------------------------------------------------------------------
STYLE = """
:root{color-scheme:light dark;--fg:#1f2328;--muted:#656d76;--bg:#fff;--line:#d0d7de;--head:#f6f8fa;
--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--info:#0969da}
@media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--muted:#8d96a0;--bg:#0d1117;--line:#30363d;
--head:#161b22;--ok:#3fb950;--warn:#d29922;--bad:#f85149;--info:#4493f8}}
*{box-sizing:border-box}
body{margin:0 auto;max-width:1400px;padding:1rem 1.5rem 3rem;font:14px/1.45 system-ui,-apple-system,"Segoe UI",
Helvetica,Arial,sans-serif;color:var(--fg);background:var(--bg)}
h1{font-size:1.5rem;margin:.2rem 0}h2{font-size:1.15rem;margin:1.6rem 0 .5rem}
.muted{color:var(--muted);fill:var(--muted);font-size:12px}
.verdict{font-weight:600}.verdict.bad{color:var(--bad)}.verdict.good{color:var(--ok)}
dl.summary{display:flex;flex-wrap:wrap;gap:.5rem;margin:1rem 0}
dl.summary div{border:1px solid var(--line);border-radius:6px;padding:.35rem .7rem;min-width:6.5rem}
dl.summary dt{color:var(--muted);font-size:12px}dl.summary dd{margin:0;font-size:1.25rem;font-weight:600}
figure{margin:0}svg#history{max-width:100%;height:auto}svg .axis{stroke:var(--line)}
.legend>span{margin-right:1rem;font-size:12px}.legend .key{display:inline-block;width:.8em;height:.8em;
margin-right:.3em;border-radius:2px;vertical-align:-1px}
.k-ok{background:#2da44e}.k-failing{background:#d4a72c}.k-dead{background:#cf222e}.k-other{background:#8c959f}
.controls{display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;margin:1rem 0 .6rem;position:sticky;top:0;
background:var(--bg);padding:.4rem 0;z-index:1}
.controls input{flex:1 1 22rem;max-width:40rem}
.controls input,.controls select{font:inherit;padding:.35rem .5rem;border:1px solid var(--line);border-radius:6px;
background:var(--bg);color:var(--fg)}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
thead th{background:var(--head);position:sticky;top:3.1rem}
th{white-space:nowrap}
th button{font:inherit;font-weight:600;background:none;border:0;color:inherit;cursor:pointer;padding:0}
th[aria-sort=ascending] button::after{content:" \\25B2"}th[aria-sort=descending] button::after{content:" \\25BC"}
td.num{text-align:right;font-variant-numeric:tabular-nums;color:var(--muted)}
td.title{min-width:18rem;font-weight:500}td.links{min-width:16rem}td.abstract{min-width:16rem;max-width:38rem}
.authors{display:block;color:var(--muted);font-weight:400;font-size:12px}
ul.links{list-style:none;margin:0;padding:0}ul.links li{margin:.1rem 0;overflow-wrap:anywhere}
.st{display:inline-block;font-size:11px;font-weight:600;border-radius:1em;padding:0 .5em;margin-left:.35em;
border:1px solid currentColor;white-space:nowrap}
.st-ok{color:var(--ok)}.st-redirected,.st-filled{color:var(--info)}
.st-blocked,.st-skipped,.st-unknown,.st-empty,.st-rate_limited,.st-timeout,.st-server_error,.st-unreachable
{color:var(--warn)}
.st-broken,.st-wrong_paper,.st-invalid,.st-dead{color:var(--bad)}
.why{display:block;color:var(--muted);font-size:12px}
details summary{cursor:pointer;color:var(--info)}details p{margin:.3rem 0;white-space:pre-line}
tr.empty-note td{color:var(--muted);text-align:center;padding:1.5rem}
"""

SCRIPT = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("crawler-data").textContent);
  var rows = data.rows;
  var table = document.getElementById("papers");
  var tbody = table.tBodies[0];
  var box = document.getElementById("q");
  var pick = document.getElementById("status");
  var count = document.getElementById("count");
  var sortKey = "line", sortDir = 1;

  function node(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function anchor(href, text) {
    // Only http(s): the server already dropped anything else, and this checks again.
    if (typeof href !== "string" || !/^https?:\/\//i.test(href)) return node("span", null, text);
    var a = node("a", null, text);
    a.href = href;
    a.rel = "noopener noreferrer nofollow";
    return a;
  }
  function badge(status) {
    return node("span", "st st-" + status.replace(/[^a-z_]/g, ""), data.labels[status] || status);
  }
  function linksCell(r) {
    var ul = node("ul", "links");
    r.links.forEach(function (l) {
      var li = node("li");
      li.appendChild(l.url ? anchor(l.href, l.label || l.url) : node("span", null, l.label));
      li.appendChild(badge(l.status));
      if (l.filled && l.status !== "filled") li.appendChild(badge("filled"));
      if (l.dead) li.appendChild(badge("dead")); else if (l.new) li.appendChild(badge("new"));
      var why = [];  // what went wrong; a working link needs no explanation
      if (["ok", "redirected", "filled"].indexOf(l.status) < 0) {
        if (l.http) why.push("HTTP " + l.http);
        if (l.error) why.push(l.error);
      }
      if (why.length) li.appendChild(node("span", "why", why.join(": ")));
      if (l.suggestion) {
        var s = node("span", "why", "suggested: ");
        s.appendChild(anchor(l.suggestion_href, l.suggestion));
        li.appendChild(s);
      }
      li.title = l.url;
      ul.appendChild(li);
    });
    return ul;
  }
  function build(r) {
    var tr = node("tr");
    tr.setAttribute("data-line", r.line);
    tr.appendChild(node("td", "num", r.line));
    tr.appendChild(node("td", "section", r.section));
    var t = node("td", "title", r.title);
    if (r.authors.length) {
      var names = r.authors.length > 8 ? r.authors.slice(0, 8).join(", ") + ", et al." : r.authors.join(", ");
      t.appendChild(node("span", "authors", names));
    }
    tr.appendChild(t);
    tr.appendChild(node("td", "venue", r.venue));
    tr.appendChild(node("td", "num", r.year === null ? "" : r.year));
    var lc = node("td", "links");
    lc.appendChild(linksCell(r));
    tr.appendChild(lc);
    var ac = node("td", "abstract");
    if (r.abstract) {
      var d = node("details");
      d.appendChild(node("summary", null, "Abstract" + (r.abstract_source ? " (" + r.abstract_source + ")" : "")));
      d.appendChild(node("p", null, r.abstract));
      ac.appendChild(d);
    } else {
      ac.appendChild(node("span", "muted", "none"));
    }
    tr.appendChild(ac);
    return tr;
  }
  rows.forEach(function (r) {
    r.tr = build(r);
    r.hay = [r.title, r.section, r.venue, r.year, r.authors.join(" "), r.arxiv_id || "", r.abstract,
             r.links.map(function (l) { return l.label + " " + l.url + " " + l.status; }).join(" ")]
            .join(" ").toLowerCase();
  });

  var keys = {
    line: function (r) { return r.line; }, section: function (r) { return r.section.toLowerCase(); },
    title: function (r) { return r.title.toLowerCase(); }, venue: function (r) { return r.venue.toLowerCase(); },
    year: function (r) { return r.year === null ? -1 : r.year; }, links: function (r) { return r.rank; },
    abstract: function (r) { return r.abstract ? 0 : 1; }
  };
  function compare(a, b) {
    var ka = keys[sortKey](a), kb = keys[sortKey](b);
    if (ka < kb) return -sortDir;
    if (ka > kb) return sortDir;
    return a.line - b.line;
  }
  function render() {
    var terms = box.value.toLowerCase().split(/\s+/).filter(Boolean);
    var tag = pick.value, shown = 0;
    rows.slice().sort(compare).forEach(function (r) {
      var ok = (!tag || r.tags.indexOf(tag) >= 0) &&
               terms.every(function (w) { return r.hay.indexOf(w) >= 0; });
      r.tr.hidden = !ok;
      if (ok) shown++;
      tbody.appendChild(r.tr);
    });
    count.textContent = shown + " of " + rows.length + " entries";
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.setAttribute("aria-sort", th.getAttribute("data-key") === sortKey ?
        (sortDir > 0 ? "ascending" : "descending") : "none");
    });
  }
  function writeHash() {
    var p = new URLSearchParams();
    if (box.value) p.set("q", box.value);
    if (pick.value) p.set("status", pick.value);
    if (sortKey !== "line" || sortDir !== 1) p.set("sort", (sortDir < 0 ? "-" : "") + sortKey);
    var h = p.toString();
    try { history.replaceState(null, "", h ? "#" + h : location.pathname + location.search); } catch (e) { /* file: */ }
  }
  function readHash() {
    var p = new URLSearchParams(location.hash.replace(/^#/, ""));
    box.value = p.get("q") || "";
    var st = p.get("status") || "";
    pick.value = Array.prototype.some.call(pick.options, function (o) { return o.value === st; }) ? st : "";
    var s = p.get("sort") || "line";
    sortDir = s.charAt(0) === "-" ? -1 : 1;
    sortKey = keys[s.replace(/^-/, "")] ? s.replace(/^-/, "") : "line";
    render();
  }
  box.addEventListener("input", function () { render(); writeHash(); });
  pick.addEventListener("change", function () { render(); writeHash(); });
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var b = th.querySelector("button");
    if (!b) return;
    b.addEventListener("click", function () {
      var k = th.getAttribute("data-key");
      sortDir = k === sortKey ? -sortDir : 1;
      sortKey = k;
      render();
      writeHash();
    });
  });
  window.addEventListener("hashchange", readHash);
  if (!rows.length) {
    var tr = node("tr", "empty-note"), td = node("td", null, data.empty_note);
    td.colSpan = 7;
    tr.appendChild(td);
    tbody.appendChild(tr);
  }
  readHash();
  document.documentElement.setAttribute("data-ready", "1");
})();
"""

COLUMNS = (("line", "#"), ("section", "Section"), ("title", "Title"), ("venue", "Venue"), ("year", "Year"),
           ("links", "Links"), ("abstract", "Abstract"))


def _status_options(table_rows: list[dict]) -> str:
    counts: dict[str, int] = {}
    for r in table_rows:
        for t in r["tags"]:
            counts[t] = counts.get(t, 0) + 1
    order = ["attention", "dead", "new", *[s for s in SEVERITY if s != "dead"], "no-abstract"]
    opts = [f'<option value="">all entries ({len(table_rows)})</option>']
    for tag in order:
        if counts.get(tag):
            opts.append(f'<option value="{escape(tag)}">{escape(LABELS.get(tag, tag))} ({counts[tag]})</option>')
    return "".join(opts)


def _others(report: dict, table_rows: list[dict]) -> str:
    """Failing or moved links outside any paper entry: the table above would hide them."""
    in_rows = {url_key(lk["url"]) for r in table_rows for lk in r["links"] if lk["url"]}
    rest = [lo for lo in report.get("links", [])
            if (lo.get("key") or url_key(lo["url"])) not in in_rows and lo["status"] in FAILURES | {"redirected"}]
    if not rest:
        return ""
    out = [f"<h2>Other links that need attention ({len(rest)})</h2>",
           "<table><thead><tr><th>Line</th><th>Link</th><th>Status</th><th>Problem</th><th>Suggestion</th>"
           "</tr></thead><tbody>"]
    for lo in sorted(rest, key=lambda lo: lo["lines"][0] if lo.get("lines") else 0):
        flag = " dead" if lo.get("dead") else (" new" if lo.get("new") else "")
        problem = lo.get("error") or (f"HTTP {lo['http_status']}" if lo.get("http_status") else "")
        out.append(
            f'<tr><td class="num">{escape(", ".join(str(n) for n in lo.get("lines", [])))}</td>'
            f'<td>{_link(lo["url"])}</td><td><span class="st st-{escape(lo["status"])}">'
            f"{escape(LABELS.get(lo['status'], lo['status']))}{escape(flag)}</span></td>"
            f"<td>{escape(problem)}</td><td>{_link(lo['suggestion']) if lo.get('suggestion') else ''}</td></tr>")
    out.append("</tbody></table>")
    return "".join(out)


def render(report: dict, papers: list[dict]) -> str:
    s = report["summary"]
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
    failing = s.get("failing", 0)
    verdict = (f'<span class="verdict bad">{failing} of {s.get("distinct_urls", 0)} links need attention</span>'
               if failing else '<span class="verdict good">all links healthy</span>')
    numbers = (("links", s.get("distinct_urls", 0)), ("healthy", s.get("healthy", 0)), ("failing", failing),
               ("new", len(s.get("new", []))), ("dead", len(s.get("dead", []))),
               ("fixed", len(s.get("fixed", []))), ("empty", s.get("empty_links", 0)),
               # These two count what the table shows: `crawler report` enriches nothing, its rows come from
               # the last export.
               ("filled", sum(1 for r in table_rows for lk in r["links"] if lk["filled"])),
               ("unresolved", s.get("unresolved", 0)),
               ("abstracts", sum(1 for r in table_rows if r["abstract"])))
    summary = "".join(f"<div><dt>{escape(k)}</dt><dd>{int(v)}</dd></div>" for k, v in numbers)
    unavailable = "".join(
        f"<p><strong>{escape(st['source'] + (' ' + st['scope'] if st['scope'] else ''))} was unavailable</strong> "
        f"({escape(st['reason'] or 'no reason given')}): nothing that depends on it was judged this run.</p>"
        for st in s.get("sources", []) if st["state"] == "unavailable")
    heads = "".join(f'<th data-key="{k}" aria-sort="none"><button type="button">{escape(t)}</button></th>'
                    for k, t in COLUMNS)
    legend = "".join(f'<span><span class="key k-{k}"></span>{t}</span>' for k, t in
                     (("ok", "healthy"), ("failing", "failing"), ("dead", "dead"), ("other", "not judged")))
    title = f"Link health: {s.get('list', '')}"
    return f"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{csp}">
<meta name="generator" content="crawler {escape(str(s.get('version', '')))}">
<title>{escape(title)}</title>
<style>{style}</style>
</head>
<body>
<header>
<h1>Link health</h1>
<p><strong>{escape(str(s.get('list', '')))}</strong> · {escape(_when(s.get('generated_at')))} · {verdict}</p>
</header>
<dl class="summary">{summary}</dl>
{unavailable}
<h2>History</h2>
<figure>{chart(report.get('runs', []))}
<figcaption class="legend">{legend}</figcaption></figure>
<h2>Paper entries</h2>
<div class="controls">
<input id="q" type="search" placeholder="Filter: title, section, venue, author, URL, abstract…" aria-label="Filter">
<select id="status" aria-label="Status">{_status_options(table_rows)}</select>
<output id="count" aria-live="polite">{len(table_rows)} entries</output>
</div>
<noscript><p>The table needs JavaScript; reports/health.md and health.json hold the same findings.</p></noscript>
<table id="papers">
<thead><tr>{heads}</tr></thead>
<tbody></tbody>
</table>
{_others(report, table_rows)}
<footer><p class="muted">Made by crawler {escape(str(s.get('version', '')))} · machine-readable: health.json ·
the list's entries: papers.json</p></footer>
<script type="application/json" id="crawler-data">{_json_for_script(data)}</script>
<script>{script}</script>
</body>
</html>
"""
