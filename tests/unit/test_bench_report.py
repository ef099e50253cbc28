"""BENCHMARKS.md says which code it measured: the commit, and the files that differed from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

from bench.report import measured_on, rows_for
from bench.stats import source


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True, check=True).stdout.strip()


def test_the_report_names_the_commit_and_any_uncommitted_change(tmp_path: Path) -> None:
    git(tmp_path, "init", "-q")
    (tmp_path / "app.py").write_text("one\n")
    (tmp_path / "BENCHMARKS.md").write_text("old figures\n")
    git(tmp_path, "add", ".")
    git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "first")
    commit = git(tmp_path, "rev-parse", "HEAD")

    (tmp_path / "BENCHMARKS.md").write_text("new figures\n")  # a regenerated report is not a code change
    clean = source(tmp_path)
    assert clean == {"commit": commit, "changed": []}
    assert measured_on(clean) == f"Measured on commit `{commit}` (a clean tree)."

    (tmp_path / "app.py").write_text("two\n")
    (tmp_path / "new.py").write_text("three\n")
    dirty = source(tmp_path)
    assert dirty == {"commit": commit, "changed": ["app.py", "new.py"]}
    assert "**with uncommitted changes** to 2 files (`app.py`, `new.py`)" in measured_on(dirty)
    assert "unknown commit" in measured_on(source(tmp_path / "not-a-checkout"))


def test_the_trellis_budget_row_says_it_is_per_key_and_shared_with_redis() -> None:
    summary = {"p50": 1.0, "p95": 1.0, "max": 1.0, "n": 1}
    results = {
        "pickup_wake_ms": summary, "pickup_poll_ms": summary, "makespan": {"seconds": 3, "ideal": 3, "ratio": 1},
        "drop_to_thumbnail_ms": summary, "file_mib": 4, "lag_ms": {"busy": summary, "idle": summary},
        "loop_stall_ms": summary, "storage": {"per_item": 250, "total_chars": 1},
        "memory": {"peak_mib": 1, "baseline_mib": 1},
        "processing_s": {"cutout_12mp": summary, "thumb256_12mp": summary, "intake512_12mp": summary},
        "trellis_status": {"per_minute": 29, "calls": 29, "window_s": 60},
        "snapshots_while_claiming": {"deferred": {"snapshots_per_s": 1, "claims_per_s": 1, "snapshot_p95_ms": 1},
                                     "write_locked": {"snapshots_per_s": 1, "claims_per_s": 1, "snapshot_p95_ms": 1}},
    }  # fmt: skip
    [row] = [row for row in rows_for(results) if "Trellis" in row[0]]
    assert "per key" in row[2] and "with Redis every process shares" in row[2]
