"""Convert the `mtcnn` package's PNet, RNet and ONet (MIT, weights in mtcnn/assets/weights) to LiteRT files, once,
so that the app's MTCNN runs without TensorFlow (emojicall/detectors/mtcnn.py, backend "litert").

    .venv/bin/python bench/convert_mtcnn.py          # writes models/mtcnn/{pnet,rnet,onet}.tflite + SOURCE.md

Float32, no quantization: the point is the same boxes as the TensorFlow path (tests/test_detectors.py checks
IoU >= 0.9 on the annotated photos). PNet keeps a dynamic height and width (one size per pyramid level);
RNet and ONet a dynamic batch (one row per candidate box). Needs TensorFlow and mtcnn, as training does.
"""
from __future__ import annotations

import hashlib
import importlib.resources
import os
import sys
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from emojicall.training import jsonfile  # noqa: E402
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
OUT = ROOT / "models" / "mtcnn"
SHAPES = {"pnet": [1, None, None, 3], "rnet": [None, 24, 24, 3], "onet": [None, 48, 48, 3]}


def convert(model, shape) -> bytes:
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import convert_variables_to_constants_v2

    fn = tf.function(lambda x: model(x)).get_concrete_function(tf.TensorSpec(shape, tf.float32))
    # Weights frozen into the graph first: converted with the variables left in, the file held no weights
    # (11 KB for PNet) and gave NaN.
    return tf.lite.TFLiteConverter.from_concrete_functions([convert_variables_to_constants_v2(fn)]).convert()


def main() -> int:
    from emojicall.tfquiet import import_tensorflow

    tf = import_tensorflow()
    from mtcnn.stages import StageONet, StagePNet, StageRNet

    weights = importlib.resources.files("mtcnn.assets.weights")
    sources = {name: hashlib.sha256((weights / f"{name}.lz4").read_bytes()).hexdigest() for name in SHAPES}
    OUT.mkdir(parents=True, exist_ok=True)
    made = {}
    for name, stage in (("pnet", StagePNet), ("rnet", StageRNet), ("onet", StageONet)):
        data = convert(stage().model, SHAPES[name])
        (OUT / f"{name}.tflite").write_bytes(data)
        made[name] = hashlib.sha256(data).hexdigest()
        print(f"{name}: {len(data)} bytes, sha256 {made[name]}")
    record = {"mtcnn": version("mtcnn"), "tensorflow": tf.__version__, "weights_sha256": sources, "sha256": made,
              "input_shapes": SHAPES}
    jsonfile.write(record, (OUT / "convert.json"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
