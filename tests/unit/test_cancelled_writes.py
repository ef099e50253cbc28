"""A write cut short by a cancel never lands after the clean-up that follows it: a stored file that was
removed (or an item that was deleted) stays gone. The slow write is a real file write held in its
thread by a gate, or a real upload held by the Blob stub; the tests decide when it lands: as late as the
code under test lets it.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import httpx
import pytest

from home_editor.app_wiring import build_services
from home_editor.core.models import new_library_id
from home_editor.core.storage_keys import folder_for
from home_editor.settings import Settings
from home_editor.storage import local_files
from home_editor.storage.base import Storage
from home_editor.storage.local_files import LocalFileStorage
from home_editor.storage.vercel_blob import VercelBlobStorage
from tests.images import photo_bytes
from tests.stubs.blob_stub import BlobStub
from tests.stubs.server import Reply, Request

KEY = "abcdefgh12/abcdefghijkm/cutout-abcdefghijkm.png"


class HeldWrites:
    """Replaces the local storage's file writer: writes of files named `prefix…` wait for `gate`."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, prefix: str) -> None:
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.written = threading.Event()
        real = local_files._write_atomically

        def held(path: Path, data: bytes) -> None:
            if not path.name.startswith(prefix):
                real(path, data)
                return
            self.entered.set()
            self.gate.wait(timeout=60)
            try:
                real(path, data)
            finally:
                self.written.set()

        monkeypatch.setattr(local_files, "_write_atomically", held)


async def put_cancel_and_clean_up(storage: Storage, held: HeldWrites | HeldBlobStub) -> None:
    """The pattern of every caller (a job keeping its result, an upload storing its original): on a
    cancel, remove what was being stored. The held write lands as late as the put lets it."""
    clean_up_started = False
    cleaned = asyncio.Event()

    async def put_then_clean_up_on_cancel() -> None:
        nonlocal clean_up_started
        try:
            await storage.put(KEY, b"\x89PNG result", content_type="image/png")
        except asyncio.CancelledError:
            clean_up_started = True
            await storage.delete([KEY])
            cleaned.set()
            raise

    caller = asyncio.create_task(put_then_clean_up_on_cancel())
    await asyncio.to_thread(held.entered.wait)
    caller.cancel()
    for _ in range(50):  # loop steps, no waiting: the cancel reaches the put, which either unwinds (an
        await asyncio.sleep(0)  # HTTP request takes a few steps to) or holds on until its write has ended
    if clean_up_started:  # the put gave control back before its write ended: the clean-up runs first
        await cleaned.wait()
    held.gate.set()  # the slow write lands now
    await asyncio.gather(caller, return_exceptions=True)
    await asyncio.to_thread(held.written.wait)


async def test_a_cancelled_local_put_has_written_its_file_before_the_clean_up_runs(tmp_path: Path, monkeypatch) -> None:
    writes = HeldWrites(monkeypatch, "cutout-")
    storage = LocalFileStorage(tmp_path, base_url="http://testserver/media")
    await put_cancel_and_clean_up(storage, writes)
    assert not storage.path(KEY).exists()


class HeldBlobStub(BlobStub):
    """The Blob stub, holding each upload (received in full) until `gate` opens, as a slow store would."""

    def __init__(self) -> None:
        super().__init__()
        self.entered = threading.Event()
        self.gate = threading.Event()
        self.written = threading.Event()

    def _put(self, request: Request) -> Reply:
        self.entered.set()
        self.gate.wait(timeout=60)
        try:
            return super()._put(request)
        finally:
            self.written.set()


async def test_a_cancelled_blob_upload_has_been_stored_before_the_clean_up_runs() -> None:
    """Over real HTTP: the store keeps an upload it received even if the client hangs up, so the client
    waits for the answer before its clean-up deletes the blob."""
    stub = HeldBlobStub().start()
    try:
        async with httpx.AsyncClient() as http:
            storage = VercelBlobStorage(http, token=stub.token, api_url=stub.api_url)
            await put_cancel_and_clean_up(storage, stub)
        assert KEY not in stub.blobs
    finally:
        stub.gate.set()
        stub.stop()


@pytest.fixture
async def services(tmp_path: Path):
    settings = Settings(poll_seconds=0.05, media_dir=tmp_path / "media", execution_log=tmp_path / "journal.log")
    made = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://testserver")
    yield made
    await made.runner.shutdown()


async def test_an_item_deleted_while_its_cutout_is_written_keeps_no_file(services, monkeypatch) -> None:
    """The cutout's file is being written when the user deletes the item: once the delete has returned
    and the write has ended, nothing of the item is left in storage."""
    writes = HeldWrites(monkeypatch, "cutout-")
    runner = services.runner
    stop = runner.stop
    stop_waits = asyncio.Event()

    async def observed_stop(jobs: list) -> None:
        stopping = asyncio.ensure_future(stop(jobs))
        await asyncio.sleep(0)  # one loop step: the cancels are sent and reach the job
        if not stopping.done():
            stop_waits.set()  # the delete waits for the job: the write may land now
        await stopping

    monkeypatch.setattr(runner, "stop", observed_stop)
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    added = await services.library.add_upload(library, "chair.jpg", photo_bytes())
    await asyncio.to_thread(writes.entered.wait)
    deleting = asyncio.create_task(services.library.delete(library, added.id))
    waiting = asyncio.create_task(stop_waits.wait())
    await asyncio.wait([deleting, waiting], return_when=asyncio.FIRST_COMPLETED)  # whichever the code allows
    writes.gate.set()  # the slow write lands now
    assert await deleting is not None
    waiting.cancel()
    await asyncio.to_thread(writes.written.wait)
    await runner.until_idle(library)
    folder = services.settings.media_dir / folder_for(library) / added.id
    assert not folder.exists() or list(folder.iterdir()) == []
