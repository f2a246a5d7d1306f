"""The real tools' text and JSON, byte for byte: ps, vmaps, vmos, kstats, k zx, memgraph,
capture export, the treemap page."""
