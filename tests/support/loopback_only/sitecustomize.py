"""Loaded at start-up by a Python whose PYTHONPATH holds this folder: the crawler that a workflow test runs as
a subprocess may resolve and reach loopback only, as tests/conftest.py makes every in-process test do."""

import ipaddress
import socket

_getaddrinfo = socket.getaddrinfo
_connect = socket.socket.connect
_connect_ex = socket.socket.connect_ex


def _loopback(host) -> bool:
    if isinstance(host, bytes):
        host = host.decode()
    if not isinstance(host, str):
        return False
    h = host.strip("[]").split("%")[0].lower()
    if h in ("localhost", "::1") or h.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(h).is_loopback
    except ValueError:
        return False


def getaddrinfo(host, *args, **kwargs):
    if host is not None and not _loopback(host):
        raise socket.gaierror(socket.EAI_NONAME, f"workflow tests may not resolve {host!r}")
    return _getaddrinfo(host, *args, **kwargs)


def _guard(address):
    if isinstance(address, tuple) and not _loopback(address[0]):
        raise OSError(f"workflow tests may not connect to {address[0]!r}")


def connect(self, address):
    _guard(address)
    return _connect(self, address)


def connect_ex(self, address):
    _guard(address)
    return _connect_ex(self, address)


socket.getaddrinfo = getaddrinfo
socket.socket.connect = connect
socket.socket.connect_ex = connect_ex
