"""The test hook that holds local jobs: off by default, set only from the server's environment; while its
file exists a running local job waits at its end, and it can still be cancelled there."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from home_editor.processing.base import JobContext
from home_editor.processing.local_processor import LocalProcessor
from home_editor.settings import Settings
from tests.images import photo_bytes


class CountedPath(type(Path())):
    """A path that counts how often the hold loop looked at it."""

    looks = 0

    def exists(self, **kwargs) -> bool:
        type(self).looks += 1
        return super().exists(**kwargs)


def context(progress: list[int]) -> JobContext:
    async def report(value: int, _message: str) -> None:
        progress.append(value)

    async def image() -> bytes:
        return photo_bytes(size=200)

    async def remember(_remote_id: str) -> None:
        return None

    return JobContext(report=report, load_image=image, remote_id="", remember_remote_id=remember)


async def until(condition, what: str) -> None:
    async with asyncio.timeout(30):
        while not condition():
            await asyncio.sleep(0.01)


def test_the_hold_is_off_unless_the_server_environment_names_a_file(tmp_path: Path) -> None:
    assert Settings.from_env({}).hold_file is None
    assert Settings.from_env({"HOME_EDITOR_TEST_HOLD_FILE": str(tmp_path / "hold")}).hold_file == tmp_path / "hold"


async def test_a_local_job_waits_while_the_hold_file_exists_and_finishes_once_it_is_gone(tmp_path: Path) -> None:
    hold = CountedPath(tmp_path / "hold")
    hold.touch()
    progress: list[int] = []
    job = asyncio.create_task(LocalProcessor(max_pixels=10**8, hold_file=hold).remove_background(context(progress)))
    await until(lambda: CountedPath.looks >= 3, "the job to look at the hold three times")
    assert not job.done() and progress == [10]  # the work ran; its end is held
    hold.unlink()
    cutout = await asyncio.wait_for(job, 30)
    assert cutout.png.startswith(b"\x89PNG") and progress == [10, 90]


async def test_a_held_job_can_be_cancelled(tmp_path: Path) -> None:
    hold = CountedPath(tmp_path / "hold")
    hold.touch()
    job = asyncio.create_task(LocalProcessor(max_pixels=10**8, hold_file=hold).generate_model(context([])))
    before = CountedPath.looks
    await until(lambda: CountedPath.looks >= before + 2, "the job to be held")
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
