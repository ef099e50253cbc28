"""A library id is the key to a library: it never leaves the server except to its own browser. Real
flows (uploads good and bad, a cutout, a storage outage, a job that fails, reconciles with forged and
garbled mirrors, card actions with foreign ids, a delete) run with every logger at DEBUG (SQLAlchemy's
included); the id is then in no log line or traceback, no file name or URL the storage serves, no
request the server sends out (to Vercel Blob, over real HTTP to its stub), and no error text."""

from __future__ import annotations

import asyncio
import inspect
import logging
from pathlib import Path

import pytest
import reflex as rx

from home_editor.app_wiring import build_services
from home_editor.core.models import Item, Job, JobStatus, JobType, new_id, new_library_id
from home_editor.settings import Settings
from home_editor.state import process_services
from home_editor.state.library_state import LibraryState
from tests.images import photo_bytes
from tests.stubs.blob_stub import BlobStub
from tests.stubs.server import Fault


@pytest.fixture
def blob():
    stub = BlobStub().start()
    yield stub
    stub.stop()


def tab_of(library_id: str) -> LibraryState:
    """A tab's state whose browser holds `library_id`."""
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(LibraryState.get_full_name().split(".")[1:])
    state._library_id = library_id
    return state


async def drain(call) -> None:
    """Run an event handler to its end (a generator yields events; a coroutine returns them)."""
    if inspect.isasyncgen(call):
        async for _ in call:
            pass
    else:
        await call


def forged_items(count: int) -> list[Item]:
    return [
        Item(id=new_id(), name=f"forged {n}", created_ms=1, updated_ms=2, original="original.jpg", thumb="thumb.webp")
        for n in range(count)
    ]


@pytest.mark.reliability(
    "S library keys stay on the server", "not in logs at DEBUG, served names, outbound requests or errors"
)
async def test_the_library_id_is_in_no_log_url_outbound_request_or_error_text(
    blob: BlobStub, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("sqlalchemy", "sqlalchemy.engine", "httpx", "httpcore", "home_editor"):
        logging.getLogger(name).setLevel(logging.DEBUG)  # whatever a DEBUG run of the server would show
    settings = Settings(
        data_dir=tmp_path, blob_token=blob.token, blob_api_url=blob.api_url, poll_seconds=0.05, retry_base_seconds=0
    )
    services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")
    monkeypatch.setattr(process_services, "_services", services)
    library = new_library_id()
    texts: list[str] = []
    try:
        await services.library.open_library(library, [], [])
        good = await services.library.add_upload(library, "chair.jpg", photo_bytes())
        await asyncio.wait_for(services.runner.until_idle(library), 60)

        results = services.library.intake(library, [("notes.png", b"not a photo"), ("big.jpg", photo_bytes())])
        outage = Fault("PUT", "/api/blob", times=100, status=500)
        blob.inject(outage)
        while (result := await asyncio.wait_for(results.get(), 60)) is not None:
            texts.append(result.problem)
        outage.times = 0

        blob.inject(Fault("GET", "/public/.*", times=20, status=403))  # the cutout cannot read its original
        await services.library.retry(library, good.id) or await services.library.generate_model(library, good.id)
        second = await services.library.add_upload(library, "lamp.jpg", photo_bytes("gradient"))
        await asyncio.wait_for(services.runner.until_idle(library), 60)

        forged_job = Job(id=new_id(), item_id=good.id, type=JobType.GLB, created_ms=1, updated_ms=10**13,
                         status=JobStatus.PROCESSING)  # fmt: skip
        await services.library.open_library(library, forged_items(30), [forged_job])
        tab = tab_of(library)
        for handler in (tab.cancel_item, tab.retry_item, tab.delete_item, tab.generate_model):
            await drain(handler(new_id()))
            await drain(handler("../" + library))
        await drain(tab.delete_item(second.id))
        await asyncio.wait_for(services.runner.until_idle(library), 60)
        snapshot = await services.library.snapshot(library)
        texts += [text for item in snapshot.items for text in (item.cutout_error, item.model_error, item.cutout_note)]
        texts += [job.error for job in snapshot.jobs] + [job.message for job in snapshot.jobs]
        urls = [url for item in snapshot.items for url in item.urls.values()]
    finally:
        await services.runner.shutdown()

    assert any("was not added" in text for text in texts) and any("could not be stored" in text for text in texts)
    assert any(job.status is JobStatus.FAILED for job in snapshot.jobs), "a job failed (its error is checked)"
    assert any(record.name.startswith("sqlalchemy.engine") for record in caplog.records), "SQL was logged"
    assert urls and blob.blobs  # the flows stored files
    log = caplog.text + "".join(record.exc_text or "" for record in caplog.records)
    assert library not in log
    assert not [url for url in urls if library in url]
    assert not [name for name in blob.blobs if library in name]
    outbound = [f"{r.path} {r.query} {r.body[:2000]!r} {r.headers}" for r in blob.requests]
    assert outbound and not [request for request in outbound if library in request]
    assert not [text for text in texts if library in text]
