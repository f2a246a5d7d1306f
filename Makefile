PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
# Byte-compiles zmtop, as pip does for a regular install: each start then skips compiling it
# from source (ui_bench's first frame line, about 25 ms; about 100 ms on a machine that sets
# PYTHONDONTWRITEBYTECODE). Run again where a start is measured or seen, for sources changed
# since the venv was set up (a few ms when nothing changed).
COMPILE := $(BIN)/python -m compileall -q zmtop engine

.PHONY: run test test-fast test-long lint fuzz bench screenshots clean

$(STAMP): pyproject.toml
	test -d $(VENV) || $(PYTHON) -m venv $(VENV) || python3 -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	$(COMPILE)
	touch $(STAMP)

run: $(STAMP)
	$(COMPILE)
	$(BIN)/zmtop

# One worker more than the cores: browser, server and tmux tests spend much of their time
# waiting, and a third worker fills it (the suite on 2 cores: 4 min 47 s - 5 min 3 s with
# two workers, 4 min 13 s with three).
WORKERS := $(shell echo $$(( $$(nproc 2>/dev/null || echo 1) + 1 )))

test: $(STAMP)
	$(BIN)/python -m pytest -q -n $(WORKERS) --dist worksteal

# The suite without the tests marked slow (seconds apiece): a quick check while working.
test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow" -n $(WORKERS) --dist worksteal

# The invariant runs at 2,000 ticks of every scenario, where `make test` checks 600 (about
# 3 minutes on 2 cores).
test-long: $(STAMP)
	ZMTOP_TICKS=2000 ZMTOP_SEGMENT_TICKS=250 $(BIN)/python -m pytest -q -n $(WORKERS) --dist worksteal \
		tests/test_invariants.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# Issue 13's long run: 10,000 hostile captures, memgraph files and recordings through the CLI,
# the recordings also walked through the replay's screens (tests/replay_screens.py), then a
# summary by outcome and the distinct failures (tests/fuzz_hostile.py); an hour on 2 cores.
fuzz: $(STAMP)
	$(BIN)/python tests/fuzz_hostile.py -n 10000

bench: $(STAMP)
	$(COMPILE)
	$(BIN)/python -m benchmarks

screenshots: $(STAMP)
	$(BIN)/python -m zmtop.screenshots screenshots

clean:
	rm -rf $(VENV) build *.egg-info
