"""crawler.net.guard (the private-address guard, the resolver) under crawler.net.pool.ClientPool, without leaving
this machine.

Nothing here connects anywhere but 127.0.0.1. Names are answered by a fake resolver; under GuardedBackend the
real network backend is replaced by a recorder that lists every address the guard let through. The recorder
connects for real only to loopback, and to a local test server when it stands in for a "public" address
(8.8.8.8 below is only ever a label: the recorder reroutes it to 127.0.0.1, no packet goes to it). Any other
address is recorded and refused, so a guard that lets a private address through fails the test without a
single packet leaving the host.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time

import httpcore
import pytest

from crawler.checking.checker import Checker
from crawler.config import Settings
from crawler.errors import NameNotResolved, PrivateAddressRefused
from crawler.models import Hop, LinkStatus
from crawler.net.guard import GuardedBackend, is_forbidden, system_resolver
from crawler.net.pool import ClientPool

LOOPBACK = ("127.0.0.1", "::1")
PUBLIC = "8.8.8.8"  # a label for "some public host"; the recorder sends it to the local server instead


# --- fixtures and fakes ---------------------------------------------------------------------------


class FakeResolver:
    """Answers from a table; IP literals answer themselves (as getaddrinfo would). Unknown names fail the test."""

    def __init__(self, table: dict[str, list[str] | Exception] | None = None):
        self.table = table or {}
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append((host, port))
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return [host]
        if host not in self.table:
            raise AssertionError(f"the test's resolver was asked for an unexpected name {host!r}")
        answer = self.table[host]
        if isinstance(answer, Exception):
            raise answer
        return list(answer)


class RecordingBackend(httpcore.AsyncNetworkBackend):
    """Stands in for the real network under GuardedBackend.

    Records every (address, port) it is asked to connect to. Loopback connects for real when `loopback` is set;
    an address in `reroute` connects to 127.0.0.1:<port> instead; anything else raises httpcore.ConnectError
    after recording, so no packet is sent.
    """

    def __init__(self, *, loopback: bool = False, reroute: dict[str, int] | None = None):
        self.calls: list[tuple[str, int]] = []
        self.loopback = loopback
        self.reroute = reroute or {}
        self._real = httpcore.AnyIOBackend()

    async def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        self.calls.append((host, port))
        if host in self.reroute:
            return await self._real.connect_tcp("127.0.0.1", self.reroute[host], timeout=timeout)
        if self.loopback and host in LOOPBACK:
            return await self._real.connect_tcp(host, port, timeout=timeout)
        raise httpcore.ConnectError(f"recorder: no connection to {host}:{port}")

    async def connect_unix_socket(self, path, timeout=None, socket_options=None):
        raise AssertionError("unix sockets are never used")

    async def sleep(self, seconds: float) -> None:
        await self._real.sleep(seconds)

    @property
    def addresses(self) -> list[str]:
        return [host for host, _ in self.calls]


def guarded(resolver, recorder: RecordingBackend, *, allow_private: bool = False) -> GuardedBackend:
    # The test seam: everything the guard lets through lands in the recorder.
    return GuardedBackend(resolver, allow_private=allow_private, inner=recorder)


class LoopbackServer:
    """A minimal HTTP/1.1 server on 127.0.0.1: one request per connection, answers from a table of paths."""

    def __init__(self, routes: dict[str, tuple[int, dict[str, str]]] | None = None, *, hang: bool = False):
        self.routes = routes or {}
        self.hang = hang
        self.requests: list[tuple[str, str, str]] = []  # (method, target, Host header)
        self._stop = asyncio.Event()
        self._writers: list[asyncio.StreamWriter] = []

    async def __aenter__(self) -> LoopbackServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(self, *exc) -> None:
        self._stop.set()
        self._server.close()
        for writer in self._writers:
            writer.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._writers.append(writer)
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()
            return
        lines = head.decode("latin-1").split("\r\n")
        method, target, _ = lines[0].split(" ", 2)
        headers = {k.lower(): v for k, _, v in (line.partition(": ") for line in lines[1:] if line)}
        self.requests.append((method, target, headers.get("host", "")))
        if self.hang:
            await self._stop.wait()
            writer.close()
            return
        status, extra = self.routes.get(target, (404, {}))
        body = b"" if method == "HEAD" else b"<html><title>A paper</title></html>"
        fields = {"Content-Length": str(len(body)), "Connection": "close", **extra}
        lines = [f"HTTP/1.1 {status} Answer"] + [f"{k}: {v}" for k, v in fields.items()]
        writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        try:
            await writer.drain()
        finally:
            writer.close()


class Waits(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def make_settings(**changes) -> Settings:
    values = dict(retries=2, backoff_base=0.5, timeout=3.0, connect_timeout=2.0, soft404=False)  # HEAD first
    values.update(changes)
    return Settings(**values)


async def check_through_pool(url: str, settings: Settings, resolver, recorder: RecordingBackend):
    """Checker -> ClientPool -> GuardedTransport -> GuardedBackend(resolver) -> recorder."""
    waits = Waits()
    async with ClientPool(settings, resolver=resolver, network_backend=recorder, transport="httpcore") as pool:
        checker = Checker(pool, settings, sleep=waits, clock=lambda: 1_700_000_000.0)
        result = await checker.check(url)
    return result, waits, checker


# --- is_forbidden ---------------------------------------------------------------------------------

FORBIDDEN = [
    "127.0.0.1",
    "127.1.2.3",
    "10.0.0.1",
    "172.16.5.4",
    "172.31.255.255",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "100.64.0.1",  # carrier-grade NAT
    "192.0.2.1",  # documentation
    "198.18.0.1",  # benchmarking
    "::1",
    "fe80::1",
    "fe80::1%eth0",  # scoped link-local, as getaddrinfo can answer
    "fc00::1",
    "fd12:3456::1",
    "::ffff:127.0.0.1",
    "::ffff:169.254.169.254",
    "::ffff:10.0.0.1",
    "2002:a9fe:a9fe::1",  # 6to4 wrapping 169.254.169.254
    "ff02::1",
    "::",
]
ALLOWED = ["8.8.8.8", "1.1.1.1", "2606:4700::1111", "151.101.1.69", "172.32.0.1", "::ffff:8.8.8.8"]


@pytest.mark.parametrize("address", FORBIDDEN)
def test_is_forbidden(address):
    assert is_forbidden(address) is True


@pytest.mark.parametrize("address", ALLOWED)
def test_public_addresses_are_allowed(address):
    # Only classified here, never contacted.
    assert is_forbidden(address) is False


@pytest.mark.parametrize("address", ["64:ff9b::a9fe:a9fe", "64:ff9b::7f00:1"])
def test_nat64_wrapped_private_addresses_are_forbidden(address):
    assert is_forbidden(address) is True


# --- GuardedBackend -------------------------------------------------------------------------------


def test_guard_refuses_metadata_address_before_connecting():
    resolver = FakeResolver({"metadata.example": ["169.254.169.254"]})
    recorder = RecordingBackend()

    async def main():
        with pytest.raises(PrivateAddressRefused) as info:
            await guarded(resolver, recorder).connect_tcp("metadata.example", 80, timeout=1.0)
        return info.value

    refused = asyncio.run(main())
    assert (refused.host, refused.address) == ("metadata.example", "169.254.169.254")
    assert "169.254.169.254" in str(refused)
    assert resolver.calls == [("metadata.example", 80)]
    assert recorder.calls == []  # refused before any connect


def test_guard_refuses_when_every_answer_is_private():
    resolver = FakeResolver({"intranet.example": ["10.0.0.1", "192.168.1.1", "fd00::5", "::1"]})
    recorder = RecordingBackend()

    async def main():
        with pytest.raises(PrivateAddressRefused) as info:
            await guarded(resolver, recorder).connect_tcp("intranet.example", 443)
        return info.value

    assert asyncio.run(main()).address == "10.0.0.1"
    assert recorder.calls == []


def test_guard_attempts_only_the_public_answers():
    answers = ["10.0.0.1", PUBLIC, "192.168.1.1", "2606:4700::1111", "fe80::1", "169.254.169.254"]
    resolver = FakeResolver({"mixed.example": answers})
    recorder = RecordingBackend()  # records, then raises ConnectError: nothing is sent

    async def main():
        with pytest.raises(httpcore.ConnectError):
            await guarded(resolver, recorder).connect_tcp("mixed.example", 443)

    asyncio.run(main())
    assert recorder.calls == [(PUBLIC, 443), ("2606:4700::1111", 443)]


def test_guard_connects_to_the_address_it_checked():
    """DNS rebinding: the answer checked is the address connected to; the name is never handed on."""
    answers = iter([[PUBLIC], ["127.0.0.1"]])

    async def rebinding(host: str, port: int) -> list[str]:
        return next(answers)

    async def main():
        async with LoopbackServer() as server:
            recorder = RecordingBackend(reroute={PUBLIC: server.port})
            stream = await guarded(rebinding, recorder).connect_tcp("rebind.example", 80)
            await stream.aclose()
        return recorder

    recorder = asyncio.run(main())
    assert recorder.calls == [(PUBLIC, 80)]


def test_allow_private_lets_loopback_through():
    resolver = FakeResolver({"loopback.example": ["127.0.0.1"]})

    async def main():
        async with LoopbackServer() as server:
            refused_recorder = RecordingBackend(loopback=True)
            with pytest.raises(PrivateAddressRefused):
                await guarded(resolver, refused_recorder).connect_tcp("loopback.example", server.port)
            allowed_recorder = RecordingBackend(loopback=True)
            backend = guarded(resolver, allowed_recorder, allow_private=True)
            stream = await backend.connect_tcp("loopback.example", server.port)
            await stream.aclose()
        return refused_recorder, allowed_recorder, server.port

    refused_recorder, allowed_recorder, port = asyncio.run(main())
    assert refused_recorder.calls == []
    assert allowed_recorder.calls == [("127.0.0.1", port)]


def test_guard_reports_the_last_connect_error_after_trying_every_address():
    resolver = FakeResolver({"down.example": [PUBLIC, "1.1.1.1"]})
    recorder = RecordingBackend()

    async def main():
        with pytest.raises(httpcore.ConnectError, match="1.1.1.1"):
            await guarded(resolver, recorder).connect_tcp("down.example", 443)

    asyncio.run(main())
    assert recorder.addresses == [PUBLIC, "1.1.1.1"]


# --- through ClientPool and Checker ---------------------------------------------------------------


def test_checker_reports_refused_target_as_skipped():
    resolver = FakeResolver({"metadata.example": ["169.254.169.254"]})
    recorder = RecordingBackend()
    url = "http://metadata.example/latest/meta-data/"
    result, waits, checker = asyncio.run(check_through_pool(url, make_settings(), resolver, recorder))
    assert result.status is LinkStatus.SKIPPED
    assert result.error == "private address refused (169.254.169.254); see --allow-private"
    assert (result.http_status, result.final_url, result.redirects, result.suggestion) == (None, url, (), None)
    assert waits == [] and resolver.calls == [("metadata.example", 80)]  # a refusal is final, never retried
    assert recorder.calls == []
    assert (checker.answers, checker.network_failures) == (0, 0)  # not evidence of an outage


def test_loopback_works_only_with_allow_private():
    resolver = FakeResolver({"loopback.example": ["127.0.0.1"]})

    async def main():
        async with LoopbackServer({"/paper": (200, {})}) as server:
            url = f"http://loopback.example:{server.port}/paper"
            refused_recorder = RecordingBackend(loopback=True)
            refused = await check_through_pool(url, make_settings(), resolver, refused_recorder)
            seen_while_refused = list(server.requests)
            allowed_recorder = RecordingBackend(loopback=True)
            allowed = await check_through_pool(url, make_settings(allow_private=True), resolver, allowed_recorder)
        return server, refused, seen_while_refused, refused_recorder, allowed, allowed_recorder

    server, refused, seen_while_refused, refused_recorder, allowed, allowed_recorder = asyncio.run(main())
    assert refused[0].status is LinkStatus.SKIPPED and "--allow-private" in refused[0].error
    assert seen_while_refused == [] and refused_recorder.calls == []
    assert (allowed[0].status, allowed[0].http_status, allowed[0].error) == (LinkStatus.OK, 200, None)
    assert allowed_recorder.calls == [("127.0.0.1", server.port)]
    assert server.requests == [("HEAD", "/paper", f"loopback.example:{server.port}")]


def test_real_stack_head_then_get_and_404():
    """The guarded transport end to end on loopback: HEAD 404 is confirmed by GET, both reach the server."""
    resolver = FakeResolver({"papers.example": ["127.0.0.1"]})

    async def main():
        async with LoopbackServer() as server:  # every path 404
            url = f"http://papers.example:{server.port}/gone"
            result, waits, _ = await check_through_pool(
                url, make_settings(allow_private=True), resolver, RecordingBackend(loopback=True)
            )
        return result, waits, server

    result, waits, server = asyncio.run(main())
    assert (result.status, result.http_status, result.error) == (LinkStatus.BROKEN, 404, "HTTP 404")
    assert [(m, t) for m, t, _ in server.requests] == [("HEAD", "/gone"), ("GET", "/gone")]
    assert waits == []


@pytest.mark.parametrize(
    ("location", "refused_address"),
    [
        ("http://internal.example/secret", "10.0.0.5"),
        ("http://127.0.0.1:{port}/secret", "127.0.0.1"),  # the server itself: refusal proven by /secret unseen
        ("http://[::ffff:127.0.0.1]:{port}/secret", "::ffff:127.0.0.1"),
        ("http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
    ],
)
def test_every_redirect_hop_is_guarded(location, refused_address):
    resolver = FakeResolver({"public.example": [PUBLIC], "internal.example": ["10.0.0.5"]})

    async def main():
        async with LoopbackServer() as server:
            target = location.format(port=server.port)
            server.routes["/start"] = (302, {"Location": target})
            # 8.8.8.8 is rerouted to the local server; loopback stays closed (no `loopback=True`).
            recorder = RecordingBackend(reroute={PUBLIC: server.port})
            url = f"http://public.example:{server.port}/start"
            result, waits, _ = await check_through_pool(url, make_settings(), resolver, recorder)
        return result, waits, recorder, server, url, target

    result, waits, recorder, server, url, target = asyncio.run(main())
    assert result.status is LinkStatus.SKIPPED
    assert result.error == f"private address refused ({refused_address}); see --allow-private"
    assert result.redirects == (Hop(url, 302),)
    assert result.final_url == target
    assert recorder.calls == [(PUBLIC, server.port)]  # the first hop only
    assert [(m, t) for m, t, _ in server.requests] == [("HEAD", "/start")]
    assert waits == []


def test_redirect_hop_to_public_host_is_followed():
    """Control for the test above: the same setup with a public second hop is followed to its answer."""
    resolver = FakeResolver({"public.example": [PUBLIC], "mirror.example": ["1.1.1.1"]})

    async def main():
        async with LoopbackServer() as server:
            server.routes["/start"] = (301, {"Location": f"http://mirror.example:{server.port}/paper"})
            server.routes["/paper"] = (200, {})
            recorder = RecordingBackend(reroute={PUBLIC: server.port, "1.1.1.1": server.port})
            url = f"http://public.example:{server.port}/start"
            result, _, _ = await check_through_pool(url, make_settings(), resolver, recorder)
        return result, recorder, server

    result, recorder, server = asyncio.run(main())
    assert (result.status, result.http_status) == (LinkStatus.REDIRECTED, 200)
    assert result.suggestion == f"http://mirror.example:{server.port}/paper"
    assert recorder.addresses == [PUBLIC, "1.1.1.1"]


# --- numeric host spellings -----------------------------------------------------------------------


@pytest.mark.parametrize("host", ["2130706433", "0x7f000001", "127.1", "0x7f.0.0.1"])
def test_numeric_host_spellings_are_refused(host):
    """getaddrinfo reads these as 127.0.0.1 (inet_aton, no DNS); the guard sees the address, not the spelling."""

    class SystemResolver:
        def __init__(self) -> None:
            self.answers: list[list[str]] = []

        async def __call__(self, name: str, port: int) -> list[str]:
            answer = await system_resolver(name, port)
            self.answers.append(answer)
            return answer

    async def main():
        direct = await system_resolver(host, 80)
        resolver = SystemResolver()
        recorder = RecordingBackend()  # strict: even loopback is not connected
        result, waits, _ = await check_through_pool(f"http://{host}/", make_settings(), resolver, recorder)
        return direct, resolver, recorder, result, waits

    direct, resolver, recorder, result, waits = asyncio.run(main())
    assert direct == ["127.0.0.1"]
    assert resolver.answers == [["127.0.0.1"]]
    assert result.status is LinkStatus.SKIPPED
    assert result.error == "private address refused (127.0.0.1); see --allow-private"
    assert recorder.calls == [] and waits == []


def test_octal_dotted_host_never_reaches_the_network():
    """0177.0.0.1 is loopback to getaddrinfo, but httpx rejects the URL first: invalid, nothing resolved or sent."""
    assert asyncio.run(system_resolver("0177.0.0.1", 80)) == ["127.0.0.1"]
    resolver = FakeResolver()
    recorder = RecordingBackend()
    result, waits, _ = asyncio.run(check_through_pool("http://0177.0.0.1/", make_settings(), resolver, recorder))
    assert result.status is LinkStatus.INVALID
    assert result.error == "invalid URL: Invalid IPv4 address: '0177.0.0.1'"
    assert resolver.calls == [] and recorder.calls == [] and waits == []


# --- names that do not resolve --------------------------------------------------------------------


def test_permanent_dns_failure_is_broken():
    gone = NameNotResolved("gone.example", transient=False, detail="Name or service not known")
    resolver = FakeResolver({"gone.example": gone})
    recorder = RecordingBackend()
    result, waits, checker = asyncio.run(
        check_through_pool("https://gone.example/paper", make_settings(), resolver, recorder)
    )
    assert (result.status, result.http_status) == (LinkStatus.BROKEN, None)
    assert result.error == "name does not resolve: gone.example"
    assert resolver.calls == [("gone.example", 443)] and waits == []  # not retried
    assert recorder.calls == []
    assert (checker.network_failures, checker.answers) == (1, 0)


def test_transient_dns_failure_is_retried_then_unreachable():
    flaky = NameNotResolved("flaky.example", transient=True, detail="Temporary failure in name resolution")
    resolver = FakeResolver({"flaky.example": flaky})
    recorder = RecordingBackend()
    result, waits, checker = asyncio.run(
        check_through_pool("https://flaky.example/paper", make_settings(), resolver, recorder)
    )
    assert result.status is LinkStatus.UNREACHABLE
    assert result.error == "DNS failure: cannot resolve flaky.example: Temporary failure in name resolution"
    assert len(resolver.calls) == 3 and len(waits) == 2  # retries + 1 attempts
    assert 0.25 <= waits[0] <= 0.5 <= waits[1] <= 1.0
    assert recorder.calls == []
    assert checker.network_failures == 3  # counted towards outage detection


@pytest.mark.parametrize(
    ("errno", "transient"),
    [
        (socket.EAI_NONAME, False),
        (getattr(socket, "EAI_NODATA", -5), False),
        (socket.EAI_AGAIN, True),
        (socket.EAI_FAIL, True),
    ],
)
def test_system_resolver_classifies_getaddrinfo_errors(errno, transient):
    async def main():
        loop = asyncio.get_running_loop()

        async def failing(host, port, **kwargs):
            raise socket.gaierror(errno, "resolver says no")

        loop.getaddrinfo = failing  # this loop only; it is discarded when asyncio.run returns
        with pytest.raises(NameNotResolved) as info:
            await system_resolver("some.example", 443)
        return info.value

    error = asyncio.run(main())
    assert (error.host, error.transient) == ("some.example", transient)
    assert str(error) == "cannot resolve some.example: resolver says no"


def test_system_resolver_deduplicates_in_order():
    async def main():
        loop = asyncio.get_running_loop()

        async def answers(host, port, **kwargs):
            stream = socket.SOCK_STREAM
            return [
                (socket.AF_INET6, stream, 6, "", ("2606:4700::1111", port, 0, 0)),
                (socket.AF_INET, stream, 6, "", ("1.1.1.1", port)),
                (socket.AF_INET6, stream, 6, "", ("2606:4700::1111", port, 0, 0)),
                (socket.AF_INET, stream, 6, "", ("1.1.1.1", port)),
            ]

        loop.getaddrinfo = answers
        return await system_resolver("one.example", 443)

    assert asyncio.run(main()) == ["2606:4700::1111", "1.1.1.1"]


# --- real sockets on loopback: refused port, hang -------------------------------------------------


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_refused_connection_is_unreachable():
    resolver = FakeResolver({"closed.example": ["127.0.0.1"]})
    recorder = RecordingBackend(loopback=True)
    url = f"http://closed.example:{_closed_port()}/"
    result, waits, checker = asyncio.run(check_through_pool(url, make_settings(allow_private=True), resolver, recorder))
    assert result.status is LinkStatus.UNREACHABLE
    assert result.error.startswith("connection failed")
    assert len(recorder.calls) == 3 and len(waits) == 2
    assert (checker.network_failures, checker.answers) == (3, 0)


def test_silent_server_is_a_timeout_in_bounded_time():
    resolver = FakeResolver({"silent.example": ["127.0.0.1"]})

    async def main():
        async with LoopbackServer(hang=True) as server:
            url = f"http://silent.example:{server.port}/"
            settings = make_settings(allow_private=True, timeout=0.2, connect_timeout=0.2, retries=1)
            started = time.monotonic()
            result, waits, _ = await check_through_pool(url, settings, resolver, RecordingBackend(loopback=True))
            return result, waits, time.monotonic() - started, server

    result, waits, elapsed, server = asyncio.run(main())
    assert result.status is LinkStatus.TIMEOUT
    assert len(server.requests) == 2 and len(waits) == 1
    assert elapsed < 1.5


# --- ClientPool -----------------------------------------------------------------------------------


def test_pool_keeps_one_client_per_origin_and_one_gate_per_host():
    from crawler.config import HostRule

    settings = make_settings(host_concurrency=4, hosts={"slow.example": HostRule(concurrency=1)})

    async def main():
        async with ClientPool(settings, resolver=FakeResolver()) as pool:
            a = pool.client("https://papers.example/a")
            assert pool.client("https://PAPERS.example/b?x=1") is a
            assert pool.client("http://papers.example/a") is not a
            assert pool.client("https://papers.example:8443/a") is not a
            assert pool.host_gate("papers.example") is pool.host_gate("papers.example")
            assert pool.host_limit("papers.example") == 4
            assert pool.host_limit("slow.example") == 1
            assert a.headers["user-agent"] == settings.agent
            assert a.follow_redirects is False

    asyncio.run(main())


def test_a_hostile_list_sends_not_one_request_to_a_private_address(tmp_path):
    """The whole pipeline on a list of every private spelling, guard on: everything skipped, nothing connected."""
    from crawler.pipeline import Job, Pipeline
    from crawler.store.cache import Store

    targets = ["http://127.0.0.1/", "http://localhost:8080/", "http://[::1]/", "http://169.254.169.254/latest/",
               "http://10.0.0.1/", "http://172.16.0.9/", "http://192.168.1.1/", "http://0.0.0.0/",
               "http://[::ffff:127.0.0.1]/", "http://[fe80::1]/", "http://224.0.0.1/", "http://internal.example/",
               "http://rebind.example/", "https://metadata.google.internal/computeMetadata/v1/"]
    lst = tmp_path / "hostile.md"
    # Raw HTML: GitHub percent-encodes the brackets of an IPv6 literal in a Markdown destination (the link
    # becomes invalid), but keeps them in an <a href>, so that is the form that reaches the guard.
    lst.write_text("".join(f'- Paper {i} with a hostile link <a href="{u}">[paper]</a>\n'
                           for i, u in enumerate(targets)))
    resolver = FakeResolver({"localhost": ["127.0.0.1", "::1"], "internal.example": ["10.1.2.3"],
                             "rebind.example": ["192.168.0.10", "fd00::1"],
                             "metadata.google.internal": ["169.254.169.254"]})
    recorder = RecordingBackend()
    settings = Settings(db=tmp_path / "c.db", retries=0, progress=False)

    async def go():
        async with ClientPool(settings, resolver=resolver, network_backend=recorder, transport="httpcore") as pool:
            with Store(settings.db) as store:
                return await Pipeline(settings, store, pool=pool).execute(Job("check", lst))

    outcome = asyncio.run(go())
    assert recorder.calls == []
    assert {lo["url"]: lo["status"] for lo in outcome.report.to_json()["links"]} == {u: "skipped" for u in targets}
    assert all("--allow-private" in lo["error"] for lo in outcome.report.to_json()["links"])
