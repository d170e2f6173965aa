"""--check-fragments: a remote page's `#fragment` looked up in the HTML its check already read.

A missing one is a note at the line it is written (the URL's key has no fragment: `page#a` and `page#b`
are one check), never a failure: pages built by scripts add ids later (lychee#2179).
"""

import asyncio

from crawler.checking.fragments import fragment_note, page_ids
from crawler.models import CheckResult, LinkStatus, PageIds
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Pipeline
from crawler.store.cache import Store
from tests.fakes.web import Reply, RoutingTransport

PAGE = (b'<!doctype html><html><head><title>Docs</title></head><body><h1 id="intro">Intro</h1>'
        b"<h2 id='Setup'>Setup</h2><a name=legacy></a><p>text</p></body></html>")
README = b'<html><title>o/r</title><article><h2><a id="user-content-usage" href="#usage"></a>Usage</h2></article>'
HTML = {"Content-Type": "text/html; charset=utf-8"}

LIST = """# Links

- [intro](https://docs.example/page#intro)
- [setup](https://docs.example/page#setup)
- [missing](https://docs.example/page#install)
- [line](https://docs.example/page#L10)
- [route](https://docs.example/page#!/app/view)
- [usage](https://github.com/o/r#usage)
- [gone](https://github.com/o/r#license)
- [big](https://big.example/page#nowhere)
"""


def check(web, settings, tmp_path):
    web.add("https://docs.example/page", Reply(200, PAGE, HTML))
    web.add("https://github.com/o/r", Reply(200, README, HTML))
    web.add("https://big.example/page", Reply(200, b"<html><title>big</title>" + b"x" * 70_000, HTML))
    path = tmp_path / "list.md"
    path.write_text(LIST)

    async def go():
        async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits)) as pool:
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool).execute(Job("check", path))

    return asyncio.run(go())


def test_a_missing_fragment_is_a_note_at_its_line_and_the_link_stays_ok(web, make_settings, tmp_path):
    outcome = check(web, make_settings(check_fragments=True), tmp_path)
    links = {lo.key: lo for lo in outcome.report.links}
    docs, github = links["https://docs.example/page"], links["https://github.com/o/r"]
    assert docs.status is LinkStatus.OK and docs.note is None and github.status is LinkStatus.OK
    notes = {(p.line, docs.at(p).note) for p in docs.places if docs.at(p).note}
    # `#setup` misses `id='Setup'`: a browser matches ids case by case (only GitHub's script lower-cases).
    assert notes == {(4, 'no element "#setup" on the page (a page built by scripts may still have it)'),
                     (5, 'no element "#install" on the page (a page built by scripts may still have it)')}
    assert [(p.line, github.at(p).note is not None) for p in github.places] == [(8, False), (9, True)]
    assert links["https://big.example/page"].occurrences == ()  # cut at 64 KiB: nothing to say
    assert outcome.report.summary.notes == 2 and outcome.report.summary.failing == 0  # two URLs with notes
    line = outcome.report.to_json()["links"][0]["lines"][2]
    assert line["line"] == 5 and "#install" in line["note"] and line["status"] == "ok"


def test_without_the_flag_no_page_is_searched(web, make_settings, tmp_path):
    outcome = check(web, make_settings(), tmp_path)
    assert all(not lo.occurrences and lo.note is None for lo in outcome.report.links)


def test_ids_are_read_from_the_page_and_a_cut_one_says_nothing():
    # The checker hands over the page unpacked (tests/checking/test_compressed_pages.py): ids are read from its HTML.
    assert page_ids(PAGE, 65536).ids == {"intro", "Setup", "legacy"}
    assert not page_ids(PAGE, len(PAGE)).complete
    cut = CheckResult(url="https://a.example/", status=LinkStatus.OK, page_ids=PageIds(frozenset(), complete=False))
    assert fragment_note(cut, "https://a.example/#x") is None
    whole = CheckResult(url="https://a.example/", status=LinkStatus.OK, page_ids=PageIds(frozenset({"x"}), True))
    assert fragment_note(whole, "https://a.example/#X") is None  # found as GitHub's script finds it, lower-cased
    for fragment in ("t=30", "page=3", ":~:text=word", "/route", "L10-L20"):
        assert fragment_note(whole, f"https://a.example/#{fragment}") is None
    assert fragment_note(whole, "https://a.example/#y").startswith('no element "#y"')
