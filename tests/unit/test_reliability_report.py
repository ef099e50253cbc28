"""RELIABILITY.md is generated from the tests, in the same form on every machine, and a full run fails when
the committed report says anything but what the tests just showed (dates and durations aside)."""

from __future__ import annotations

import socket
from pathlib import Path
from types import SimpleNamespace

import pytest

from tests import reliability_report

RUNS = [  # (node id, scenario, promise, failed, seconds)
    ("tests/reliability/test_a.py::test_one[x]", "F5 401 on submit", "failed after 1 attempt", False, 0.12),
    ("tests/reliability/test_a.py::test_one[y]", "F5 401 on submit", "failed after 1 attempt", False, 0.3),
    ("tests/unit/test_b.py::test_two", "S no secret in logs", "keys absent from logs", False, 1.0),
    ("tests/browser/test_c.py::test_three", "F10 a later scenario", "sorted by number", False, 7.5),
    ("tests/browser/test_c.py::test_four", "F2 an earlier one", "kept", True, 2.0),
    ("tests/browser/test_c.py::test_six", "F2 an earlier one", "also kept", False, 1.0),
    ("tests/reliability/test_d.py::test_five[1]", "B empty file", "refused", False, 0.0),
]


def generate(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, runs) -> str:
    monkeypatch.setattr(reliability_report, "_results", {})  # never touch this session's own report
    monkeypatch.setattr(reliability_report, "REPORT", tmp_path / "RELIABILITY.md")
    monkeypatch.setenv("HOME_EDITOR_WRITE_RELIABILITY", "1")
    for nodeid, scenario, promise, failed, seconds in runs:
        marker = SimpleNamespace(args=(scenario, promise))
        item = SimpleNamespace(nodeid=nodeid, get_closest_marker=lambda name, marker=marker: marker)
        report = SimpleNamespace(duration=seconds, failed=failed, skipped=False)
        reliability_report.record(item, report)
    reliability_report.write(None)
    return (tmp_path / "RELIABILITY.md").read_text()


def test_the_report_is_the_same_whatever_the_order_and_holds_nothing_of_the_machine(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    first = generate(monkeypatch, tmp_path, RUNS)
    second = generate(monkeypatch, tmp_path, list(reversed(RUNS)))
    assert reliability_report.normalised(first) == reliability_report.normalised(second)
    assert str(tmp_path) not in first and str(Path.cwd()) not in first and socket.gethostname() not in first
    rows = [line.split(" | ")[0] for line in first.splitlines() if line.startswith("| F")]
    assert rows == ["| F2 an earlier one", "| F5 401 on submit", "| F10 a later scenario"]
    assert "**6 of 7 checks passed**" in first and "❌ 1/2 passed" in first


def test_only_dates_and_durations_may_differ(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    committed = generate(monkeypatch, tmp_path, RUNS)
    slower = [(n, s, p, f, seconds * 3 + 1) for n, s, p, f, seconds in RUNS]
    later = generate(monkeypatch, tmp_path, slower).replace(committed.split("test run of ")[1][:16], "2031-01-02 03:04")
    assert later != committed and reliability_report.differences(committed, later) == []
    reworded = [(n, s, "a bolder promise" if s.startswith("S") else p, f, sec) for n, s, p, f, sec in RUNS]
    for changed in (
        generate(monkeypatch, tmp_path, reworded),  # a promise reworded
        generate(monkeypatch, tmp_path, RUNS[:-1]),  # a check gone
        generate(monkeypatch, tmp_path, [(n, s, p, False, sec) for n, s, p, _, sec in RUNS]),  # an outcome
    ):
        assert reliability_report.differences(committed, changed) != []


def test_the_check_fails_with_a_message_saying_what_to_commit(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    committed = tmp_path / "committed.md"
    committed.write_text(generate(monkeypatch, tmp_path, RUNS))
    generated = tmp_path / "RELIABILITY.md"
    assert reliability_report.main([str(committed), str(generated)]) == 0
    generate(monkeypatch, tmp_path, RUNS[1:])
    assert reliability_report.main([str(committed), str(generated)]) == 1
    assert "commit the regenerated RELIABILITY.md" in capsys.readouterr().err
