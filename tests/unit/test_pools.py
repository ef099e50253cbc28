"""Where CPU work runs: processing in worker processes at the lowest CPU priority, so the web server
(and, on one machine, the browser) always get the CPU first."""

from __future__ import annotations

import os
import sys

import pytest

from home_editor.processing.pools import run_job_work, run_upload_work


@pytest.mark.skipif(sys.platform != "linux", reason="SCHED_IDLE and nice are Linux facts")
async def test_processing_workers_take_only_idle_cpu() -> None:
    assert await run_job_work(os.sched_getscheduler, 0) == os.SCHED_IDLE
    assert await run_job_work(os.nice, 0) == 19
    assert await run_job_work(os.getpid) != os.getpid()


async def test_intake_runs_on_a_thread_of_this_process() -> None:
    assert await run_upload_work(os.getpid) == os.getpid()
