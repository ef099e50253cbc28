"""One behaviour suite for every `Storage`: local files and Vercel Blob (on its stub)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from home_editor.core.errors import StorageError
from home_editor.storage.base import Storage
from home_editor.storage.local_files import LocalFileStorage
from home_editor.storage.vercel_blob import VercelBlobStorage
from tests.stubs.blob_stub import BlobStub

KEY = "abcdefgh12345678abcdefgh/abcdefghijkm/cutout-abcdefghijkm.png"
OTHER = "abcdefgh12345678abcdefgh/abcdefghijkm/thumb.webp"


@pytest.fixture(params=["local", "vercel_blob"])
async def storage(request, tmp_path: Path) -> AsyncIterator[Storage]:
    if request.param == "local":
        yield LocalFileStorage(tmp_path, base_url="http://app/media")
        return
    stub = BlobStub().start()
    async with httpx.AsyncClient() as http:
        yield VercelBlobStorage(http, token=stub.token, api_url=stub.api_url)
    stub.stop()


async def test_put_then_get_locate_and_delete(storage: Storage) -> None:
    url = await storage.put(KEY, b"png bytes", content_type="image/png")
    assert url.startswith("http") and url.endswith(KEY)
    assert await storage.get(KEY) == b"png bytes"
    assert await storage.locate(KEY) == url
    await storage.delete([KEY])
    assert await storage.locate(KEY) is None


async def test_a_missing_file_is_none_or_a_storage_error(storage: Storage) -> None:
    assert await storage.locate(OTHER) is None
    with pytest.raises(StorageError):
        await storage.get(OTHER)


async def test_deleting_missing_files_is_fine(storage: Storage) -> None:
    await storage.delete([OTHER])


async def test_putting_again_replaces(storage: Storage) -> None:
    await storage.put(KEY, b"one", content_type="image/png")
    await storage.put(KEY, b"two", content_type="image/png")
    assert await storage.get(KEY) == b"two"


async def test_invalid_keys_are_refused(storage: Storage) -> None:
    for bad in ["../x.png", "a/b.png", KEY.replace(".png", ".html")]:
        with pytest.raises(StorageError):
            await storage.put(bad, b"x", content_type="image/png")


async def test_a_stored_file_streams_back_in_chunks_byte_for_byte(storage: Storage) -> None:
    data = bytes(range(256)) * 9000  # a little over 2 MB: more than one chunk
    await storage.put(KEY, data, content_type="image/png")
    chunks = [chunk async for chunk in storage.stream(KEY)]
    assert len(chunks) > 1 and b"".join(chunks) == data


async def test_streaming_a_missing_file_is_a_storage_error(storage: Storage) -> None:
    with pytest.raises(StorageError):
        async for _ in storage.stream(OTHER):
            pass
