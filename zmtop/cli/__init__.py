"""The command line: argument parsing, the batch commands, opening a source."""
