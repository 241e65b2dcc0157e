"""Output files that never cost the user a file: every path is checked before anything is opened, an existing
file is replaced only when asked (`--overwrite`), and then through a temporary file beside it that is renamed
into place at the end, so a refused, failed or killed run leaves the old file as it was.

Paths are compared as the OS will resolve them when the file is written: `sub/../clip.mp4` is `clip.mp4` even
while `sub/` does not exist (the writer creates the missing folders of the resolved path, never `sub/`).
"""
from __future__ import annotations

import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .errors import UserError
from .paths import demo_clip

SPECIAL = ("virtual", "window", "none")  # --output values that are not files


def resolve(path: str | Path) -> Path:
    return Path(os.path.realpath(os.path.expanduser(str(path))))


def _same(a: Path, b: Path) -> bool:
    """Same file: the same resolved path, or one file under two names (a hard link)."""
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist yet
        return False


@dataclass
class OutputFile:
    """One file to write. `open()` creates it (a new name: exclusively; an existing one: a temporary file beside
    it) and gives the path to write to; `finish()` puts it in place, `discard()` removes what was written.
    `error`: why finishing failed, for the caller that could not hear it while the run was closing down."""

    target: Path
    flag: str = "--output"
    replace: bool = False
    written: Path | None = None
    error: str | None = None

    def open(self) -> Path:
        try:
            self.target.parent.mkdir(parents=True, exist_ok=True)
            if self.replace:
                fd, name = tempfile.mkstemp(prefix=f".{self.target.name}.", suffix=".part", dir=self.target.parent)
                os.chmod(fd, stat.S_IMODE(os.stat(self.target).st_mode))  # mkstemp's 0600 is not the file's
            else:  # exclusive: a file that appeared since the check is not ours to truncate
                fd, name = os.open(self.target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666), str(self.target)
        except FileExistsError:
            raise UserError(f"{self.flag} {self.target} appeared while EmojiCall started",
                            "run again (add --overwrite to replace it)") from None
        except OSError as exc:
            raise UserError(f"cannot write {self.flag} {self.target} ({exc.strerror or exc})",
                            "choose a folder you can write to") from None
        os.close(fd)
        self.written = Path(name)
        return self.written

    def finish(self) -> None:
        if self.written is not None and self.written != self.target:
            os.replace(self.written, self.target)
        self.written = None

    def discard(self) -> None:
        """Remove what was written (a partial file under the user's name, or the temporary file)."""
        if self.written is not None:
            try:
                self.written.unlink()
            except OSError:
                pass
        self.written = None


@dataclass
class Plan:
    video: OutputFile | None = None
    events: OutputFile | None = None

    def errors(self) -> list[str]:
        return [f.error for f in (self.video, self.events) if f is not None and f.error]


def inputs_of(camera: str) -> list[Path]:
    """The file or folder a `--camera` value reads (a folder stands for every file in it)."""
    if camera == "demo" or camera.isdigit() or camera.startswith("/dev/"):
        return []
    return [resolve(camera)]


def _is_input(out: Path, inputs: list[Path]) -> Path | None:
    for src in [resolve(demo_clip()), *inputs]:  # the bundled demo clip is everybody's input
        if _same(out, src) or (src.is_dir() and out.is_relative_to(src)):
            return src
    return None


def check(path: str | Path, flag: str, inputs: list[Path], *, overwrite: bool,
          suffixes: dict[str, str] | None = None) -> OutputFile:
    """One output path, checked against the inputs (resolved paths) and the disk; nothing is created here."""
    out = resolve(path)
    src = _is_input(out, inputs)
    if src is not None:
        where = "the bundled demo clip" if src == resolve(demo_clip()) else f"the input {src}"
        raise UserError(f"{flag} {path} is {where}" if _same(out, src) else f"{flag} {path} is inside {where}",
                        "write the output to another file")
    try:
        mode = os.stat(out).st_mode
    except FileNotFoundError:
        mode = None
    except OSError as exc:
        raise UserError(f"cannot write {flag} {path} ({exc.strerror or exc})", "choose another path") from None
    if mode is not None and stat.S_ISDIR(mode):
        raise UserError(f"{flag} {path} is a folder", "give a file name inside it")
    if mode is not None and not stat.S_ISREG(mode):
        raise UserError(f"{flag} {path} is not a regular file", "give the name of a file to create")
    if suffixes is not None and out.suffix.lower() not in suffixes:
        kinds = ", ".join(f"{s} ({what})" for s, what in suffixes.items())
        raise UserError(f"{flag} {path}: EmojiCall does not write '{out.suffix or 'no extension'}' files",
                        f"end the name with one of {kinds}")
    if mode is not None and not overwrite:
        raise UserError(f"{flag} {path} already exists", "add --overwrite to replace it, or choose another name")
    folder = _existing_ancestor(out.parent)
    if not folder.is_dir():
        raise UserError(f"cannot write {flag} {path}: {folder} is a file, not a folder", "choose another path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise UserError(f"cannot write {flag} {path}: the folder {folder} is not writable",
                        "choose a folder you can write to")
    return OutputFile(out, flag, replace=mode is not None)


def _existing_ancestor(folder: Path) -> Path:
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def plan(camera: str, output: str, events: str | Path | None, *, overwrite: bool) -> Plan:
    """Every output of `emojicall run`, checked against every input and each other, before anything opens."""
    from .videowriter import SUFFIXES

    inputs = inputs_of(camera)
    result = Plan()
    if output not in SPECIAL:
        result.video = check(output, "--output", inputs, overwrite=overwrite, suffixes=SUFFIXES)
    if events is not None:
        result.events = check(events, "--events", inputs, overwrite=overwrite)
        if result.video is not None and _same(result.events.target, result.video.target):
            raise UserError(f"--events {events} is the --output file", "give the events a file name of their own")
    return result
