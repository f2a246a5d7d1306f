"""Textual's Linux terminal driver, with an input thread that sleeps until there is input.

Textual's thread wakes ten times a second to see whether the app is closing and whether a
lone Escape has waited long enough to be a key; at 1 s ticks that was an eighth of the idle
monitor's CPU. This one waits on the terminal and on a pipe that `disable_input` writes to,
with a timeout only while the key parser waits for the rest of an escape sequence.
"""

from __future__ import annotations

import os
import selectors
from codecs import getincrementaldecoder

from textual._parser import ParseError
from textual._time import get_time
from textual._xterm_parser import XTermParser
from textual.drivers.linux_driver import LinuxDriver

READ_BYTES = 4096


# Speed: bench "ui default: CPU at 1 s ticks" (ui_bench): no wake-ups while no key comes.
class QuietDriver(LinuxDriver):
    """LinuxDriver whose input thread blocks while idle (the rest is Textual's)."""

    _wake: int | None = None  # the write end of the pipe the input thread also waits on

    def run_input_thread(self) -> None:
        """Read keys and mouse events until `disable_input`, as Textual's thread does."""
        wake_read, self._wake = os.pipe()
        parser = XTermParser(self._debug)
        decode = getincrementaldecoder("utf-8")().decode
        with selectors.SelectSelector() as selector:
            selector.register(self.fileno, selectors.EVENT_READ)
            selector.register(wake_read, selectors.EVENT_READ)
            try:
                reading = True
                while not self.exit_event.is_set():  # `disable_input` sets it, then wakes us
                    ready = selector.select(_timeout(parser))
                    data = ""
                    if reading and any(key.fd == self.fileno for key, _ in ready):
                        data = decode(os.read(self.fileno, READ_BYTES))
                        if not data:  # end of input (stdin piped): wait for the wake alone
                            selector.unregister(self.fileno)
                            reading = False
                    self._parse(parser, data)
                selector.unregister(wake_read)
                if reading and selector.select(0.1):  # what was typed as the app closed
                    self._parse(parser, decode(os.read(self.fileno, READ_BYTES), final=True))
            finally:
                wake, self._wake = self._wake, None
                os.close(wake)
                os.close(wake_read)
                try:
                    for _ in parser.feed(""):
                        pass
                except (EOFError, ParseError):  # as Textual's: a sequence cut at exit
                    pass

    def _parse(self, parser: XTermParser, data: str) -> None:
        """Feed `data` to the parser ("": only let its timeouts run), dispatch the events."""
        if data:
            for event in parser.feed(data):
                self.process_message(event)
        for event in parser.tick():
            self.process_message(event)

    def disable_input(self) -> None:
        # The pipe stays readable, so the thread comes round until the exit event is set.
        wake = self._wake
        if wake is not None:
            try:
                os.write(wake, b"x")
            except OSError:  # the thread has closed it: it is ending anyway
                pass
        super().disable_input()


def _timeout(parser: XTermParser) -> float | None:
    """Seconds until the parser gives up waiting for the rest of a sequence (so that a lone
    Escape is a key), or None while it waits for nothing."""
    due = parser._timeout_time
    return None if due is None else max(due - get_time(), 0.0)
