"""GIVEN the quarter's HTML report from the demo WHEN headless Chromium renders it THEN the charts and tables
are there, nothing was logged as an error and the page asked the network for nothing.

Chromium is Debian's ``chromium`` package; when it is missing the test installs it with apt-get (root
only). If that is impossible the test is skipped with a loud reason, never silently.
"""

import os
import shutil
import struct
import subprocess

import pytest

from demo import browser


@pytest.fixture(scope="session")
def chromium_binary():
    found = browser.find_chromium()
    if found:
        return found
    reason = "NOT TESTED IN A BROWSER: chromium is missing and could not be installed"
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        pytest.skip(f"{reason} (needs root and apt-get: apt-get install chromium)")
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "chromium"]):
        proc = subprocess.run(
            command,
            capture_output=True,
            text=True,
            env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"),
            timeout=900,
        )
        if proc.returncode != 0:
            tail = " | ".join(proc.stderr.strip().splitlines()[-2:])
            pytest.skip(f"{reason}: {' '.join(command)} failed: {tail}")
    found = browser.find_chromium()
    if not found:
        pytest.skip(f"{reason}: apt-get install chromium left no chromium binary")
    return found


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_the_quarter_report_renders_with_charts_and_tables_and_no_network(
    short_demo, chromium_binary, tmp_path
):
    page = next(short_demo.out.glob("timeline-*.html"))
    shot = tmp_path / "timeline-report.png"

    seen = browser.visit(page, screenshot=shot, binary=chromium_binary, width=1280)

    assert seen.errors == []
    assert seen.requests == []
    assert [c for c in seen.console if c["type"] in ("error", "warning", "assert")] == []
    dom = seen.dom
    assert dom["svg"] >= 2 and dom["svgWithTitle"] == dom["svg"]
    assert dom["svgShapes"] > 10 * dom["svg"]  # drawn charts, not empty frames
    assert dom["tables"] >= 3 and dom["captions"] == dom["tables"]
    assert dom["scripts"] == 0
    for rule in ("s3-bucket-sse-enabled", "rds-storage-encrypted", "ec2-imdsv2-check"):
        assert f"{rule}-{short_demo.suffix}" in dom["text"]
    width, height = _png_size(shot)
    assert width == 1280 and height >= 600


def test_the_page_check_catches_console_errors_and_requests(chromium_binary, tmp_path):
    page = tmp_path / "leaky.html"
    page.write_text(
        "<!doctype html><title>leaky</title><img src='http://127.0.0.1:9/pixel.png'>"
        "<script>console.error('chart failed')</script>",
        encoding="utf-8",
    )

    seen = browser.visit(page, binary=chromium_binary)

    assert seen.requests == ["http://127.0.0.1:9/pixel.png"]
    assert "console.error: chart failed" in seen.errors
