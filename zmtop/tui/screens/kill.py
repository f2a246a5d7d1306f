"""The kill confirmation (`k`, F9): "Kill process 1234 name? y/n", as htop asks."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import ModalScreen
from textual.widgets import Static

from zmtop.engine.formats.names import safe_name
from zmtop.engine.snapshot.records import Snapshot
from zmtop.tui import bindings


def kill_question(snap: Snapshot, koid: int) -> str:
    """The question for job or process `koid`: its kind, koid and name, and for a job how
    many processes it would end."""
    if koid in snap.jobs:
        count = len(snap.job_processes(koid))
        what = f"job {koid} {safe_name(snap.jobs[koid].name)}".rstrip()
        return f"Kill {what} and its {count} processes? y/n"
    return f"Kill process {koid} {safe_name(snap.processes[koid].name)}? y/n"


class KillPrompt(ModalScreen[bool]):
    """Enter or y answers yes; Escape or n, no."""

    BINDINGS = bindings.KILL_PROMPT

    def __init__(self, question: str) -> None:
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        box = Static(self.question, id="kill-question")
        box.border_title = "Kill"
        box.border_subtitle = "enter/y kill · esc/n cancel"
        yield box

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
