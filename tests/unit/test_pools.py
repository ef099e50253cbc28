"""Where CPU work runs: processing in worker processes at the lowest CPU priority, so the web server
(and, on one machine, the browser) always get the CPU first."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from home_editor.processing import pools
from home_editor.processing.pools import run_job_work, run_upload_work


@pytest.mark.skipif(sys.platform != "linux", reason="SCHED_IDLE and nice are Linux facts")
async def test_processing_workers_take_only_idle_cpu() -> None:
    assert await run_job_work(os.sched_getscheduler, 0) == os.SCHED_IDLE
    assert await run_job_work(os.nice, 0) == 19
    assert await run_job_work(os.getpid) != os.getpid()


async def test_intake_runs_on_a_thread_of_this_process() -> None:
    assert await run_upload_work(os.getpid) == os.getpid()


def test_a_pool_is_published_only_with_all_its_workers_started() -> None:
    """A job submitted to a pool that still had to start a worker would start it on the event loop (a
    pool replaced after a crash was once visible before its workers were)."""
    if pools._processing:  # start afresh: the next pool is made here
        pools._replace_broken(pools._processing[0])
    pool = pools._processing_pool()
    try:
        assert len(pool._processes) == pools.PROCESSING_WORKERS
        assert pool.submit(abs, -1).result(timeout=60) == 1  # and they work
    finally:
        pools._processing.clear()
        pool.shutdown(wait=True)


def test_a_process_that_started_the_workers_but_ran_no_job_exits() -> None:
    """A web process whose page never had a cutout to run must still stop (Ctrl-C, a worker restart)."""
    program = textwrap.dedent(
        """
        import time
        from home_editor.processing import pools
        pools.warm_up()
        time.sleep(3)  # the workers are up and idle, waiting for work
        """
    )
    finished = subprocess.run([sys.executable, "-c", program], timeout=60, capture_output=True, check=False)
    assert finished.returncode == 0, finished.stderr.decode()[-2000:]
