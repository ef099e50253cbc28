"""The download routes on both storages (local files, and Vercel Blob over real HTTP to its stub): the
ZIP holds the asking library's items only, each entry byte for byte the stored file or composed on the
item's background from the stored cutout; a store's background choice survives the browser's mirror."""

from __future__ import annotations

import dataclasses
import io
import zipfile
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from PIL import Image
from starlette.applications import Starlette
from starlette.testclient import TestClient

from home_editor.core.models import Item, JobStatus, new_id, new_library_id
from home_editor.core.storage_keys import file_key
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.export.export_service import ExportService
from home_editor.export.routes import export_routes
from home_editor.storage.local_files import LocalFileStorage
from home_editor.storage.vercel_blob import VercelBlobStorage
from tests.stubs.blob_stub import BlobStub
from tests.unit.test_compose import cutout_png


@pytest.fixture(params=["local", "vercel_blob"])
def setup(request, tmp_path: Path) -> Iterator[tuple[TestClient, LibraryStore, object]]:
    store = LibraryStore(create_engine(f"sqlite:///{tmp_path / 'app.db'}"))
    stub = BlobStub().start() if request.param == "vercel_blob" else None
    http = httpx.AsyncClient()
    storage = (
        VercelBlobStorage(http, token=stub.token, api_url=stub.api_url)
        if stub
        else LocalFileStorage(tmp_path / "media", base_url="http://app/media")
    )
    service = ExportService(AsyncLibraryStore(store), storage)
    with TestClient(Starlette(routes=export_routes(lambda: service))) as client:
        yield client, store, storage
    if stub:
        stub.stop()


def add(client: TestClient, store: LibraryStore, storage, library: str, name: str, **files: bytes) -> Item:
    """An item with a finished cutout (and a model if given), its files put into the storage."""
    item = Item(id=new_id(), name=name, created_ms=1, updated_ms=1, original="original.jpg",
                cutout=f"cutout-{new_id()}.png", cutout_status=JobStatus.COMPLETED,
                model=f"relief-{new_id()}.glb" if "glb" in files else "")  # fmt: skip
    store.ensure_library(library, 1)
    store.add_item(library, item, None)
    for name_, data in ((item.cutout, files["png"]), (item.model, files.get("glb"))):
        if data is not None:
            client.portal.call(lambda n=name_, d=data: storage.put(file_key(library, item.id, n), d,
                                                                  content_type="image/png"))  # fmt: skip
    return item


def test_the_zip_holds_each_stored_file_under_the_original_name(setup) -> None:
    client, store, storage = setup
    library, other = new_library_id(), new_library_id()
    chair = add(client, store, storage, library, "../chair.jpg", png=cutout_png(), glb=b"glTF model bytes")
    add(client, store, storage, library, "lamp\x07.png", png=b"\x89PNG lamp")
    foreign = add(client, store, storage, other, "theirs.jpg", png=b"\x89PNG theirs")

    response = client.post("/export/zip", data={"library": library, "scope": "all"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == ["chair.glb", "chair.png", "lamp.png"]
    assert archive.read("chair.png") == cutout_png() and archive.read("chair.glb") == b"glTF model bytes"
    assert archive.read("lamp.png") == b"\x89PNG lamp"

    picked = client.post("/export/zip", data={"library": library, "items": f"{chair.id},{foreign.id}"})
    assert zipfile.ZipFile(io.BytesIO(picked.content)).namelist() == ["chair.png", "chair.glb"]
    theirs = client.post("/export/zip", data={"library": other, "items": chair.id})
    assert theirs.status_code == 404  # another library's item is never in a ZIP
    assert client.post("/export/zip", data={"library": "x", "scope": "all"}).status_code == 404


def test_an_item_on_a_background_is_composed_from_its_stored_cutout(setup) -> None:
    client, store, storage = setup
    library = new_library_id()
    chair = add(client, store, storage, library, "chair.jpg", png=cutout_png())
    store.set_background(library, [chair.id], "#3366cc", now_ms=5)
    mirrored = dataclasses.replace(store.item(library, chair.id), background="", updated_ms=9)  # a newer copy
    store.upsert_from_mirror(library, [mirrored], [])
    assert store.item(library, chair.id).background == "#3366cc"  # the mirror never resets the choice

    archive = zipfile.ZipFile(io.BytesIO(client.post("/export/zip", data={"library": library, "scope": "all"}).content))
    assert archive.namelist() == ["chair.jpg"]
    image = Image.open(io.BytesIO(archive.read("chair.jpg")))
    assert image.format == "JPEG"
    assert max(abs(a - b) for a, b in zip(image.getpixel((5, 5)), (0x33, 0x66, 0xCC), strict=True)) <= 6

    key = file_key(library, chair.id, chair.cutout)
    single = client.get(f"/export/image/{key}?background=%233366cc&name=chair&download=1")
    assert single.content == archive.read("chair.jpg")
    assert single.headers["content-disposition"] == "attachment; filename*=UTF-8''chair.jpg"
    assert client.get(f"/export/image/{key}?background=").content == cutout_png()
    assert client.get(f"/export/image/{key}?background=url(x)").status_code == 404
    assert client.get(f"/export/image/{key.replace('cutout-', 'thumb-')}").status_code == 404


async def test_pictures_wait_in_line_one_at_a_time_and_a_flood_is_refused(tmp_path: Path, monkeypatch) -> None:
    """The public picture route composes one at a time, each reading its cutout only in turn (a waiting
    request holds no image), and refuses requests beyond the line's cap instead of queueing them all."""
    import asyncio
    import threading

    from home_editor.export import export_service
    from home_editor.export.export_service import MAX_WAITING_COMPOSITIONS, ComposerBusyError

    storage = LocalFileStorage(tmp_path / "media", base_url="http://app/media")
    service = ExportService(AsyncLibraryStore(LibraryStore(create_engine(f"sqlite:///{tmp_path / 'a.db'}"))), storage)
    key = file_key(new_library_id(), new_id(), f"cutout-{new_id()}.png")
    await storage.put(key, cutout_png(), content_type="image/png")
    release, reads, composing = threading.Event(), [], []
    real_get, real_compose = storage.get, export_service.compose

    async def counted_get(name: str) -> bytes:
        reads.append(name)
        return await real_get(name)

    def held_compose(data: bytes, background: str) -> bytes:
        composing.append(background)
        release.wait(timeout=60)
        return real_compose(data, background)

    monkeypatch.setattr(storage, "get", counted_get)
    monkeypatch.setattr(export_service, "compose", held_compose)
    waiting = [asyncio.create_task(service.image(key, "white", refuse_when_busy=True))
               for _ in range(MAX_WAITING_COMPOSITIONS)]  # fmt: skip
    while not composing:  # the first is being composed; the rest wait in line
        await asyncio.sleep(0.01)
    assert len(reads) == 1  # only the one being composed has read its cutout
    with pytest.raises(ComposerBusyError):
        await service.image(key, "white", refuse_when_busy=True)
    release.set()
    pictures = await asyncio.gather(*waiting)
    assert len(reads) == MAX_WAITING_COMPOSITIONS and all(picture[:2] == b"\xff\xd8" for picture in pictures)
    assert await service.image(key, "white", refuse_when_busy=True)  # the line is free again
