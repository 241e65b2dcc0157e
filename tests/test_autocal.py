"""Automatic calibration (emojicall.autocal) on real clips from ../shared and the real models: it learns a calm
face's baseline, a few seconds of one expression barely move it, a manual calibration wins, and the flag turns it
on and off."""
import json

import numpy as np
import pytest
from conftest import shared_path

from emojicall import autocal, build, calibration, cli
from emojicall.classifier import shift_probs
from emojicall.face import Face
from emojicall.flags import settings_from
from emojicall.labels import LABELS
from emojicall.settings import Settings
from emojicall.tray.app import parse_args

CREMA = ("media", "videos", "expressions", "cremad_actor1001")
NEUTRAL, SAD = LABELS.index("neutral"), LABELS.index("sad")


def _outputs(model: str, code: str) -> tuple[np.ndarray, np.ndarray]:
    """(the model's own output for CREMA-D actor 1001's clip `code`, frame by frame through the app's chain; the
    model's call prior)."""
    from emojicall.training.video_eval import Clip, app_pipeline, read_clip

    pipe = app_pipeline(None, model, auto=False)
    raw = []
    pipe.classifier.recorder = lambda faces, probs: raw.append(probs[0].copy())
    try:
        read_clip(Clip(shared_path(*CREMA, f"1001_DFA_{code}_XX.flv"), "neutral"), lambda f: pipe.process(f)[1])
    finally:
        pipe.close()
    assert len(raw) > 50
    return np.array(raw), pipe.classifier.prior


def _feed(auto, outputs) -> np.ndarray:
    """The offsets auto gives one face (track 1) for each frame of `outputs`."""
    face = [Face(box=(0, 0, 80, 80), track_id=1)]
    return np.array([auto.offsets(face, p[None])[0] for p in outputs])


def test_a_calm_face_that_reads_sad_or_fear_is_pulled_to_neutral_after_enough_calm_frames():
    # fernet has no call prior: actor 1001's calm, talking face tops neutral on 34 of its 61 frames (fear 15,
    # sad 8). Played 6 times (366 frames, of which over WARMUP look near-neutral), the learned baseline makes it
    # 40 or so (sad 1).
    raw, prior = _outputs("fernet", "NEU")
    auto = autocal.AutoCalibration(prior)
    offsets = _feed(auto, np.concatenate([raw] * 6))
    assert np.all(offsets[:autocal.WARMUP - 1] == prior)  # nothing applied before WARMUP near-neutral frames
    before, after = shift_probs(raw, prior).argmax(1), shift_probs(raw, offsets[-1]).argmax(1)
    assert (before == NEUTRAL).sum() <= 36 and (after == NEUTRAL).sum() >= 39, (before, after)
    assert (before == SAD).sum() >= 6 and (after == SAD).sum() <= 2


def test_a_few_seconds_of_one_expression_barely_move_the_baseline():
    # Warm on the calm clip (fernet_duo, the default model; 6 plays, 366 near-neutral frames), then 4 s of one
    # acted expression. The call prior reads this actor's subtle sad mostly neutral, so all 120 sad frames pass
    # the near-neutral gate: the learned mean moves by 0.063 at most (bound: 120 x STEP / 366 = 0.082) and the
    # offset not at all. Happy is learned from on only 38 of 112 frames (moved 0.015).
    calm, prior = _outputs("fernet_duo", "NEU")
    for code, most in (("SAD", 120 * autocal.STEP / 366), ("HAP", 0.03)):
        held, _ = _outputs("fernet_duo", code)
        auto = autocal.AutoCalibration(prior)
        warm = _feed(auto, np.concatenate([calm] * 6))[-1]
        assert auto.tracks[1].n == 366
        mean = auto.tracks[1].mean.copy()
        after = _feed(auto, np.concatenate([held] * 2))[-1]
        moved = np.abs(auto.tracks[1].mean - mean).max()
        assert moved <= most, (code, moved)
        assert np.abs((after - after[NEUTRAL]) - (warm - warm[NEUTRAL])).max() <= 0.05, code


def test_a_new_track_takes_over_the_baseline_of_one_that_ended():
    calm, prior = _outputs("fernet_duo", "NEU")
    auto = autocal.AutoCalibration(prior)
    _feed(auto, np.concatenate([calm] * 6))
    n = auto.tracks[1].n
    auto.offsets([Face(box=(0, 0, 80, 80), track_id=7)], calm[:1])  # the face was lost and found again
    assert list(auto.tracks) == [7] and auto.tracks[7].n >= n


def test_a_manual_calibration_wins_over_auto():
    from emojicall.training.video_eval import Clip, app_pipeline, read_clip

    clip = Clip(shared_path(*CREMA, "1001_DFA_NEU_XX.flv"), "neutral")
    shown = []
    for auto in (False, True):
        pipe = app_pipeline(None, "fernet", auto=auto)
        pipe.classifier.calibration = calibration.offset_from(np.full((1, len(LABELS)), 1 / len(LABELS)))
        if auto:
            pipe.classifier.auto.warmup = 1
        try:
            shown.append(read_clip(clip, lambda f, p=pipe: p.process(f)[1])[1])
        finally:
            pipe.close()
        if auto:
            assert pipe.classifier.auto.tracks == {} and pipe.classifier.auto.applied == 0
    assert shown[0] == shown[1]


@pytest.mark.parametrize("argv, on", [([], False), (["--auto-calibration"], True), (["--no-auto-calibration"], False)])
def test_the_flag_switches_it(argv, on):
    settings = settings_from(parse_args(argv), Settings(auto_calibration=not on if argv else False))
    assert settings.auto_calibration is on
    clf = build.load_classifier(Settings(auto_calibration=on, calibration=False))
    assert (clf.auto is not None) is on


def test_evaluate_video_carries_each_actors_baseline_across_their_rows(tmp_path):
    neutral = shared_path(*CREMA, "1001_DFA_NEU_XX.flv")
    labels = tmp_path / "labels.csv"
    labels.write_text("file,emotion,actor\n" + f"{neutral},neutral,a\n" * 6 + f"{neutral},neutral,b\n")
    out = tmp_path / "auto.json"
    assert cli.main(["evaluate", "--video", str(labels), "--detector", "haar", "--json", str(out),
                     "--auto-calibration"]) == 0
    res = json.loads(out.read_text())
    frames = [c["auto_frames"] for c in res["clips"]]
    # a's 6 plays pass WARMUP (300 near-neutral frames) in the 5th or 6th; b starts from nothing.
    assert res["auto_calibration"] is True and frames[:4] == [0] * 4 and frames[5] > 0 and frames[6] == 0, frames
