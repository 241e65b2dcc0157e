import contextlib
import os
import shutil
import subprocess
import time
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


@contextlib.contextmanager
def xvfb(width: int, height: int):
    """A virtual X screen: yields the environment whose DISPLAY is it; a skip without Xvfb or xdotool."""
    missing = [tool for tool in ("Xvfb", "xdotool") if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)} (Debian: apt install xvfb xdotool)")
    num = 90 + os.getpid() % 100
    server = subprocess.Popen(["Xvfb", f":{num}", "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    env = {**os.environ, "DISPLAY": f":{num}"}
    try:
        deadline = time.monotonic() + 20
        while subprocess.run(["xdotool", "getdisplaygeometry"], env=env, capture_output=True).returncode:
            if time.monotonic() > deadline:
                pytest.fail("Xvfb did not start")
            time.sleep(0.1)
        yield env
    finally:
        server.kill()
        server.wait()


@pytest.fixture(scope="session")
def fer_npz() -> Path:
    return shared_path("data", "fer2013", "fer2013.npz")


@pytest.fixture(scope="session")
def media() -> Path:
    return shared_path("media")
