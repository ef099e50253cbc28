"""An upload's content hash (sha256 of up to 25 MB) is computed off the event loop."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

import sqlalchemy as sa

from home_editor.app_wiring import build_services
from home_editor.core.models import new_library_id
from home_editor.database.schema import items
from home_editor.settings import Settings
from tests.images import photo_bytes


async def test_an_upload_is_hashed_off_the_event_loop(tmp_path: Path, monkeypatch) -> None:
    upload = photo_bytes(size=1024)
    hashed_on: list[int] = []
    real = hashlib.sha256

    def counted(data: bytes = b"", **options: object):
        if len(data) == len(upload):  # the upload's bytes (small hashes of ids are none of our business)
            hashed_on.append(threading.get_ident())
        return real(data, **options)

    monkeypatch.setattr(hashlib, "sha256", counted)
    settings = Settings(media_dir=tmp_path / "media")
    services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://t")
    try:
        library = new_library_id()
        await services.library.ensure_library(library)
        added = await services.library.add_upload(library, "chair.jpg", upload)
        with services.library.store.sync._engine.connect() as conn:
            stored = conn.execute(sa.select(items.c.content_hash).where(items.c.id == added.id)).scalar_one()
    finally:
        await services.runner.shutdown()
    assert stored == real(upload).hexdigest()  # the hash is kept (it finds the same photo dropped twice)
    assert hashed_on and threading.get_ident() not in hashed_on  # computed, and not on the loop's thread
