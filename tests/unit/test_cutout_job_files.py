"""A local cutout job on local files: the processing worker reads the stored photo itself and makes the
card's preview in the same call, so neither the photo nor the cutout's PNG passes through the server
process more than once (a 12 MP photo is ~4 MB, a cutout PNG more)."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image

from home_editor.core.errors import StorageError
from home_editor.core.storage_keys import file_key
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.jobs import cutout_and_model
from home_editor.jobs.cutout_and_model import CutoutAndModelExecutor
from home_editor.jobs.executor import Claim
from home_editor.processing import local_processor
from home_editor.processing.base import JobContext
from home_editor.processing.local_processor import LocalProcessor
from home_editor.processing.previews import PREVIEW_SIDE
from home_editor.storage.local_files import LocalFileStorage
from tests.factories import item, job
from tests.images import photo_bytes

LIBRARY = "cutoutjobfiles01"


async def _no_report(_progress: int, _message: str) -> None:
    return None


async def _forget(_remote_id: str) -> None:
    return None


@pytest.fixture
def processing_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the functions the job hands to the processing workers, and what their arguments were."""
    calls: list[str] = []
    for module in (cutout_and_model, local_processor):
        real = module.run_job_work

        async def recorded(function, *args, real=real):
            name = getattr(function, "func", function).__name__
            calls.append(f"{name}({', '.join(type(arg).__name__ for arg in args)})")
            return await real(function, *args)

        monkeypatch.setattr(module, "run_job_work", recorded)
    return calls


async def test_the_worker_reads_the_stored_photo_and_makes_the_preview_in_the_same_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, processing_calls: list[str]
) -> None:
    store = AsyncLibraryStore(LibraryStore(create_engine(f"sqlite:///{tmp_path / 'app.db'}")))
    storage = LocalFileStorage(tmp_path / "media", base_url="http://app/media")
    photo = item()
    await store.ensure_library(LIBRARY, 0)
    await store.add_item(LIBRARY, photo, None)
    await storage.put(file_key(LIBRARY, photo.id, photo.original), photo_bytes("plain"), content_type="image/jpeg")
    read_by_the_server: list[str] = []
    real_get = LocalFileStorage.get

    async def recorded_get(self: LocalFileStorage, key: str) -> bytes:
        read_by_the_server.append(key)
        return await real_get(self, key)

    monkeypatch.setattr(LocalFileStorage, "get", recorded_get)
    executor = CutoutAndModelExecutor(store, storage, LocalProcessor(max_pixels=10**8))

    outcome = await executor.run(
        LIBRARY, job("R", item_id=photo.id), Claim(report=_no_report, remember_remote_id=_forget)
    )

    assert read_by_the_server == []
    assert processing_calls == ["cut_out_with_preview(PosixPath)"]  # one call, given the file, not its bytes
    cutout_key, preview_key = outcome.keys
    assert Image.open(storage.path(cutout_key)).mode == "RGBA"
    preview = Image.open(storage.path(preview_key))
    assert preview.format == "WEBP" and max(preview.size) <= PREVIEW_SIDE


async def test_without_a_local_file_the_photo_is_loaded_and_sent(processing_calls: list[str]) -> None:
    """Vercel Blob keeps no file on this machine: the processor is handed the photo's bytes."""
    photo = photo_bytes("plain")

    async def load() -> bytes:
        return photo

    cutout = await LocalProcessor(max_pixels=10**8).remove_background(JobContext(report=_no_report, load_image=load))

    assert processing_calls == ["cut_out_with_preview(bytes)"]
    assert Image.open(io.BytesIO(cutout.png)).size == Image.open(io.BytesIO(photo)).size
    assert Image.open(io.BytesIO(cutout.preview)).format == "WEBP"


async def test_a_stored_photo_gone_missing_is_a_storage_error_the_job_may_retry(tmp_path: Path) -> None:
    async def never_called() -> bytes:
        raise AssertionError("a photo on this machine is read by the worker")

    context = JobContext(report=_no_report, load_image=never_called, image_path=tmp_path / "gone.jpg")
    with pytest.raises(StorageError, match="Could not read a stored file") as raised:
        await LocalProcessor(max_pixels=10**8).remove_background(context)
    assert raised.value.retryable
