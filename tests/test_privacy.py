"""Privacy: `emojicall run` (camera-like source, MTCNN or Haar, LiteRT classifier, compositor, file sink) works
with every connection and name lookup refused, and writes nothing but the output the user asked for: not in the
working folder, not in HOME (config, caches), not in TMPDIR."""
import os
import subprocess
import sys

import pytest

from conftest import ROOT, shared_path
from faulty import clip_frames, model_dir

# Installed before emojicall or any library is imported, so no module can keep a reference to the real socket.
DRIVER = r"""
import os, socket, sys
tried, created = [], []

def refuse(*args, **kwargs):
    tried.append(args)
    raise OSError("network use blocked by the privacy test")

class GuardedSocket(socket.socket):
    # Creating a socket is allowed (urllib3, imported under Keras, probes IPv6 support by binding one to ::1
    # at import time); every connection, datagram, name lookup or non-loopback bind is refused and counted.
    def __init__(self, *args, **kwargs):
        created.append(args[:1])
        super().__init__(*args, **kwargs)

    def connect(self, address):
        refuse(address)

    def connect_ex(self, address):
        refuse(address)

    def sendto(self, *args):
        refuse(*args)

    def bind(self, address):
        if not (isinstance(address, tuple) and address[0] in ("127.0.0.1", "::1")):
            refuse(address)
        super().bind(address)

socket.socket = GuardedSocket
socket.create_connection = socket.getaddrinfo = socket.gethostbyname = socket.socketpair = socket.fromfd = refuse
try:
    socket.create_connection(("pypi.org", 443))
    sys.exit("the block does not hold")
except OSError:
    tried.clear()

from emojicall import cli
rc = cli.main(sys.argv[1:])
native = 0  # sockets opened below Python (C libraries) and still open
if os.path.isdir("/proc/self/fd"):
    for fd in os.listdir("/proc/self/fd"):
        try:
            native += os.readlink(f"/proc/self/fd/{fd}").startswith("socket:")
        except OSError:
            pass
print(f"network attempts: {len(tried)} {tried[:3]}; open sockets: {native}; sockets created: {len(created)}")
sys.exit(rc)
"""


def _tree(path):
    return sorted(str(p.relative_to(path)) for p in path.rglob("*"))


@pytest.mark.parametrize("output, detector", [("out.mp4", "mtcnn"), ("none", "haar")])
def test_run_needs_no_network_and_writes_only_what_was_asked(output, detector, tmp_path):
    clip = shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")
    cwd, home, tmp = tmp_path / "cwd", tmp_path / "home", tmp_path / "tmp"
    for d in (cwd, home, tmp):
        d.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XDG_", "KERAS_", "MPLCONFIGDIR"))}
    # A fresh user: HOME and TMPDIR are empty folders; no .pyc files (Python's own cache is not ours).
    env.update(HOME=str(home), TMPDIR=str(tmp), PYTHONPATH=str(ROOT), PYTHONDONTWRITEBYTECODE="1")
    r = subprocess.run([sys.executable, "-c", DRIVER, "run", "--source", str(clip), "--output", output,
                        "--model", str(model_dir()), "--max-frames", "30", "--detector", detector],
                       cwd=cwd, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "30 frames, " in r.stdout
    assert "network attempts: 0 []; open sockets: 0;" in r.stdout, r.stdout
    if detector == "haar":  # OpenCV + LiteRT only: not even a socket is made
        assert "sockets created: 0" in r.stdout, r.stdout
    assert _tree(cwd) == ([] if output == "none" else ["out.mp4"])
    assert _tree(home) == [] and _tree(tmp) == []
    if output != "none":
        assert len(clip_frames(cwd / output)) == 30
