"""Hostile lists, hostile sites and crashes: each protection has a test that fails without it."""

import asyncio
import gzip
import os
import signal
import sqlite3
import subprocess
import sys
import time

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st

from crawler.checking.checker import Checker
from crawler.config import HostRule, Settings
from crawler.listfile.links import normalize_url, precheck
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Pipeline
from crawler.store.cache import Store
from tests.fakes.web import Reply

UNPACED_GITHUB = {"github.com": HostRule(spacing=0.0)}


def check_all(settings, urls, **pool_kw):
    async def go():
        async with ClientPool(settings, **pool_kw) as pool:
            checker = Checker(pool, settings, sleep=lambda s: asyncio.sleep(0))
            return [await checker.check(u) for u in urls]

    return asyncio.run(go())


# --- secrets ----------------------------------------------------------------------------------------

def test_github_token_goes_only_to_github_over_https(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", "ghp_secret_value_123")
    seen = {}

    def record(request):
        seen[str(request.url)] = request.headers.get("authorization")
        if request.url.host == "github.com" and request.url.path == "/moved":
            return httpx.Response(301, headers={"Location": "https://evil.example/steal"})
        return httpx.Response(200)

    with respx.mock(using="httpx", assert_all_called=False) as mock:
        mock.route().mock(side_effect=record)
        # github.com's built-in spacing (a second between requests) is set aside: the test is about where the
        # token goes, not about pacing.
        results = check_all(Settings(retries=0, hosts=UNPACED_GITHUB), ["https://github.com/a/b", "http://github.com/a/b",
                                                  "https://github.com.evil.example/x", "https://github.com/moved",
                                                  "https://raw.githubusercontent.com/a/b/main/README.md",
                                                  "https://gist.github.com/a/1"])
    assert seen["https://github.com/a/b"] == "Bearer ghp_secret_value_123"
    # GitHub's other hosts are not the API: the token goes to github.com and api.github.com only.
    assert seen["https://raw.githubusercontent.com/a/b/main/README.md"] is None
    assert seen["https://gist.github.com/a/1"] is None
    assert seen["http://github.com/a/b"] is None  # plain http: never
    assert seen["https://github.com.evil.example/x"] is None  # look-alike host: never
    assert seen["https://evil.example/steal"] is None  # redirect target elsewhere: never
    assert all("ghp_secret" not in repr(r) for r in results)


# --- caps -------------------------------------------------------------------------------------------

def test_a_gzip_bomb_is_never_inflated(web, make_settings):
    bomb = gzip.compress(b"\0" * (50 * 1024 * 1024))  # 50 MiB of zeros, ~50 KiB on the wire
    url = f"http://127.0.0.1:{web.port}/bomb"
    web.add(url, Reply(200, bomb, {"Content-Encoding": "gzip", "Content-Type": "text/html"}, head_status=405))
    settings = make_settings(allow_private=True, max_body=4096)
    (result,) = check_all(settings, [url])
    assert result.status.value == "ok"


def test_a_50_mb_pdf_is_not_downloaded(web, make_settings):
    url = f"http://127.0.0.1:{web.port}/paper.pdf"
    web.add(url, Reply(200, b"%PDF-1.7" + b"x" * (50 * 1024 * 1024), {"Content-Type": "application/pdf"},
                       head_status=405))
    settings = make_settings(allow_private=True)
    started = time.monotonic()
    (result,) = check_all(settings, [url])
    assert result.status.value == "ok"
    assert time.monotonic() - started < 5


def test_a_server_that_drips_cannot_stall_a_request(web, make_settings):
    url = f"http://127.0.0.1:{web.port}/slow"
    web.add(url, Reply(200, b"x", delay=3.0))
    settings = make_settings(allow_private=True, timeout=0.5, retries=0)
    started = time.monotonic()
    (result,) = check_all(settings, [url])
    assert result.status.value == "timeout"
    assert time.monotonic() - started < 2.5


def test_the_run_time_limit_reports_what_is_left_as_timeout(web, make_settings, tmp_path):
    for i in range(4):
        web.add(f"http://127.0.0.1:{web.port}/s{i}", Reply(200, delay=2.0))
    lst = tmp_path / "l.md"
    lst.write_text("".join(f"- [Paper number {i} title](http://127.0.0.1:{web.port}/s{i})\n" for i in range(4)))
    settings = make_settings(allow_private=True, run_timeout=0.5, timeout=10, retries=0)

    async def go():
        async with ClientPool(settings) as pool:
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool).execute(Job("check", lst))

    started = time.monotonic()
    outcome = asyncio.run(go())
    assert time.monotonic() - started < 2.0
    assert {lo["status"] for lo in outcome.report.to_json()["links"]} == {"timeout"}
    assert all("run's" in lo["error"] for lo in outcome.report.to_json()["links"])


# --- property tests ----------------------------------------------------------------------------------

@settings(max_examples=500, deadline=None)
@given(st.text(max_size=200))
def test_url_rules_never_crash_on_arbitrary_text(text):
    precheck(text)
    once = normalize_url(text)
    assert normalize_url(once) == once


@settings(max_examples=300, deadline=None)
@given(st.builds(lambda scheme, host, path: f"{scheme}://{host}/{path}",
                 st.sampled_from(["http", "https", "HTTP", "ftp", "hhttps"]),
                 st.from_regex(r"[A-Za-z0-9.\-\[\]:@%]{0,30}", fullmatch=True),
                 st.text(max_size=30)))
def test_url_like_text_gives_a_verdict_not_an_exception(url):
    verdict = precheck(url)
    assert verdict.finding is None or verdict.reason


# --- crash safety ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_kill_9_mid_run_leaves_a_sound_cache_and_a_rerun_reuses_it(web, tmp_path):
    n = 600
    for i in range(n):
        web.add(f"http://127.0.0.1:{web.port}/p{i}", Reply(200, delay=0.05 if i < 300 else 0.5))
    lst = tmp_path / "list.md"
    lst.write_text("".join(f"- [Paper number {i} of the list](http://127.0.0.1:{web.port}/p{i})\n" for i in range(n)))
    db = tmp_path / "cache.db"
    args = [sys.executable, "-m", "crawler", "check", str(lst), "--db", str(db), "--reports", str(tmp_path / "r"),
            "--allow-private", "--no-progress", "--host-concurrency", "50", "--concurrency", "50"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    saved = 0
    while time.monotonic() < deadline and saved < 200:  # until a batch has been committed
        time.sleep(0.1)
        if db.exists():
            try:
                with sqlite3.connect(db, timeout=1) as conn:
                    saved = conn.execute("SELECT count(*) FROM results").fetchone()[0]
            except sqlite3.Error:
                pass
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert saved >= 200
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        kept = conn.execute("SELECT count(*) FROM results").fetchone()[0]
    asked_before = len(web.log)
    rerun = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert rerun.returncode == 0, rerun.stderr
    asked = {path for _, _, path in web.log[asked_before:]}
    assert len(asked) == n - kept, (len(asked), n, kept)  # what was stored is reused, not asked again
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM results").fetchone()[0] == n


@pytest.mark.slow
def test_sigterm_half_way_keeps_every_finished_result(web, tmp_path):
    fast, slow = 60, 20
    for i in range(fast):
        web.add(f"http://127.0.0.1:{web.port}/fast{i}", Reply(200))
    for i in range(slow):
        web.add(f"http://127.0.0.1:{web.port}/slow{i}", Reply(200, delay=30))
    lst = tmp_path / "list.md"
    lst.write_text("".join(f"- [Fast paper {i} title](http://127.0.0.1:{web.port}/fast{i})\n" for i in range(fast))
                   + "".join(f"- [Slow paper {i} title](http://127.0.0.1:{web.port}/slow{i})\n" for i in range(slow)))
    db = tmp_path / "cache.db"
    proc = subprocess.Popen([sys.executable, "-m", "crawler", "check", str(lst), "--db", str(db), "--reports",
                             str(tmp_path / "r"), "--allow-private", "--no-progress", "--host-concurrency", "100",
                             "--concurrency", "100"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and len({p for _, _, p in web.log if p.startswith("/fast")}) < fast:
        time.sleep(0.05)
    # The fast answers are sent; give the client time to read them (generously: CI machines are shared).
    # The slow ones hang for 30 s, far longer than this.
    time.sleep(2.0)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        saved = {row[0] for row in conn.execute("SELECT url FROM results")}
    assert saved == {f"http://127.0.0.1:{web.port}/fast{i}" for i in range(fast)}


def test_the_subprocess_guard_is_where_the_tests_point_python():
    # Crawlers started as subprocesses get PYTHONPATH=GUARD: without sitecustomize.py there they would run
    # unguarded, and nothing else would notice.
    from tests.paths import GUARD

    assert (GUARD / "sitecustomize.py").is_file()
    run = subprocess.run([sys.executable, "-c", "import socket; socket.getaddrinfo('example.org', 80)"],
                         env={"PYTHONPATH": str(GUARD)}, capture_output=True, text=True, timeout=60)
    assert run.returncode != 0 and "may not resolve" in run.stderr
