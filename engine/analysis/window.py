"""How many ticks a trend spans: plain numbers, so that the command line can check --window
without loading the trends before the live monitor's boot forks.

Speed: the forked child starts some 20 ms sooner (no statistics, no dataclasses); bench "ui
default: first frame, median of 5 starts" (ui_bench).
"""

WINDOW = 60  # ticks, by default
MAX_WINDOW = 3600  # ticks kept: an hour at one a second
MIN_SAMPLES = 8  # fewer ticks than this make no trend
