"""Weight-space average of models fine-tuned from one another (WiSE-FT, Wortsman et al. 2022): the robust
fine-tune and the model it started from, interpolated weight by weight, keep most of each one's strengths
(here: the FER-2013 accuracy of fernet and the framing robustness and FER+ agreement of its webcam fine-tune).

    python -m emojicall.training.soup --models models/fernet models/fernet_rw --weights 0.5 0.5 --out models/X

Writes model.keras, an int8 model.tflite (as the app runs it), meta.json (the first model's, plus how it was
made) and the first model's crop.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import model_files as mf
from ..errors import UserError


def soup(models: list[Path], weights: list[float], out: Path, quantize: str = "dynamic-int8") -> dict:
    from ..tfquiet import import_tensorflow

    import_tensorflow("a model soup")
    import keras

    from .export import save_derived

    if len(models) != len(weights) or abs(sum(weights) - 1) > 1e-6:
        raise UserError("--weights: one per model, summing to 1")
    loaded = [keras.models.load_model(Path(m) / mf.KERAS, safe_mode=True, compile=False) for m in models]
    shapes = [[w.shape for w in m.get_weights()] for m in loaded]
    if any(s != shapes[0] for s in shapes):
        raise UserError("the models differ in architecture: only fine-tunes of one model can be averaged")
    avg = [sum(a * m.get_weights()[i] for a, m in zip(weights, loaded)) for i in range(len(shapes[0]))]
    model = loaded[0]
    model.set_weights(avg)
    return save_derived(model, out, Path(models[0]), quantize,
                        command="python -m emojicall.training.soup " + " ".join(sys.argv[1:]),
                        soup={"models": [str(m) for m in models], "weights": weights})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", type=Path, required=True)
    ap.add_argument("--weights", nargs="+", type=float, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--quantize", default="dynamic-int8")
    args = ap.parse_args(argv)
    try:
        meta = soup(args.models, args.weights, args.out, args.quantize)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(meta["soup"]), "->", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
