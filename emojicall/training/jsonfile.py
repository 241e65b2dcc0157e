"""Result files a person can read and a diff can follow: nested objects indented, but every list of plain values
(a confusion-matrix row, a series of timings) and every object of plain values on one line, so a series of
10,000 samples is 10,000 numbers on one line, not 10,000 lines."""
from __future__ import annotations

import json
from pathlib import Path


def _plain(value) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def dumps(value, indent: int = 1, level: int = 0) -> str:
    pad, inner = " " * indent * level, " " * indent * (level + 1)
    if isinstance(value, dict) and value and not all(_plain(v) for v in value.values()):
        items = [f"{inner}{json.dumps(k)}: {dumps(v, indent, level + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + f"\n{pad}}}"
    if isinstance(value, list) and value and not all(_plain(v) for v in value):
        return "[\n" + ",\n".join(f"{inner}{dumps(v, indent, level + 1)}" for v in value) + f"\n{pad}]"
    return json.dumps(value)


def write(value, path: str | Path) -> Path:
    path = Path(path)
    path.write_text(dumps(value) + "\n", encoding="utf-8")
    return path
