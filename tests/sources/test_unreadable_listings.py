"""What a run does with a venue listing it cannot read: the markup canary, and the nights before arXiv.

A listing page that answered but parses to no papers is reported in one line as a site whose markup may
have changed, and nothing is judged, filled or cached against it. An entry whose listing stays unreadable
waits, night after night, until `fallback-after` nights in a row (3) have passed; then it is searched on
arXiv like an entry of a venue no source hosts, and its fill says why. Nights come from an injected clock.
"""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from crawler.checking.authorities import judged_as_papers
from crawler.errors import SourceUnavailable
from crawler.listfile.parse import parse_list
from crawler.models import CheckResult, LinkStatus, PaperMeta
from crawler.papers.enrich import Enricher
from crawler.pipeline import _group
from crawler.report.markdown import render
from crawler.report.model import build_report
from crawler.sources.base import Claim, PaperRef, PaperSource
from crawler.sources.gateway import SourceSet
from crawler.sources.neurips import NeuripsSource
from crawler.sources.nights import night_of
from crawler.store.cache import Store
from tests import paths
from tests.fakes.web import InProcess, Reply

WEEK = 7 * 86400.0
DAY = 86400.0
NIGHT_1 = 1_800_000_000.0  # 2027-01-15, 08:00 UTC
YEAR_PAGE = paths.FIXTURES / "neurips" / "recorded" / "2024.html"
PAPER = "https://proceedings.neurips.cc/paper_files/paper/2024/hash/00295cede6e1600d344b5cd6d9fd4640-Abstract-Conference.html"


# --- the markup canary ----------------------------------------------------------------------------------


def test_a_listing_with_changed_markup_is_one_warning_and_judges_nothing(caplog):
    # The recorded NeurIPS 2024 year page after a redesign that renamed its paper list.
    changed = YEAR_PAGE.read_text(encoding="utf-8").replace('class="paper-list"', 'class="paper-grid"')
    text = (f"# Papers\n- Synthetic title 2. NeurIPS 2024. [[paper]]({PAPER})\n"
            "- Synthetic title 1. NeurIPS 2024. [[paper]]()\n")
    parsed = parse_list(text).in_file("list.md")
    store = Store(":memory:")

    async def main():
        transport = InProcess(Reply(200, changed.encode(), {"Content-Type": "text/html; charset=utf-8"}))
        async with httpx.AsyncClient(transport=transport) as client:
            sources = SourceSet([NeuripsSource(client)], store, now=NIGHT_1, max_age=WEEK)
            (gateway,) = sources.papers
            loaded = {PAPER: CheckResult(url=PAPER, status=LinkStatus.OK, http_status=200)}
            claim = Claim(PAPER, PAPER, tuple(e for e in parsed.entries if e.links[0].url))
            verdicts = await judged_as_papers(gateway, [claim], loaded)
            return verdicts, await Enricher(sources).enrich(parsed, loaded), sources

    with caplog.at_level(logging.WARNING, logger="crawler"):
        verdicts, enrichment, sources = asyncio.run(main())
    assert verdicts == {}  # the loaded link keeps its own check: no verdict from a listing that is not there
    (warning,) = [r.getMessage() for r in caplog.records if "markup" in r.getMessage()]
    assert warning == ("neurips (NeurIPS 2024) unavailable: the markup of "
                       "https://proceedings.neurips.cc/paper_files/paper/2024 may have changed: no papers on it")
    (state,) = sources.states.unavailable()
    assert (state.source, state.scope) == ("neurips", "NeurIPS 2024")
    assert not enrichment.fills  # the empty link waits: not filled, not searched
    (waiting,) = enrichment.unresolved
    assert waiting.reason.startswith("neurips NeurIPS 2024 unavailable: the markup of") and "nothing guessed" in (
        waiting.reason)
    assert store.lookup("neurips-listing:NeurIPS2024", NIGHT_1, WEEK) is None  # nothing cached as an answer
    assert not store.papers([f"neurips:{PAPER}"])


# --- nights before arXiv ---------------------------------------------------------------------------------

MOCO = "Momentum Contrast for Unsupervised Visual Representation Learning"
LIST = f"# Papers\n### {MOCO} CVPR 2020 [[paper]]()\n"
MOCO_ARXIV = PaperMeta(source="arxiv", title=MOCO, url="https://arxiv.org/abs/1911.05722", year=2019,
                       authors=("Kaiming He", "Haoqi Fan"), arxiv_id="1911.05722")
MOCO_CVF = PaperMeta(source="venue", title=MOCO, url="https://venue.example/2020/moco", year=2020, venue="CVPR",
                     authors=("Kaiming He", "Haoqi Fan"))


class Venue(PaperSource):
    """A CVPR site whose 2020 listing answers only on the nights the test says."""

    name = "venue"
    venues = frozenset({"CVPR"})

    def __init__(self, readable: bool, *, whole: bool = False):
        self.readable = readable
        self.whole = whole

    def ref(self, url: str) -> PaperRef | None:
        return None

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        return None

    def lists(self, venue: str, year: int) -> bool:
        return venue == "CVPR"

    async def listing(self, venue: str, year: int) -> list[PaperMeta] | None:
        if self.readable:
            return [MOCO_CVF]
        if self.whole:
            raise SourceUnavailable(self.name, "blocked (HTTP 403) at https://venue.example/CVPR2020")
        raise SourceUnavailable(self.name, "the markup of https://venue.example/CVPR2020 may have changed: no "
                                "papers on it", scope=f"{venue} {year}")


class Arxiv(PaperSource):
    name = "arxiv"
    searches = True

    def __init__(self):
        self.asked: list[str] = []

    def ref(self, url: str) -> PaperRef | None:
        return None  # it only searches titles

    async def lookup(self, ref: PaperRef) -> PaperMeta | None:
        return None

    async def search(self, titles):
        self.asked.extend(titles)
        return {t: [MOCO_ARXIV] for t in titles if t.lower() == MOCO.lower()}


def night(store: Store, now: float, readable: bool = False, *, whole: bool = False, fallback_after: int = 3):
    arxiv = Arxiv()
    sources = SourceSet([arxiv, Venue(readable, whole=whole)], store, now=now, max_age=0.0,
                        fallback_after=fallback_after)
    parsed = parse_list(LIST).in_file("list.md")
    return asyncio.run(Enricher(sources).enrich(parsed, {})), arxiv


@pytest.mark.parametrize("whole", [False, True], ids=["its venue-year", "the whole site"])
def test_an_entry_waits_two_nights_and_is_filled_from_arxiv_on_the_third(tmp_path, whole):
    store = Store(tmp_path / "cache.db")
    for n, now in enumerate((NIGHT_1, NIGHT_1 + DAY), start=1):
        enrichment, arxiv = night(store, now, whole=whole)
        (waiting,) = enrichment.unresolved
        assert not enrichment.fills and arxiv.asked == []  # nothing guessed, arXiv not even asked
        assert waiting.reason.endswith(f"(nothing guessed; night {n} of 3 before arXiv)")
    enrichment, arxiv = night(store, NIGHT_1 + 2 * DAY, whole=whole)
    (fill,) = enrichment.fills
    assert (fill.source, fill.url) == ("arxiv", MOCO_ARXIV.url) and not enrichment.unresolved
    label = "venue" if whole else "venue CVPR 2020"
    assert fill.note.startswith(f"{label} unavailable: ") and fill.note.endswith(
        "(3 nights in a row: searched arXiv instead)")

    # The report says why, next to the fill.
    parsed = parse_list(LIST).in_file("list.md")
    report = build_report("run", ("list.md",), parsed, _group(parsed), {}, {}, enrichment, NIGHT_1 + 2 * DAY)
    assert f"arxiv: {label} unavailable" in render(report)
    assert report.to_json()["fills"][0]["note"] == fill.note


def test_runs_in_one_night_count_once_and_nights_without_a_run_do_not_break_the_streak(tmp_path):
    store = Store(tmp_path / "cache.db")
    assert night_of(NIGHT_1) == "2027-01-15" and night_of(NIGHT_1 + 15 * 3600) == "2027-01-15"
    for now in (NIGHT_1, NIGHT_1 + 3600, NIGHT_1 + 15 * 3600):  # three runs, one night (UTC)
        enrichment, _ = night(store, now)
        assert enrichment.unresolved[0].reason.endswith("night 1 of 3 before arXiv)")
    enrichment, _ = night(store, NIGHT_1 + 3 * DAY)  # two nights without a run
    assert enrichment.unresolved[0].reason.endswith("night 2 of 3 before arXiv)")


def test_a_night_the_listing_is_read_ends_the_streak(tmp_path):
    store = Store(tmp_path / "cache.db")
    night(store, NIGHT_1)
    night(store, NIGHT_1 + DAY)
    enrichment, _ = night(store, NIGHT_1 + 2 * DAY, readable=True)
    assert [(f.source, f.note) for f in enrichment.fills] == [("venue", "")]
    enrichment, _ = night(store, NIGHT_1 + 3 * DAY)
    assert enrichment.unresolved[0].reason.endswith("night 1 of 3 before arXiv)")


def test_fallback_after_is_a_setting(tmp_path):
    enrichment, _ = night(Store(tmp_path / "cache.db"), NIGHT_1, fallback_after=1)
    assert [f.source for f in enrichment.fills] == ["arxiv"] and "1 nights in a row" in enrichment.fills[0].note


def test_an_offline_run_counts_no_night(tmp_path):
    store = Store(tmp_path / "cache.db")
    night(store, NIGHT_1)
    parsed = parse_list(LIST).in_file("list.md")
    offline = SourceSet([Arxiv(), Venue(False)], store, now=NIGHT_1 + DAY, max_age=0.0, offline=True)
    enrichment = asyncio.run(Enricher(offline).enrich(parsed, {}))
    assert enrichment.unresolved[0].reason == "venue unavailable (nothing guessed)"
    enrichment, _ = night(store, NIGHT_1 + 2 * DAY)
    assert enrichment.unresolved[0].reason.endswith("night 2 of 3 before arXiv)")
