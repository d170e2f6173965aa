"""reports/badge.svg: the share of healthy links, shields-style."""

import re
import xml.etree.ElementTree as ET

import pytest

from crawler.models import LinkStatus
from crawler.report import badge
from crawler.report.model import RunReport, Summary

SVG = "{http://www.w3.org/2000/svg}"


def report(**counts):
    """A report whose summary counts these statuses the way build_report does."""
    by = {LinkStatus(k): n for k, n in counts.items()}
    rows = {s: n for s, n in by.items() if s is not LinkStatus.EMPTY}
    return RunReport(Summary(
        counts=by, distinct_urls=sum(rows.values()),
        healthy=sum(n for s, n in rows.items() if s.is_healthy),
        failing=sum(n for s, n in rows.items() if s.is_failure),
        not_judged=sum(n for s, n in rows.items() if not s.is_judged and s is not LinkStatus.SKIPPED),
        skipped=by.get(LinkStatus.SKIPPED, 0)), links=())


def parsed(svg: str):
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iter(f"{SVG}text")]
    fills = [r.get("fill") for r in root.iter(f"{SVG}rect")]
    return root, texts, fills


def test_all_healthy_is_bright_green_and_says_so():
    root, texts, fills = parsed(badge.render(report(ok=11, redirected=2, empty=4)))
    assert texts == ["links", "links", "100% healthy", "100% healthy"]  # shadow, then text
    assert fills[1:3] == ["#555", "#4c1"]
    assert root.get("aria-label") == "links: 100% healthy"
    assert root.find(f"{SVG}title").text == (
        "links: 100% healthy (13 of 13 judged); 13 links: 13 healthy, 0 failing, 0 not judged, 0 skipped")


@pytest.mark.parametrize(("ok", "broken", "text", "colour"), [
    (999, 1, "99% healthy", "#97ca00"),  # floor: one dead link in a thousand is not "100%"
    (95, 5, "95% healthy", "#97ca00"),
    (90, 10, "90% healthy", "#a4a61d"),
    (85, 15, "85% healthy", "#dfb317"),
    (70, 30, "70% healthy", "#fe7d37"),
    (1, 9, "10% healthy", "#e05d44"),
])
def test_share_and_colour(ok, broken, text, colour):
    _, texts, fills = parsed(badge.render(report(ok=ok, broken=broken)))
    assert texts[2] == text and fills[2] == colour


def test_links_that_cannot_be_judged_are_left_out_and_said_so():
    svg = badge.render(report(ok=8, timeout=2, blocked=5, skipped=3))
    root, texts, _ = parsed(svg)
    assert texts[2] == "80% healthy"  # 8 of the 10 judged
    assert root.find(f"{SVG}title").text == (
        "links: 80% healthy (8 of 10 judged); 18 links: 8 healthy, 2 failing, 5 not judged, 3 skipped")


def test_no_links_is_grey():
    _, texts, fills = parsed(badge.render(report(empty=3)))
    assert texts[2] == "no links checked" and fills[2] == badge.GREY


def test_width_follows_the_text():
    narrow = ET.fromstring(badge.render(report(ok=1, broken=9)))
    wide = ET.fromstring(badge.render(report(ok=1)))
    assert int(wide.get("width")) > int(narrow.get("width"))  # "100%" is wider than "10%"
    lw = badge.text_width("links") + 2 * badge.PAD
    assert re.search(rf'<rect width="{round(lw)}" height="20" fill="#555"/>', badge.render(report(ok=1)))

