"""Both detectors on real annotated photos (dlib/VOC group photos, the silver CC frames) and real negatives."""
from pathlib import Path

import cv2
import pytest

from boxes import load_gt, match
from conftest import shared_path
from emojicall.detectors import create_detector
from emojicall.errors import UserError


@pytest.fixture(scope="module", params=["haar", "mtcnn"])
def detector(request):
    return create_detector(request.param)


def _score(detector, gt):
    tp = fp = fn = 0
    for image, boxes in gt.items():
        faces = detector.detect(cv2.imread(image))
        h, w = cv2.imread(image).shape[:2]
        for f in faces:  # the shared Face contract: boxes inside the frame
            x, y, bw, bh = f.box
            assert 0 <= x and 0 <= y and x + bw <= w and y + bh <= h and bw > 0 and bh > 0
        a, b, c = match(faces, boxes)
        tp, fp, fn = tp + a, fp + b, fn + c
    return tp / max(1, tp + fp), tp / max(1, tp + fn)


def test_finds_the_faces_in_group_photos(detector):
    root = shared_path("media", "face_boxes")
    gt = {k: v for k, v in load_gt(root).items() if "/dlib_voc/" in k}
    precision, recall = _score(detector, gt)
    # Measured: Haar 35/43 found, 4 false; MTCNN 43/43, none false.
    floor = {"haar": (0.85, 0.75), "mtcnn": (0.95, 0.95)}[detector.name]
    assert precision >= floor[0] and recall >= floor[1], (precision, recall)


def test_finds_the_faces_in_video_frames(detector):
    root = shared_path("media", "face_boxes")
    gt = load_gt(root, "silver_cc_frames/annotations_silver.csv")
    precision, recall = _score(detector, gt)
    floor = {"haar": (0.9, 0.6), "mtcnn": (0.95, 0.85)}[detector.name]
    assert precision >= floor[0] and recall >= floor[1], (precision, recall)


def test_mtcnn_gives_landmarks_and_scores():
    image = shared_path("media", "face_boxes", "silver_cc_frames", "1001_DFA_HAP_XX_f040.png")
    faces = create_detector("mtcnn").detect(cv2.imread(str(image)))
    assert len(faces) == 1
    f = faces[0]
    assert f.score > 0.9 and {"left_eye", "right_eye", "nose"} <= set(f.landmarks)
    x, y, w, h = f.box
    for px, py in f.landmarks.values():
        assert x <= px <= x + w and y <= py <= y + h


def test_nothing_found_in_photos_without_faces(detector):
    negatives = sorted(Path(shared_path("media", "face_boxes", "negatives")).glob("opencv_*"))
    assert len(negatives) >= 10
    hits = {p.name: len(detector.detect(cv2.imread(str(p)))) for p in negatives}
    assert hits["opencv_fruits.jpg"] == 0 and hits["opencv_building.jpg"] == 0
    # Haar fires on Van Gogh's starry night (swirls read as faces; twice since it runs without equalizeHist,
    # which had cost it the backlit Intel ASL webcam face); everything else must stay empty.
    starry = hits.pop("opencv_starry_night.jpg", 0)
    assert sum(hits.values()) == 0 and starry <= (2 if detector.name == "haar" else 0), (starry, hits)


def test_gray_and_bgra_frames_are_accepted(detector):
    image = cv2.imread(str(shared_path("media", "face_boxes", "silver_cc_frames", "1001_DFA_ANG_XX_f030.png")))
    for frame in (cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), cv2.cvtColor(image, cv2.COLOR_BGR2BGRA)):
        assert len(detector.detect(frame)) == 1


def test_unknown_detector_is_a_user_error():
    with pytest.raises(UserError, match="unknown detector 'yolo'"):
        create_detector("yolo")
