"""Where snapshots come from: the Source contract, the clock, file detection, the capture and
memgraph readers, poll, and the replay of a recording."""
