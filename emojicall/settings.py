"""The tray app's settings: a small JSON file in the user's config dir. A broken or outdated file must never
stop the app: it warns (naming the file and the field) and uses the defaults."""
from __future__ import annotations

import dataclasses
import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from .model_files import APP_TTA
from .vcam import CHOICES as VCAM_CHOICES
from .detectors import DEFAULT as DEFAULT_DETECTOR
from .detectors import NAMES as DETECTORS

log = logging.getLogger(__name__)
VERSION = 1
STYLES = ("emoji", "badge", "label")  # the compositor draws each: over the face, beside it, as text


@dataclass
class Settings:
    camera: str = "0"             # a camera index, or a video file (handy for demos and tests)
    width: int = 1280             # the virtual camera's size; camera frames are fitted into it
    height: int = 720
    fps: float = 30.0             # cap on frames sent to the virtual camera
    detector: str = DEFAULT_DETECTOR
    style: str = "emoji"
    pack: str = ""                # "" = the bundled pack, else one of `packs`
    packs: list[str] = field(default_factory=list)  # emoji folders the user added
    model: str = ""               # "" = the default model
    mirror: bool = False
    overlay: bool = True
    show_label: bool = False      # also write the emotion's name above each face
    tta: bool = APP_TTA           # classify each face and its mirror image too
    detect_every: int = 5         # detector on every Nth frame, optical flow between
    vcam_backend: str = "auto"    # vcam.CHOICES: which virtual camera to publish to
    calibration: bool = True      # apply the stored `emojicall calibrate` offset (emojicall.calibration)
    auto_calibration: bool = False  # learn each face's calm baseline during the call (emojicall.autocal)

    def problems(self) -> list[tuple[tuple[str, ...], str]]:
        """Values the app cannot use: (the fields, why)."""
        bad = []
        if not 16 <= self.width <= 7680 or not 16 <= self.height <= 4320 or self.width % 2 or self.height % 2:
            bad.append((("width", "height"), f"{self.width}x{self.height} is not an even size from 16x16 to 7680x4320"))
        if not 1 <= self.fps <= 120:
            bad.append((("fps",), f"fps {self.fps} is not between 1 and 120"))
        if self.detector not in DETECTORS:
            bad.append((("detector",), f"unknown detector '{self.detector}' (use one of {', '.join(DETECTORS)})"))
        if not 1 <= self.detect_every <= 60:
            bad.append((("detect_every",), f"detect every {self.detect_every} frames is not between 1 and 60"))
        if self.vcam_backend not in VCAM_CHOICES:
            bad.append((("vcam_backend",), f"unknown virtual camera backend '{self.vcam_backend}' "
                                           f"(use one of {', '.join(VCAM_CHOICES)})"))
        if self.style not in STYLES:
            bad.append((("style",), f"unknown style '{self.style}' (use one of {', '.join(STYLES)})"))
        return bad


def default_path() -> Path:
    import platformdirs

    return Path(platformdirs.user_config_dir("emojicall", appauthor=False)) / "settings.json"


def load(path: str | Path | None = None, keep_bad: bool = True) -> Settings:
    """`keep_bad`: move a file that gives way to the defaults aside (NAME.bad), for a caller that will save over
    the name (the tray); a caller that only reads (doctor) leaves it where it is."""
    path = Path(path) if path else default_path()
    if not path.exists():
        return Settings()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        log.warning("settings file %s is unreadable (%s); using the defaults", path, exc)
        return Settings()
    except (UnicodeDecodeError, ValueError) as exc:
        return _defaults_for(path, f"is unreadable ({exc})", keep_bad)
    if not isinstance(data, dict):
        return _defaults_for(path, "does not hold a JSON object", keep_bad)
    if data.get("version") != VERSION:
        return _defaults_for(path, f"is from another version of EmojiCall (version {data.get('version')!r}, "
                                   f"expected {VERSION})", keep_bad)
    settings = Settings()
    for f in dataclasses.fields(Settings):
        if f.name not in data:
            continue
        value = _coerce(data[f.name], getattr(settings, f.name))
        if value is None:
            log.warning("settings file %s: '%s' has the wrong type (%r); using the default", path, f.name,
                        data[f.name])
        else:
            setattr(settings, f.name, value)
    defaults = Settings()
    for names, why in settings.problems():
        log.warning("settings file %s: %s; using the default", path, why)
        for name in names:
            setattr(settings, name, getattr(defaults, name))
    return settings


def _defaults_for(path: Path, why: str, keep_bad: bool) -> Settings:
    """The defaults, with the file kept beside as NAME.bad first: the tray saves its settings over NAME later,
    and the user's file (perhaps hand-edited, perhaps from a newer EmojiCall) must not be lost to that."""
    bad = path.with_name(path.name + ".bad")
    if not keep_bad:
        log.warning("settings file %s %s; using the defaults", path, why)
        return Settings()
    try:
        os.replace(path, bad)
        log.warning("settings file %s %s; kept it as %s and using the defaults", path, why, bad)
    except OSError as exc:
        log.warning("settings file %s %s, and keeping it as %s failed (%s); using the defaults", path, why, bad,
                    exc.strerror or exc)
    return Settings()


def _coerce(value, default):
    """value if it has the default's type (ints accepted for floats), else None."""
    if isinstance(default, bool):
        return value if isinstance(value, bool) else None
    if isinstance(default, int):
        return value if isinstance(value, int) and not isinstance(value, bool) else None
    if isinstance(default, float):
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if isinstance(default, str):
        return value if isinstance(value, str) else None
    if isinstance(default, list):
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None
    return None


def save(settings: Settings, path: str | Path | None = None) -> Path:
    """Write atomically: a crash mid-write must not leave a half file that resets everything next start."""
    path = Path(path) if path else default_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps({"version": VERSION, **dataclasses.asdict(settings)}, indent=2) + "\n",
                   encoding="utf-8")
    os.replace(tmp, path)
    return path
