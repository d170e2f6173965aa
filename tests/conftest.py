import ipaddress
import os
import socket
from pathlib import Path

import certifi
import pytest

from crawler.config import Settings
from tests.fakes.web import FakeWeb


def _loopback(host) -> bool:
    if not isinstance(host, str):
        return False
    h = host.strip("[]").split("%")[0].lower()
    if h in ("localhost", "::1") or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def no_network_but_loopback(monkeypatch):
    """Safety net: no test may resolve a real name or connect anywhere but loopback."""
    real_getaddrinfo = socket.getaddrinfo
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def numeric(host: str) -> bool:  # "2130706433", "0177.0.0.1", "::1": no DNS query is made for these
        try:
            socket.inet_aton(host)
            return True
        except OSError:
            return _loopback(host) or ":" in host

    def getaddrinfo(host, *args, **kwargs):
        name = host if isinstance(host, str) or host is None else host.decode()
        if name is not None and not _loopback(name) and not numeric(name):
            raise socket.gaierror(socket.EAI_NONAME, f"tests may not resolve {host!r}")
        return real_getaddrinfo(host, *args, **kwargs)

    def guard(address):
        if isinstance(address, tuple) and not _loopback(address[0]):
            raise OSError(f"tests may not connect to {address[0]!r}")

    def connect(self, address):
        guard(address)
        return real_connect(self, address)

    def connect_ex(self, address):
        guard(address)
        return real_connect_ex(self, address)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    monkeypatch.setattr(socket.socket, "connect", connect)
    monkeypatch.setattr(socket.socket, "connect_ex", connect_ex)


@pytest.fixture(scope="session")
def one_ca_file(tmp_path_factory) -> str:
    """A CA file holding one certificate: loading certifi's whole bundle costs ~45 ms per ClientPool."""
    bundle = Path(certifi.where()).read_text()
    end = "-----END CERTIFICATE-----"
    path = tmp_path_factory.mktemp("ca") / "one.pem"
    path.write_text(bundle[bundle.index("-----BEGIN CERTIFICATE-----") : bundle.index(end) + len(end)] + "\n")
    return str(path)


@pytest.fixture(autouse=True)
def quiet_environment(monkeypatch, one_ca_file):
    """No proxy or token from the developer's shell may change what a test sees; no TLS happens in tests."""
    ours = ("REQUESTS_CA_BUNDLE", "SSL_CERT_DIR", "GITHUB_TOKEN", "GH_TOKEN", "OPENREVIEW_USERNAME",
            "OPENREVIEW_PASSWORD")
    for name in list(os.environ):
        if name.lower().endswith("_proxy") or name in ours:
            monkeypatch.delenv(name)
    monkeypatch.setenv("SSL_CERT_FILE", one_ca_file)


@pytest.fixture
def web():
    server = FakeWeb().start()
    yield server
    server.stop()


@pytest.fixture
def make_settings(tmp_path):
    def make(**kw) -> Settings:
        base = dict(db=tmp_path / "cache.db", reports=tmp_path / "reports", export=tmp_path / "papers.json",
                    retries=1, backoff_base=0.01, timeout=5.0, progress=False, arxiv_delay=0.0, arxiv_timeout=5.0)
        base.update(kw)
        return Settings(**base)

    return make
