"""Killing a job or process from the monitor (`k`, F9 on the job tree and the process
screen): a confirmation, then a request to the source, which applies it at its next step.

The data still flows one way: the screen asks the source through the driver, and the
snapshot of that step shows the task gone (paused, the step is taken at once). A source
that cannot kill (an import, a poll, a replay) refuses before anything is asked.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.dom import DOMNode

from zmtop.engine.sources.source import KillRefused

if TYPE_CHECKING:
    from zmtop.tui.monitor import MonitorApp

    _Base = MonitorApp  # what the mixin may use of the app it is mixed into
else:
    _Base = DOMNode  # see zmtop.tui.recording


class KillControls(_Base):
    """ask_kill: refuse with a notice, or confirm and kill."""

    def ask_kill(self, koid: int) -> None:
        """Kill job or process `koid` once the user confirms; a one-line notice if the
        source refuses (the root job, a critical process, a recording, an import)."""
        from zmtop.tui.screens.kill import KillPrompt, kill_question

        refusal = self.driver.kill_refusal(koid)
        if refusal is not None:
            self.notify(refusal, severity="warning")
            return
        question = kill_question(self.snapshot, koid)
        self.push_screen(KillPrompt(question), lambda yes: self._kill(koid) if yes else None)

    def _kill(self, koid: int) -> None:
        try:
            snap = self.driver.request_kill(koid)
        except KillRefused as refused:  # it changed while the question was asked
            self.notify(str(refused), severity="warning")
            return
        if snap is not None:
            self.deliver(snap)
