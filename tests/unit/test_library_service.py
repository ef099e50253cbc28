"""Library operations end to end below Reflex: real files, real SQLite, the real local processor."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import types
from pathlib import Path

import pytest
from PIL import Image

from home_editor.app_wiring import build_services
from home_editor.core import mirror
from home_editor.core.errors import BadInputError, StorageError
from home_editor.core.models import ACTIVE_STATUSES, JobStatus, JobType, new_library_id
from home_editor.core.storage_keys import THUMB_NAME, cutout_preview_name, file_key, folder_for
from home_editor.library_service import CardAction
from home_editor.settings import Settings
from home_editor.storage.local_files import LocalFileStorage
from home_editor.storage.upload_spool import DropReceipt, receive_drop
from tests.images import photo_bytes


@pytest.fixture
async def services(tmp_path: Path):
    settings = Settings(  # the service's behaviour, not the cutout's: the fast classical method
        poll_seconds=0.05,
        data_dir=tmp_path,
        media_dir=tmp_path / "media",
        execution_log=tmp_path / "journal.log",
        cutout_method="classical",
    )
    made = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://testserver")
    yield made
    await made.runner.shutdown()


def files_in(root: Path) -> list[str]:
    return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())


async def test_an_upload_stores_original_and_thumbnail_then_its_cutout(services) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    added = await services.library.add_upload(library, "chair.jpg", photo_bytes())
    folder = services.settings.media_dir / folder_for(library) / added.id
    assert sorted(path.name for path in folder.iterdir()) == ["original.jpg", "thumb.webp"]
    await asyncio.wait_for(services.runner.until_idle(library), 20)
    done = await services.library.store.item(library, added.id)
    assert done.cutout_status is JobStatus.COMPLETED
    assert (folder / done.cutout).is_file()
    assert done.urls[done.cutout].startswith("http://testserver/media/")
    preview = cutout_preview_name(done.cutout)
    assert set(done.urls) == {"original.jpg", "thumb.webp", done.cutout, preview}
    with Image.open(folder / preview) as card_image, Image.open(folder / done.cutout) as cutout:
        assert card_image.format == "WEBP" and card_image.mode == "RGBA" and max(card_image.size) <= 512
        assert card_image.size == (512, round(512 * cutout.height / cutout.width))
        assert (folder / preview).stat().st_size < (folder / done.cutout).stat().st_size / 3
    assert library not in done.urls[done.cutout]  # URLs never reveal the library id


async def test_a_bad_file_stores_nothing(services) -> None:
    library = new_library_id()
    with pytest.raises(BadInputError):
        await services.library.add_upload(library, "notes.png", b"just text")
    assert not services.settings.media_dir.exists() or files_in(services.settings.media_dir) == []
    assert (await services.library.snapshot(library)).items == []


async def test_a_storage_failure_half_way_leaves_nothing_behind(services, monkeypatch) -> None:
    library = new_library_id()
    storage: LocalFileStorage = services.storage
    real_put = storage.put
    calls = []

    async def failing_put(key: str, data: bytes, *, content_type: str) -> str:
        calls.append(key)
        if len(calls) == 2:
            raise StorageError("disk full")
        return await real_put(key, data, content_type=content_type)

    monkeypatch.setattr(storage, "put", failing_put)
    with pytest.raises(StorageError):
        await services.library.add_upload(library, "chair.jpg", photo_bytes())
    assert files_in(services.settings.media_dir) == []
    assert (await services.library.snapshot(library)).items == []


async def test_the_clean_up_after_a_failed_store_waits_for_the_other_file_being_written(services, monkeypatch) -> None:
    """The original and the thumbnail are written side by side: when one fails, the clean-up must come after
    the other's write, or that file would be left behind."""
    library = new_library_id()
    storage: LocalFileStorage = services.storage
    real_put, real_delete = storage.put, storage.delete
    loop = asyncio.get_running_loop()
    thumbnail_may_write = asyncio.Event()
    writing, writes_at_clean_up = [], []

    async def put(key: str, data: bytes, *, content_type: str) -> str:
        if key.endswith(THUMB_NAME):
            await thumbnail_may_write.wait()
            writing.append(key)
            try:
                return await real_put(key, data, content_type=content_type)
            finally:
                writing.remove(key)
        loop.call_soon(thumbnail_may_write.set)  # the thumbnail's write starts as the original's fails
        raise StorageError("disk full")

    async def delete(keys: list[str]) -> None:
        writes_at_clean_up.append(list(writing))
        await real_delete(keys)

    monkeypatch.setattr(storage, "put", put)
    monkeypatch.setattr(storage, "delete", delete)
    with pytest.raises(StorageError):
        await services.library.add_upload(library, "chair.jpg", photo_bytes())
    assert writes_at_clean_up == [[]]
    assert files_in(services.settings.media_dir) == []


async def test_a_lost_database_is_refilled_from_the_browser_mirror(services, tmp_path: Path) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    added = await services.library.add_upload(library, "chair.jpg", photo_bytes())
    await asyncio.wait_for(services.runner.until_idle(library), 20)
    snapshot = await services.library.snapshot(library)
    items_text, jobs_text = mirror.encode_items(snapshot.items), mirror.encode_jobs(snapshot.jobs)

    fresh = build_services(
        services.settings, db_url=f"sqlite:///{tmp_path / 'empty.db'}", public_base_url="http://testserver"
    )  # same files, empty database
    await fresh.library.open_library(library, mirror.decode_items(items_text), mirror.decode_jobs(jobs_text))
    [recovered] = (await fresh.library.snapshot(library)).items
    assert (recovered.id, recovered.cutout_status) == (added.id, JobStatus.COMPLETED)
    assert recovered.cutout == snapshot.items[0].cutout
    assert recovered.urls == snapshot.items[0].urls  # URLs come from the server's own storage lookups


async def test_forged_mirror_items_without_files_are_not_imported(services) -> None:
    library = new_library_id()
    forged = json.dumps(
        {"v": 1, "items": [["abcdefghijkm", "x.jpg", 1, 2, "original.jpg", "thumb.webp", "", "pending", "", ""]]}
    )
    await services.library.open_library(library, mirror.decode_items(forged), [])
    assert (await services.library.snapshot(library)).items == []


async def test_a_recovered_item_without_its_cutout_gets_a_job(services, tmp_path: Path) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    added = await services.library.add_upload(library, "chair.jpg", photo_bytes())
    await asyncio.wait_for(services.runner.until_idle(library), 20)
    claim = dataclasses.replace(
        (await services.library.snapshot(library)).items[0], cutout="", cutout_status=JobStatus.PENDING
    )
    fresh = build_services(services.settings, db_url=f"sqlite:///{tmp_path / 'other.db'}", public_base_url="http://t")
    await fresh.library.open_library(library, [claim], [])
    await asyncio.wait_for(fresh.runner.until_idle(library), 20)
    assert (await fresh.library.store.item(library, added.id)).cutout_status is JobStatus.COMPLETED


async def test_delete_removes_the_item_and_its_files_and_stays_deleted(services) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    added = await services.library.add_upload(library, "chair.jpg", photo_bytes())
    await asyncio.wait_for(services.runner.until_idle(library), 20)
    stale = (await services.library.snapshot(library)).items
    assert await services.library.delete(library, added.id) is not None
    assert not (services.settings.media_dir / folder_for(library) / added.id).exists()
    await services.library.open_library(library, stale, [])  # a tab with an old mirror comes back
    assert (await services.library.snapshot(library)).items == []


async def test_retry_and_cancel_through_the_service(services) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    services.runner.wake = lambda library_id: None  # the upload's job stays queued: nothing wakes the runner
    added = await services.library.add_upload(library, "chair.jpg", photo_bytes())
    assert await services.library.cancel(library, added.id)
    assert (await services.library.store.item(library, added.id)).cutout_status is JobStatus.CANCELLED
    assert services.runner.running_count(library) == 0
    assert await services.library.retry(library, added.id)
    assert services.runner.running_count(library) == 1  # queued again and, a slot being free, claimed in the same call
    assert not await services.library.cancel(new_library_id(), added.id)  # another library's tab


async def test_card_actions_do_their_own_work_on_their_own_library_only(services) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    services.runner.wake = lambda library_id: None  # the upload's job stays queued: nothing wakes the runner
    added = await services.library.add_upload(library, "chair.jpg", photo_bytes())

    async def statuses() -> tuple[JobStatus, JobStatus | None]:
        item = await services.library.store.item(library, added.id)
        return item.cutout_status, item.model_status

    assert await services.library.act_on_item(library, added.id, CardAction.CANCEL_CUTOUT) == ""
    assert await statuses() == (JobStatus.CANCELLED, None)
    assert await services.library.act_on_item(new_library_id(), added.id, CardAction.RETRY_CUTOUT) == ""
    assert await statuses() == (JobStatus.CANCELLED, None)  # another library's tab finds nothing
    await services.library.act_on_item(library, added.id, CardAction.RETRY_CUTOUT)
    assert (await statuses())[0] in ACTIVE_STATUSES
    await services.library.act_on_item(library, added.id, CardAction.CANCEL_MODEL)  # no model: the cutout goes on
    assert (await statuses())[0] in ACTIVE_STATUSES
    assert await services.library.act_on_item(new_library_id(), added.id, CardAction.DELETE) == ""
    assert await services.library.act_on_item(library, added.id, CardAction.DELETE) == "Deleted “chair.jpg”."
    assert (await services.library.snapshot(library)).items == []


async def test_generate_all_queues_the_batch_in_one_trip_to_the_store_oldest_first(services, monkeypatch) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    added = [await services.library.add_upload(library, f"piece-{index}.jpg", photo_bytes()) for index in range(4)]
    await asyncio.wait_for(services.runner.until_idle(library), 20)
    loop = asyncio.get_running_loop()
    real_hand_off, hand_offs = loop.run_in_executor, []
    monkeypatch.setattr(loop, "run_in_executor", lambda *args: hand_offs.append(args) or real_hand_off(*args))

    assert await services.library.generate_all_models(library) == 4

    assert len(hand_offs) == 2  # one read of the library, then the whole batch queued and its first claimed
    running = {job.item_id for job in (await services.library.snapshot(library)).jobs if job.is_active
               and job.type is JobType.GLB and job.status is JobStatus.PROCESSING}  # fmt: skip
    assert running == {added[0].id, added[1].id}  # the two slots went to the oldest photos
    await asyncio.wait_for(services.runner.until_idle(library), 30)


def test_keys_are_only_ever_app_made() -> None:
    storage = LocalFileStorage(Path("/tmp/x"), base_url="http://t")
    for bad in ["../etc/passwd", "a/b/c.png", f"{'a' * 24}/abcdefghijkm/../x.png", "/abs/path.png"]:
        with pytest.raises(StorageError):
            storage.path(bad)
    assert storage.path(file_key(new_library_id(), "abcdefghijkm", "original.jpg")).is_relative_to(Path("/tmp/x"))


async def test_a_3d_model_is_made_from_the_cutout_and_generate_all_skips_finished_ones(services) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    first = await services.library.add_upload(library, "chair.jpg", photo_bytes())
    second = await services.library.add_upload(library, "lamp.png", photo_bytes("gradient", "box", 400, "PNG"))
    await asyncio.wait_for(services.runner.until_idle(library), 20)
    assert await services.library.generate_model(library, first.id)
    assert services.runner.running_count(library) == 1  # claimed in the same store call that queued it
    await asyncio.wait_for(services.runner.until_idle(library), 20)
    modelled = await services.library.store.item(library, first.id)
    assert modelled.model_status is JobStatus.COMPLETED and modelled.model.startswith("relief-")
    assert "2.5D preview" in modelled.model_note
    glb = services.settings.media_dir / folder_for(library) / first.id / modelled.model
    assert glb.read_bytes()[:4] == b"glTF" and modelled.urls[modelled.model].endswith(modelled.model)
    assert await services.library.generate_all_models(library) == 1  # only the item without a model
    await asyncio.wait_for(services.runner.until_idle(library), 20)
    assert (await services.library.store.item(library, second.id)).model_status is JobStatus.COMPLETED
    assert await services.library.generate_all_models(library) == 0
    await services.library.delete(library, first.id)
    assert not glb.exists()  # the model goes with its item


async def test_a_drop_is_spooled_to_disk_and_each_spool_file_is_gone_once_handled(services, tmp_path: Path) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    drop = (photo_bytes(), b"not a photo", photo_bytes("gradient"))
    receipt = DropReceipt()
    await receive_drop(
        receipt, _stream(zip(("a.jpg", "notes.png", "b.jpg"), drop, strict=True)),
        folder=tmp_path / "spool", limits=services.settings.upload_limits,
    )  # fmt: skip
    spooled = [file.path for file in receipt.files]
    assert [path.read_bytes()[:3] for path in spooled] == [b"\xff\xd8\xff", b"not", b"\xff\xd8\xff"]
    results = services.library.intake(library, list(zip(("a.jpg", "notes.png", "b.jpg"), spooled, strict=True)))
    outcomes = []
    while (result := await asyncio.wait_for(results.get(), 30)) is not None:
        outcomes.append((result.name, result.item is not None))
    assert outcomes == [("a.jpg", True), ("notes.png", False), ("b.jpg", True)]
    assert not any(path.exists() for path in spooled)  # taken in or refused: no spool file stays behind
    assert len((await services.library.snapshot(library)).items) == 2


async def _stream(files):
    for name, data in files:
        yield types.SimpleNamespace(filename=name, offset=0, data=data)
