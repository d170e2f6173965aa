"""reports/health.md: a summary readable in thirty seconds, then the problems with line numbers."""

from __future__ import annotations

import re
from datetime import UTC, datetime

ORDER = ("broken", "wrong_paper", "invalid", "unreachable", "timeout", "server_error", "rate_limited",
         "blocked", "redirected", "skipped")
HEADINGS = {
    "broken": "Broken", "wrong_paper": "Link to the wrong paper", "invalid": "Invalid URLs",
    "unreachable": "Unreachable", "timeout": "Timed out", "server_error": "Server errors",
    "rate_limited": "Rate limited", "blocked": "Blocked (bot or login wall: cannot judge)",
    "redirected": "Permanently redirected (update the link)", "skipped": "Skipped",
}
QUIET_SKIPS = ("in-page", "relative", "not a web link")  # expected skips: counted, not listed
MAX_ROWS = 200  # per table; the JSON report has everything


def escape(text: object) -> str:
    """Untrusted text inside a Markdown table cell: no markup, no HTML, no breaking the table."""
    s = re.sub(r"\s+", " ", str(text)).strip()
    s = s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    # `:` `.` `@` too: GitHub turns a bare https://…, www.… or name@host into a link otherwise.
    return re.sub(r"([\\`*_{}\[\]()#+!|~:.@])", r"\\\1", s)


def code(text: object) -> str:
    s = re.sub(r"\s+", " ", str(text)).replace("`", "'").replace("|", "%7C")
    return f"`{s}`"


def render(report: dict) -> str:
    s = report["summary"]
    when = datetime.fromtimestamp(s["generated_at"], tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = ["# Link health", ""]
    verdict = f"{s['failing']} of {s['distinct_urls']} links need attention" if s["failing"] else "all links healthy"
    out.append(f"**{escape(s['list'])}** · {when} · {verdict}")
    out.append("")
    out.append("| links | healthy | failing | new | dead | fixed | empty | filled | unresolved | abstracts |")
    out.append("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    out.append(
        f"| {s['distinct_urls']} | {s['healthy']} | {s['failing']} | {len(s['new'])} | {len(s['dead'])} | "
        f"{len(s['fixed'])} | {s['empty_links']} | {s['fills']} | {s['unresolved']} | {s['abstracts']} |"
    )
    out.append("")
    out.append("By status: " + ", ".join(f"{k} {v}" for k, v in sorted(s["counts"].items(), key=lambda kv: -kv[1])))
    if s.get("not_judged"):
        out.append("")
        out.append(f"{s['not_judged']} could not be judged (bot wall or rate limit): not failures, never dead.")
    for state in s.get("sources", []):
        if state["state"] == "unavailable":
            what = state["source"] + (f" {state['scope']}" if state["scope"] else "")
            out.append("")
            out.append(f"> **{escape(what)} was unavailable** ({escape(state['reason'] or 'no reason given')}): "
                       "nothing that depends on it was judged this run.")
    for label, key in (("Dead", "dead"), ("New failures", "new"), ("Fixed", "fixed")):
        if s[key]:
            out.append("")
            out.append(f"**{label}:** " + ", ".join(code(u) for u in s[key][:20]) + (" …" if len(s[key]) > 20 else ""))
    by_status: dict[str, list[dict]] = {}
    for lo in report["links"]:
        by_status.setdefault(lo["status"], []).append(lo)
    for status in ORDER:
        rows = by_status.get(status)
        if status == "skipped":
            rows = [r for r in rows or () if not (r["error"] or "").startswith(QUIET_SKIPS)]
        if not rows:
            continue
        out += ["", f"## {HEADINGS[status]} ({len(rows)})", "", "| line | entry | link | problem | suggestion |",
                "|---|---|---|---|---|"]
        for lo in sorted(rows, key=lambda r: r["lines"][0])[:MAX_ROWS]:
            flags = " **dead**" if lo["dead"] else (" *new*" if lo["new"] else "")
            lines = ", ".join(str(n) for n in lo["lines"])
            entry = escape(lo["entries"][0]) if lo["entries"] else ""
            out.append(f"| {lines} | {entry} | {code(lo['url'])} | {escape(lo['error'] or lo['status'])}{flags} | "
                       f"{code(lo['suggestion']) if lo['suggestion'] else ''} |")
        if len(rows) > MAX_ROWS:
            out.append(f"\n… {len(rows) - MAX_ROWS} more in health.json")
    noted = [lo for lo in report["links"] if lo.get("note")]
    if noted:
        out += ["", f"## Notes ({len(noted)}): working links worth a look", "",
                "| line | entry | link | note | suggestion |", "|---|---|---|---|---|"]
        for lo in sorted(noted, key=lambda r: r["lines"][0])[:MAX_ROWS]:
            entry = escape(lo["entries"][0]) if lo["entries"] else ""
            out.append(f"| {', '.join(str(n) for n in lo['lines'])} | {entry} | {code(lo['url'])} | "
                       f"{escape(lo['note'])} | {code(lo['suggestion']) if lo['suggestion'] else ''} |")
    if report["fills"]:
        out += ["", f"## Filled ({len(report['fills'])})", "",
                "| line | entry | url | source | confidence | matched title |", "|---|---|---|---|---:|---|"]
        for f in report["fills"]:
            out.append(f"| {f['line']} | {escape(f['entry'])} | {code(f['url'])} | {escape(f['source'])} | "
                       f"{f['confidence']:.2f} | {escape(f['matched_title'])} |")
    if report["unresolved"]:
        out += ["", f"## Left empty ({len(report['unresolved'])})", "", "| line | entry | why | best candidates |",
                "|---|---|---|---|"]
        for u in report["unresolved"]:
            cands = "; ".join(f"{escape(c.get('title', ''))} ({c.get('score', 0):.2f})" for c in u["candidates"][:3])
            out.append(f"| {u['line']} | {escape(u['entry'])} | {escape(u['reason'])} | {cands} |")
    pending = [e for e in report.get("empty", []) if e["line"] in set(s.get("empty_unfilled_lines", []))]
    if pending and not report["unresolved"]:
        out += ["", f"## Empty links ({len(pending)})", ""]
        out += [f"- line {e['line']}: {escape(e['entry'] or e['label'])}" for e in pending]
    out.append("")
    return "\n".join(out)
