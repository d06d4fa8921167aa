"""GIVEN the quarter's HTML report from the demo WHEN headless Chromium renders it THEN the charts and tables
are there, nothing was logged as an error and the page asked the network for nothing; at a phone's width
(390 px) nothing overflows the page, wide tables scroll in their own box; printed to PDF it is A4, every
section starts a page and the charts' text is at least 8 pt on paper.

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


PHONE_WIDTH = 390  # CSS px: a current iPhone's viewport
MIN_PRINTED_TEXT_PT = 8.0


def test_the_quarter_report_reads_at_phone_width(short_demo, chromium_binary, tmp_path):
    page = next(short_demo.out.glob("timeline-*.html"))

    seen = browser.visit(
        page,
        screenshot=tmp_path / "phone.png",
        binary=chromium_binary,
        width=PHONE_WIDTH,
        mobile=True,
    )

    assert seen.errors == [] and seen.requests == []
    dom = seen.dom
    assert dom["viewport"] == PHONE_WIDTH
    assert dom["width"] <= PHONE_WIDTH, f"the page is {dom['width']} px wide at {PHONE_WIDTH} px"
    # Every table scrolls in its own box, and some are wider than the phone: the boxes are needed.
    assert dom["tablesInScrollBox"] == dom["tables"]
    assert dom["tablesWiderThanViewport"] >= 1
    assert _png_size(tmp_path / "phone.png")[0] == PHONE_WIDTH


def test_the_quarter_report_prints_on_a4_with_legible_charts_and_a_page_per_section(
    short_demo, chromium_binary, tmp_path
):
    page = next(short_demo.out.glob("timeline-*.html"))

    printed = browser.print_page(
        page, tmp_path / "timeline.pdf", tmp_path / "first-page.png", binary=chromium_binary
    )

    assert printed.paper_mm == browser.PAPER_MM["a4"]
    width_pt, height_pt = printed.media_box_pt
    assert abs(width_pt - 210 / 25.4 * 72) < 1 and abs(height_pt - 297 / 25.4 * 72) < 1
    # The header and the rules on the first page, then every other section from a new page.
    assert printed.sections >= 7 and printed.sections_breaking == printed.sections - 1
    assert printed.pages >= printed.sections
    # Both charts are drawn with text, and the smallest of it is legible on paper.
    assert len(printed.chart_text_pt) == 2
    assert min(printed.chart_text_pt) >= MIN_PRINTED_TEXT_PT, printed.chart_text_pt
    top, right, bottom, left = printed.margins_mm
    content_px = (210 - left - right) / 25.4 * 96
    width, height = _png_size(printed.first_page)
    assert abs(width - content_px) <= 1 and 300 <= height <= (297 - top - bottom) / 25.4 * 96 + 1


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
