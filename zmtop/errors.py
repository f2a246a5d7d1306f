"""The one error type the command line shows to users."""


class CliError(Exception):
    """A user-facing error: printed as one line, exit status 2."""
