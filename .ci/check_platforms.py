#!/usr/bin/env python3
"""Does the dependency set resolve to wheels on the platforms users have?

For each target, `pip install --dry-run --only-binary=:all: --platform ... --python-version 3.11 --report`
on this checkout, twice, then a look at each report:
- the app (`pip install .`): LiteRT everywhere but Intel macOS, and no TensorFlow there; on Intel macOS, which
  has no LiteRT wheel, TensorFlow instead (classifier.py and the detectors then use its interpreter);
- with the train extra (`pip install '.[train]'`): TensorFlow, Keras >= 3.12 and mtcnn everywhere.

pip matches --platform tags exactly (it does not widen manylinux_2_28 to older glibc tags or macOS 14 to
older releases), so each target lists every tag such a machine accepts: glibc 2.17-2.28 (RHEL 8, Debian 10,
Ubuntu 20.04 and newer), macOS 11-14 for Apple silicon, 10.9-14 for Intel.

Exit 0: all resolve; 1: one or more do not; 3: pip reaches no package index here (nothing was checked).
Usage: python .ci/check_platforms.py [--python-version 3.11] [TARGET ...]
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _linux(arch: str) -> list[str]:
    return [f"manylinux_2_{minor}_{arch}" for minor in range(28, 16, -1)] + [f"manylinux2014_{arch}"]


def _mac(arch: str, first: int) -> list[str]:
    versions = [f"{major}_0" for major in range(14, 10, -1)] + ([f"10_{m}" for m in range(15, first - 1, -1)]
                                                                if first < 16 else [])
    return [f"macosx_{v}_{a}" for v in versions for a in (arch, "universal2")]


TARGETS = {
    "linux-x86_64": _linux("x86_64"),
    "linux-aarch64": _linux("aarch64"),
    "win_amd64": ["win_amd64"],
    "macos-arm64": _mac("arm64", 16),
    "macos-x86_64": _mac("x86_64", 9),
}
WITHOUT_LITERT = {"macos-x86_64"}


# pip applies --platform to wheel tags only: environment markers (ai-edge-litert's "not Intel macOS") are
# still evaluated for this machine. So pip runs with its marker environment set to the target's.
MARKERS = {
    "linux-x86_64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "x86_64"},
    "linux-aarch64": {"sys_platform": "linux", "platform_system": "Linux", "platform_machine": "aarch64"},
    "win_amd64": {"sys_platform": "win32", "platform_system": "Windows", "platform_machine": "AMD64",
                  "os_name": "nt"},
    "macos-arm64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "arm64"},
    "macos-x86_64": {"sys_platform": "darwin", "platform_system": "Darwin", "platform_machine": "x86_64"},
}
_PIP_WITH_MARKERS = """
import json, sys
from pip._vendor.packaging import markers
_default, _env = markers.default_environment, json.loads(sys.argv.pop(1))
markers.default_environment = lambda: {**_default(), **_env}
from pip._internal.cli.main import main
sys.exit(main(sys.argv[1:]))
"""


def _pip(*args: str, target: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pip"] if target is None else \
        [sys.executable, "-c", _PIP_WITH_MARKERS, json.dumps(MARKERS[target])]
    return subprocess.run([*cmd, *args], capture_output=True, text=True)


def index_reachable() -> bool:
    """A tiny pure-Python wheel from the configured index: fails only when there is no index to ask."""
    with tempfile.TemporaryDirectory() as tmp:
        return _pip("download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp, "six").returncode == 0


def resolve(target: str, python_version: str, extra: str = "") -> tuple[dict[str, str] | None, str]:
    """({package: version} that pip would install for this checkout with `extra`, "") or (None, pip's last
    error line)."""
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "report.json"
        platforms = [arg for tag in TARGETS[target] for arg in ("--platform", tag)]
        run = _pip("install", "--dry-run", "--ignore-installed", "--only-binary=:all:", *platforms,
                   "--python-version", python_version, "--target", str(Path(tmp) / "t"),
                   "--report", str(report), "-q", f"{ROOT}[{extra}]" if extra else str(ROOT), target=target)
        if run.returncode != 0 or not report.exists():
            errors = [ln for ln in run.stderr.splitlines() if ln.startswith("ERROR")] or run.stderr.splitlines()
            return None, (errors[0] if errors else f"pip exit {run.returncode}")
        items = json.loads(report.read_text())["install"]
        return {i["metadata"]["name"].lower(): i["metadata"]["version"] for i in items}, ""


def _has_tensorflow(pkgs: dict[str, str]) -> bool:
    return "tensorflow" in pkgs or "tensorflow-macos" in pkgs


def _keras_problems(pkgs: dict[str, str]) -> list[str]:
    keras = pkgs.get("keras", "0")
    return [f"keras {keras} < 3.12"] if tuple(int(p) for p in keras.split(".")[:2]) < (3, 12) else []


def judge(target: str, pkgs: dict[str, str]) -> list[str]:
    """What is wrong with the app's own install (no extra) on `target`."""
    problems = []
    if target in WITHOUT_LITERT:
        if "ai-edge-litert" in pkgs:
            problems.append("ai-edge-litert resolved where it has no wheel")
        if not _has_tensorflow(pkgs):
            problems.append("no tensorflow (the only interpreter without LiteRT)")
        else:
            problems += _keras_problems(pkgs)
    else:
        if "ai-edge-litert" not in pkgs:
            problems.append("no ai-edge-litert")
        if _has_tensorflow(pkgs):
            problems.append("tensorflow in the app's install (it belongs to the train extra)")
    return problems


def judge_train(target: str, pkgs: dict[str, str]) -> list[str]:
    """What is wrong with the install with the train extra on `target`."""
    problems = [] if _has_tensorflow(pkgs) else ["no tensorflow"]
    problems += _keras_problems(pkgs)
    if "mtcnn" not in pkgs:
        problems.append("no mtcnn")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("targets", nargs="*", help=f"any of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--python-version", default="3.11")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.targets) - set(TARGETS))
    if unknown:
        parser.error(f"unknown target {', '.join(unknown)}: use any of {', '.join(TARGETS)}")
    if not index_reachable():
        print("SKIP: pip reaches no package index here, so nothing can be resolved")
        return 3
    failed = 0
    for target in args.targets or list(TARGETS):
        for extra, check in (("", judge), ("train", judge_train)):
            name = f"{target}{f' [{extra}]' if extra else ''}"
            pkgs, error = resolve(target, args.python_version, extra)
            problems = [error] if pkgs is None else check(target, pkgs)
            if problems:
                failed += 1
                print(f"FAIL {name} (python {args.python_version}): {'; '.join(problems)}")
            else:
                keys = ("tensorflow", "keras", "mtcnn", "ai-edge-litert", "numpy", "opencv-python-headless")
                print(f"ok   {name} (python {args.python_version}): {len(pkgs)} packages; "
                      + ", ".join(f"{k} {pkgs.get(k, '-')}" for k in keys))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
