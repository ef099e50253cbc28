"""Collects the outcome of every test marked `reliability` and writes RELIABILITY.md from it at the end
of a full run (scripts/test.sh sets HOME_EDITOR_WRITE_RELIABILITY=1), so the report is never hand-written.

`python -m tests.reliability_report COMMITTED GENERATED` compares the two reports in everything but the
run's date and the durations, and fails when they differ (scripts/test.sh runs it after a full run), so
the committed report always describes the code it ships with. The report holds nothing that depends on
the machine or the checkout (no paths, no host names) and its rows are in a fixed order.
"""

from __future__ import annotations

import collections
import datetime
import difflib
import os
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
REPORT = ROOT / "RELIABILITY.md"
GROUPS = {
    "F": "Faults",
    "B": "Bad input (each refused file gets a message naming it and the reason; nothing is stored)",
    "S": "Security",
}
_results: dict[str, dict] = {}


def record(item: pytest.Item, report: pytest.TestReport) -> None:
    """Keep the outcome of a reliability test (a failure in any phase counts)."""
    marker = item.get_closest_marker("reliability")
    if marker is None:
        return
    entry = _results.setdefault(
        item.nodeid,
        {"scenario": marker.args[0], "promise": marker.args[1], "outcome": "passed", "seconds": 0.0},
    )
    entry["seconds"] += report.duration
    if report.failed:
        entry["outcome"] = "failed"
    elif report.skipped and entry["outcome"] == "passed":
        entry["outcome"] = "skipped"


def write(session: pytest.Session) -> None:
    """Write RELIABILITY.md when asked to and when reliability tests ran."""
    if os.environ.get("HOME_EDITOR_WRITE_RELIABILITY") != "1" or not _results:
        return
    scenarios: dict[str, list[tuple[str, dict]]] = collections.defaultdict(list)
    for nodeid, entry in _results.items():
        scenarios[entry["scenario"]].append((nodeid, entry))
    passed = sum(entry["outcome"] == "passed" for entry in _results.values())
    lines = [
        "# Reliability",
        "",
        f"Generated from the test run of {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC by "
        "`scripts/test.sh` (tests marked `reliability`); do not edit by hand.",
        "",
        f"**{passed} of {len(_results)} checks passed** in {len(scenarios)} scenarios.",
        "",
    ]
    for prefix, title in GROUPS.items():
        lines += [f"## {title}", "", "| scenario | what is promised | result | test |", "|---|---|---|---|"]
        for scenario in sorted((s for s in scenarios if s.startswith(prefix)), key=_natural):
            entries = scenarios[scenario]
            good = sum(entry["outcome"] == "passed" for _, entry in entries)
            seconds = sum(entry["seconds"] for _, entry in entries)
            mark = "✅" if good == len(entries) else "❌"
            runs = f"{good}/{len(entries)} passed" if len(entries) > 1 else entries[0][1]["outcome"]
            tests = sorted({nodeid.split("::", 1)[1].split("[", 1)[0] for nodeid, _ in entries})
            names = ", ".join(f"`{test}`" for test in tests)
            promise = "; ".join(dict.fromkeys(entry["promise"] for _, entry in sorted(entries, key=lambda e: e[0])))
            lines.append(f"| {scenario} | {promise} | {mark} {runs} ({seconds:.1f} s) | {names} |")
        lines.append("")
    REPORT.write_text("\n".join(lines))


def _natural(scenario: str) -> tuple:
    head, _, tail = scenario.partition(" ")
    number = "".join(ch for ch in head if ch.isdigit())
    return (int(number) if number else 0, head, tail)


_RUN_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC")
_DURATION = re.compile(r"\(\d+(?:\.\d+)? s\)")


def normalised(report: str) -> list[str]:
    """The report's lines with the run's date and every duration blanked out (they change every run)."""
    return [_DURATION.sub("(… s)", _RUN_DATE.sub("<date>", line)) for line in report.splitlines()]


def differences(committed: str, generated: str) -> list[str]:
    """A unified diff of the two reports, ignoring dates and durations ([] when they agree)."""
    return list(
        difflib.unified_diff(
            normalised(committed), normalised(generated), "committed RELIABILITY.md", "regenerated", lineterm=""
        )
    )


def main(argv: list[str]) -> int:
    """Compare a committed report with a regenerated one; exit 1 (with the diff and what to do) if they differ."""
    committed, generated = (Path(arg).read_text(encoding="utf-8") for arg in argv)
    diff = differences(committed, generated)
    if not diff:
        return 0
    print("\n".join(diff), file=sys.stderr)
    print(
        "\nRELIABILITY.md no longer describes this code: the report this run generated differs from the committed"
        " one in more than dates and durations (diff above). Review it and commit the regenerated RELIABILITY.md.",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
