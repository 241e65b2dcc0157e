"""User-facing errors: the CLI prints them as one line and exits non-zero, never a traceback."""


class UserError(Exception):
    """Bad input from the user (a file, a flag, a device). `what` names it, `fix` says what to do; the tray shows
    the two on separate lines, the CLI as one line 'what: fix'."""

    def __init__(self, what: str, fix: str = ""):
        super().__init__(what, fix)
        self.what, self.fix = what, fix

    def __str__(self) -> str:
        return f"{self.what}: {self.fix}" if self.fix else self.what
