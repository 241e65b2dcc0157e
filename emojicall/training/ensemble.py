"""Two models in one network, one on the face crop and one on its mirror image: the cost of one model with flip
TTA, the gain of an ensemble. Measured 2026-12-02 (docs/model.md): fernet_rw (best on real video) on the crop and
fernet (best on FER-2013) on the mirror, equal weights: PublicTest 68.65% against 67.57% / 68.71% for each with
flip TTA, real-video tune 0.659 against 0.665 / 0.525.

    python -m emojicall.training.ensemble --models models/fernet_rw models/fernet --out models/fernet_duo

The mirror is a flip op inside the graph (LiteRT REVERSE_V2, exact), so the app feeds one crop per face as always;
meta.json says "sees_mirror" and the classifier then skips its own flip TTA. Writes model.keras, an int8
model.tflite, meta.json (the first model's, plus how it was made) and the first model's crop.json.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .. import model_files as mf
from ..errors import UserError


def ensemble(models: list[Path], out: Path, weight: float = 0.5, quantize: str = "dynamic-int8") -> dict:
    from ..tfquiet import import_tensorflow

    import_tensorflow("an ensemble")
    import keras

    from .export import save_derived

    if len(models) != 2:
        raise UserError("--models: exactly two model folders (the first sees the crop, the second its mirror)")
    if not 0 < weight < 1:
        raise UserError(f"--weight {weight}: the first model's share must be between 0 and 1")
    metas = [mf.read_meta(Path(m)) for m in models]
    if metas[0]["input_size"] != metas[1]["input_size"] or metas[0]["labels"] != metas[1]["labels"]:
        raise UserError("the two models differ in input size or label order: train them with the same settings")
    crop_net, mirror_net = (keras.models.load_model(Path(m) / mf.KERAS, safe_mode=True, compile=False)
                            for m in models)
    crop_net.name, mirror_net.name = "on_crop", "on_mirror"  # unique layer names inside one model
    x = keras.Input(crop_net.input_shape[1:])
    mirrored = keras.ops.flip(x, axis=2)  # width axis of (N, H, W, 1)
    y = keras.layers.Add()([keras.layers.Rescaling(weight)(crop_net(x)),
                            keras.layers.Rescaling(1 - weight)(mirror_net(mirrored))])
    model = keras.Model(x, y, name=out.name)
    # recipe and seed describe the first member's training; its own folder keeps them
    return save_derived(model, out, Path(models[0]), quantize, drop=("recipe", "seed"),
                        arch=f"{metas[0]['arch']} + {metas[1]['arch']} on the mirror",
                        params=int(model.count_params()), sees_mirror=True,
                        command="python -m emojicall.training.ensemble " + " ".join(sys.argv[1:]),
                        ensemble={"on_crop": str(models[0]), "on_mirror": str(models[1]), "weight_on_crop": weight})


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs=2, type=Path, required=True, metavar=("ON_CROP", "ON_MIRROR"))
    ap.add_argument("--weight", type=float, default=0.5, help="share of the first model's probabilities")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--quantize", default="dynamic-int8")
    args = ap.parse_args(argv)
    try:
        meta = ensemble(args.models, args.out, args.weight, args.quantize)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(meta["ensemble"]), "->", args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
