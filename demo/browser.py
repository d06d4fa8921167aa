"""Look at a report the way a person would: headless Chromium renders it, a screenshot is saved, and
everything the page did is recorded over the Chrome DevTools Protocol.

``python -m demo.browser PAGE.html [--screenshot OUT.png] [--max-height 2400] [--width 390 --mobile]``
prints what was seen and exits 1 when the page logged a console error, threw, or made any request
besides loading itself. ``--print-pdf OUT.pdf`` and ``--print-first-page OUT.png`` print the page as
Chromium prints it (``Page.printToPDF`` with the page's own ``@page`` size and margins) and report the
page count and the size of the charts' text on paper.

The first printed page as a picture: poppler's ``pdftoppm`` is not part of the toolchain, so the PNG is
Chromium's own screenshot of the page laid out with print media emulated, at the printed content width
(the ``@page`` size less its margins), cut where the first printed page ends (its height, or the first
section that starts a new page, whichever comes first).

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
import re
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
    viewport: window.innerWidth,
    tablesInScrollBox: [...document.querySelectorAll('table')].filter(
      t => ['auto', 'scroll'].includes(getComputedStyle(t.parentElement).overflowX)).length,
    tablesWiderThanViewport: [...document.querySelectorAll('table')].filter(
      t => t.scrollWidth > window.innerWidth).length,
    text: document.body ? document.body.innerText.slice(0, 4000) : ''
  };
})()"""


# The page's @page rule (size and margins, in mm) and, in the print layout, the size on paper of
# every chart's text: an SVG's font size in its own units, times the SVG's drawn width over its
# viewBox width, in CSS px (1/96 in), then in points (1/72 in).
PAGE_RULE_PROBE = """(() => {
  const rules = [...document.styleSheets].flatMap(s => [...s.cssRules]);
  const page = rules.find(r => r instanceof CSSPageRule);
  if (!page) return null;
  const st = page.style;
  return {size: st.getPropertyValue('size'), top: st.getPropertyValue('margin-top'),
          right: st.getPropertyValue('margin-right'), bottom: st.getPropertyValue('margin-bottom'),
          left: st.getPropertyValue('margin-left')};
})()"""
PRINT_PROBE = """(() => {
  const charts = [...document.querySelectorAll('svg')].map(svg => {
    const box = svg.viewBox.baseVal;
    const scale = svg.getBoundingClientRect().width / (box && box.width ? box.width : 1);
    const sizes = [...svg.querySelectorAll('text')].map(
      t => parseFloat(getComputedStyle(t).fontSize) * scale * 72 / 96);
    return {scale: scale, texts: sizes.length, minPt: sizes.length ? Math.min(...sizes) : null};
  });
  const sections = [...document.querySelectorAll('body > section')];
  return {
    charts: charts,
    sections: sections.length,
    sectionsBreakBefore: sections.filter(s => getComputedStyle(s).breakBefore === 'page').length,
    firstBreakTop: (() => {
      const first = sections.find(s => getComputedStyle(s).breakBefore === 'page');
      return first ? first.getBoundingClientRect().top + window.scrollY : null;
    })(),
    width: document.documentElement.scrollWidth,
    height: document.documentElement.scrollHeight
  };
})()"""
# Paper sizes @page may name, in mm (CSS Paged Media, page-size keywords).
PAPER_MM = {"a4": (210.0, 297.0), "letter": (215.9, 279.4)}
MM_PER_INCH = 25.4
CSS_PX_PER_INCH = 96


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


@dataclass
class PrintedPage:
    """What Chromium's print of a page gave: the PDF, its pages and paper, and the charts' text size."""

    url: str
    pdf: bytes = b""
    pages: int = 0
    paper_mm: tuple[float, float] = (0.0, 0.0)  # the @page size
    margins_mm: tuple[float, float, float, float] = (0.0, 0.0, 0.0, 0.0)  # top, right, bottom, left
    media_box_pt: tuple[float, float] = (0.0, 0.0)  # the first page of the PDF, in points
    chart_text_pt: list[float] = field(default_factory=list)  # smallest text of each chart, in pt
    sections: int = 0
    sections_breaking: int = 0  # sections whose printed layout starts a new page
    first_page: Path | None = None


def find_chromium() -> str | None:
    for candidate in (os.environ.get("CHROMIUM", ""), *CHROMIUM_CANDIDATES):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return shutil.which("chromium")


class DevTools:
    """A minimal CDP session over one websocket: commands by id, events kept in arrival order."""

    def __init__(self, ws_url: str, timeout_s: float) -> None:
        self.ws = websocket.create_connection(ws_url, timeout=timeout_s, suppress_origin=True)
        self.timeout_s = timeout_s
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
        self.ws.settimeout(self.timeout_s)  # waits for events may have shortened it
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


def _page_url(page: Path, binary: str | None) -> tuple[str, str]:
    binary = binary or find_chromium()
    if binary is None:
        raise BrowserError("chromium not found: apt-get install chromium (or set CHROMIUM=/path)")
    if not page.is_file():
        raise BrowserError(f"{page}: no such file")
    return binary, page.resolve().as_uri()


@contextlib.contextmanager
def _session(
    binary: str, url: str, width: int, mobile: bool, timeout_s: float
) -> Iterator[tuple[DevTools, str, str]]:
    """A browser with ``url`` loaded in a ``width`` px viewport (a phone's when ``mobile``), every
    event recorded from before the navigation; yields (tools, session id, Chromium version)."""
    with chromium(binary, timeout_s) as (ws_url, version):
        tools = DevTools(ws_url, timeout_s)
        try:
            target = tools.call("Target.createTarget", {"url": "about:blank"})["targetId"]
            session = tools.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
                "sessionId"
            ]
            for domain in ("Page", "Runtime", "Log", "Network"):
                tools.call(f"{domain}.enable", session=session)
            _viewport(tools, session, width, 900, mobile)
            tools.events.clear()  # what about:blank did is not the page's doing
            tools.call("Page.navigate", {"url": url}, session)
            tools.wait_for("Page.loadEventFired", timeout_s)
            tools.drain(0.5)
            yield tools, session, version
        finally:
            tools.close()


def _viewport(tools: DevTools, session: str, width: int, height: int, mobile: bool) -> None:
    tools.call(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile},
        session,
    )


def _evaluate(tools: DevTools, session: str, expression: str) -> Any:
    probe = tools.call(
        "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session
    )
    return probe.get("result", {}).get("value")


def _screenshot(tools: DevTools, session: str, out: Path, width: float, height: float) -> Path:
    shot = tools.call(
        "Page.captureScreenshot",
        {
            "format": "png",
            "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1},
        },
        session,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(base64.b64decode(shot["data"]))
    return out


def visit(
    page: Path,
    screenshot: Path | None = None,
    binary: str | None = None,
    width: int = 1280,
    max_height: int = 2400,
    timeout_s: float = 30.0,
    mobile: bool = False,
) -> PageVisit:
    """Render ``page`` and record what happened; optionally save a PNG of its top ``max_height`` px.
    ``mobile`` lays the page out as a phone does (the page's viewport meta tag applies)."""
    binary, url = _page_url(page, binary)
    result = PageVisit(url)
    with _session(binary, url, width, mobile, timeout_s) as (tools, session, version):
        result.chromium_version = version
        result.dom = _evaluate(tools, session, DOM_PROBE) or {}
        if screenshot is not None:
            height = max(1, min(int(result.dom.get("height", 900)), max_height))
            result.screenshot = _screenshot(tools, session, screenshot, width, height)
        tools.drain(0.2)
    _classify(tools.events, result)
    return result


def _mm(value: str, what: str) -> float:
    value = value.strip()
    if not value.endswith("mm"):
        raise BrowserError(f"@page {what} is {value!r}; only millimetres are understood")
    return float(value[:-2])


def _px(mm: float) -> float:
    return mm / MM_PER_INCH * CSS_PX_PER_INCH


def _pdf_pages(pdf: bytes) -> tuple[int, tuple[float, float]]:
    """Page count and the first page's MediaBox (points) of a PDF Chromium wrote: its page objects'
    dictionaries are not compressed, so each is found by its ``/Type /Page`` entry."""
    pages = re.findall(rb"/Type\s*/Page(?![a-zA-Z])", pdf)
    box = re.search(rb"/MediaBox\s*\[\s*([\d.]+)\s+([\d.]+)\s+([\d.]+)\s+([\d.]+)\s*\]", pdf)
    if not pages or box is None:
        raise BrowserError("the PDF Chromium printed has no page objects or no MediaBox")
    x0, y0, x1, y1 = (float(v) for v in box.groups())
    return len(pages), (x1 - x0, y1 - y0)


def print_page(
    page: Path,
    pdf_out: Path | None = None,
    first_page: Path | None = None,
    binary: str | None = None,
    timeout_s: float = 30.0,
) -> PrintedPage:
    """Print ``page`` to PDF as Chromium does (``Page.printToPDF``, the page's ``@page`` size and
    margins, backgrounds on), and measure its charts' text on paper in Chromium's print layout:
    print media emulated in a viewport as wide as the printed content (the paper less its margins).
    Optionally save the PDF and a PNG of the first printed page (see the module's docstring)."""
    binary, url = _page_url(page, binary)
    result = PrintedPage(url)
    with _session(binary, url, 1280, False, timeout_s) as (tools, session, _):
        rule = _evaluate(tools, session, PAGE_RULE_PROBE)
        if not rule:
            raise BrowserError(f"{page}: no @page rule: the paper size is not the page's choice")
        size = rule["size"].split()[0].lower()
        if size not in PAPER_MM:
            raise BrowserError(f"@page size {rule['size']!r} is not one of {sorted(PAPER_MM)}")
        result.paper_mm = PAPER_MM[size]
        top, right, bottom, left = (
            _mm(rule[side], f"margin-{side}") for side in ("top", "right", "bottom", "left")
        )
        result.margins_mm = (top, right, bottom, left)
        content_w = _px(result.paper_mm[0] - left - right)
        content_h = _px(result.paper_mm[1] - top - bottom)
        tools.call("Emulation.setEmulatedMedia", {"media": "print"}, session)
        _viewport(tools, session, round(content_w), round(content_h), False)
        layout = _evaluate(tools, session, PRINT_PROBE) or {}
        result.chart_text_pt = [c["minPt"] for c in layout.get("charts", []) if c["texts"]]
        result.sections = int(layout.get("sections", 0))
        result.sections_breaking = int(layout.get("sectionsBreakBefore", 0))
        if first_page is not None:
            cut = layout.get("firstBreakTop") or content_h
            result.first_page = _screenshot(
                tools, session, first_page, round(content_w), min(content_h, cut)
            )
        tools.call("Emulation.setEmulatedMedia", {"media": ""}, session)
        printed = tools.call(
            "Page.printToPDF",
            {"preferCSSPageSize": True, "printBackground": True},
            session,
        )
        result.pdf = base64.b64decode(printed["data"])
        result.pages, result.media_box_pt = _pdf_pages(result.pdf)
    if pdf_out is not None:
        pdf_out.parent.mkdir(parents=True, exist_ok=True)
        pdf_out.write_bytes(result.pdf)
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
    parser.add_argument(
        "--mobile", action="store_true", help="lay the page out as a phone does (e.g. --width 390)"
    )
    parser.add_argument("--print-pdf", type=Path, help="print the page to this PDF")
    parser.add_argument(
        "--print-first-page", type=Path, help="save the first printed page as a PNG here"
    )
    args = parser.parse_args(argv)
    try:
        seen = visit(
            args.page,
            args.screenshot,
            width=args.width,
            max_height=args.max_height,
            mobile=args.mobile,
        )
        printed = (
            print_page(args.page, args.print_pdf, args.print_first_page)
            if args.print_pdf or args.print_first_page
            else None
        )
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
    print(f"page width {dom.get('width')} px in a {args.width} px viewport")
    if seen.screenshot:
        print(f"screenshot {seen.screenshot} ({seen.screenshot.stat().st_size:,} bytes)")
    if printed is not None:
        w, h = printed.media_box_pt
        smallest = min(printed.chart_text_pt, default=float("nan"))
        print(
            f"printed {printed.pages} pages of {w:.0f} x {h:.0f} pt; {printed.sections_breaking} of "
            f"{printed.sections} sections start a page; smallest chart text {smallest:.1f} pt"
        )
        if args.print_pdf:
            print(f"pdf {args.print_pdf} ({len(printed.pdf):,} bytes)")
        if printed.first_page:
            print(f"first printed page {printed.first_page} (print media emulated, not pdftoppm)")
    return 1 if seen.errors or seen.requests else 0


if __name__ == "__main__":
    sys.exit(main())
