"""crawler.checking.workers: the per-URL checks in worker processes, over the loopback fake web.

The workers here are forked from the test process (they inherit its loopback-only socket guard and
route every host name to the fake web through RoutingTransport), except where a test is about the
default ClientPool (the private-address guard) or about spawned workers.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections import Counter, defaultdict

import pytest

from crawler.checking.checker import Checker
from crawler.checking.worker_process import Frames, frame
from crawler.checking.workers import CheckWorkers, _split
from crawler.models import LinkStatus
from crawler.net.pool import ClientPool
from tests import paths
from tests.fakes.web import Reply, RoutingTransport

NOW = 1_800_000_000.0
ROOT = paths.ROOT


def clock() -> float:
    return NOW


def routed(web):
    return lambda settings: ClientPool(settings, transport_factory=lambda limits: RoutingTransport(web.port, limits))


async def check_in_workers(urls, settings, validators, *, processes=2, **options):
    """The URLs checked in worker processes the way the check stage does: submitted, then read as they come."""
    async with CheckWorkers(settings, processes=processes, **options) as workers:
        await workers.submit(urls, validators)
        async for result in workers.results():
            yield result


async def collect(agen) -> dict:
    out = {}
    async for result in agen:
        assert result.url not in out, "one result per URL"
        out[result.url] = result
    return out


def gone(pid: int) -> bool:
    """No such process any more (a zombie nobody reaped still counts as left behind)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


# --- the same answers as in-process --------------------------------------------------------------------


def test_workers_give_the_in_process_verdicts(web, make_settings):
    web.add("https://a.example/ok", Reply(200, b"<title>A paper</title>", {"Content-Type": "text/html"}))
    web.add("https://a.example/gone", Reply(404))
    web.add("https://b.example/moved", Reply(301, headers={"Location": "https://b.example/new"}))
    web.add("https://b.example/new", Reply(200, b"<html>fine</html>", {"Content-Type": "text/html"}))
    web.add("https://c.example/soft", Reply(200, b"<title>Page not found</title>", {"Content-Type": "text/html"}))
    web.add("https://c.example/down", Reply(503))
    web.add("https://d.example/same", Reply(304, headers={"ETag": '"v1"'}))
    urls = ["https://a.example/ok", "https://a.example/gone", "https://b.example/moved", "https://c.example/soft",
            "https://c.example/down", "https://d.example/same", "https://e.example/nothing-here"]
    validators = {"https://d.example/same": ('"v1"', None)}
    settings = make_settings()

    async def in_process():
        async with routed(web)(settings) as pool:
            checker = Checker(pool, settings, clock=clock)
            out = {}
            for url in urls:
                etag, modified = validators.get(url, (None, None))
                out[url] = await checker.check(url, etag=etag, last_modified=modified)
            return out

    expected = asyncio.run(in_process())
    got = asyncio.run(collect(check_in_workers(urls, settings, validators, processes=2, pool_factory=routed(web),
                                               clock=clock, method="fork")))
    assert got == expected
    assert {u: r.status for u, r in got.items()} == {
        "https://a.example/ok": LinkStatus.OK, "https://a.example/gone": LinkStatus.BROKEN,
        "https://b.example/moved": LinkStatus.REDIRECTED, "https://c.example/soft": LinkStatus.BROKEN,
        "https://c.example/down": LinkStatus.SERVER_ERROR, "https://d.example/same": LinkStatus.OK,
        "https://e.example/nothing-here": LinkStatus.BROKEN}
    assert got["https://d.example/same"].http_status == 304  # the validator went out with the URL


def test_urls_may_arrive_while_the_list_is_still_being_read(web, make_settings):
    for host in ("a.example", "b.example", "c.example"):
        web.host(host, Reply(200))
    urls = [f"https://{h}/p{i}" for i in range(20) for h in ("a.example", "b.example", "c.example")]

    async def trickle():
        for url in urls:
            await asyncio.sleep(0.001)
            yield url

    got = asyncio.run(collect(check_in_workers(trickle(), make_settings(), {}, pool_factory=routed(web),
                                               clock=clock, method="fork")))
    assert set(got) == set(urls)
    assert {r.status for r in got.values()} == {LinkStatus.OK}


def test_a_failing_source_of_urls_stops_the_workers_and_says_why(web, make_settings):
    web.host("slow.example", Reply(200, delay=30))

    async def broken():
        yield "https://slow.example/a"
        await asyncio.sleep(0.2)
        raise OSError("the list went away")

    async def run():
        workers = CheckWorkers(make_settings(), pool_factory=routed(web), clock=clock, method="fork")
        with pytest.raises(OSError, match="the list went away"):
            await collect(workers.check(broken(), {}))
        return [p.pid for p in workers._procs]

    started = time.monotonic()
    pids = asyncio.run(run())
    assert time.monotonic() - started < 10
    assert all(gone(p) for p in pids)


# --- politeness and sharding ------------------------------------------------------------------------------


def test_each_host_keeps_its_limit_and_the_total_its_own(web, make_settings):
    lock = threading.Lock()
    now: Counter = Counter()
    peak: Counter = Counter()
    total = [0, 0]  # in flight, peak

    def slow(request):
        host = request.host
        with lock:
            now[host] += 1
            total[0] += 1
            peak[host] = max(peak[host], now[host])
            total[1] = max(total[1], total[0])
        time.sleep(0.05)
        with lock:
            now[host] -= 1
            total[0] -= 1
        return Reply(200)

    hosts = [f"h{i}.example" for i in range(6)]
    for host in hosts:
        web.host(host, slow)
    urls = [f"https://{h}/p{i}" for h in hosts for i in range(12)]
    settings = make_settings(host_concurrency=3, concurrency=10)
    workers = CheckWorkers(settings, processes=2, pool_factory=routed(web), clock=clock, method="fork")
    got = asyncio.run(collect(workers.check(urls, {})))
    assert len(got) == len(urls)
    assert max(peak.values()) == 3  # reached, never exceeded, although two processes shared the hosts
    assert total[1] <= 10
    checked_by = defaultdict(set)
    for proc in workers._procs:
        for host, owner in workers._owner.items():
            if owner is proc:
                checked_by[proc.pid].add(host)
    assert len(checked_by) == 2 and sum(len(h) for h in checked_by.values()) == len(hosts)  # both used, hosts split
    assert workers.stats.answers == len(urls) and workers.stats.requests_sent == len(urls)


def test_the_overall_limit_is_divided_never_multiplied():
    assert _split(200, 2) == [100, 100]
    assert _split(7, 3) == [3, 2, 2]
    assert sum(_split(64, 5)) == 64


# --- safety ------------------------------------------------------------------------------------------------


def test_the_private_address_guard_holds_in_every_worker(web, make_settings):
    web.add(f"http://127.0.0.1:{web.port}/secret", Reply(200))
    for transport in ("aiohttp", "httpcore"):
        settings = make_settings(allow_private=False, transport=transport)
        got = asyncio.run(collect(check_in_workers([f"http://127.0.0.1:{web.port}/secret"], settings, {},
                                                   clock=clock, method="fork")))
        (result,) = got.values()
        assert result.status is LinkStatus.SKIPPED and "private address refused" in result.error
    assert web.log == []  # nothing reached the server


def test_spawned_workers_check_with_the_default_pool(web, make_settings):
    web.add(f"http://127.0.0.1:{web.port}/ok", Reply(200))
    web.add(f"http://127.0.0.1:{web.port}/gone", Reply(404))
    urls = [f"http://127.0.0.1:{web.port}/ok", f"http://127.0.0.1:{web.port}/gone"]
    settings = make_settings(allow_private=True)
    got = asyncio.run(collect(check_in_workers(urls, settings, {}, processes=1, method="spawn")))
    assert {u: r.status for u, r in got.items()} == {urls[0]: LinkStatus.OK, urls[1]: LinkStatus.BROKEN}


def test_a_spawned_worker_refuses_a_pool_factory_it_cannot_rebuild(make_settings):
    workers = CheckWorkers(make_settings(), pool_factory=lambda s: None, method="spawn")
    with pytest.raises(ValueError, match="picklable"):
        workers.start()


# --- failure and stopping ---------------------------------------------------------------------------------


def test_a_worker_that_dies_leaves_its_urls_as_crawler_errors(web, make_settings):
    web.host("fast.example", Reply(200))
    web.host("slow.example", Reply(200, delay=30))
    urls = [f"https://fast.example/p{i}" for i in range(5)] + [f"https://slow.example/p{i}" for i in range(3)]

    async def run():
        workers = CheckWorkers(make_settings(), processes=2, pool_factory=routed(web), clock=clock, method="fork")
        out = {}
        async for result in workers.check(urls, {}):
            out[result.url] = result
            if len(out) == 5:  # the fast host is done; the slow one hangs: kill its worker
                os.kill(workers._owner["slow.example"].pid, signal.SIGKILL)
        return out

    started = time.monotonic()
    got = asyncio.run(run())
    assert time.monotonic() - started < 20
    assert {got[u].status for u in urls[:5]} == {LinkStatus.OK}
    for url in urls[5:]:
        assert got[url].status is LinkStatus.SKIPPED  # our failure says nothing about the link
        assert got[url].error.startswith("crawler error: a check worker exited")


def test_leaving_early_stops_and_reaps_every_worker(web, make_settings):
    web.host("slow.example", Reply(200, delay=30))
    web.host("fast.example", Reply(200))
    urls = ["https://fast.example/a"] + [f"https://slow.example/p{i}" for i in range(10)]

    async def run():
        async with CheckWorkers(make_settings(), processes=2, pool_factory=routed(web), clock=clock,
                                method="fork") as workers:
            async for _ in workers.check(urls, {}):
                break  # the consumer stops: a run-time limit, an error elsewhere
        return [p.pid for p in workers._procs]

    started = time.monotonic()
    pids = asyncio.run(run())
    assert time.monotonic() - started < 10
    for pid in pids:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # already reaped by the pool
        assert gone(pid)


_SCRIPT = textwrap.dedent("""
    import asyncio, json, signal, sys
    from tests.fakes.web import RoutingTransport
    from crawler.config import Settings
    from crawler.net.pool import ClientPool
    from crawler.checking.workers import CheckWorkers

    def stop(signum, frame):  # what the CLI does with SIGTERM
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    port = int(sys.argv[1])
    settings = Settings(db=sys.argv[2], retries=0, timeout=60, host_concurrency=20, concurrency=40)
    pool = lambda s: ClientPool(s, transport_factory=lambda limits: RoutingTransport(port, limits))
    urls = [f"https://{h}.example/p{i}" for h in ("a", "b", "c", "d") for i in range(10)]

    async def main():
        async with CheckWorkers(settings, processes=2, pool_factory=pool, method="fork") as workers:
            workers.start()
            print(json.dumps([p.pid for p in workers._procs]), flush=True)
            async for result in workers.check(urls, {}):
                print("result", result.url, flush=True)

    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        print("interrupted", flush=True)
        sys.exit(130)
""")


@pytest.mark.parametrize("how", ["sigterm", "ctrl-c"])
def test_sigterm_and_ctrl_c_stop_the_workers_with_the_parent(web, tmp_path, how):
    for host in ("a", "b", "c", "d"):
        web.host(f"{host}.example", Reply(200, delay=30))
    script = tmp_path / "run.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(web.port), str(tmp_path / "x.db"),
                             str(paths.ROOT)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=env, start_new_session=True)
    pids = json.loads(proc.stdout.readline())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len(web.log) < 40:  # every request is out, and hanging
        time.sleep(0.05)
    assert len(web.log) == 40
    if how == "sigterm":
        proc.send_signal(signal.SIGTERM)  # CI cancelling the job: the parent alone
    else:
        os.killpg(proc.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole process group
    out, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert out.strip().endswith("interrupted")
    assert "Traceback" not in err
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and not all(gone(p) for p in pids):
        time.sleep(0.05)
    assert all(gone(p) for p in pids)


def test_workers_exit_when_the_parent_dies(web, tmp_path):
    for host in ("a", "b", "c", "d"):
        web.host(f"{host}.example", Reply(200, delay=30))
    script = tmp_path / "run.py"
    script.write_text(_SCRIPT)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(web.port), str(tmp_path / "x.db"),
                             str(paths.ROOT)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    pids = json.loads(proc.stdout.readline())
    proc.kill()  # SIGKILL: no cleanup at all; the workers see their command pipe close
    proc.wait()
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and not all(gone(p) for p in pids):
        time.sleep(0.05)
    assert all(gone(p) for p in pids)


# --- framing -----------------------------------------------------------------------------------------------


def test_messages_survive_any_split_of_the_byte_stream():
    messages = [("urls", [("https://a.example/x", None, None)] * 50), ("end",),
                ("results", list(range(1000)), (1, 2, 3))]
    stream = b"".join(frame(m) for m in messages)
    for step in (1, 3, 7, 4096):
        got = []
        frames = Frames(got.append)
        for i in range(0, len(stream), step):
            frames.data_received(stream[i : i + step])
        frames.connection_lost(None)
        assert got == [*messages, None]


def test_a_big_run_checks_in_workers_and_judges_as_in_process(web, make_settings, tmp_path, monkeypatch):
    """The pipeline's own path: from `processes_from` URLs the check stage starts the workers itself."""
    import crawler.checking.webcheck
    from crawler.pipeline import Job, Pipeline
    from crawler.store.cache import Store

    started = []

    class Recorded(CheckWorkers):
        def start(self):
            if not self._procs:  # submit() starts them too, when nobody did
                started.append(self.processes)
            super().start()

    monkeypatch.setattr(crawler.checking.webcheck, "CheckWorkers", Recorded)
    base = f"http://127.0.0.1:{web.port}"
    for i in range(40):
        web.add(f"{base}/p{i}", Reply(404 if i % 7 == 0 else 200))
    lst = tmp_path / "list.md"
    lst.write_text("".join(f"- [Paper number {i} of this list]({base}/p{i})\n" for i in range(40)))

    def run(**kw):
        settings = make_settings(allow_private=True, db=tmp_path / f"{len(started)}-{kw}.db", **kw)

        async def go():
            async with ClientPool(settings) as pool:
                with Store(settings.db) as store:
                    return await Pipeline(settings, store, pool=pool).execute(Job("check", lst))

        return {lo.url: lo.status for lo in asyncio.run(go()).report.links}

    in_process = run(processes=2, processes_from=10_000)
    assert started == []
    in_workers = run(processes=2, processes_from=10)
    assert started == [2] and in_workers == in_process
    assert Counter(in_workers.values()) == {LinkStatus.OK: 34, LinkStatus.BROKEN: 6}
