"""Storage that fails: the upload is refused with a clear message, nothing half-stored remains, and
items stored before are untouched."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from home_editor.app_wiring import build_services
from home_editor.core.errors import StorageError
from home_editor.core.models import new_library_id
from home_editor.core.storage_keys import folder_for
from home_editor.settings import Settings
from tests.images import photo_bytes
from tests.stubs.blob_stub import BlobStub
from tests.stubs.server import Fault


@contextlib.contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """A folder nothing can be written into (chmod for ordinary users; root also needs chattr +i)."""
    folder.chmod(0o555)
    immutable = os.geteuid() == 0 and subprocess.run(["chattr", "+i", str(folder)], check=False).returncode == 0
    try:
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def services_for(tmp_path: Path, **env: str):
    settings = Settings.from_env(
        {
            "HOME_EDITOR_MEDIA_DIR": str(tmp_path / "media"),
            "HOME_EDITOR_CUTOUT_METHOD": "classical",
            "HOME_EDITOR_ROLE": "web",  # storing uploads only: a web-only process never claims their cutouts
            **env,
        }
    )
    return build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")


def files_under(folder: Path) -> set[str]:
    return {str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file()}


@pytest.mark.reliability(
    "F6 local disk write error", "upload refused with a message; nothing half-stored; earlier items untouched"
)
async def test_a_read_only_media_folder_refuses_the_upload(tmp_path: Path) -> None:
    services = services_for(tmp_path)
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    kept = await services.library.add_upload(library, "first.jpg", photo_bytes())
    library_folder = tmp_path / "media" / folder_for(library)
    before = files_under(library_folder)
    with unwritable(library_folder), pytest.raises(StorageError, match="Could not store the file"):
        await services.library.add_upload(library, "second.jpg", photo_bytes("gradient"))
    assert files_under(library_folder) == before
    assert [item.id for item in (await services.library.snapshot(library)).items] == [kept.id]


@pytest.mark.parametrize(("status", "message"), [(503, "unavailable (503)"), (401, "rejected the token (401)")])
async def test_a_failing_blob_store_refuses_the_upload(tmp_path: Path, status: int, message: str, request) -> None:
    request.node.add_marker(
        pytest.mark.reliability(
            f"F6 Blob PUT {status}", f"upload refused (“{message}”); nothing half-stored; earlier items untouched"
        )
    )
    blob = BlobStub().start()
    try:
        services = services_for(tmp_path, BLOB_READ_WRITE_TOKEN=blob.token, VERCEL_BLOB_API_URL=blob.api_url)
        library = new_library_id()
        await services.library.store.ensure_library(library, 0)
        kept = await services.library.add_upload(library, "first.jpg", photo_bytes())
        before = dict(blob.blobs)
        blob.inject(Fault("PUT", "/api/blob", status=status, times=99, retry_after="0"))
        with pytest.raises(StorageError, match=message.replace("(", r"\(").replace(")", r"\)")):
            await services.library.add_upload(library, "second.jpg", photo_bytes("gradient"))
        assert blob.blobs == before  # the thumbnail of the refused upload was never written, the original removed
        assert [item.id for item in (await services.library.snapshot(library)).items] == [kept.id]
    finally:
        blob.stop()


@pytest.mark.reliability(
    "F6 Blob fails after the original", "the stored original is removed again; nothing half-stored"
)
async def test_a_blob_failure_after_the_original_removes_it_again(tmp_path: Path) -> None:
    blob = BlobStub().start()
    try:
        services = services_for(tmp_path, BLOB_READ_WRITE_TOKEN=blob.token, VERCEL_BLOB_API_URL=blob.api_url)
        library = new_library_id()
        calls = []
        real_put = services.storage.put

        async def put_then_fail(key: str, data: bytes, *, content_type: str) -> str:
            calls.append(key)
            if len(calls) == 2:
                blob.inject(Fault("PUT", "/api/blob", status=500, times=99, retry_after="0"))
            return await real_put(key, data, content_type=content_type)

        services.storage.put = put_then_fail
        with pytest.raises(StorageError):
            await services.library.add_upload(library, "chair.jpg", photo_bytes())
        assert len(calls) == 2 and blob.blobs == {}
        assert blob.calls("POST", "/api/blob/delete")
    finally:
        blob.stop()
