"""Pure pacing rules for remote status calls and Retry-After parsing."""

from __future__ import annotations

import email.utils

import pytest

from home_editor.core.polling import next_poll_seconds, retry_after_seconds


@pytest.mark.parametrize(
    ("previous", "status", "changed", "expected"),
    [
        (2.0, "pending", True, 2.0),
        (2.0, "pending", False, 3.0),
        (9.0, "pending", False, 10.0),
        (5.0, "processing", False, 6.0),
        (6.0, "processing", True, 2.0),
        (0.5, "processing", False, 3.0),  # never below the 2 s floor
    ],
)
def test_polls_back_off_while_nothing_changes(previous: float, status: str, changed: bool, expected: float) -> None:
    assert next_poll_seconds(previous, status=status, changed=changed) == expected


def test_a_long_unchanging_job_settles_at_one_call_per_6_seconds() -> None:
    wait = 2.0
    for _ in range(20):
        wait = next_poll_seconds(wait, status="processing", changed=False)
    assert wait == 6.0  # 10 calls a minute per job, 20 at concurrency 2: inside a 60/min key budget


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("5", 5.0),
        ("0", 0.0),
        (None, 7.0),
        ("soon", 7.0),
        # not delay-seconds (digits only): the fallback, never a wait of nan, inf or a negative time
        ("-3", 7.0),
        ("nan", 7.0),
        ("inf", 7.0),
        ("-inf", 7.0),
        ("1e9", 7.0),
        ("2.5", 7.0),
        ("x" * 100, 7.0),
        ("999999999", 60.0),  # a huge but valid ask is cut to the longest wait
        ("Fri, 31 Dec 9999 23:59:59 GMT", 60.0),
        ("Mon, 01 Jan 1990 00:00:00 GMT", 0.0),  # a date in the past: no wait
    ],
)
def test_retry_after_seconds(header: str | None, expected: float) -> None:
    assert retry_after_seconds(header, 7.0) == expected


def test_retry_after_as_an_http_date() -> None:
    header = email.utils.formatdate(1_000_030, usegmt=True)
    assert retry_after_seconds(header, 7.0, now=1_000_000) == pytest.approx(30.0)
