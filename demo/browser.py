"""Look at a report the way a person would: headless Chromium renders it, a screenshot is saved, and
everything the page did is recorded over the Chrome DevTools Protocol.

``python -m demo.browser PAGE.html [--screenshot OUT.png] [--max-height 2400]`` prints what was seen and
exits 1 when the page logged a console error, threw, or made any request besides loading itself.

Chromium (Debian's ``chromium`` package) runs with ``--headless --no-sandbox --disable-gpu`` and with its
own background traffic (component updates, sync, safe browsing lists, ...) switched off, in a throw-away
profile. The protocol client is ``websocket-client``; events are enabled before the page is navigated, so
nothing the page does can happen unseen.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
QUIET_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication",
    "--metrics-recording-only",
    "--hide-scrollbars",
)
# What the page is asked about once it has loaded.
DOM_PROBE = """(() => {
  const svgs = [...document.querySelectorAll('svg')];
  return {
    title: document.title,
    svg: svgs.length,
    svgWithTitle: svgs.filter(s => s.getAttribute('role') === 'img' && s.querySelector('title')).length,
    svgShapes: svgs.reduce((n, s) => n + s.querySelectorAll('path,rect,line,polyline,circle').length, 0),
    tables: document.querySelectorAll('table').length,
    tableRows: document.querySelectorAll('table tr').length,
    captions: document.querySelectorAll('table caption').length,
    scripts: document.querySelectorAll('script').length,
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight,
    text: document.body ? document.body.innerText.slice(0, 4000) : ''
  };
})()"""


class BrowserError(RuntimeError):
    pass


@dataclass
class PageVisit:
    url: str
    dom: dict[str, Any] = field(default_factory=dict)
    console: list[dict[str, Any]] = field(default_factory=list)  # every console API call
    errors: list[str] = field(default_factory=list)  # console errors, exceptions, error log entries
    requests: list[str] = field(default_factory=list)  # every request except the page itself
    screenshot: Path | None = None
    chromium_version: str = ""


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM", ""), *CHROMIUM_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


class DevTools:
    """A minimal CDP session over one websocket: commands by id, events kept in arrival order."""

    def __init__(self, ws_url: str, timeout_s: float) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=timeout_s, suppress_origin=True)
        self.events: list[dict[str, Any]] = []
        self._next = 0

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()

    def call(self, method: str, params: dict[str, Any] | None = None, session: str | None = None):
        self._next += 1
        message: dict[str, Any] = {"id": self._next, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.ws.send(json.dumps(message))
        while True:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self._next:
                if "error" in answer:
                    raise BrowserError(
                        f"{method}: {answer['error'].get('message', answer['error'])}"
                    )
                return answer.get("result", {})
            if "method" in answer:
                self.events.append(answer)

    def wait_for(self, method: str, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not any(e["method"] == method for e in self.events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BrowserError(f"no {method} within {timeout_s:.0f} s")
            self.ws.settimeout(remaining)
            answer = json.loads(self.ws.recv())
            if "method" in answer:
                self.events.append(answer)

    def drain(self, quiet_s: float) -> None:
        """Collect events until none has arrived for ``quiet_s`` (late console output or requests)."""
        self.ws.settimeout(quiet_s)
        while True:
            try:
                answer = json.loads(self.ws.recv())
            except websocket.WebSocketTimeoutException:
                return
            if "method" in answer:
                self.events.append(answer)


@contextlib.contextmanager
def chromium(binary: str, timeout_s: float = 30.0) -> Iterator[tuple[str, str]]:
    """Start Chromium on an ephemeral DevTools port in a throw-away profile; yields (browser ws URL,
    version) and stops the whole browser process group on exit."""
    profile = tempfile.mkdtemp(prefix="demo-chromium-")
    process = subprocess.Popen(
        [binary, *QUIET_FLAGS, f"--user-data-dir={profile}", "--remote-debugging-port=0"]
        + ["--remote-debugging-address=127.0.0.1", "about:blank"],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, so its helper processes stop with it
    )
    try:
        port_file = Path(profile) / "DevToolsActivePort"
        deadline = time.monotonic() + timeout_s
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if process.poll() is not None:
                tail = (process.stderr.read() if process.stderr else b"").decode(errors="replace")
                raise BrowserError(
                    f"{binary} exited with {process.returncode} before DevTools listened: "
                    + " | ".join(tail.strip().splitlines()[-3:])
                )
            if time.monotonic() > deadline:
                raise BrowserError(f"{binary}: DevTools did not listen within {timeout_s:.0f} s")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        version = subprocess.run(
            [binary, "--version"], capture_output=True, text=True, timeout=30
        ).stdout.strip()
        yield f"ws://127.0.0.1:{int(port)}{path}", version
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        if process.stderr:
            process.stderr.close()
        shutil.rmtree(profile, ignore_errors=True)


def visit(
    page: Path,
    screenshot: Path | None = None,
    binary: str | None = None,
    width: int = 1280,
    max_height: int = 2400,
    timeout_s: float = 30.0,
) -> PageVisit:
    """Render ``page`` and record what happened; optionally save a PNG of its top ``max_height`` px."""
    binary = binary or find_chromium()
    if binary is None:
        raise BrowserError("chromium not found: apt-get install chromium (or set CHROMIUM=/path)")
    if not page.is_file():
        raise BrowserError(f"{page}: no such file")
    url = page.resolve().as_uri()
    result = PageVisit(url)
    with chromium(binary, timeout_s) as (ws_url, version):
        result.chromium_version = version
        tools = DevTools(ws_url, timeout_s)
        try:
            target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log", "Network"):
                tools.call(f"{domain}.enable", session=session)
            tools.call(
                "Emulation.setDeviceMetricsOverride",
                {"width": width, "height": 900, "deviceScaleFactor": 1, "mobile": False},
                session,
            )
            tools.events.clear()  # what about:blank did is not the page's doing
            tools.call("Page.navigate", {"url": url}, session)
            tools.wait_for("Page.loadEventFired", timeout_s)
            tools.drain(0.5)
            probe = tools.call(
                "Runtime.evaluate", {"expression": DOM_PROBE, "returnByValue": True}, session
            )
            result.dom = probe.get("result", {}).get("value", {})
            if screenshot is not None:
                height = max(1, min(int(result.dom.get("height", 900)), max_height))
                shot = tools.call(
                    "Page.captureScreenshot",
                    {
                        "format": "png",
                        "captureBeyondViewport": True,
                        "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
                    },
                    session,
                )
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                screenshot.write_bytes(base64.b64decode(shot["data"]))
                result.screenshot = screenshot
            tools.drain(0.2)
        finally:
            tools.close()
    _classify(tools.events, result)
    return result


def _classify(events: list[dict[str, Any]], result: PageVisit) -> None:
    for event in events:
        method, params = event["method"], event.get("params", {})
        if method == "Runtime.consoleAPICalled":
            texts = [str(a.get("value", a.get("description", ""))) for a in params.get("args", [])]
            entry = {"type": params.get("type"), "text": " ".join(texts)}
            result.console.append(entry)
            if entry["type"] in ("error", "assert"):
                result.errors.append(f"console.{entry['type']}: {entry['text']}")
        elif method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            thrown = details.get("exception", {}).get("description") or details.get("text", "")
            result.errors.append(f"exception: {thrown.splitlines()[0] if thrown else '?'}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error":
                result.errors.append(f"log ({entry.get('source')}): {entry.get('text')}")
        elif method == "Network.requestWillBeSent":
            request_url = params.get("request", {}).get("url", "")
            if request_url != result.url:
                result.requests.append(request_url)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m demo.browser", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("page", type=Path, help="HTML file to render")
    parser.add_argument("--screenshot", type=Path, help="save a PNG of the page here")
    parser.add_argument(
        "--width", type=int, default=1280, help="viewport width in CSS px (default 1280)"
    )
    parser.add_argument(
        "--max-height",
        type=int,
        default=2400,
        help="screenshot at most this many px (default 2400)",
    )
    args = parser.parse_args(argv)
    try:
        seen = visit(args.page, args.screenshot, width=args.width, max_height=args.max_height)
    except (BrowserError, OSError, websocket.WebSocketException) as e:
        print(f"demo.browser: error: {e}", file=sys.stderr)
        return 2
    dom = seen.dom
    print(f"{seen.chromium_version}: {seen.url}")
    print(
        f"title {dom.get('title')!r}; {dom.get('svg')} svg charts ({dom.get('svgWithTitle')} titled), "
        f"{dom.get('tables')} tables ({dom.get('tableRows')} rows), {dom.get('scripts')} scripts"
    )
    print(
        f"console messages {len(seen.console)}, errors {len(seen.errors)}, requests {len(seen.requests)}"
    )
    for line in seen.errors + [f"request: {u}" for u in seen.requests]:
        print(f"  {line}")
    if seen.screenshot:
        print(f"screenshot {seen.screenshot} ({seen.screenshot.stat().st_size:,} bytes)")
    return 1 if seen.errors or seen.requests else 0


if __name__ == "__main__":
    sys.exit(main())
