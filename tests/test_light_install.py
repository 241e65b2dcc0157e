"""The app's install has no TensorFlow (it is the `train` extra): the runtime never imports it, and a command
that needs it says so in one line."""
import subprocess
import sys

import pytest

from conftest import ROOT, shared_path

HEAVY = ("tensorflow", "keras", "mtcnn")


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_run_on_the_demo_clip_with_the_default_chain_never_imports_tensorflow():
    """Every import is recorded, even one a try/except would swallow; the run must also find the faces."""
    code = f"""
import sys
tried = []
class Recorder:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in {HEAVY!r}:
            tried.append(name)
        return None
sys.meta_path.insert(0, Recorder())
from emojicall import cli
rc = cli.main(["run", "--camera", "demo", "--output", "none"])
print("RESULT", rc, sorted(set(tried)), sorted(m for m in sys.modules if m.split(".")[0] in {HEAVY!r}))
"""
    out = _python(code)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "(mtcnn)" in out.stdout and " 0 faces found" not in out.stdout, out.stdout  # the default, and faces
    assert out.stdout.splitlines()[-1] == "RESULT 0 [] []"


def _without_the_extra(call: str) -> subprocess.CompletedProcess:
    """`call` in a process where TensorFlow, Keras and mtcnn cannot be imported, as in `pip install .`."""
    return _python("import sys\n" + "".join(f"sys.modules[{m!r}] = None\n" for m in HEAVY) + call)


@pytest.mark.parametrize("args, what", [
    (["train", "--arch", "cnn", "--out", "{tmp}/m", "--epochs", "1", "--limit", "64"], "training"),
    (["evaluate", "--backend", "keras", "--limit", "8"], "the keras backend"),
    (["run", "--camera", "demo", "--backend", "keras", "--output", "none"], "the keras backend"),
])
def test_a_command_that_needs_tensorflow_says_to_install_the_extra(args, what, tmp_path):
    if args[0] != "run":
        shared_path("data", "fer2013", "fer2013.npz")
    args = [a.format(tmp=tmp_path) for a in args]
    out = _without_the_extra(f"from emojicall import cli\nsys.exit(cli.main({args!r}))\n")
    lines = [ln for ln in out.stderr.splitlines() if ln.strip()]
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr[-2000:]
    assert lines == [f"emojicall: {what} needs tensorflow and keras, which the app's install leaves out: "
                     "pip install 'emojicall[train]'"]


def test_mtcnn_on_tensorflow_says_to_install_the_extra():
    out = _without_the_extra("from emojicall.detectors import create_detector\n"
                             "from emojicall.errors import UserError\n"
                             "try:\n    create_detector('mtcnn', backend='tensorflow')\n"
                             "except UserError as exc:\n    print(exc)\n")
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == ("MTCNN on TensorFlow needs tensorflow and keras and mtcnn, which the app's "
                                  "install leaves out: pip install 'emojicall[train]'")
