"""Medians and percentiles (nearest-rank), and the machine's description."""

from __future__ import annotations

import math
import os
import platform
import statistics
import subprocess
from collections.abc import Sequence
from pathlib import Path

import psutil


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p95 of 100 values is the 95th smallest)."""
    ordered = sorted(values)
    return ordered[max(math.ceil(fraction * len(ordered)) - 1, 0)]


def summary(values: Sequence[float]) -> dict[str, float]:
    """n, p50, p95, min and max."""
    return {
        "n": len(values),
        "p50": statistics.median(values),
        "p95": percentile(values, 0.95),
        "min": min(values),
        "max": max(values),
    }


def machine() -> dict[str, str]:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        with Path("/proc/cpuinfo").open(encoding="utf-8") as info:
            cpu = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), cpu)
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": str(os.cpu_count()),
        "memory": f"{psutil.virtual_memory().total / 2**30:.0f} GiB",
        "os": platform.platform(),
        "python": platform.python_version(),
    }


GENERATED_FILES = ("BENCHMARKS.md", "RELIABILITY.md")  # written by runs; they do not change what is measured


def source(root: Path) -> dict[str, object]:
    """The commit the figures were measured on, and which files differed from it (uncommitted changes)."""

    def git(*args: str) -> str:
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, check=True, timeout=30
        ).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        lines = git("status", "--porcelain", "--untracked-files=normal").splitlines()
    except (OSError, subprocess.SubprocessError):
        return {"commit": "", "changed": []}
    changed = sorted({line[3:].split(" -> ")[-1] for line in lines} - set(GENERATED_FILES))
    return {"commit": commit, "changed": changed}
