"""Talking is not surprise (issue 24 item 4): how often a face that speaks reads surprised, frame by frame.

    .venv/bin/python bench/talking.py

The rows of bench/real_video/labels.csv where the person talks (every CREMA-D clip: actor 1001 speaks a sentence
in each; bench_720p's talker) run once through the app's chain with the model's own output recorded
(bench/call_prior.py's cache); per row: the share of face frames whose top class is surprise for the model's own
output, with the call prior, and as shown (call prior + smoother). Writes bench/talking.md.
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.call_prior import LABELS_CSV, record_video, replay  # noqa: E402
from emojicall import model_files as mf  # noqa: E402
from emojicall.classifier import prior_shift, shift_probs  # noqa: E402
from emojicall.labels import LABELS  # noqa: E402
from emojicall.training.video_eval import read_labels  # noqa: E402

SURPRISE = LABELS.index("surprise")
TALKING = ("1001_DFA_", "bench_720p.mp4[186")


def main() -> int:
    clips, _ = read_labels(LABELS_CSV)
    clips = [c for c in clips if c.name.startswith(TALKING)]
    recs = record_video(clips)
    prior = prior_shift(mf.read_meta(mf.resolve_model_dir(None)))
    lines = ["# Talking faces: frames read as surprise", "", "`python bench/talking.py`: the rows of "
             "bench/real_video/labels.csv where the person speaks, through the app's chain (MTCNN, fernet_duo); "
             "share of face frames whose top class is surprise.", "",
             "| clip | label | split | frames | model's own output | with the call prior | shown (prior + smoother) |",
             "|---|---|---|---|---|---|---|"]
    totals = np.zeros(3)
    n_all = 0
    for clip, rec in zip(clips, recs):
        end = None if clip.end is None else clip.end + 1
        probs = np.array([max(faces, key=lambda f: f[1])[2] for faces, _ in rec["frames"][clip.start:end] if faces])
        shown = [s for s in replay(rec, prior)[clip.start:end] if s]
        shares = (np.mean(probs.argmax(1) == SURPRISE), np.mean(shift_probs(probs, prior).argmax(1) == SURPRISE),
                  shown.count("surprise") / len(shown))
        totals += np.array(shares) * len(probs)
        n_all += len(probs)
        lines.append(f"| {clip.name} | {clip.emotion} | {clip.split} | {len(probs)} | "
                     + " | ".join(f"{s:.3f}" for s in shares) + " |")
    lines.append("| all | | | {} | ".format(n_all) + " | ".join(f"{t / n_all:.3f}" for t in totals) + " |")
    (ROOT / "bench" / "talking.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
