"""History across simulated nights, exit codes, outage handling: the pipeline over a loopback web."""

import asyncio

import pytest

from crawler.errors import NetworkDown
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Pipeline
from crawler.store.cache import Store
from tests.fakes.web import Reply, RoutingTransport

HOUR = 3600.0


class Clock:
    def __init__(self, t=1_800_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def run_check(settings, web, clock, list_path, command="check"):
    async def go():
        async with ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits)) as pool:
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool, clock=clock).execute(Job(command, list_path))

    return asyncio.run(go())


def links_by_url(outcome):
    return {lo["url"]: lo for lo in outcome.report.to_json()["links"]}


@pytest.fixture
def listing(tmp_path):
    path = tmp_path / "list.md"
    path.write_text("# L\n\n- [Stable paper title](https://stable.example/p)\n"
                    "- [Breaking paper title](https://flaky.example/p)\n"
                    "- [Another host paper](https://third.example/p)\n")
    return path


def test_new_then_dead_then_fixed_over_nights(make_settings, web, listing):
    settings = make_settings(max_age=HOUR, dead_after=2, dead_span=20 * HOUR)
    clock = Clock()
    web.add("https://stable.example/p", Reply(200))
    web.add("https://third.example/p", Reply(200))
    web.add("https://flaky.example/p", Reply(404))

    night1 = run_check(settings, web, clock, listing)
    flaky = links_by_url(night1)["https://flaky.example/p"]
    assert (flaky["status"], flaky["new"], flaky["dead"], flaky["consecutive_failures"]) == ("broken", True, False, 1)
    assert night1.exit_code == 0  # --fail-on dead: nothing dead yet

    clock.t += 24 * HOUR
    night2 = run_check(settings, web, clock, listing)
    flaky = links_by_url(night2)["https://flaky.example/p"]
    assert (flaky["new"], flaky["dead"], flaky["consecutive_failures"]) == (False, True, 2)
    assert night2.report.to_json()["summary"]["dead"] == ["https://flaky.example/p"]
    assert night2.exit_code == 1

    web.add("https://flaky.example/p", Reply(200))
    clock.t += 24 * HOUR
    night3 = run_check(settings, web, clock, listing)
    assert night3.report.to_json()["summary"]["fixed"] == ["https://flaky.example/p"]
    assert night3.exit_code == 0
    assert [r["dead"] for r in night3.report.to_json()["runs"]] == [0, 1, 0]


def test_two_failures_within_the_span_are_not_dead(make_settings, web, listing):
    settings = make_settings(max_age=60.0)
    clock = Clock()
    web.host("stable.example", Reply(200))
    web.host("third.example", Reply(200))
    web.host("flaky.example", Reply(404))
    run_check(settings, web, clock, listing)
    clock.t += 2 * HOUR
    again = run_check(settings, web, clock, listing)
    flaky = links_by_url(again)["https://flaky.example/p"]
    assert flaky["consecutive_failures"] == 2 and not flaky["dead"]


def test_rerun_within_max_age_sends_no_request_and_counts_nothing_twice(make_settings, web, listing):
    settings = make_settings(max_age=20 * HOUR)
    clock = Clock()
    for host in ("stable.example", "third.example"):
        web.host(host, Reply(200))
    web.host("flaky.example", Reply(410))
    run_check(settings, web, clock, listing)
    sent = len(web.log)
    clock.t += HOUR
    again = run_check(settings, web, clock, listing)
    assert len(web.log) == sent
    flaky = links_by_url(again)["https://flaky.example/p"]
    assert flaky["consecutive_failures"] == 1 and flaky["from_cache"]


def test_blocked_is_never_dead(make_settings, web, listing):
    settings = make_settings(max_age=60.0, dead_span=0)
    clock = Clock()
    web.host("stable.example", Reply(200))
    web.host("third.example", Reply(200))
    web.host("flaky.example", Reply(403))
    for _ in range(3):
        outcome = run_check(settings, web, clock, listing)
        clock.t += 24 * HOUR
    flaky = links_by_url(outcome)["https://flaky.example/p"]
    assert flaky["status"] == "blocked" and not flaky["dead"]
    assert outcome.exit_code == 0


def test_fail_on_any_and_new(make_settings, web, listing):
    web.host("stable.example", Reply(200))
    web.host("third.example", Reply(200))
    web.host("flaky.example", Reply(404))
    clock = Clock()
    assert run_check(make_settings(fail_on="any", max_age=0), web, clock, listing).exit_code == 1
    clock.t += 1
    settings = make_settings(fail_on="new", max_age=0, db=listing.parent / "other.db")
    assert run_check(settings, web, clock, listing).exit_code == 1
    clock.t += 1
    assert run_check(settings, web, clock, listing).exit_code == 0  # no longer new
    assert run_check(make_settings(fail_on="never", max_age=0), web, clock, listing).exit_code == 0


def test_a_dead_network_raises_and_leaves_the_cache_byte_for_byte(make_settings, tmp_path, listing):
    settings = make_settings(max_age=0)
    clock = Clock()

    async def no_dns(host, port):
        from crawler.errors import NameNotResolved

        raise NameNotResolved(host, transient=True, detail="Temporary failure in name resolution")

    with Store(settings.db) as store:  # a cache from an earlier night
        from crawler.models import CheckResult, LinkStatus

        store.save_results([CheckResult(url="https://stable.example/p", status=LinkStatus.OK, checked_at=1.0)])
    before = settings.db.read_bytes()

    async def go():
        async with ClientPool(settings, resolver=no_dns) as pool:
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool, clock=clock).execute(Job("check", listing))

    with pytest.raises(NetworkDown):
        asyncio.run(go())
    assert settings.db.read_bytes() == before


def test_one_unreachable_host_is_not_an_outage(make_settings, web, listing):
    settings = make_settings(max_age=0)
    web.host("stable.example", Reply(200))
    web.host("third.example", Reply(200))
    web.host("flaky.example", Reply(200))

    async def resolver(host, port):
        from crawler.errors import NameNotResolved

        if host == "flaky.example":
            raise NameNotResolved(host, transient=False, detail="Name or service not known")
        return ["127.0.0.1"]

    async def go():
        # Through the guard with the fake resolver, connecting to the fake web's port.
        async with ClientPool(settings.replace(allow_private=True), resolver=resolver) as pool:
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool, clock=Clock()).execute(Job("check", listing))

    listing.write_text(f"- [Paper one title](http://stable.example:{web.port}/p)\n"
                       f"- [Paper two title](http://flaky.example:{web.port}/p)\n")
    outcome = asyncio.run(go())
    by_url = links_by_url(outcome)
    assert by_url[f"http://stable.example:{web.port}/p"]["status"] == "ok"
    assert by_url[f"http://flaky.example:{web.port}/p"]["status"] == "broken"
    assert "does not resolve" in by_url[f"http://flaky.example:{web.port}/p"]["error"]


def test_a_crawler_bug_keeps_the_last_verdict_and_never_makes_a_link_dead(make_settings, web, listing):
    """A check that raises (a bug, a worker that died) says nothing about the link (review of issue 16)."""
    settings = make_settings(max_age=HOUR)
    clock = Clock()
    web.host("stable.example", Reply(200))
    web.host("third.example", Reply(200))
    web.host("flaky.example", Reply(404))
    night1 = run_check(settings, web, clock, listing)
    assert links_by_url(night1)["https://flaky.example/p"]["status"] == "broken"

    class Buggy(RoutingTransport):
        async def handle_async_request(self, request):
            if request.url.host == "flaky.example":
                raise RuntimeError("a bug in the crawler")
            return await super().handle_async_request(request)

    async def buggy_night():
        async with ClientPool(settings, transport_factory=lambda limits: Buggy(web.port, limits)) as pool:
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool, clock=clock).execute(Job("check", listing))

    for _ in range(3):
        clock.t += 24 * HOUR
        night = asyncio.run(buggy_night())
        flaky = links_by_url(night)["https://flaky.example/p"]
        assert flaky["status"] == "broken" and flaky["from_cache"]  # the verdict of night 1 stands
        assert not flaky["dead"] and flaky["consecutive_failures"] == 1
        assert night.exit_code == 0


def test_a_report_a_day_later_makes_nothing_dead_and_counts_nothing_twice(make_settings, web, listing, tmp_path):
    """Dead is measured between the observations, and a report re-dates nothing (review of issue 17)."""
    settings = make_settings(max_age=HOUR, dead_after=2, dead_span=20 * HOUR)
    clock = Clock()
    web.host("stable.example", Reply(200))
    web.host("third.example", Reply(200))
    web.host("flaky.example", Reply(404))
    listing.write_text(listing.read_text() + "- [A paper with a typo in its link](hhttps://typo.example/p)\n")
    run_check(settings, web, clock, listing)
    clock.t += 19 * HOUR  # the second failure, under the 20 h span
    night2 = run_check(settings, web, clock, listing)
    assert not links_by_url(night2)["https://flaky.example/p"]["dead"]
    clock.t += 2 * HOUR  # a report later, past the span since the first failure: still no new observation
    report = run_check(settings, web, clock, listing, command="report")
    links = links_by_url(report)
    assert not links["https://flaky.example/p"]["dead"] and report.exit_code == 0
    typo = links["hhttps://typo.example/p"]
    assert typo["status"] == "invalid" and typo["consecutive_failures"] == 2 and not typo["new"]
