"""Issue 13's harness: hostile captures, memgraph files and recordings through the CLI
(tests/fuzz_hostile.py; `make fuzz` is the long run). Here a short, derandomized run, and
checks that the harness itself tells clean runs from failures."""

from __future__ import annotations

import pytest
from fuzz_hostile import (
    BAD,
    CLEAN,
    COMMANDS,
    CONTROL,
    CORRECT,
    MEMORY_FAILURE,
    TRACEBACK,
    build_bases,
    commands_for,
    judge,
    kind_of,
    run_command,
    run_input,
)
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

COMMANDS_BY_NAME = {c.name: c for c in COMMANDS}


class FuzzDir:
    """The temp dir the mutants are written to, and the unmutated inputs; its repr is short,
    as hypothesis prints the arguments of a failing example."""

    def __init__(self, workdir, bases) -> None:
        self.workdir, self.bases = workdir, bases

    def __repr__(self) -> str:
        return f"FuzzDir({self.workdir})"


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("fuzz")
    return FuzzDir(workdir, build_bases(workdir))


@pytest.mark.slow
def test_every_command_succeeds_on_every_unmutated_input(fuzz_dir):
    workdir, bases = fuzz_dir.workdir, fuzz_dir.bases
    for kind, base in bases.items():
        file = workdir / f"base{base.suffix}"
        file.write_bytes(base.data)
        for command in commands_for(kind):
            outcome = run_command(command, file, base.koid, workdir)
            assert outcome.category == CORRECT, (kind, outcome)


@pytest.mark.parametrize(("name", "status", "stdout", "stderr", "category"), [
    ("ps", 2, b"", b"zmtop: f.json: Vmos[3]: expected an integer\n", CLEAN),
    ("ps", 0, b"TASK\n", b"zmtop: warning: f.zmrec: frame at byte 9 is damaged\n", CORRECT),
    ("ps --json", 0, b"[1, 2]\n", b"", CORRECT),
    ("ps --json", 0, b"[1, 2", b"", BAD),
    ("ps", 2, b"", b"zmtop: one\nzmtop: two\n", BAD),
    ("ps", 2, b"", b"", BAD),
    ("ps", 1, b"", b"Traceback (most recent call last):\n  File \"x.py\", line 3, in f\nKeyError: 5\n",
     TRACEBACK),
    ("ps", 1, b"", b"Traceback (most recent call last):\nMemoryError\n", MEMORY_FAILURE),
    ("ps", -9, b"", b"", MEMORY_FAILURE),
    ("ps", 0, b"p: 1 \x1b[31mred\n", b"", CONTROL),
    ("ps", 0, b"p: 1 a\xe2\x80\xaeb\n", b"", CONTROL),
    ("ps", 0, b"p: 1 a\xe2\x81\xa6b\n", b"", CONTROL),
    ("ps", 2, b"", b"zmtop: f: name 'a\x07'\n", CONTROL),
    ("ps", 0, b"p: 1 tab\there \xc3\xa9\n", b"", CORRECT),
])
def test_judge_tells_each_kind_of_ending(tmp_path, name, status, stdout, stderr, category):
    outcome = judge(COMMANDS_BY_NAME[name], status, stdout, stderr, tmp_path / "out.zmrec")
    assert outcome.category == category
    assert bool(outcome.signature) == (category not in (CLEAN, CORRECT))


@pytest.mark.slow
@settings(max_examples=24, deadline=60_000, derandomize=True, database=None,
          phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))
@given(seed=st.integers(0, 10**6))
def test_hostile_inputs_end_in_one_error_line_or_a_correct_result(fuzz_dir, seed):
    """A failure names its seed: `python -m tests.fuzz_hostile --seed S -n 1 -v` replays it."""
    workdir, bases = fuzz_dir.workdir, fuzz_dir.bases
    kind = kind_of(seed)
    failures = [o for o in run_input(bases, kind, seed, workdir, commands=4) if o.signature]
    assert not failures, (kind, seed, failures)
