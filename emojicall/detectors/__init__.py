"""Face detectors behind one interface. Implementations are imported on first use so that choosing
Haar never imports TensorFlow."""
from __future__ import annotations

from ..errors import UserError
from .base import Detector

# BlazeFace runs on LiteRT alone; MTCNN on TensorFlow unless created with backend="litert" (docs/detectors.md).
_REGISTRY = {"haar": ("haar", "HaarDetector"), "mtcnn": ("mtcnn", "MTCNNDetector"),
             "blazeface": ("blazeface", "BlazeFaceDetector")}
NAMES = tuple(_REGISTRY)
# MTCNN finds more webcam-sized faces with no false ones and is as fast as Haar once tracking carries the boxes
# (docs/detectors.md); Haar needs no TensorFlow, so it stands in when MTCNN cannot load.
DEFAULT, FALLBACK = "mtcnn", "haar"


def register_detector(name: str, module: str, cls: str) -> None:
    """Add a detector by dotted module path (relative names resolve inside this package)."""
    _REGISTRY[name] = (module, cls)


def create_detector(name: str, **options) -> Detector:
    import importlib

    if name not in _REGISTRY:
        raise UserError(f"unknown detector '{name}': use one of {', '.join(_REGISTRY)}")
    module, cls = _REGISTRY[name]
    try:
        mod = importlib.import_module(module if "." in module else f"{__name__}.{module}")
        return getattr(mod, cls)(**options)
    except ImportError as exc:  # MTCNN's TensorFlow missing or broken: say so in one line
        raise UserError(f"detector '{name}' cannot start ({exc}): reinstall EmojiCall "
                        f"(`pip install .`) or pick another detector ({', '.join(_REGISTRY)})") from None


__all__ = ["DEFAULT", "Detector", "FALLBACK", "NAMES", "create_detector",
           "register_detector"]
