"""User-facing errors: the CLI prints them as one line and exits non-zero, never a traceback."""


class UserError(Exception):
    """Bad input from the user (a file, a flag, a device): the message names it and says what to do."""
