"""Headless Chromium driven through the DevTools protocol over a pipe: no driver, no websocket, stdlib only.

`--remote-debugging-pipe` makes Chromium read protocol commands from fd 3 and write answers and events
to fd 4, each message JSON ended by a NUL byte. That is all a test needs to load a page, read its console
and exceptions, type, click, evaluate and take a screenshot, with nothing but Debian's `chromium` installed.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

CHROMIUM = Path(os.environ.get("CRAWLER_CHROMIUM", "/usr/bin/chromium"))
# Flags that work as root in a container with no display, no GPU and no network but the loopback.
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-default-apps", "--disable-extensions", "--mute-audio", "--hide-scrollbars",
         "--window-size=1280,900")


class ProtocolError(RuntimeError):
    pass


class Chromium:
    def __init__(self, binary: Path = CHROMIUM, timeout: float = 15.0):
        self.binary = Path(binary)
        self.timeout = timeout
        self.proc: subprocess.Popen | None = None
        self.profile = Path(tempfile.mkdtemp(prefix="crawler-chromium-"))
        self.stderr_path = self.profile.parent / (self.profile.name + ".stderr")
        self._buf = b""
        self._next_id = 0
        self.events: list[dict] = []

    @classmethod
    def available(cls, binary: Path = CHROMIUM) -> bool:
        return binary.exists() and os.access(binary, os.X_OK)

    # -- process --------------------------------------------------------------------------------
    def start(self) -> Chromium:
        to_child_r, self._out = os.pipe()  # we write commands; Chromium reads them on fd 3
        self._in, from_child_w = os.pipe()  # Chromium writes on fd 4; we read

        def give_fds() -> None:  # runs in the child between fork and exec
            a, b = os.dup(to_child_r), os.dup(from_child_w)  # out of the way of 3 and 4 first
            os.dup2(a, 3)
            os.dup2(b, 4)

        stderr = open(self.stderr_path, "wb")  # noqa: SIM115 - closed with the process
        try:
            self.proc = subprocess.Popen(
                [str(self.binary), *FLAGS, f"--user-data-dir={self.profile}", "--remote-debugging-pipe",
                 "about:blank"],
                preexec_fn=give_fds, close_fds=False, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        finally:
            stderr.close()
            os.close(to_child_r)
            os.close(from_child_w)
        self.call("Browser.getVersion")
        return self

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            try:
                self._send("Browser.close")
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait(timeout=5)
        for fd in (getattr(self, "_out", None), getattr(self, "_in", None)):
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._out = self._in = None
        shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    def stderr_tail(self, n: int = 2000) -> str:
        try:
            return self.stderr_path.read_text(errors="replace")[-n:]
        except OSError:
            return ""

    # -- protocol -------------------------------------------------------------------------------
    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._next_id += 1
        msg: dict = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._out, json.dumps(msg).encode() + b"\0")
        return self._next_id

    def _read(self, deadline: float) -> dict:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("Chromium did not answer in time:\n" + self.stderr_tail())
            ready, _, _ = select.select([self._in], [], [], left)
            if ready:
                chunk = os.read(self._in, 1 << 20)
                if not chunk:
                    raise ProtocolError("Chromium closed the pipe:\n" + self.stderr_tail())
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float | None = None) -> dict:
        wanted = self._send(method, params, session)
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._read(deadline)
            if msg.get("id") == wanted:
                if "error" in msg:
                    raise ProtocolError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            if "method" in msg:
                self.events.append(msg)

    def pump(self, seconds: float) -> None:
        """Collect events for a while (console messages arrive on their own)."""
        deadline = time.monotonic() + seconds
        try:
            while True:
                msg = self._read(deadline)
                if "method" in msg:
                    self.events.append(msg)
        except TimeoutError:
            pass

    def new_page(self) -> Page:
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        page = Page(self, session)
        for domain in ("Runtime", "Log", "Page", "Network"):
            page.call(f"{domain}.enable")
        page.call("Emulation.setDeviceMetricsOverride",
                  {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        return page


class Page:
    def __init__(self, browser: Chromium, session: str):
        self.browser = browser
        self.session = session

    def call(self, method: str, params: dict | None = None, timeout: float | None = None) -> dict:
        return self.browser.call(method, params, self.session, timeout)

    def _events(self, *methods: str) -> list[dict]:
        return [e for e in self.browser.events if e.get("sessionId") == self.session and e["method"] in methods]

    def goto(self, url: str, ready: str = "true", timeout: float = 15.0) -> None:
        self.call("Page.navigate", {"url": url})
        self.wait_for(f"document.readyState === 'complete' && ({ready})", timeout)

    def eval(self, expression: str):
        result = self.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in result:
            raise ProtocolError(f"{expression!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression: str, timeout: float = 10.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.eval(f"Boolean({expression})"):
                    return
            except ProtocolError:
                pass  # the page is between documents
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout}s for {expression}; problems: {self.problems()}")
            self.browser.pump(0.05)

    def problems(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, and browser log errors (CSP, failed loads)."""
        out = []
        for e in self._events("Runtime.consoleAPICalled"):
            p = e["params"]
            if p["type"] in ("error", "warning", "assert"):
                out.append(f"console.{p['type']}: " + " ".join(str(a.get("value", a.get("description")))
                                                          for a in p.get("args", [])))
        for e in self._events("Runtime.exceptionThrown"):
            d = e["params"]["exceptionDetails"]
            out.append("exception: " + str(d.get("exception", {}).get("description") or d.get("text")))
        for e in self._events("Log.entryAdded"):
            entry = e["params"]["entry"]
            if entry["level"] in ("error", "warning"):
                out.append(f"log.{entry['level']} ({entry.get('source')}): {entry.get('text')}")
        return out

    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self._events("Network.requestWillBeSent")]

    def type_into(self, selector: str, text: str) -> None:
        self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.focus(); e.select(); }})()")
        self.call("Input.insertText", {"text": text})

    def click(self, selector: str) -> None:
        box = self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.scrollIntoView(); "
                        "const r = e.getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]; })()")
        for kind in ("mousePressed", "mouseReleased"):
            self.call("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1], "button": "left",
                                                   "clickCount": 1})

    def select(self, selector: str, value: str) -> None:
        self.eval(f"(() => {{ const e = document.querySelector({json.dumps(selector)}); e.value = {json.dumps(value)}; "
                  "e.dispatchEvent(new Event('change', {bubbles: true})); })()")

    def screenshot(self, path: Path) -> Path:
        self.eval("window.scrollTo(0, 0)")
        size = self.call("Page.getLayoutMetrics")["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": 1280, "height": min(max(size["height"], 900), 6000), "scale": 1}
        shot = self.call("Page.captureScreenshot", {"format": "png", "clip": clip, "captureBeyondViewport": True})
        path = Path(path)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path
