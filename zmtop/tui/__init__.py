"""The Textual app: the monitor, its replay, screens, widgets and key bindings."""
