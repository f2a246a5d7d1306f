"""The treemap page in headless Chromium: it zooms from the URL fragment and draws something."""

import re
import shutil
import struct
import subprocess
import zlib

import pytest

from zmtop.engine.formats.sizes import treemap_size
from zmtop.engine.formats.treemap import treemap_html
from zmtop.engine.sim.simulation import Simulation

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    shutil.which("chromium") is None,
    reason="chromium is not installed (apt-get install -y chromium)",
)
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1200,900"]


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    snap = Simulation("default", 1).snapshot
    path = tmp_path_factory.mktemp("treemap") / "mem.html"
    path.write_text(treemap_html(snap))
    proc = max(snap.processes.values(), key=lambda p: p.private_bytes)
    return path, proc


def chromium(tmp_path, *args):
    result = subprocess.run([CHROMIUM, *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args],
                            capture_output=True, text=True, timeout=120, check=True)
    return result.stdout


def test_fragment_zooms_into_a_process(page, tmp_path):
    path, proc = page
    dom = chromium(tmp_path, "--dump-dom", f"{path.as_uri()}#zoom=p/{proc.koid}")
    crumbs = re.search(r'<div id="crumbs">(.*?)</div>', dom).group(1)
    text = re.sub(r"<[^>]+>", "", crumbs)
    assert text.startswith("K All physical memory › K VMOs/processes › J root job ›")
    assert text.endswith(f"P {proc.name}")
    # the table now starts at the process, and JS treemap_size agrees with Python's
    rows = re.findall(r"<td>([^<]+)</td><td>(-?\d+)</td>", dom)
    assert int(rows[0][1]) == sum(int(area) for _, area in rows[1:])  # VMO rows are leaves
    assert all(treemap_size(int(area)) == shown for shown, area in rows)


def test_screenshot_is_not_blank(page, tmp_path):
    path, _ = page
    png = tmp_path / "shot.png"
    chromium(tmp_path, f"--screenshot={png}", path.as_uri())
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert (width, height) == (1200, 900)
    idat, pos = b"", 8
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    pixels = zlib.decompress(idat)
    assert len(set(pixels[::97])) > 8  # many distinct bytes: boxes, text and colours drawn
