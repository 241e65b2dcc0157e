"""Face detectors behind one interface (`detect(frame) -> list[Face]`). Implementations are imported on first use,
so a run loads only the detector it uses."""
from __future__ import annotations

from ..errors import UserError
from .base import Detector

# BlazeFace and MTCNN run on LiteRT (models/blazeface, models/mtcnn); MTCNN on TensorFlow only when created
# with backend="tensorflow", for comparisons (docs/detectors.md).
_REGISTRY = {"haar": ("haar", "HaarDetector"), "mtcnn": ("mtcnn", "MTCNNDetector"),
             "blazeface": ("blazeface", "BlazeFaceDetector")}
NAMES = tuple(_REGISTRY)
# MTCNN reads real video best with the default model (docs/real_faces.md); Haar needs only OpenCV, so it stands
# in when the default cannot start (a damaged install).
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
    except ImportError as exc:  # a runtime missing or broken (LiteRT, or TensorFlow for MTCNN's comparison)
        raise UserError(f"detector '{name}' cannot start ({exc}): reinstall EmojiCall "
                        f"(`pip install .`) or pick another detector ({', '.join(_REGISTRY)})") from None


__all__ = ["DEFAULT", "Detector", "FALLBACK", "NAMES", "create_detector",
           "register_detector"]
