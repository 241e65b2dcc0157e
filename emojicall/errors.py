"""What went wrong and what to do about it, in one shape everywhere: the CLI prints it as one line and exits
non-zero (never a traceback), the tray shows the two parts on separate lines, `doctor` under each check."""
from __future__ import annotations

from typing import NamedTuple


class Problem(NamedTuple):
    what: str
    fix: str = ""

    def __str__(self) -> str:
        return f"{self.what}: {self.fix}" if self.fix else self.what

    @classmethod
    def of(cls, exc: BaseException) -> "Problem":
        """A UserError as it is; anything else by its type and message (the fix then is unknown)."""
        return exc.problem if isinstance(exc, UserError) else cls(f"{type(exc).__name__}: {exc}")


class UserError(Exception):
    """Bad input from the user (a file, a flag, a device), raised as a Problem."""

    def __init__(self, what: str, fix: str = ""):
        super().__init__(what, fix)
        self.what, self.fix = what, fix

    @property
    def problem(self) -> Problem:
        return Problem(self.what, self.fix)

    def __str__(self) -> str:
        return str(self.problem)
