"""One check worker process: URLs in over a pipe, Checker.check_many (per-host queues), results out.

Started by crawler.checking.workers, forked or as `python -m crawler.checking.worker_process`. Messages
are length-prefixed pickles over pipes, only between the parent and its own children.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import pickle
import signal
import struct
import sys
from collections.abc import Callable

from crawler.config import Settings
from crawler.models import CheckResult
from crawler.net.pacing import HostState

log = logging.getLogger("crawler")

FLUSH_EVERY = 0.01  # seconds a worker holds finished results before sending them
FLUSH_SIZE = 64  # results per message at most
_HEADER = struct.Struct(">I")

PoolFactory = Callable[[Settings], object]  # Settings -> ClientPool (an async context manager)


# --- framing ----------------------------------------------------------------------------------------------


def frame(message) -> bytes:
    payload = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(payload)) + payload


class Frames(asyncio.Protocol):
    """Reads length-prefixed pickles off a pipe and hands each message to `deliver`; None at the end."""

    def __init__(self, deliver: Callable[[object], None]):
        self._deliver = deliver
        self._buffer = bytearray()

    def data_received(self, data: bytes) -> None:
        buf = self._buffer
        buf += data
        start = 0
        while len(buf) - start >= _HEADER.size:
            (size,) = _HEADER.unpack_from(buf, start)
            end = start + _HEADER.size + size
            if len(buf) < end:
                break
            self._deliver(pickle.loads(buf[start + _HEADER.size : end]))
            start = end
        del buf[:start]

    def eof_received(self) -> bool:
        return False

    def connection_lost(self, exc) -> None:
        self._deliver(None)


# --- the worker side --------------------------------------------------------------------------------------


class _Worker:
    """One worker process's loop: URLs in, Checker.check_many (per-host queues), results out."""

    def __init__(self, settings: Settings, make_pool: PoolFactory, clock: Callable[[], float]):
        self.settings = settings
        self.make_pool = make_pool
        self.clock = clock
        self.validators: dict[str, tuple[str | None, str | None]] = {}
        self.outbox: list[CheckResult] = []
        self.flush_handle: asyncio.TimerHandle | None = None
        self.adopted: set[str] = set()  # hosts lent by the parent's gate, handed back at the end

    async def run(self, command_fd: int, result_fd: int) -> None:
        from crawler.checking.checker import Checker

        loop = asyncio.get_running_loop()
        self.out, _ = await loop.connect_write_pipe(asyncio.Protocol, os.fdopen(result_fd, "wb", buffering=0))
        async with self.make_pool(self.settings) as pool:
            self.pool = pool
            self.checker = Checker(pool, self.settings, clock=self.clock)
            commands: asyncio.Queue = asyncio.Queue()
            await loop.connect_read_pipe(lambda: Frames(commands.put_nowait),
                                         os.fdopen(command_fd, "rb", buffering=0))

            async def incoming():
                while True:
                    message = await commands.get()
                    if message is None:  # the parent closed the pipe before the end: stop now
                        os._exit(0)
                    if message[0] == "end":
                        # All URLs are in; the pipe still says when the parent is gone (it closes).
                        self.watch = asyncio.ensure_future(_exit_when_closed(commands))
                        return
                    self._adopt(message[2])
                    for url, etag, modified in message[1]:
                        if etag or modified:
                            self.validators[url] = (etag, modified)
                        yield url

            async for result in self.checker.check_many(incoming(), self.validators):
                self.outbox.append(result)
                if len(self.outbox) >= FLUSH_SIZE:
                    self._flush()
                elif self.flush_handle is None:
                    self.flush_handle = loop.call_later(FLUSH_EVERY, self._flush)
            self._flush()
            self.out.write(frame(("done", self._stats(), {h: pool.gate.state(h) for h in self.adopted})))
            while self.out.get_write_buffer_size():
                await asyncio.sleep(0.001)
            # Out at once: closing a hundred clients, or waiting for a resolver thread stuck on a slow
            # DNS answer, would only keep the parent waiting. The kernel closes the sockets.
            sys.stderr.flush()
            os._exit(0)

    def _adopt(self, states: dict[str, HostState]) -> None:
        for host, state in states.items():
            self.pool.gate.adopt(host, state)
            self.adopted.add(host)

    def _stats(self) -> tuple[int, int, int]:
        return self.checker.answers, self.checker.network_failures, self.pool.requests_sent

    def _flush(self) -> None:
        if self.flush_handle is not None:
            self.flush_handle.cancel()
            self.flush_handle = None
        if self.outbox:
            batch, self.outbox = self.outbox, []
            self.out.write(frame(("results", batch, self._stats())))


async def _exit_when_closed(commands: asyncio.Queue) -> None:
    """A parent that stopped, or died (SIGKILL), closes the command pipe: the worker stops at once."""
    while await commands.get() is not None:
        pass
    os._exit(0)


def _child_setup() -> None:
    """In a new worker: Ctrl-C is the parent's business; a SIGTERM ends the worker at once."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def forked_main(command_fd: int, result_fd: int, settings: Settings, make_pool: PoolFactory,
                 clock: Callable[[], float]) -> None:
    code = 1
    try:
        _child_setup()
        # The parent's running loop and policy came along with the fork: forget them (Python 3.12
        # does this itself at fork).
        asyncio.events._set_running_loop(None)
        asyncio.set_event_loop_policy(None)
        try:
            signal.set_wakeup_fd(-1)
        except ValueError:
            pass
        _warm(settings)
        # What came from the parent stays as it is: the collector no longer walks it (no CPU spent on
        # the parsed list, and no copy-on-write page copied just to touch a reference count).
        gc.freeze()
        asyncio.run(_Worker(settings, make_pool, clock).run(command_fd, result_fd))
        code = 0
    except BaseException:
        try:
            log.exception("check worker failed")
        except BaseException:
            pass
    finally:
        os._exit(code)  # never the parent's atexit handlers, finalizers or buffered output


def spawned_main() -> None:
    """`python -m crawler.checking.worker_process`: the start message on stdin, results on what was stdout."""
    _child_setup()
    result_fd = os.dup(1)
    os.dup2(2, 1)  # a stray print must not corrupt the result stream
    header = os.read(0, _HEADER.size)
    if len(header) < _HEADER.size:
        os._exit(0)
    (size,) = _HEADER.unpack(header)
    data = bytearray()
    while len(data) < size:
        chunk = os.read(0, size - len(data))
        if not chunk:
            os._exit(0)
        data += chunk
    settings, make_pool, clock, level = pickle.loads(data)
    logging.basicConfig(level=level, format="crawler: %(message)s")
    code = 1
    try:
        _warm(settings)
        asyncio.run(_Worker(settings, make_pool, clock).run(0, result_fd))
        code = 0
    except BaseException:
        log.exception("check worker failed")
    finally:
        sys.stderr.flush()
        os._exit(code)


def _warm(settings: Settings) -> None:
    # aiohttp is otherwise imported at the first request (~0.2 s): do it while the URLs are on their way.
    if settings.transport == "aiohttp":
        try:
            import aiohttp  # noqa: F401
        except ImportError:
            pass


if __name__ == "__main__":
    spawned_main()
