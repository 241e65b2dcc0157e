"""`emojicall evaluate --video` and `--labels ferplus` on real clips and real FER-2013/FER+ rows."""
import json
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, shared_path
from emojicall.errors import UserError
from emojicall.training.ferplus import ferplus_labels, soft_targets
from emojicall.training.video_eval import Clip, clip_result, read_labels, summarize

SMILE = ("media", "videos", "webcam", "pyfeat_single_face_smile.mp4")


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "emojicall", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=600)


def _csv(tmp_path, body: str):
    clip = shared_path(*SMILE)
    path = tmp_path / "labels.csv"
    path.write_text("# a comment line\nfile,emotion,start,end,split\n" + body.format(clip=clip))
    return path


def test_video_evaluate_runs_the_app_chain_and_writes_the_issue_json(tmp_path):
    # Haar: no TensorFlow start-up; the chain (tracker, TTA, smoother) is the app's either way.
    labels = _csv(tmp_path, "{clip},happy,22,66,tune\n{clip},neutral,0,14,tune\n{clip},contempt,,,tune\n")
    out = tmp_path / "v.json"
    r = _cli("evaluate", "--video", str(labels), "--detector", "haar", "--json", str(out), "--figures",
             str(tmp_path / "fig"))
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert [c["frames"] for c in res["clips"]] == [45, 15]  # the start/end columns are honoured
    assert all(0 < c["frames_with_face"] <= c["frames"] for c in res["clips"])
    assert {"file", "emotion", "frames", "frames_with_face", "share", "most_read"} <= set(res["clips"][0])
    assert res["frame_share"] == pytest.approx(np.mean([c["share"] for c in res["clips"]]), abs=1e-4)
    assert res["clip_accuracy"] == np.mean([c["most_read"] == c["emotion"] for c in res["clips"]])
    assert res["switches_per_s"] >= 0 and res["detector"] == "haar"
    assert np.sum(res["confusion"]) == sum(c["frames_with_face"] for c in res["clips"])
    assert "contempt" in " ".join(res["notes"]) and "contempt" in r.stdout
    # The broad smile of frames 22-66 is read as happy on most frames by the shipped model.
    assert res["clips"][0]["most_read"] == "happy" and res["clips"][0]["share"] > 0.5
    assert list((tmp_path / "fig").glob("*video_confusion.png"))


def test_video_evaluate_is_deterministic(tmp_path):
    labels = _csv(tmp_path, "{clip},happy,22,40,tune\n")
    outs = []
    for i in range(2):
        out = tmp_path / f"{i}.json"
        assert _cli("evaluate", "--video", str(labels), "--detector", "haar", "--json", str(out)).returncode == 0
        outs.append(json.loads(out.read_text())["clips"])
    assert outs[0] == outs[1]


def test_split_column_selects_rows(tmp_path):
    labels = _csv(tmp_path, "{clip},happy,22,66,tune\n{clip},neutral,0,14,holdout\n")
    clips, _ = read_labels(labels, "holdout")
    assert [(c.emotion, c.start, c.end) for c in clips] == [("neutral", 0, 14)]


def test_bad_labels_files_are_one_clear_line(tmp_path):
    missing = tmp_path / "none.csv"
    r = _cli("evaluate", "--video", str(missing))
    assert r.returncode == 2 and "labels file not found" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    bad = tmp_path / "bad.csv"
    bad.write_text("path,label\nx.mp4,happy\n")
    with pytest.raises(UserError, match="file,emotion"):
        read_labels(bad)
    gone = tmp_path / "gone.csv"
    gone.write_text("file,emotion\nnot_here.mp4,happy\n")
    with pytest.raises(UserError, match="clip not found.*not_here.mp4"):
        read_labels(gone)


def test_scores_from_known_frame_reads():
    clip = Clip(ROOT / "x.mp4", "happy")
    # 10 frames at 10 fps: 2 without a face, reads happy x5 then sad x3: one switch in one second.
    r = clip_result(clip, 10.0, [None, None] + ["happy"] * 5 + ["sad"] * 3)
    assert (r["frames"], r["frames_with_face"], r["share"], r["most_read"], r["switches_per_s"]) == \
        (10, 8, 0.625, "happy", 1.0)
    wrong = clip_result(Clip(ROOT / "y.mp4", "sad"), 10.0, [None] * 10)
    s = summarize([r, wrong])
    assert s["frame_share"] == pytest.approx(0.3125) and s["clip_accuracy"] == 0.5


def test_ferplus_majority_labels_and_soft_targets(fer_npz):
    from emojicall.training.data import load_fer

    images, _ = load_fer(fer_npz, "publictest")
    plus, dropped = ferplus_labels(len(images))
    # 3,529 of 3,589 PublicTest rows have a majority in our 7 classes (bench/model_table.json's ferplus_n).
    assert int((plus >= 0).sum()) == 3529 and set(dropped) <= {"contempt", "unknown", "NF"}
    with pytest.raises(UserError, match="rows"):
        ferplus_labels(len(images) - 1)
    soft = soft_targets("train")
    assert soft.shape == (28709, 7)
    has = soft.sum(axis=1) > 0
    assert np.allclose(soft[has].sum(axis=1), 1) and has.mean() > 0.99


def test_evaluate_with_ferplus_labels(fer_npz, tmp_path):
    out = tmp_path / "plus.json"
    r = _cli("evaluate", "--labels", "ferplus", "--tta", "--json", str(out))
    assert r.returncode == 0, r.stderr[-2000:]
    res = json.loads(out.read_text())
    assert res["label_set"] == "ferplus" and res["n"] == 3529 and "FER+" in r.stdout
    # The shipped model agrees with the 10-annotator majority more often than with FER-2013's single label.
    assert res["accuracy"] > 0.66
    r = _cli("evaluate", "--labels", "fer+")
    assert r.returncode == 2 and "unknown label set" in r.stderr


def test_labels_from_a_spreadsheet_read_like_any_other(tmp_path):
    """Excel's "CSV UTF-8": a byte-order mark and CRLF line ends (before: "needs a header", which it has)."""
    clip = shared_path(*SMILE)
    excel = tmp_path / "excel.csv"
    excel.write_bytes(f"file,emotion,start,end\r\n{clip},happy,2,40\r\n".encode("utf-8-sig"))
    clips, _ = read_labels(excel)
    assert [(c.file, c.emotion, c.start, c.end) for c in clips] == [(clip.resolve(), "happy", 2, 40)]  # ../shared may be a link


def test_a_short_row_leaves_out_only_optional_cells(tmp_path):
    labels = _csv(tmp_path, "{clip},happy\n{clip},sad,3\n")  # no end, no split: from frame 0 / 3 to the end
    assert [(c.emotion, c.start, c.end, c.split) for c in read_labels(labels)[0]] == \
        [("happy", 0, None, ""), ("sad", 3, None, "")]


@pytest.mark.parametrize("body, says", [
    ("{clip}\n", "line 3: no emotion"),                           # before: AttributeError
    ("{clip},happy,40,2\n", "line 3: frames 40 to 2 are no range"),  # before: silently scored 0
    ("{clip},happy,0,10,tune,extra\n", "line 3: 6 cells for 5 columns"),
])
def test_rows_it_cannot_use_are_one_line_naming_the_line(tmp_path, body, says):
    labels = _csv(tmp_path, body)
    r = _cli("evaluate", "--video", str(labels))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert r.stderr.strip().splitlines() == [r.stderr.strip()] and says in r.stderr, r.stderr


def test_a_labels_file_that_is_not_utf8_is_one_line(tmp_path):
    latin = tmp_path / "latin1.csv"
    latin.write_bytes("file,emotion\nvidéo.mp4,happy\n".encode("latin-1"))
    r = _cli("evaluate", "--video", str(latin))
    assert r.returncode == 2 and "Traceback" not in r.stderr  # before: UnicodeDecodeError
    assert r.stderr.strip() == f"emojicall: labels file {latin} is not UTF-8 text (byte 17): save it as UTF-8 " \
                               "(in Excel: 'CSV UTF-8')"
