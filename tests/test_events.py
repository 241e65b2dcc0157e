"""Events files written from the app's real chain (Haar, the shipped model, the bundled emojis) on real clips."""
import csv
import json

import cv2
import numpy as np
import pytest

from conftest import shared_path
from emojicall.errors import UserError
from emojicall.events import CSV_FIELDS, EventWriter
from emojicall.labels import LABELS

SMILE = ("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")


def run_chain(clip, events_path, max_frames=None):
    """Plays `clip` through the chain as `run --events` does (file: t = frame / fps); returns the frame size
    and the faces of each frame."""
    from emojicall import build
    from emojicall.settings import Settings

    pipe = build.pipeline(Settings(detector="haar"), detector_fallback=False)
    cap, per_frame, size = cv2.VideoCapture(str(clip)), [], None
    try:
        with EventWriter(events_path, cap.get(cv2.CAP_PROP_FPS), inputs=[clip]) as writer:
            while max_frames is None or len(per_frame) < max_frames:
                ok, frame = cap.read()
                if not ok:
                    break
                size = frame.shape[1], frame.shape[0]
                _, faces = pipe.process(frame)
                writer.write(len(per_frame), None, faces)
                per_frame.append(faces)
    finally:
        cap.release()
        pipe.close()
    return size, per_frame


@pytest.fixture(scope="module")
def smile_jsonl(tmp_path_factory):
    path = tmp_path_factory.mktemp("ev") / "smile.jsonl"
    size, per_frame = run_chain(shared_path(*SMILE), path)
    return path, size, per_frame


def test_jsonl_has_one_record_per_frame_with_the_faces_the_chain_found(smile_jsonl):
    path, (width, height), per_frame = smile_jsonl
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert [r["frame"] for r in records] == list(range(len(per_frame))) and len(records) == 72
    assert records[30]["t"] == pytest.approx(1.0, abs=1e-3)  # 30 fps clip
    seen = [r for r in records if r["faces"]]
    assert len(seen) >= 60, "the smile clip has a face in (nearly) every frame"
    for r, faces in zip(records, per_frame):
        assert [f["track"] for f in r["faces"]] == [f.track_id for f in faces]
        assert [f["label"] for f in r["faces"]] == [f.label for f in faces]
        for f in r["faces"]:
            x, y, w, h = f["box"]
            assert 0 <= x and 0 <= y and x + w <= width and y + h <= height
            assert list(f["probs"]) == list(LABELS)
            assert sum(f["probs"].values()) == pytest.approx(1.0, abs=2e-3)
            assert f["probs"][f["label"]] == max(f["probs"].values())  # the shown class is on top (ties at 4 places)
    labels = [f["label"] for r in seen for f in r["faces"]]
    assert labels.count("happy") / len(labels) > 0.5, "a smiling face is shown happy most of the time"


def test_csv_has_one_row_per_face_and_frame(tmp_path):
    clip = shared_path(*SMILE)
    _, per_frame = run_chain(clip, tmp_path / "smile.csv", max_frames=20)
    rows = list(csv.DictReader((tmp_path / "smile.csv").read_text().splitlines()))
    assert list(rows[0]) == list(CSV_FIELDS)
    assert len(rows) == sum(max(1, len(faces)) for faces in per_frame)
    faced = [r for r in rows if r["track"]]
    assert faced and all(r["label"] in LABELS for r in faced)
    assert all(sum(float(r[c]) for c in LABELS) == pytest.approx(1.0, abs=2e-3) for r in faced)


def test_a_frame_without_faces_is_still_a_record(tmp_path):
    clip = shared_path("media", "videos", "negatives_and_transitions", "no_face.mp4")
    _, per_frame = run_chain(clip, tmp_path / "none.jsonl", max_frames=15)
    _, _ = run_chain(clip, tmp_path / "none.csv", max_frames=15)
    assert not any(per_frame)
    assert [json.loads(ln)["faces"] for ln in (tmp_path / "none.jsonl").read_text().splitlines()] == [[]] * 15
    rows = list(csv.DictReader((tmp_path / "none.csv").read_text().splitlines()))
    assert [int(r["frame"]) for r in rows] == list(range(15)) and not any(r["track"] for r in rows)


def test_refuses_to_overwrite_the_input_clip(tmp_path):
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(shared_path(*SMILE).read_bytes())
    before = clip.read_bytes()
    (tmp_path / "sub").mkdir()
    with pytest.raises(UserError, match="is the input"):
        EventWriter(tmp_path / "sub" / ".." / "clip.mp4", 30, inputs=[str(clip)])
    assert clip.read_bytes() == before


@pytest.mark.parametrize("where", ["a_file/ev.jsonl", "a_folder"])
def test_unwritable_path_is_one_line(tmp_path, where):
    (tmp_path / "a_folder").mkdir()
    (tmp_path / "a_file").write_text("a file where a folder should be")
    with pytest.raises(UserError) as err:
        EventWriter(tmp_path / where, 30)
    assert "\n" not in str(err.value) and str(tmp_path / where) in str(err.value)


def test_on_frame_callback_numbers_frames_and_takes_a_clock(tmp_path):
    from emojicall.face import Face

    face = Face((10, 20, 30, 40), track_id=3, probs=np.array([0, 0, 0, 2.0, 0, 0, 2.0]) / 3)
    ticks = iter([100.0, 100.5, 101.25])
    with EventWriter(tmp_path / "live.jsonl", 30) as writer:
        callback = writer.on_frame(t=lambda: next(ticks))
        callback(None, [face])
        callback(None, [])
    records = [json.loads(ln) for ln in (tmp_path / "live.jsonl").read_text().splitlines()]
    assert [(r["frame"], r["t"]) for r in records] == [(0, 0.5), (1, 1.25)]
    assert records[0]["faces"][0]["probs"]["happy"] == 0.5 and records[0]["faces"][0]["track"] == 3
