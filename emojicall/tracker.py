"""Gives faces stable ids across frames by box overlap, so smoothing and emoji state follow a person."""
from __future__ import annotations

from .face import Face, iou


class IoUTracker:
    def __init__(self, min_iou: float = 0.3, max_missed: int = 10):
        self.min_iou, self.max_missed = min_iou, max_missed
        self._tracks: dict[int, tuple[tuple[int, int, int, int], int]] = {}  # id -> (box, frames missed)
        self._next_id = 1

    def update(self, faces: list[Face]) -> list[Face]:
        """Sets each face's track_id; unmatched faces start new tracks, tracks unseen too long are dropped."""
        pairs = sorted(((iou(box, f.box), tid, i) for tid, (box, _) in self._tracks.items()
                        for i, f in enumerate(faces)), reverse=True)
        used_tracks, used_faces = set(), set()
        for overlap, tid, i in pairs:
            if overlap < self.min_iou:
                break
            if tid in used_tracks or i in used_faces:
                continue
            faces[i].track_id = tid
            used_tracks.add(tid)
            used_faces.add(i)
        for i, f in enumerate(faces):
            if i not in used_faces:
                f.track_id = self._next_id
                self._next_id += 1
        seen = {f.track_id for f in faces}
        for tid, (box, missed) in list(self._tracks.items()):
            if tid not in seen:
                if missed + 1 > self.max_missed:
                    del self._tracks[tid]
                else:
                    self._tracks[tid] = (box, missed + 1)
        for f in faces:
            self._tracks[f.track_id] = (f.box, 0)
        return faces

    @property
    def active_ids(self) -> set[int]:
        return set(self._tracks)

    def reset(self) -> None:
        self._tracks.clear()
