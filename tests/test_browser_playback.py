"""The video EmojiCall writes is one a user can share: its codec is H.264 (MP4) or VP9 (WebM), and a real browser,
headless Chromium (Debian's package, installed by .ci/run), plays the demo output to its end."""
import functools
import http.server
import json
import queue
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse

import pytest

from conftest import ROOT
from emojicall.paths import demo_clip

PAGE = """<!doctype html><video id=v src="{name}" muted autoplay playsinline></video><canvas id=c></canvas><script>
const v = document.getElementById('v');
function tell(event) {{
  let mean = -1;
  if (event === 'ended') {{  // the last frame, drawn as the page shows it: decoded pictures, not a black box
    const c = document.getElementById('c');
    c.width = v.videoWidth; c.height = v.videoHeight;
    const g = c.getContext('2d'); g.drawImage(v, 0, 0);
    const px = g.getImageData(0, 0, c.width, c.height).data;
    let sum = 0; for (let i = 0; i < px.length; i += 4) sum += px[i] + px[i + 1] + px[i + 2];
    mean = sum / (px.length / 4 * 3);
  }}
  const q = v.getVideoPlaybackQuality();
  fetch('/report', {{method: 'POST', body: JSON.stringify({{event, t: v.currentTime, duration: v.duration,
    width: v.videoWidth, height: v.videoHeight, decoded: q.totalVideoFrames, mean,
    error: v.error ? v.error.code + ' ' + v.error.message : ''}})}});
}}
v.addEventListener('ended', () => tell('ended'));
v.addEventListener('error', () => tell('error'));
v.play().catch(e => tell('play failed: ' + e));
</script>"""


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found is None:
        pytest.skip("needs headless Chromium (Debian: apt-get install chromium; .ci/run installs it)")
    return found


def _demo_output(folder, name):
    out = folder / name
    r = subprocess.run([sys.executable, "-m", "emojicall", "run", "--camera", "demo", "--detector", "haar",
                        "--output", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stderr == "", r.stderr
    return out


def _frames_of(path):
    import av

    with av.open(str(path)) as c:
        stream = c.streams.video[0]
        codec, pix_fmt = stream.codec_context.name, stream.codec_context.pix_fmt
        return codec, pix_fmt, sum(1 for _ in c.decode(video=0))


def _play(video) -> dict:
    """What the page saw when the video ended (or failed), served from a local HTTP server."""
    reports = queue.Queue()

    class Handler(http.server.SimpleHTTPRequestHandler):
        def do_GET(self):
            if self.path != "/page.html":
                return super().do_GET()
            body = PAGE.format(name=urllib.parse.quote(video.name)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_POST(self):
            reports.put(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=video.parent))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    profile = tempfile.mkdtemp()
    browser = subprocess.Popen(
        [_chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--autoplay-policy=no-user-gesture-required", "--remote-debugging-port=0",
         f"http://127.0.0.1:{server.server_address[1]}/page.html"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        return reports.get(timeout=120)
    except queue.Empty:
        pytest.fail(f"Chromium said nothing about {video.name} in 120 s")
    finally:
        browser.terminate()
        browser.wait(timeout=30)
        server.shutdown()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.mark.parametrize("name, codec", [("demo.mp4", "h264"), ("demo.webm", "vp9")])
def test_the_demo_output_is_h264_or_vp9_and_chromium_plays_it_to_the_end(tmp_path, name, codec):
    _chromium()
    out = _demo_output(tmp_path, name)
    source_frames = _frames_of(demo_clip())[2]
    assert _frames_of(out) == (codec, "yuv420p", source_frames)  # before: mpeg4 (mp4v), which browsers refuse
    seen = _play(out)
    print(name, seen)
    assert seen["event"] == "ended" and seen["error"] == "", seen
    assert (seen["width"], seen["height"]) == (640, 360) and seen["mean"] > 20
    assert seen["decoded"] == source_frames and seen["t"] == pytest.approx(source_frames / 30, abs=0.05)
