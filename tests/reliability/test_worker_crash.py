"""A processing worker that dies (the kernel's out-of-memory killer, a crash inside a decoder) must not
take the queue down with it: the work it held fails with a retryable error (so the runner tries the job
again, as for any transient error), and later work runs on a fresh pool."""

from __future__ import annotations

import os

import pytest

from home_editor.core.errors import TransientError
from home_editor.processing.pools import run_job_work


@pytest.mark.reliability("F9 a processing worker dies", "that work fails retryably; later work runs on a fresh pool")
async def test_a_dead_worker_does_not_break_later_work() -> None:
    assert await run_job_work(abs, -1) == 1
    with pytest.raises(TransientError, match="stopped unexpectedly"):
        await run_job_work(os._exit, 1)  # the worker process exits at once, as if killed
    assert await run_job_work(abs, -2) == 2
    assert await run_job_work(abs, -3) == 3
