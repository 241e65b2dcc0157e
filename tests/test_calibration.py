"""Per-person neutral calibration (emojicall.calibration, `emojicall calibrate`, `evaluate --video --calibrate`) on
real clips from ../shared."""
import json
import logging

import numpy as np
import pytest

from conftest import shared_path
from emojicall import calibration, cli
from emojicall.labels import LABELS

CREMA = ("media", "videos", "expressions", "cremad_actor1001")


def _neutral_share(clip, model, offset, start: int) -> float:
    """Share of the frames from `start` on whose face shows neutral through the app's chain (smoothed, as drawn),
    with this calibration offset (None: uncalibrated)."""
    from emojicall.training.video_eval import Clip, app_pipeline, read_clip

    pipe = app_pipeline(None, model)
    pipe.classifier.calibration = offset
    try:
        _, shown = read_clip(Clip(clip, "neutral", start), lambda frame: pipe.process(frame)[1])
    finally:
        pipe.close()
    read = [s for s in shown if s]
    assert len(read) > 20
    return read.count("neutral") / len(read)


@pytest.mark.parametrize("model, uncalibrated", [("fernet", (0.5, 0.8)), ("fernet_duo", (0.95, 1.0))])
def test_calibration_makes_a_persons_neutral_frames_read_neutral(tmp_path, capsys, model, uncalibrated):
    # CREMA-D actor 1001's resting face reads angry, fear or sad on many frames. fernet (no call prior in its
    # meta) shows neutral on 64% of his neutral clip's frames after the first 1.2 s; fernet_duo's call prior
    # already reads it neutral. Calibrated on the first 1.2 s, both show neutral on the rest.
    clip = shared_path(*CREMA, "1001_DFA_NEU_XX.flv")
    store = tmp_path / "calibration.json"
    assert cli.main(["calibrate", "--camera", str(clip), "--seconds", "1.2", "--file", str(store), "--model",
                     model]) == 0
    assert f"calibrated {model}" in capsys.readouterr().out
    offset = calibration.load(model, store)
    assert offset is not None and abs(float(offset.sum())) < 1e-3  # centred: only differences between classes count
    before, after = _neutral_share(clip, model, None, 36), _neutral_share(clip, model, offset, 36)
    assert uncalibrated[0] <= before <= uncalibrated[1] and after >= 0.95, (before, after)


@pytest.mark.parametrize("clip, says", [
    (("media", "videos", "negatives_and_transitions", "no_face.mp4"), "calibration found your face on only 0 of"),
    (("media", "videos", "webcam", "intel_head-pose-face-detection-female-and-male.gif"),
     "calibration saw more than one face"),
    # She turns her head left, right and up (the face centre moves 0.28 face widths).
    (("media", "videos", "webcam", "intel_head-pose-face-detection-female.gif"), "your face moved too much"),
    # Neutral, then a smile with teeth from frame 16.
    (("media", "videos", "webcam", "pyfeat_single_face_smile.mp4"), "your expression changed while calibrating"),
])
def test_an_unusable_recording_is_refused_in_one_line(tmp_path, capsys, clip, says):
    store = tmp_path / "calibration.json"
    assert cli.main(["calibrate", "--camera", str(shared_path(*clip)), "--seconds", "3", "--file", str(store)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"emojicall: {says}") and "\n" not in err and "Traceback" not in err
    assert not store.exists()


@pytest.mark.parametrize("content, says", [
    (None, "not found"),
    ("{not json", "is unusable"),
    (json.dumps({"version": 1, "model": "fernet_duo", "offset": {"happy": 1.0}}), "is unusable"),
    (json.dumps({"version": 1, "model": "mlp", "offset": dict.fromkeys(LABELS, 0.0)}), "recorded with model mlp"),
])
def test_a_missing_or_corrupt_file_is_ignored_with_one_warning(tmp_path, caplog, content, says):
    path = tmp_path / "calibration.json"
    if content is not None:
        path.write_text(content)
    with caplog.at_level(logging.WARNING):
        assert calibration.load("fernet_duo", path) is None
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(warnings) == 1 and says in warnings[0].getMessage()


def test_saved_offset_loads_back_and_reset_removes_it(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    offset = np.linspace(-1, 1, len(LABELS)).astype(np.float32)
    path = calibration.save(offset, "fernet_duo")
    assert path.parent == tmp_path / "cfg" / "emojicall"
    np.testing.assert_allclose(calibration.load("fernet_duo"), offset, atol=1e-4)
    calibration.reset()
    with caplog.at_level(logging.WARNING):
        assert calibration.load("fernet_duo") is None  # never calibrated: no file, no warning
    assert not caplog.records


def test_evaluate_video_calibrate_json(tmp_path):
    neutral, happy = shared_path(*CREMA, "1001_DFA_NEU_XX.flv"), shared_path(*CREMA, "1001_DFA_HAP_XX.flv")
    male = shared_path("media", "videos", "webcam", "intel_head-pose-face-detection-male.gif")
    labels = tmp_path / "labels.csv"
    labels.write_text(f"file,emotion,start,end,actor\n{happy},happy,,,c\n{neutral},neutral,,,c\n{male},happy,0,20,m\n")
    for flag, out in (([], tmp_path / "plain.json"), (["--calibrate"], tmp_path / "cal.json")):
        assert cli.main(["evaluate", "--video", str(labels), "--detector", "haar", "--json", str(out), *flag]) == 0
    plain, cal = json.loads((tmp_path / "plain.json").read_text()), json.loads((tmp_path / "cal.json").read_text())
    assert "calibrate" not in plain and all("calibrated" not in c for c in plain["clips"])
    assert cal["calibrate"] is True
    assert [c["calibrated"] for c in cal["clips"]] == [True, True, False]  # m has no neutral row
    # The 61-frame neutral row calibrated its person on frames 0-29 and is scored on 30-60 only; the rest in full.
    assert [c["frames"] for c in cal["clips"]] == [56, 31, 21] and [c["frames"] for c in plain["clips"]] == [56, 61, 21]
    assert cal["clips"][1]["share"] == 1.0  # the calibrated person's neutral frames read neutral
