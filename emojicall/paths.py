"""Where bundled files live: in a wheel, models/ and assets/ are installed as emojicall.models and
emojicall.assets; in a source checkout they sit at the top of the repo."""
from __future__ import annotations

from pathlib import Path

_REPO = Path(__file__).resolve().parent.parent


def _bundled(package: str, folder: str, probe: str) -> Path:
    try:
        from importlib.resources import files

        root = Path(str(files(package)))
        if (root / probe).exists():
            return root
    except (ModuleNotFoundError, TypeError):
        pass
    return _REPO / folder


def models_root() -> Path:
    return _bundled("emojicall.models", "models", "cnn")


def assets_root() -> Path:
    return _bundled("emojicall.assets", "assets", "emojis")


def bundled_emojis() -> Path:
    return assets_root() / "emojis"


def demo_clip() -> Path:
    return assets_root() / "demo" / "smile.mp4"
