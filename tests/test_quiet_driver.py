"""The monitor's terminal driver (zmtop.tui.quiet_driver) over a pseudo-terminal: its input
thread, which sleeps while no key comes, still delivers keys and a lone Escape, and ends
when input is disabled."""

from __future__ import annotations

import os
import pty
import threading
import tty

import pytest
from textual import events
from textual.app import App
from textual.drivers.linux_driver import LinuxDriver

from zmtop.engine.sim.simulation import Simulation
from zmtop.tui.app import ZmtopApp
from zmtop.tui.quiet_driver import QuietDriver

WAIT = 5.0  # seconds any one step may take before the test fails


class PtyDriver(QuietDriver):
    """A QuietDriver reading a pseudo-terminal, collecting the keys it parses."""

    def __init__(self, app: App, fd: int) -> None:
        super().__init__(app, mouse=False, size=(80, 24))
        self.fileno = fd
        self.keys: list[str] = []
        self.arrived = threading.Semaphore(0)

    def write(self, data: str) -> None:  # no terminal to restore
        pass

    def process_message(self, message) -> None:
        if isinstance(message, events.Key):
            self.keys.append(message.key)
            self.arrived.release()


@pytest.fixture
def terminal():
    master, slave = pty.openpty()
    tty.setraw(slave)  # keys reach the reader one by one, as in the monitor
    yield master, slave
    os.close(master)
    os.close(slave)


async def test_keys_and_a_lone_escape_arrive_and_disabling_input_ends_the_thread(terminal):
    master, slave = terminal
    driver = PtyDriver(App(), slave)
    thread = threading.Thread(target=driver.run_input_thread, daemon=True)
    driver._key_thread = thread
    thread.start()
    try:
        os.write(master, b"q")
        assert driver.arrived.acquire(timeout=WAIT)
        os.write(master, b"\x1b")  # a key only once the parser stops waiting for more
        assert driver.arrived.acquire(timeout=WAIT)
        assert driver.keys == ["q", "escape"]
    finally:
        late: list[int] = []  # a key typed if disabling hangs: the test fails, not blocks
        closer = threading.Timer(WAIT, lambda: late.append(os.write(master, b" ")))
        closer.start()
        driver.disable_input()
        closer.cancel()
    thread.join(WAIT)
    assert not thread.is_alive() and not late
    assert driver._wake is None


def test_the_monitor_uses_it_where_textual_would_use_its_linux_driver():
    app = ZmtopApp(Simulation("default", 1), autostart=False)
    assert LinuxDriver in QuietDriver.__mro__
    assert app.get_driver_class() is QuietDriver
