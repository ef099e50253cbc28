"""Fifty photos in one drop, through the real intake, queue and local processor: all stored, never
more than two processed at once, and no blocking work (database, image decoding or encoding, hashing
the uploads, file and execution-journal writes, starting worker processes) ever runs on the event
loop's own thread.

How long the loop actually stalls is a timing figure, so it is measured by the benchmark
(`python -m bench.run`, row "event-loop stall"), not asserted here."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import dataclasses
import functools
import hashlib
import multiprocessing.process
import os
import signal
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import event
from sqlalchemy.engine import Engine

from home_editor.app_wiring import build_services
from home_editor.core.models import JobStatus, new_library_id
from home_editor.jobs import journal
from home_editor.processing import pools
from home_editor.settings import Settings
from home_editor.storage import local_files
from tests.images import photo_bytes

KINDS = ("plain", "gradient", "textured", "shadow")


@contextlib.contextmanager
def blocking_calls_by_thread(monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, collections.Counter]]:
    """Count the blocking calls of this process, by kind, on the calling thread ("loop") and elsewhere."""
    loop_thread = threading.get_ident()
    seen: dict[str, collections.Counter] = {"loop": collections.Counter(), "elsewhere": collections.Counter()}

    def note(kind: str) -> None:
        seen["loop" if threading.get_ident() == loop_thread else "elsewhere"][kind] += 1

    def counted(kind: str, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            note(kind)
            return function(*args, **kwargs)

        return wrapper

    def on_sql(*_args) -> None:
        note("sql")

    sha256 = hashlib.sha256

    def hashed(data: bytes = b"", **kwargs):
        if len(data) >= 1024:  # an upload's bytes (a library id's folder name is a short string)
            note("upload hash")
        return sha256(data, **kwargs)

    monkeypatch.setattr(hashlib, "sha256", hashed)
    monkeypatch.setattr(journal, "_append", counted("journal write", journal._append))
    monkeypatch.setattr(Image, "open", counted("image decode", Image.open))
    monkeypatch.setattr(Image.Image, "save", counted("image encode", Image.Image.save))
    monkeypatch.setattr(local_files, "_write_atomically", counted("file write", local_files._write_atomically))
    process = multiprocessing.process.BaseProcess
    monkeypatch.setattr(process, "start", counted("process start", process.start))
    event.listen(Engine, "before_cursor_execute", on_sql)
    try:
        yield seen
    finally:
        event.remove(Engine, "before_cursor_execute", on_sql)


@pytest.mark.reliability(
    "F8 50 images in one drop",
    "all stored and cut out; at most 2 at once; no database, image, upload-hashing, file or journal write, or"
    " process start on the event loop (with a worker killed during the drop)",
)
async def test_fifty_photos_in_one_drop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(
        media_dir=tmp_path / "media",
        execution_log=tmp_path / "journal.log",
        poll_seconds=0.5,
        cutout_method="classical",
    )
    settings = dataclasses.replace(settings, retry_base_seconds=0.05)
    services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    files = [(f"photo-{index:02d}.jpg", photo_bytes(KINDS[index % 4], "ellipse", 300 + index)) for index in range(50)]

    with blocking_calls_by_thread(monkeypatch) as calls:
        # A processing worker dies (killed for memory, say): the pool is replaced and new worker processes
        # start while the drop is handled, so the process-start probe has work to see.
        kill_a_processing_worker()
        results = services.library.intake(library, files)
        stored = []
        while (result := await asyncio.wait_for(results.get(), 60)) is not None:
            stored.append(result)
        await asyncio.wait_for(services.runner.until_idle(library), 180)
        snapshot = await services.library.snapshot(library)
        await asyncio.to_thread(journal.wait_for_writes)
    await services.runner.shutdown()

    assert all(result.item is not None for result in stored) and len(stored) == 50
    assert len(snapshot.items) == 50 and {item.cutout_status for item in snapshot.items} == {JobStatus.COMPLETED}
    running = peak = 0
    for line in sorted(
        settings.execution_log.read_text().splitlines(), key=lambda row: (int(row.split()[0]), "start" in row)
    ):
        running += 1 if " start " in line else -1
        peak = max(peak, running)
    assert peak == 2
    assert calls["loop"] == collections.Counter(), f"blocking work on the event loop: {dict(calls['loop'])}"
    # the probes saw each kind of work happen (off the loop), so the check above is not vacuous
    kinds = {"sql", "image decode", "image encode", "upload hash", "file write", "journal write", "process start"}
    assert kinds <= set(calls["elsewhere"]), f"not seen off the loop: {kinds - set(calls['elsewhere'])}"
    assert calls["elsewhere"]["upload hash"] == 50 and calls["elsewhere"]["journal write"] >= 100


def kill_a_processing_worker() -> None:
    """SIGKILL one worker of the (warmed-up) processing pool and wait until it is gone."""
    workers = list(pools._processing_pool()._processes.values())
    assert workers, "the processing pool has no workers to kill"
    os.kill(workers[0].pid, signal.SIGKILL)
    workers[0].join()
