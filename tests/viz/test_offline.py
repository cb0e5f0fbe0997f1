"""The report opens in a real browser with the network cut off, and its charts render.

Needs a Chromium (Debian's `chromium` package); skipped where there is none.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from optimizer.viz.report import write_report

from .conftest import chromium

BROWSER = chromium()
pytestmark = pytest.mark.skipif(BROWSER is None, reason="needs Chromium (apt-get install chromium)")

OFFLINE = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    # no network: every host name fails to resolve and every request goes to a dead proxy
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9",
    "--proxy-bypass-list=<-loopback>",
]


def browse(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    profile = tmp_path / "profile"
    profile.mkdir(exist_ok=True)
    command = [str(BROWSER), *OFFLINE, f"--user-data-dir={profile}", *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=180)


def test_report_renders_offline(world_result, tmp_path):
    files = write_report(world_result, tmp_path / "report.html")
    url = files.html.resolve().as_uri()
    done = browse(tmp_path, "--virtual-time-budget=20000", "--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    charts = re.findall(r'id="chart-([\w-]+)"', dom)
    assert len(charts) >= 5
    # plotly.js ran from the page itself: each chart div now holds plotly's SVG
    rendered = dom.count('class="main-svg"')
    assert rendered >= len(charts), (rendered, charts)
    assert "js-plotly-plot" in dom

    shot = tmp_path / "shot.png"
    blank_page = tmp_path / "blank.html"
    blank_page.write_text("<!DOCTYPE html><html><body></body></html>")
    blank = tmp_path / "blank.png"
    for target, page in ((shot, url), (blank, blank_page.resolve().as_uri())):
        taken = browse(
            tmp_path, "--window-size=1200,2400", f"--screenshot={target}", "--virtual-time-budget=20000", page
        )
        assert taken.returncode == 0, taken.stderr[-2000:]
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    # a blank page compresses to almost nothing; text and charts do not
    assert len(data) > 5 * blank.stat().st_size, (len(data), blank.stat().st_size)
