"""`emojicall report` on events written from real clips by the real chain, and on broken events files."""
import json

import numpy as np
import pytest
from PIL import Image

from conftest import shared_path
from emojicall import report
from emojicall.errors import UserError
from test_events import run_chain

TWO_FACES = ("media", "videos", "webcam", "intel_head-pose-face-detection-female-and-male.gif")
HAPPY = ("media", "videos", "expressions", "cremad_actor1001", "1001_DFA_HAP_XX.flv")


@pytest.fixture(scope="module")
def happy_events(tmp_path_factory):
    folder = tmp_path_factory.mktemp("rep")
    run_chain(shared_path(*HAPPY), folder / "happy.jsonl")
    run_chain(shared_path(*HAPPY), folder / "happy.csv")
    return folder


def _shares(summary_text: str, face: str) -> dict:
    lines = summary_text.splitlines()
    head = lines[1].split()[2:]
    row = next(ln.split() for ln in lines[2:] if ln.split()[0] == face)
    return {c: float(v.rstrip("%")) for c, v in zip(head, row[2:])}


@pytest.mark.parametrize("name", ["happy.jsonl", "happy.csv"])
def test_summary_of_the_acted_happy_clip(happy_events, name, capsys):
    assert report.main([str(happy_events / name)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith(f"{name}: 56 frames, 1.9 s; 1 tracked face(s)")
    shares = _shares(out, "1")
    assert sum(shares.values()) == pytest.approx(100, abs=0.5)
    assert max(shares, key=shares.get) == "happy" and shares["happy"] > 50


def test_jsonl_and_csv_read_the_same(happy_events):
    a, b = (report.read_events(happy_events / n) for n in ("happy.jsonl", "happy.csv"))
    assert a.frames == b.frames and a.t == b.t and list(a.tracks) == list(b.tracks)
    for key in a.tracks:
        assert a.tracks[key].labels == b.tracks[key].labels
        np.testing.assert_allclose(a.tracks[key].probs, b.tracks[key].probs, atol=1e-4)


def test_timeline_png_has_a_panel_per_face(tmp_path, capsys):
    events = tmp_path / "two.jsonl"
    run_chain(shared_path(*TWO_FACES), events)
    png = tmp_path / "two.png"
    assert report.main([str(events), "--png", str(png)]) == 0
    out = capsys.readouterr().out
    assert "2 tracked face(s)" in out and f"wrote {png.resolve()}" in out
    assert set(report.read_events(events).tracks) == {"1", "2"}
    with Image.open(png) as img:
        assert img.format == "PNG" and img.height > 400  # two panels: taller than one (1.2 + 1.9 in at 110 dpi)
        pixels = np.asarray(img.convert("RGB")).reshape(-1, 3)
    def share(hex_color):  # of the picture's pixels in one class colour
        rgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)])
        return (np.abs(pixels.astype(int) - rgb).sum(axis=1) < 6).mean()
    # This clip is shown neutral most of the time; the legend's patches alone cover ~0.1% each.
    assert share(report.COLORS["neutral"]) > 0.02
    assert share(report.COLORS["neutral"]) > 3 * share(report.COLORS["disgust"])


def test_no_face_at_all_is_a_report_not_an_error(tmp_path, capsys):
    events = tmp_path / "none.jsonl"
    run_chain(shared_path("media", "videos", "negatives_and_transitions", "no_face.mp4"), events, max_frames=10)
    assert report.main([str(events), "--png", str(tmp_path / "none.png")]) == 0
    assert "no face in any frame" in capsys.readouterr().out and (tmp_path / "none.png").stat().st_size > 1000


def _one_line_error(argv) -> str:
    with pytest.raises(UserError) as err:
        report.main(argv)
    assert "\n" not in str(err.value)
    return str(err.value)


def test_a_video_given_as_events_file(tmp_path):
    clip = shared_path(*HAPPY)
    assert "cannot be read" in _one_line_error([str(clip)])


def test_corrupt_lines_name_the_line(happy_events, tmp_path):
    lines = (happy_events / "happy.jsonl").read_text().splitlines()
    cut = tmp_path / "cut.jsonl"
    cut.write_text("\n".join(lines[:10] + [lines[10][: len(lines[10]) // 2]]) + "\n")  # a run killed mid-line
    assert "line 11" in _one_line_error([str(cut)])
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text(json.dumps({"frame": 0, "t": 0, "faces": 3}) + "\n")
    assert "line 1" in _one_line_error([str(wrong)])


def test_csv_without_the_columns(tmp_path):
    bad = tmp_path / "other.csv"
    bad.write_text("a,b\n1,2\n")
    assert "lacks the column(s) frame, t, track" in _one_line_error([str(bad)])


def test_missing_and_empty_files(tmp_path):
    assert "not found" in _one_line_error([str(tmp_path / "nope.jsonl")])
    (tmp_path / "empty.jsonl").write_text("")
    assert "no frames" in _one_line_error([str(tmp_path / "empty.jsonl")])


def test_png_over_the_events_file_is_refused(happy_events):
    events = happy_events / "happy.jsonl"
    before = events.read_bytes()
    assert "is the events file" in _one_line_error([str(events), "--png", str(events)])
    assert events.read_bytes() == before


def test_unwritable_png_is_one_line(happy_events, tmp_path):
    assert "cannot write" in _one_line_error([str(happy_events / "happy.jsonl"), "--png",
                                             str(tmp_path / "no_such_dir" / "t.png")])


def test_what_editors_write_reads_the_same(happy_events, tmp_path):
    """A byte-order mark and Windows line ends (Notepad, Excel's "CSV UTF-8") change nothing."""
    for name in ("happy.jsonl", "happy.csv"):
        text = (happy_events / name).read_text()
        edited = tmp_path / name
        edited.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())
        ours, theirs = report.read_events(happy_events / name), report.read_events(edited)
        assert (theirs.frames, theirs.t, sorted(theirs.tracks)) == (ours.frames, ours.t, sorted(ours.tracks))


@pytest.mark.parametrize("name, bad_line", [("nan.jsonl", '{"frame": 3, "t": NaN, "faces": []}'),
                                            ("inf.csv", "3,inf,,,,,,,,,,,,,")])
def test_a_time_that_is_no_number_names_the_line(happy_events, tmp_path, capsys, name, bad_line):
    src = happy_events / ("happy.csv" if name.endswith(".csv") else "happy.jsonl")
    lines = src.read_text().splitlines()
    at = 4 if name.endswith(".csv") else 3  # the CSV's line 1 is its header
    (tmp_path / name).write_text("\n".join(lines[:at] + [bad_line] + lines[at + 1:]) + "\n")
    what = _one_line_error([str(tmp_path / name), "--png", str(tmp_path / "t.png")])
    assert f"line {at + 1}" in what  # before: ValueError after the summary
    assert not (tmp_path / "t.png").exists() and capsys.readouterr().out == ""


def test_a_picture_without_matplotlib_is_one_line_naming_the_extra(tmp_path):
    """The app's own install leaves matplotlib out: --png then says which extra to install, before any output."""
    import subprocess
    import sys

    from conftest import ROOT

    events = tmp_path / "e.jsonl"
    run_chain(shared_path(*TWO_FACES), events, max_frames=5)
    code = ("import sys; sys.modules['matplotlib'] = None; from emojicall.cli import main; "
            f"sys.exit(main(['report', {str(events)!r}, '--png', {str(tmp_path / 't.png')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and r.stderr.strip() == ("emojicall: report --png draws with matplotlib, which the "
                                                      "app's install leaves out: pip install 'emojicall[report]'")
    assert not (tmp_path / "t.png").exists() and r.stdout == ""
