"""The immutable per-tick snapshot: its records and its column tables."""
