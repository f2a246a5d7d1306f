"""Benchmarks: figures against the issues' budgets, printed as a table by `make bench`."""
