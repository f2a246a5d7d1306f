"""What the app shows, computed without Textual: job-tree rows, handle rows, kstats history,
the watchdog."""
