"""Reading across snapshots and buckets: memory_monitor's digest, and the diff of two ticks."""
