"""The HTML report in headless Chromium: the charts render offline and the page is not blank.

Needs Debian's ``/usr/bin/chromium`` (or ``LEADGATE_CHROMIUM``); without it the test skips
locally and fails under ``CI=true``.
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import zlib
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analyticskit import funnel_data
from leadgate.services.reporting import ReportOptions, build_report, write_html

CHROMIUM = os.environ.get("LEADGATE_CHROMIUM", "/usr/bin/chromium")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _chromium() -> str:
    found = shutil.which(CHROMIUM) or (CHROMIUM if Path(CHROMIUM).is_file() else None)
    if found is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"Chromium is required in CI ({CHROMIUM} not found)")
        pytest.skip(f"Chromium not installed ({CHROMIUM})")
    return found


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, timeout=120, check=False)


def _png_rows(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the decompressed scanlines of an 8-bit RGB(A) PNG."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    pos, idat = 8, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind = data[pos + 4 : pos + 8]
        if kind == b"IDAT":
            idat += data[pos + 8 : pos + 8 + length]
        pos += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("report")
    report = build_report(
        funnel_data(), ReportOptions(capacity=2), now=datetime(2026, 3, 1, tzinfo=UTC)
    )
    return write_html(report, folder / "report.html")


def test_charts_render_without_a_network(page: Path) -> None:
    binary = _chromium()
    done = _run([binary, *FLAGS, "--dump-dom", page.as_uri()], page.parent)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    charts = dom.count('class="chart"')
    assert charts >= 6
    # Plotly draws every chart as an SVG with class "main-svg" once plotly.js has run.
    assert dom.count('class="main-svg"') >= charts
    assert "Maturity" in dom


def test_screenshot_is_not_blank(page: Path) -> None:
    binary = _chromium()
    shot = page.parent / "report.png"
    done = _run(
        [binary, *FLAGS, "--hide-scrollbars", f"--screenshot={shot}", "--window-size=1280,2000",
         page.as_uri()],
        page.parent,
    )  # fmt: skip
    assert shot.is_file(), done.stderr[-2000:]
    width, height, rows = _png_rows(shot)
    assert (width, height) == (1280, 2000)
    # A blank page compresses to almost nothing and has one distinct byte value.
    assert shot.stat().st_size > 30_000
    assert len(set(rows[::997])) > 20
