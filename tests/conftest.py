import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"


def shared_path(*parts: str) -> Path:
    """A file under ../shared, or a skip that names what is missing."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (the shared data/media folder beside the project root)")
    return path


@pytest.fixture(scope="session")
def fer_npz() -> Path:
    return shared_path("data", "fer2013", "fer2013.npz")


@pytest.fixture(scope="session")
def media() -> Path:
    return shared_path("media")
