"""Where a tick's accounting happens: kernel state to snapshot records, legacy and attributed."""
