"""`emojicall report EVENTS [--png OUT.png]`: an emotion timeline per tracked face and a summary table.

Reads what `emojicall run --events` wrote (JSON Lines, or CSV when the name ends in .csv). matplotlib is
imported only when a picture is asked for, with the Agg backend, so a report works without a display.
"""
from __future__ import annotations

import argparse
import csv
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import UserError
from .events import CSV_FIELDS, is_csv
from .labels import LABELS

COLORS = {"angry": "#d62728", "disgust": "#2ca02c", "fear": "#9467bd", "happy": "#f2b705",
          "sad": "#1f77b4", "surprise": "#ff7f0e", "neutral": "#a0a0a0"}
MAX_PANELS = 8  # more faces than this make panels too thin to read; the table still lists them all


@dataclass
class Track:
    track: str
    t: list = field(default_factory=list)
    at: list = field(default_factory=list)     # position of each of those frames in the file
    labels: list = field(default_factory=list)
    probs: list = field(default_factory=list)  # arrays in LABELS order (NaN where the file had none)


@dataclass
class Events:
    path: Path
    frames: int = 0
    t: list = field(default_factory=list)
    tracks: dict = field(default_factory=dict)

    @property
    def dt(self) -> float:
        """The frame interval: the median step of the timestamps (robust to a paused live camera)."""
        steps = np.diff(np.asarray(self.t, dtype=float))
        steps = steps[steps > 0]
        return float(np.median(steps)) if steps.size else 0.0

    def add(self, t: float, track, label, probs: dict) -> None:
        key = "?" if track is None or track == "" else str(track)
        tr = self.tracks.setdefault(key, Track(key))
        tr.t.append(t)
        tr.at.append(len(self.t) - 1)
        tr.labels.append(label if label in LABELS else None)
        tr.probs.append(np.array([_num(probs.get(c)) for c in LABELS], dtype=float))


def _num(v) -> float:
    try:
        return float(v)
    except (TypeError, ValueError):
        return math.nan


def _time(value) -> float:
    """A frame's time in seconds; NaN and infinity (which json.loads accepts) are no time."""
    t = float(value)
    if not math.isfinite(t):
        raise ValueError(f"time {value} is not a number of seconds")
    return t


def _bad(path: Path, where: str, why: str) -> UserError:
    return UserError(f"events file {path} {where} {why}: make it with `emojicall run --events FILE.jsonl` "
                     "(or .csv)")


def read_events(path: str | Path) -> Events:
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8-sig")  # -sig: a byte-order mark from an editor is no record
    except FileNotFoundError:
        raise UserError(f"events file {path} not found: give the file `emojicall run --events` wrote") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _bad(path, "cannot be read", f"({getattr(exc, 'strerror', None) or exc})") from None
    ev = Events(path)
    (_read_csv if is_csv(path) else _read_jsonl)(ev, text)
    if ev.frames == 0:
        raise _bad(path, "has", "no frames")
    return ev


def _read_jsonl(ev: Events, text: str) -> None:
    for n, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
            t, faces = _time(rec["t"]), rec["faces"]
            int(rec["frame"])
            if not isinstance(faces, list):
                raise TypeError("faces is not a list")
            ev.frames += 1
            ev.t.append(t)
            for f in faces:
                ev.add(t, f.get("track"), f.get("label"), f.get("probs") or {})
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise _bad(ev.path, f"line {n}", f"is not a frame record ({type(exc).__name__}: {exc})"[:200]) from None


def _read_csv(ev: Events, text: str) -> None:
    rows = csv.DictReader(text.splitlines())
    missing = [c for c in ("frame", "t", "track", "label", *LABELS) if c not in (rows.fieldnames or ())]
    if missing:
        raise _bad(ev.path, "lacks", f"the column(s) {', '.join(missing)} (expected {','.join(CSV_FIELDS)})")
    last = None
    for n, row in enumerate(rows, 2):
        try:
            frame, t = int(row["frame"]), _time(row["t"])
        except (TypeError, ValueError):
            raise _bad(ev.path, f"line {n}", "has no frame number and time") from None
        if frame != last:
            ev.frames += 1
            ev.t.append(t)
            last = frame
        if row["track"] not in ("", None):
            ev.add(t, row["track"], row["label"], row)


def summary(ev: Events) -> str:
    """Share of time per emotion for each face: frames with that label / frames the face was seen."""
    dt = ev.dt
    head = f"{'face':>6} {'seen':>8} " + " ".join(f"{c:>8}" for c in LABELS)
    lines = [f"{ev.path.name}: {ev.frames} frames, {ev.frames * dt:.1f} s; "
             f"{len(ev.tracks)} tracked face(s)", head]
    for tr in sorted(ev.tracks.values(), key=lambda tr: -len(tr.t)):
        counts, n = Counter(tr.labels), len(tr.labels)
        shares = " ".join(f"{100 * counts[c] / n:7.1f}%" for c in LABELS)
        lines.append(f"{tr.track:>6} {n * dt:7.1f}s {shares}")
    if not ev.tracks:
        lines.append("   (no face in any frame)")
    return "\n".join(lines)


def require_matplotlib(what: str) -> None:
    """Pictures need matplotlib, which the app's own install leaves out (83 MB with its fonts): one line if absent."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise UserError(f"{what} draws with matplotlib, which the app's install leaves out",
                        "pip install 'emojicall[report]'") from None


def draw_timeline(ev: Events, out: str | Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    out = Path(out)
    tracks = sorted(ev.tracks.values(), key=lambda tr: -len(tr.t))[:MAX_PANELS]
    fig, axes = plt.subplots(max(1, len(tracks)), 1, figsize=(10, 1.2 + 1.9 * max(1, len(tracks))),
                             sharex=True, squeeze=False)
    t_all, dt = np.asarray(ev.t, dtype=float), ev.dt or 1.0
    for ax, tr in zip(axes[:, 0], tracks):
        _panel(ax, tr, t_all, dt)
    if not tracks:
        axes[0, 0].text(0.5, 0.5, "no face in any frame", ha="center", va="center", transform=axes[0, 0].transAxes)
        axes[0, 0].set_yticks([])
    axes[-1, 0].set_xlabel("time (s)")
    axes[-1, 0].set_xlim(t_all.min(), t_all.max() + dt)
    more = len(ev.tracks) - len(tracks)
    fig.suptitle(f"Emotion timeline: {ev.path.name}" + (f" ({more} more faces in the table)" if more > 0 else ""))
    fig.legend(handles=[Patch(color=COLORS[c], label=c) for c in LABELS], loc="lower center", ncol=len(LABELS),
               frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    try:
        fig.savefig(out, dpi=110)
    except OSError as exc:
        raise UserError(f"cannot write {out} ({exc.strerror or exc}): choose a path in a folder you can write to") from None
    finally:
        plt.close(fig)
    return out


def _panel(ax, tr: Track, t_all: np.ndarray, dt: float) -> None:
    """Stacked class probabilities where the face was seen (gaps where it was not), and a band on top with
    the label the app showed."""
    probs = np.full((len(t_all), len(LABELS)), np.nan)
    for i, p in zip(tr.at, tr.probs):
        probs[i] = p
    seen = ~np.isnan(probs).any(axis=1)
    lower = np.zeros(len(t_all))
    for k, c in enumerate(LABELS):
        upper = lower + np.nan_to_num(probs[:, k])
        ax.fill_between(t_all, lower, upper, where=seen, color=COLORS[c], step="post", linewidth=0)
        lower = upper
    for t, label in zip(tr.t, tr.labels):
        if label is not None:
            ax.broken_barh([(t, dt)], (1.04, 0.14), color=COLORS[label], linewidth=0)
    ax.set_ylim(0, 1.2)
    ax.set_yticks([0, 0.5, 1, 1.11], ["0", "0.5", "1", "shown"])
    ax.set_ylabel(f"face {tr.track}\nP(class)")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="emojicall report", description="Summarise an events file from "
                                "`emojicall run --events`: share of time per emotion per face, and a timeline.")
    p.add_argument("events", type=Path, help="events file (.jsonl, or .csv)")
    p.add_argument("--png", type=Path, help="also draw the emotion timeline per face into this PNG")
    args = p.parse_args(argv)
    if args.png is not None and args.png.exists() and args.png.resolve() == args.events.resolve():
        raise UserError(f"--png {args.png} is the events file: give the picture a name of its own")
    if args.png is not None:
        require_matplotlib("report --png")
    ev = read_events(args.events)
    print(summary(ev))
    if args.png is not None:
        print(f"wrote {draw_timeline(ev, args.png).resolve()}")
    return 0
