"""Speed design, checked for behaviour (timings live in bench/realtime.py and bench/pipeline_cpu.py): the camera
reader hands over the newest frame, the pipeline follows a face with detection on every 5th frame or on a worker
thread, looks only around steady faces, scores them less often and looks again at once for a lost one, a reset
pipeline starts over, batched and per-face classification agree, and Haar never imports TensorFlow."""
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from conftest import ROOT, shared_path
from emojicall.frames import CAMERA
from emojicall import build
from emojicall.classifier import EmotionClassifier
from emojicall.detectors.haar import HaarDetector
from emojicall.settings import Settings
from emojicall.sources import CaptureSource


def decode_all(path):
    cap, out = cv2.VideoCapture(str(path)), []
    while (frame := cap.read()[1]) is not None:
        out.append(frame)
    return out


@pytest.fixture(scope="module")
def model_dir():
    from emojicall.model_files import resolve_model_dir

    return resolve_model_dir(None)  # the shipped default model


@pytest.fixture(scope="module")
def clip():
    return shared_path("media", "videos", "webcam", "intel_asl_book.mkv")


def test_the_camera_reader_hands_over_the_newest_frame(clip):
    """The reader the app runs for cameras (ResilientSource): a late consumer gets the newest frame, never a
    backlog; the clip stands in for a camera that delivers faster than the frame loop takes."""
    from emojicall.errors import UserError
    from emojicall.resilient import ResilientSource

    def gone():
        raise UserError("camera unplugged")

    expected = decode_all(clip)
    reader = ResilientSource(gone, first=CaptureSource(clip), grace=30.0)
    try:
        for _ in range(400):  # the consumer is late: the whole clip decodes before it asks
            if reader.failed_reads:
                break
            time.sleep(0.05)
        record = reader.read_frame()
        assert record.kind == CAMERA and reader.seq == len(expected) and np.array_equal(record.image, expected[-1])
        assert reader.dropped == len(expected) - 1
    finally:
        reader.close()


def test_batched_and_per_face_classification_agree(model_dir):
    img = cv2.imread(str(shared_path("media", "face_boxes", "dlib_voc", "2007_007763.jpg")))
    faces = HaarDetector(max_width=0, min_size=20).detect(img)
    assert len(faces) >= 3
    clf = EmotionClassifier(model_dir)
    batched = clf.classify(img, faces).copy()
    single = np.concatenate([clf.classify(img, [f]) for f in faces])
    assert np.array_equal(batched.argmax(1), single.argmax(1))
    np.testing.assert_allclose(batched, single, atol=1e-4)


def chain(detector, classifier):
    """The app's chain, built as the app builds it, around this detector and classifier."""
    return build.pipeline(Settings(detector=detector.name), detector=detector, classifier=classifier)


def run_pipeline(clip, model_dir, **options):
    live = options.pop("live", False)
    pipe = build.pipeline(Settings(detector="haar", **options), detector=HaarDetector(),
                          classifier=EmotionClassifier(model_dir), live=live)
    out = []
    for i, frame in enumerate(decode_all(clip)):
        out.append(pipe.process(frame)[1])
        if i % 3 == 2:  # async: results come back 1-3 frames after their frame, whatever this machine's speed
            pipe.wait_for_detection()
    pipe.close()
    return pipe, out


def test_detect_every_fifth_frame_still_overlays_every_frame_deterministically(clip, model_dir):
    pipe, faces = run_pipeline(clip, model_dir, detect_every=5)
    assert pipe.faults.count == 0
    shown = [f for f in faces if f]
    assert len(shown) >= 0.95 * len(faces)
    assert len({x.track_id for fs in faces for x in fs if x.box[1] < 300}) == 1  # the man's face: one id
    _, again = run_pipeline(clip, model_dir, detect_every=5)
    assert [[(x.box, x.label) for x in fs] for fs in faces] == [[(x.box, x.label) for x in fs] for fs in again]


def test_async_detection_overlays_the_face(clip, model_dir):
    pipe, faces = run_pipeline(clip, model_dir, detect_every=5, live=True)
    assert pipe.faults.count == 0
    first = next(i for i, f in enumerate(faces) if f)
    assert first <= 3  # the first result comes back while frames keep flowing
    assert len({x.track_id for fs in faces for x in fs if x.box[1] < 300}) == 1
    assert sum(bool(f) for f in faces[first:]) >= 0.95 * len(faces[first:])


def test_haar_pipeline_never_imports_tensorflow(clip, model_dir):
    code = f"""
import sys, cv2
from emojicall import build
from emojicall.settings import Settings
from emojicall.sources import CaptureSource
p = build.pipeline(Settings(detector="haar", model={str(model_dir)!r}), live=True)
src = CaptureSource({str(clip)!r})
frames = faces = 0
while frames < 40 and (frame := src.read()) is not None:
    faces += len(p.process(frame)[1])
    frames += 1
    p.wait_for_detection()
src.close(); p.close()
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras", "mtcnn"))
print(frames, faces, heavy)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    frames, faces, heavy = out.stdout.split(maxsplit=2)
    assert int(frames) == 40 and int(faces) > 0
    assert heavy.strip() == "[]"


def test_reset_makes_a_reused_pipeline_start_over_like_a_new_one(clip, model_dir):
    """Evaluation over many clips reuses one pipeline: after reset() its output (faces, labels and the drawn
    frames) is a new pipeline's, though another clip ran through it before."""
    frames = decode_all(clip)[:40]
    other = decode_all(shared_path("media", "videos", "webcam", "pyfeat_single_face_smile.mp4"))[:40]

    def run(pipe, clip_frames):
        out = [pipe.process(f, i / 30) for i, f in enumerate(clip_frames)]
        return [(o.tobytes(), [(f.box, f.track_id, f.label) for f in faces]) for o, faces in out]

    def new():
        return chain(HaarDetector(), EmotionClassifier(model_dir))
    expected = run(new(), frames)
    reused = new()
    run(reused, other)
    reused.reset()
    again = run(reused, frames)
    assert [faces for _, faces in again] == [faces for _, faces in expected]  # track ids start over too
    assert [o for o, _ in again] == [o for o, _ in expected]


class Counting:
    """Wraps a real detector or classifier and records what it was given."""

    def __init__(self, inner, method):
        self.inner, self.calls = inner, []
        setattr(self, method, self._call(getattr(inner, method)))

    def _call(self, fn):
        def call(frame, *args):
            self.calls.append((self.frame_no, frame.shape))
            return fn(frame, *args)
        return call

    def __getattr__(self, name):
        return getattr(self.inner, name)


def test_a_steady_face_is_looked_for_around_it_yet_has_its_emoji_on_every_frame():
    from emojicall.detection import REGION
    from emojicall.detectors import create_detector

    frames = decode_all(shared_path("media", "videos", "bench_720p_closeup.mp4"))[:150]
    det, clf = Counting(create_detector("mtcnn"), "detect"), Counting(EmotionClassifier(), "classify")
    pipe = chain(det, clf)
    shown = []
    for i, frame in enumerate(frames):
        det.frame_no = clf.frame_no = i
        shown.append(bool(pipe.process(frame, i / 30)[1]) and pipe.compositor.placements != [])
    pipe.close()
    assert all(shown)
    whole = [n for n, shape in det.calls if shape == (360, 640, 3)]  # the frame as MTCNN looks at it
    around = [shape for _, shape in det.calls if shape != (360, 640, 3)]
    assert whole[:2] == [0, 5] and len(whole) <= 2 + 150 // 30  # new track: every 5th; steady: every 30th
    assert len(around) >= 5 and {s[:2] for s in around} == {(REGION, REGION)}  # one size: no new MTCNN nets
    assert len(whole) + len(around) <= 150 // 5
    assert len(clf.calls) == 150  # every face on every frame: a kept score cost real-video accuracy


def test_a_track_that_loses_its_face_is_looked_for_at_once(model_dir):
    face = decode_all(shared_path("media", "videos", "bench_720p_closeup.mp4"))[:40]
    empty = [cv2.resize(f, (face[0].shape[1], face[0].shape[0]))
             for f in decode_all(shared_path("media", "videos", "negatives_and_transitions", "no_face.mp4"))[:10]]
    det = Counting(HaarDetector(), "detect")
    pipe = chain(det, EmotionClassifier(model_dir))
    for i, frame in enumerate(face + empty):
        det.frame_no = i
        pipe.process(frame, i / 30)
    cut = len(face)
    assert [n for n, _ in det.calls if n >= cut][:1] == [cut + 1]  # the next frame, not the next due one
