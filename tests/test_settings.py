"""Settings file: round trip, and a broken or outdated file gives a warning and the defaults, never a crash."""
import json
import logging

import pytest

from emojicall import settings as st
from emojicall.settings import Settings


def test_settings_round_trip(tmp_path):
    path = tmp_path / "cfg" / "settings.json"
    mine = Settings(camera="2", width=640, height=480, fps=15.0, detector="mtcnn", style="badge",
                    pack=str(tmp_path / "pack"), packs=[str(tmp_path / "pack")], mirror=True, overlay=False)
    assert st.save(mine, path) == path
    assert st.load(path) == mine
    assert json.loads(path.read_text())["version"] == st.VERSION
    assert [p.name for p in path.parent.iterdir()] == ["settings.json"]  # no temp file left behind


def test_no_file_gives_the_defaults(tmp_path):
    assert st.load(tmp_path / "none.json") == Settings()
    assert (Settings().width, Settings().height, Settings().overlay) == (1280, 720, True)


@pytest.mark.parametrize("content, says", [
    (b"{\"version\": 1, \"style\": \"badge\"", "unreadable"),          # cut short mid-write
    (b"\xff\xfe\x00garbage", "unreadable"),                              # not text at all
    (b"[1, 2, 3]", "does not hold a JSON object"),
    (b"{\"version\": 0, \"style\": \"badge\"}", "another version"),      # outdated
    (b"{\"style\": \"badge\"}", "another version"),
])
def test_a_corrupt_or_outdated_file_warns_and_gives_the_defaults(tmp_path, caplog, content, says):
    path = tmp_path / "settings.json"
    path.write_bytes(content)
    with caplog.at_level(logging.WARNING, logger="emojicall.settings"):
        assert st.load(path, keep_bad=False) == Settings()  # as doctor reads it: nothing moves
    assert path.read_bytes() == content and says in caplog.text
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="emojicall.settings"):
        assert st.load(path) == Settings()
    assert says in caplog.text and str(path) in caplog.text
    # Kept beside, named in the warning, before the app saves its defaults over the name (issue 21).
    assert f"kept it as {path}.bad" in caplog.text and len(caplog.records) == 1
    st.save(Settings(), path)
    assert (tmp_path / "settings.json.bad").read_bytes() == content


def test_bad_fields_fall_back_one_by_one(tmp_path, caplog):
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": st.VERSION, "style": "sparkles", "fps": "fast", "width": 7,
                                "mirror": True, "detector": "mtcnn", "packs": [1, 2], "unknown": 3}))
    with caplog.at_level(logging.WARNING, logger="emojicall.settings"):
        got = st.load(path)
    default = Settings()
    assert (got.mirror, got.detector) == (True, "mtcnn")  # the good fields survive
    assert (got.style, got.fps, got.width, got.height, got.packs) == \
        (default.style, default.fps, default.width, default.height, default.packs)
    for name in ("sparkles", "'fps'", "7x720", "'packs'"):
        assert name in caplog.text
