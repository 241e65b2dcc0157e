"""Detector settings made for speed, checked on real frames: MTCNN's pyramid fix (min_face_size 40 and 80
used to find nothing), Haar without histogram equalisation, and detection on a downscaled copy."""
import cv2
import numpy as np
import pytest

from conftest import shared_path
from emojicall.detectors.haar import HaarDetector
from emojicall.face import iou


def clip_frames(*parts, step=1):
    cap, out = cv2.VideoCapture(str(shared_path(*parts))), []
    i = 0
    while (frame := cap.read()[1]) is not None:
        if i % step == 0:
            out.append(frame)
        i += 1
    return out


def test_mtcnn_pyramid_never_goes_under_12_px():
    from emojicall.detectors.mtcnn import _pyramid

    for w, h in ((640, 480), (320, 240), (1280, 720), (480, 270)):
        for min_face in (20, 24, 30, 40, 48, 60, 80):
            scales = _pyramid(w, h, min_face, 0.709)
            assert len(scales) >= 1
            assert min(w, h) * scales[-1] >= 12
            assert min(w, h) * scales[-1] * 0.709 < 12  # and no level that could still be used is cut
            assert scales[0] == pytest.approx(12 / min_face)


@pytest.mark.slow
@pytest.mark.parametrize("min_face", [40, 60, 80])
def test_mtcnn_finds_the_face_at_webcam_min_face_sizes(min_face):
    from emojicall.detectors.mtcnn import MTCNNDetector

    frame = clip_frames("media", "videos", "webcam", "intel_asl_book.mkv")[0]  # 640x480, face ~70 px
    faces = MTCNNDetector(min_face_size=min_face, max_width=640).detect(frame)
    assert len(faces) == 1 and 45 <= faces[0].box[2] <= 110, [f.box for f in faces]


def test_haar_finds_the_backlit_webcam_face():
    frames = clip_frames("media", "videos", "webcam", "intel_asl_book.mkv", step=4)
    det = HaarDetector()
    hits = sum(any(f.box[1] < 250 for f in det.detect(frame)) for frame in frames)
    assert hits >= 0.9 * len(frames), f"face found on {hits}/{len(frames)} frames"


def test_downscaled_detection_boxes_land_on_the_full_frame():
    frame = clip_frames("media", "videos", "negatives_and_transitions", "face_noface.mov")[10]  # 960x540
    full = HaarDetector(max_width=0).detect(frame)
    small = HaarDetector(max_width=480).detect(frame)
    assert len(full) >= 1 and len(small) >= 1
    best = max(iou(a.box, b.box) for a in full for b in small)
    assert best >= 0.6
    assert all(0 <= f.box[0] and f.box[0] + f.box[2] <= frame.shape[1] for f in small)
    assert np.isfinite([f.score for f in small]).all()
