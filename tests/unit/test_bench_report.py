"""BENCHMARKS.md says which code it measured: the commit, and the files that differed from it."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bench.report import _claim_rows, _model_rows, measured_on, rows_for
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


def _results(**changes: object) -> dict:
    summary = {"p50": 1.0, "p95": 1.0, "max": 1.0, "n": 1}
    results = {
        "pickup_wake_ms": summary, "pickup_poll_ms": summary, "makespan": {"seconds": 3, "ideal": 3, "ratio": 1},
        "postgres": {"pickup_wake_ms": summary, "makespan": {"seconds": 3, "ideal": 3, "ratio": 1}},
        "drop_to_thumbnail_ms": summary, "file_mib": 4, "lag_ms": {"busy": summary, "idle": summary},
        "loop_stall_ms": summary, "storage": {"per_item": 250, "total_chars": 1},
        "memory": {"peak_mib": 1, "baseline_mib": 1},
        "processing_s": {"cutout_12mp": summary, "thumb256_12mp": summary, "intake_12mp": summary,
                         "serial256_12mp": summary},
        "trellis_status": {"per_minute": 29, "calls": 29, "window_s": 60},
        "snapshots_while_claiming": {"deferred": {"snapshots_per_s": 1, "claims_per_s": 1, "snapshot_p95_ms": 1},
                                     "write_locked": {"snapshots_per_s": 1, "claims_per_s": 1, "snapshot_p95_ms": 1}},
    }  # fmt: skip
    return results | changes


def test_the_trellis_budget_row_says_it_is_per_key_and_shared_with_redis() -> None:
    [row] = [row for row in rows_for(_results()) if "Trellis" in row[0]]
    assert "per key" in row[2] and "with Redis every process shares" in row[2]


@pytest.mark.parametrize("database", ["SQLite", "Postgres"])
def test_the_makespan_row_judges_the_median_run_against_issue_14s_target_and_shows_each_run(database: str) -> None:
    def row(ratios: list[float]) -> tuple[str, str, str, str]:
        middle = sorted(ratios)[len(ratios) // 2]
        span = {"seconds": 3 * middle, "ideal": 3.0, "ratio": middle, "ratios": ratios}
        changes = {"makespan": span} if database == "SQLite" else {"postgres": _postgres(makespan=span)}
        [found] = [row for row in rows_for(_results(**changes)) if row[0].startswith(_ROW_NUMBER[database, 2])]
        return found

    met = row([1.021, 1.035, 1.018, 1.024, 1.026])
    assert "= 1.024 (median of 5: 1.021 · 1.035 · 1.018 · 1.024 · 1.026)" in met[1]
    assert met[2].startswith("≤ 1.03") and met[3] == "met"
    assert row([1.031, 1.035, 1.018, 1.032, 1.026])[3] == "MISSED"


@pytest.mark.parametrize("database", ["SQLite", "Postgres"])
def test_the_enqueue_to_start_row_judges_its_databases_p95_against_issue_14s_target(database: str) -> None:
    def row(p95: float) -> tuple[str, str, str, str]:
        wake = {"p50": 2.0, "p95": p95, "max": p95, "n": 100}
        changes = {"pickup_wake_ms": wake} if database == "SQLite" else {"postgres": _postgres(pickup_wake_ms=wake)}
        [found] = [row for row in rows_for(_results(**changes)) if row[0].startswith(_ROW_NUMBER[database, 1])]
        return found

    met = row(14.9)
    assert "p95 14.9 ms (n=100)" in met[1] and met[2].startswith("p95 ≤ 15 ms") and met[3] == "met"
    assert row(15.1)[3] == "MISSED"


_ROW_NUMBER = {("SQLite", 1): "1 ", ("SQLite", 2): "2 ", ("Postgres", 1): "1c ", ("Postgres", 2): "2b "}


def _postgres(**changes: object) -> dict:
    return _results()["postgres"] | changes


def test_the_claim_rows_compare_both_databases_and_judge_the_library_limit() -> None:
    def round_(p95: float, failed: int = 0) -> dict:
        return {"p50": 1.0, "p95": p95, "claims_per_s": 50.0, "failed": failed, "errors": ["database is locked"]}

    def claims(peak: int) -> dict:
        rounds = {"one": round_(2.0), "many": round_(3.0), "same": round_(9.0, failed=4)}
        return {
            "sqlite": rounds, "postgres": rounds | {"many": round_(7.0)}, "postgres_skip_locked": {"many": round_(8.0)},
            "peak_running_one_library": {"library_lock": peak, "skip_locked": 9}, "threads": 8, "libraries": 64,
        }  # fmt: skip

    rows = {row[0]: row for row in _claim_rows(claims(2))}
    assert "Postgres p50 1.0 · p95 7.0 ms" in rows["11b claims, 8 threads × 64 libraries"][1]
    assert "SQLite: 4 calls failed (database is locked)" in rows["11c claims, 8 threads × 1 library"][1]
    limit = rows["11d Postgres: library lock vs SKIP LOCKED"]
    assert "at most 2 vs 9 running (limit 2)" in limit[1] and limit[3] == "met"
    assert _claim_rows(claims(3))[-1][3] == "MISSED"
    assert _claim_rows(None) == []


def test_the_zip_rows_report_throughput_and_judge_the_memory_rise_of_the_stored_export() -> None:
    from bench.report import _zip_rows

    run = {"items": 200, "archive_mb": 900.0, "seconds": 6.0, "mb_per_s": 150.0, "rss_before_mib": 70.0}
    composed = run | {"items": 20, "mb_per_s": 1.5, "rss_peak_mib": 170, "rss_rise_mib": 100}
    rows = _zip_rows({"stored": run | {"rss_peak_mib": 80.0, "rss_rise_mib": 10.0}, "composed": composed})
    assert rows[0][1].startswith("150 MB/s (200 × 12 MP cutouts, 900 MB)") and rows[1][3] == "met"
    over = _zip_rows({"stored": run | {"rss_peak_mib": 180.0, "rss_rise_mib": 110.0}, "composed": run | {
        "rss_peak_mib": 1, "rss_rise_mib": 1}})  # fmt: skip
    assert over[1][3] == "MISSED"


def test_the_model_rows_show_each_stage_of_a_12_mp_cutout_when_it_was_measured() -> None:
    summary = {"n": 7, "p50": 1.5, "p95": 1.7}
    model = {
        "cutout_12mp_s": summary, "batch": {"total_s": 90.0, "per_minute": 13.3},
        "round_trip_two_model_cutouts_ms": summary, "round_trip_idle_ms": summary, "peak_rss_mib": 2000.0,
        "photos": 6, "preparation_s": 20.0,
    }  # fmt: skip
    stages = {"reduced_decode": {"wall_s": 0.06, "cpu_s": 0.05}, "inference": {"wall_s": 1.4, "cpu_s": 2.7}}
    rows = {row[0]: row for row in _model_rows(model | {"stages_12mp": stages})}
    assert rows["10f 12 MP cutout stages (wall/CPU s)"][1] == "reduced decode 0.06/0.05 · inference 1.40/2.70"
    assert rows["10a model cutout, 12 MP (pool)"][3] == "met"
    assert len(_model_rows(model)) == len(rows) - 1  # results from before the breakdown still make a report
