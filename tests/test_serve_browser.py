"""`zmtop serve` in a real headless Chromium (Debian's), driven by Playwright: the page shows
the kstats header and the job tree, which takes keys with no click first: finding a process
and Enter on it open its vmaps."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time

import pytest

from tests.fleet_helpers import stop

CHROMIUM = shutil.which("chromium")
DEADLINE = 60  # seconds for the page's monitor to show something
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None,
                       reason="chromium is not installed (apt-get install -y chromium)"),
]
sync_api = pytest.importorskip("playwright.sync_api",
                               reason="playwright is not installed (pip install playwright)")

# The page keeps its xterm.js terminal in a closure; catch it as the page assigns it, so that
# the test reads the terminal's own buffer: the text as the page shows it.
CATCH_TERMINAL = """
Object.defineProperty(Object.prototype, "terminal", {
  configurable: true,
  set(value) {
    Object.defineProperty(this, "terminal", {value, writable: true, configurable: true});
    (window.zmtopTerminals = window.zmtopTerminals || []).push(value);
  },
});
"""
SCREEN_TEXT = """() => {
  const terminal = (window.zmtopTerminals || []).find(t => t && t.buffer);
  if (!terminal) return "";
  const buffer = terminal.buffer.active, lines = [];
  for (let row = 0; row < terminal.rows; row++) {
    const line = buffer.getLine(buffer.viewportY + row);
    lines.push(line ? line.translateToString(true) : "");
  }
  return lines.join("\\n");
}"""


@pytest.fixture
def served():
    """`zmtop serve` on a free loopback port: the page's URL. Stopped with SIGTERM."""
    server = subprocess.Popen([sys.executable, "-m", "zmtop", "serve", "--listen",
                               "127.0.0.1:0"], stdout=subprocess.PIPE, text=True)
    try:
        line = server.stdout.readline()
        assert line.startswith("serving http://"), line
        yield line.split()[1]
    finally:
        stop(server, 20)


def wait_for_text(page, *needles: str, gone: tuple[str, ...] = ()) -> str:
    """The page's text once it shows every needle and none of `gone`."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        text = page.evaluate(SCREEN_TEXT)
        if all(needle in text for needle in needles) and not any(g in text for g in gone):
            return text
        time.sleep(0.25)
    pytest.fail(f"the page never showed {needles} without {gone}; it showed:\n{text}")


def test_the_page_shows_the_monitor_and_opens_a_process(served):
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM,
                                             args=["--no-sandbox", "--disable-gpu"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 900})
            page.set_default_timeout(DEADLINE * 1000)
            page.add_init_script(CATCH_TERMINAL)
            page.goto(served)
            text = wait_for_text(page, "TASK", "p: 1032")
            assert "total 8192M" in text and "free " in text and "VMOs " in text
            assert "j: 1024" in text and "bin/component_manager" in text
            # No click first: the job tree has the keys as soon as the page shows it.
            page.keyboard.press("/")  # find the process by koid
            wait_for_text(page, "search: name or koid")
            page.keyboard.type("1032")
            wait_for_text(page, "1 match")
            page.keyboard.press("Enter")  # the find bar closes on it
            # an Enter sent while the bar closes can be lost under load: open once it is gone
            wait_for_text(page, "p: 1032", gone=("1 match",))
            page.keyboard.press("Enter")
            text = wait_for_text(page, "vmaps", "p: 1032  bin/component_manager")
            assert "proc:1032" in text and "vmos" in text
        finally:
            browser.close()
