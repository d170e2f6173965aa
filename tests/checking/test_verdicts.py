"""Paper verdicts at each place (crawler.checking.verdicts), a cached verdict turned back into the page's, and the
history rule for failures judged from the repository (crawler.store.history)."""

from crawler.checking.verdicts import fold, on_top_of, page_verdict, paper_verdict, with_suggestion
from crawler.models import CheckResult, Entry, Hop, Link, LinkStatus, PaperMeta
from crawler.store.history import update_history

URL = "https://proceedings.mlr.press/v162/chen22af.html"
META = PaperMeta(source="pmlr", title="Linearity Grafting: Relaxed Neuron Pruning Helps Certifiable Robustness",
                 url=URL, authors=("Tianlong Chen", "Huan Zhang"), year=2022, venue="ICML")


def entry(line: int, title: str, *, is_paper: bool = True, url: str = URL) -> Entry:
    return Entry(line=line, section="2022", title=title, venue="ICML", year=2022, is_paper=is_paper, file="l.md",
                 links=(Link(url=url, label="ICML", line=line, file="l.md"),))


RIGHT = entry(135, META.title)
WRONG = entry(140, "PAC-Net: A Model Pruning Approach to Inductive Transfer Learning")


def test_one_url_under_two_entries_is_judged_at_each_place_and_fails_once():
    verdict = paper_verdict(URL, (RIGHT, WRONG), META, 1.0)
    assert verdict.status is LinkStatus.WRONG_PAPER and META.title in verdict.error
    assert verdict.at("l.md", 135).status is LinkStatus.OK and verdict.at("l.md", 135).title_score == 1.0
    assert verdict.at("l.md", 140).status is LinkStatus.WRONG_PAPER
    assert [(o.line, o.status) for o in verdict.occurrences] == [(135, LinkStatus.OK), (140, LinkStatus.WRONG_PAPER)]


def test_places_that_agree_are_not_kept_apart():
    again = entry(150, META.title)
    assert paper_verdict(URL, (RIGHT, again), META, 1.0).occurrences == ()
    assert paper_verdict(URL, (RIGHT, entry(160, "A reading note", is_paper=False)), META, 1.0).occurrences == ()


def test_a_page_that_loaded_through_a_permanent_redirect_keeps_it_where_the_paper_is_right():
    web = CheckResult(url=URL, status=LinkStatus.REDIRECTED, http_status=200, final_url=URL + "?x",
                      redirects=(Hop("http://proceedings.mlr.press/v162/chen22af.html", 301),), suggestion=URL + "?x")
    judged = on_top_of(web, paper_verdict(URL, (RIGHT, WRONG), META, 1.0))
    assert judged.status is LinkStatus.WRONG_PAPER and judged.suggestion is None
    assert judged.at("l.md", 135).status is LinkStatus.REDIRECTED and judged.at("l.md", 135).suggestion == URL + "?x"
    # From the cache, judged again: the page's own verdict comes back first.
    page = page_verdict(judged)
    assert (page.status, page.suggestion, page.error, page.title_score) == (LinkStatus.REDIRECTED, URL + "?x", None,
                                                                           None)
    assert page_verdict(web) is web  # never judged: as it was


def test_the_suggestion_goes_to_the_failing_place():
    verdict = paper_verdict(URL, (RIGHT, WRONG), META, 1.0)
    assert with_suggestion(verdict, "l.md", 135, "https://elsewhere.example/") is None  # right there
    suggested = with_suggestion(verdict, "l.md", 140, "https://proceedings.mlr.press/v162/myung22a.html")
    assert suggested.suggestion == suggested.at("l.md", 140).suggestion == "https://proceedings.mlr.press/v162/myung22a.html"
    assert with_suggestion(suggested, "l.md", 140, "https://other.example/") is None  # one suggestion is enough


def test_fold_takes_the_first_failing_place_else_the_first():
    base = CheckResult(url=URL, status=LinkStatus.OK)
    assert fold(base, []) is base
    ok = paper_verdict(URL, (RIGHT,), META, 1.0)
    assert ok.status is LinkStatus.OK and ok.title_score == 1.0 and ok.occurrences == ()


def test_a_failure_judged_from_the_repository_is_dead_at_once_and_a_web_one_waits():
    results = {
        "./README.md#gone": CheckResult(url="./README.md#gone", status=LinkStatus.BROKEN, checked_at=10.0,
                                        in_repository=True),
        "https://a.example/": CheckResult(url="https://a.example/", status=LinkStatus.BROKEN, checked_at=10.0),
    }
    _, states = update_history({}, results, 10.0, dead_after=2, dead_span=72000.0)
    assert states["./README.md#gone"].new and states["./README.md#gone"].dead
    assert states["https://a.example/"].new and not states["https://a.example/"].dead
