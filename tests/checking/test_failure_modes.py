"""One link per failure mode, on a loopback web, each classified as SPEC says (issue 4).

Host names are resolved by a fake resolver to 127.0.0.1 (the guard is on, `allow_private`
lets loopback through); the name that does not resolve is answered by that resolver too, so no
DNS query leaves the machine.
"""

import asyncio
import gzip
import socket
import struct
import threading

import pytest

from crawler.errors import NameNotResolved
from crawler.net.pool import ClientPool
from crawler.pipeline import Job, Pipeline
from crawler.store.cache import Store
from tests.fakes.web import Reply


class Flaky:
    """Answers `first` for the first n requests, then `then`."""

    def __init__(self, first: Reply, n: int, then: Reply):
        self.first, self.n, self.then, self.calls = first, n, then, 0

    def __call__(self, method, host, path, headers):
        self.calls += 1
        return self.first if self.calls <= self.n else self.then


def raw_server(behaviour: str):
    """A TCP server that hangs (accepts, never answers) or resets every connection."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    srv.settimeout(0.2)
    stop = threading.Event()
    held = []

    def loop():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            if behaviour == "reset":
                conn.recv(1024)
                conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                conn.close()
            else:
                held.append(conn)

    threading.Thread(target=loop, daemon=True).start()
    return srv.getsockname()[1], lambda: (stop.set(), srv.close(), [c.close() for c in held])


@pytest.fixture
def failure_web(web):
    site = f"http://site.test:{web.port}"
    web.add(f"{site}/ok", Reply(200, b"<title>A paper</title>", {"Content-Type": "text/html"}))
    web.add(f"{site}/404", Reply(404))
    web.add(f"{site}/410", Reply(410))
    web.add(f"{site}/chain1", Reply(301, headers={"Location": f"{site}/chain2"}))
    web.add(f"{site}/chain2", Reply(308, headers={"Location": f"{site}/chain3"}))
    web.add(f"{site}/chain3", Reply(302, headers={"Location": f"{site}/ok"}))
    web.add(f"{site}/loop-a", Reply(302, headers={"Location": f"{site}/loop-b"}))
    web.add(f"{site}/loop-b", Reply(302, headers={"Location": f"{site}/loop-a"}))
    web.add(f"{site}/flaky", Flaky(Reply(503), 1, Reply(200)))
    web.add(f"{site}/busy", Flaky(Reply(429, headers={"Retry-After": "1"}), 1, Reply(200)))
    # A 429 pauses its whole host (issue 12), so the host that asks for an hour has no other links here.
    web.add(f"http://limited.test:{web.port}/always-429", Reply(429, headers={"Retry-After": "3600"}))
    web.add(f"{site}/403", Reply(403, b"<title>Just a moment...</title>"))
    web.add(f"{site}/no-head", Reply(200, head_status=405))
    web.add(f"{site}/head-lies", Reply(404, b"<title>Not Found</title>", {"Content-Type": "text/html"},
                                       head_status=200))
    web.add(f"{site}/big.pdf", Reply(200, b"%PDF" + b"0" * (50 * 1024 * 1024), {"Content-Type": "application/pdf"}))
    bomb = gzip.compress(b"<html>" + b" " * (50 * 1024 * 1024))
    web.add(f"{site}/bomb", Reply(200, bomb, {"Content-Type": "text/html", "Content-Encoding": "gzip"}))
    web.add(f"{site}/deep/soft", Reply(200, b"<html><title>Page not found</title></html>",
                                       {"Content-Type": "text/html"}))
    web.add(f"{site}/deep/gone", Reply(302, headers={"Location": f"{site}/"}))
    web.add(f"{site}/", Reply(200, b"<title>Home</title>", {"Content-Type": "text/html"}))
    web.add(f"{site}/mentions-404", Reply(200, b"<title>On HTTP status codes</title><p>404 means...</p>",
                                          {"Content-Type": "text/html"}))
    web.add(f"{site}/slow", Reply(200, delay=1.0))
    hang_port, stop_hang = raw_server("hang")
    reset_port, stop_reset = raw_server("reset")
    yield web, site, hang_port, reset_port
    stop_hang()
    stop_reset()


EXPECTED = {
    "/ok": "ok", "/404": "broken", "/410": "broken", "/chain1": "redirected", "/loop-a": "unreachable",
    "/flaky": "ok", "/busy": "ok", "/403": "blocked", "/no-head": "ok",
    "/head-lies": "broken", "/big.pdf": "ok", "/bomb": "ok", "/deep/soft": "broken", "/deep/gone": "broken",
    "/mentions-404": "ok", "/slow": "ok",
}


def test_every_failure_mode_is_classified_as_spec_says(failure_web, make_settings, tmp_path):
    web, site, hang_port, reset_port = failure_web
    lines = [f"- [Paper for {path}]({site}{path})" for path in EXPECTED]
    lines += [
        f"- [Paper that is rate-limited for an hour](http://limited.test:{web.port}/always-429)",
        f"- [Paper that hangs](http://site.test:{hang_port}/hang)",
        f"- [Paper that resets](http://site.test:{reset_port}/reset)",
        "- [Paper whose host is gone](http://no-such-host.invalid/paper)",
        "- [Paper on a closed port](http://site.test:1/paper)",
        "- [Paper on an impossible port](http://site.test:99999/paper)",
        "- [Paper on ftp](ftp://site.test/paper.pdf)",
    ]
    lst = tmp_path / "list.md"
    lst.write_text("\n".join(lines) + "\n")

    async def resolver(host, port):
        if host == "no-such-host.invalid":
            raise NameNotResolved(host, transient=False, detail="Name or service not known")
        return ["127.0.0.1"]

    settings = make_settings(allow_private=True, timeout=2.0, retries=2, backoff_base=0.05, retry_after_ceiling=5)

    async def go():
        async with ClientPool(settings, resolver=resolver) as pool:
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool).execute(Job("check", lst))

    outcome = asyncio.run(go())
    got = {lo["url"].split(str(web.port), 1)[-1] if str(web.port) in lo["url"] else lo["url"]: lo
           for lo in outcome.report.to_json()["links"]}
    for path, status in EXPECTED.items():
        assert got[path]["status"] == status, (path, got[path])
    by_url = {lo["url"]: lo for lo in outcome.report.to_json()["links"]}
    assert by_url[f"http://limited.test:{web.port}/always-429"]["status"] == "rate_limited"
    assert by_url[f"http://site.test:{hang_port}/hang"]["status"] == "timeout"
    assert by_url[f"http://site.test:{reset_port}/reset"]["status"] == "unreachable"
    assert by_url["http://no-such-host.invalid/paper"]["status"] == "broken"
    assert by_url["http://site.test:1/paper"]["status"] == "unreachable"
    assert by_url["http://site.test:99999/paper"]["status"] == "invalid"
    assert by_url["ftp://site.test/paper.pdf"]["status"] == "skipped"
    # Details a reader needs.
    assert got["/chain1"]["suggestion"] == f"{site}/chain3"  # where the last permanent hop points
    assert [h["status"] for h in got["/chain1"]["redirects"]] == [301, 308, 302]
    assert "soft 404" in got["/deep/soft"]["error"] and "home page" in got["/deep/gone"]["error"]
    assert "redirect loop" in got["/loop-a"]["error"]
    # Every error text is one short line (issue 13).
    errors = [lo["error"] for lo in outcome.report.to_json()["links"] if lo["error"]]
    assert len(errors) >= 10 and all(len(e) <= 200 and e.isprintable() for e in errors)
