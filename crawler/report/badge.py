"""reports/badge.svg: a shields-style flat badge with the share of healthy links ("links | 93% healthy").

The share counts the links the run could judge, healthy or failing: the not judged (`blocked`,
`rate_limited`: they say nothing about the link) and the `skipped` (excluded, non-web, refused private
targets) are left out of it, so a list full of sites that refuse robots is not shown as unhealthy. The
badge's title gives the report's own count, `links = healthy + failing + not judged + skipped`.
"""

from __future__ import annotations

from html import escape

from crawler.report.model import RunReport

LABEL = "links"
# shields.io's colours and thresholds, from the top.
COLOURS = ((100, "#4c1"), (95, "#97ca00"), (90, "#a4a61d"), (80, "#dfb317"), (60, "#fe7d37"), (0, "#e05d44"))
GREY = "#9f9f9f"

# Advance widths of Verdana at 11 px, the font shields measures with; other characters count as WIDE.
_WIDTHS = {
    " ": 3.87, "%": 11.88, ".": 4.0, "-": 4.74, "/": 5.0, ":": 4.0, "(": 4.98, ")": 4.98,
    "a": 6.61, "b": 6.85, "c": 5.73, "d": 6.85, "e": 6.55, "f": 3.87, "g": 6.85, "h": 6.96, "i": 3.02,
    "j": 3.78, "k": 6.51, "l": 3.02, "m": 10.7, "n": 6.96, "o": 6.68, "p": 6.85, "q": 6.85, "r": 4.69,
    "s": 5.73, "t": 4.34, "u": 6.96, "v": 6.51, "w": 9.0, "x": 6.51, "y": 6.51, "z": 5.78,
    **dict.fromkeys("0123456789", 7.0),
}
WIDE = 7.5
PAD = 5  # px either side of a text


def text_width(text: str) -> float:
    return sum(_WIDTHS.get(ch, WIDE) for ch in text)


def share(report: RunReport) -> tuple[int, int]:
    """(healthy, judged) links, from the summary's counts: judged = healthy + failing."""
    s = report.summary
    return s.healthy, s.healthy + s.failing


def colour(percent: int) -> str:
    return next(c for floor, c in COLOURS if percent >= floor)


def message(report: RunReport) -> tuple[str, str, str]:
    """(text on the badge, colour, longer description for its title)."""
    healthy, judged = share(report)
    tally = report.summary.tally()
    if not judged:
        return "no links checked", GREY, f"{LABEL}: none checked; {tally}"
    percent = healthy * 100 // judged  # floor: 999 of 1000 is 99%, never a reassuring 100%
    title = f"{LABEL}: {percent}% healthy ({healthy} of {judged} judged); {tally}"
    return f"{percent}% healthy", colour(percent), title


def render(report: RunReport) -> str:
    text, fill, title = message(report)
    lw = round(text_width(LABEL) + 2 * PAD)
    rw = round(text_width(text) + 2 * PAD)
    width = lw + rw

    def label(x: float, s: str, w: float) -> str:
        # shields' trick: draw at 10x and scale down, with textLength pinning the measured width.
        x10, w10 = round(x * 10), round(w * 10)
        return (f'<text aria-hidden="true" x="{x10}" y="150" fill="#010101" fill-opacity=".3" '
                f'transform="scale(.1)" textLength="{w10}">{escape(s)}</text>'
                f'<text x="{x10}" y="140" transform="scale(.1)" fill="#fff" textLength="{w10}">{escape(s)}</text>')

    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" '
        f'aria-label="{escape(LABEL)}: {escape(text)}">'
        f"<title>{escape(title)}</title>"
        '<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        '<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{lw}" height="20" fill="#555"/>'
        f'<rect x="{lw}" width="{rw}" height="20" fill="{fill}"/>'
        f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
        '<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" '
        'text-rendering="geometricPrecision" font-size="110">'
        f"{label(lw / 2, LABEL, text_width(LABEL))}{label(lw + rw / 2, text, text_width(text))}"
        "</g></svg>\n"
    )
