"""A forged browser mirror cannot make the server send unbounded lookups to Vercel Blob (one billed HEAD
per claimed file): each reconcile has a cap, each library a budget per hour; a real item still comes back.
Counted at the Blob stub over real HTTP."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from home_editor import library_service
from home_editor.core.lookup_budget import LookupBudget
from home_editor.core.models import Item, JobStatus, new_id, new_library_id
from home_editor.services import build_services
from home_editor.settings import Settings
from tests.images import photo_bytes
from tests.stubs.blob_stub import BlobStub

HOUR_MS = 3_600_000
# Smaller than the real limits (each lookup is an HTTP request to the stub); the same code paths.
PER_RECONCILE, PER_HOUR = 40, 100


def test_the_real_limits_keep_a_reconcile_within_the_hourly_budget() -> None:
    assert 0 < library_service.LOOKUPS_PER_RECONCILE <= library_service.LOOKUPS_PER_LIBRARY_HOUR <= 10_000


def forged_mirror(count: int) -> list[Item]:
    """Items the store never had, each claiming every kind of file."""
    return [
        Item(
            id=new_id(),
            name=f"forged {n}",
            created_ms=1,
            updated_ms=2,
            original="original.jpg",
            thumb="thumb.webp",
            cutout=f"cutout-{new_id()}.png",
            cutout_status=JobStatus.COMPLETED,
            model=f"model-{new_id()}.glb",
            model_status=JobStatus.COMPLETED,
        )
        for n in range(count)
    ]


def lookups(blob: BlobStub) -> int:
    return len(blob.calls("GET", "/api/blob"))


async def test_a_forged_mirror_of_thousands_of_items_costs_a_bounded_number_of_blob_lookups(
    blob: BlobStub, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(library_service, "LOOKUPS_PER_RECONCILE", PER_RECONCILE)
    settings = Settings(data_dir=tmp_path, blob_token=blob.token, blob_api_url=blob.api_url)
    services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")
    services.runner.notice_new_work = lambda library_id: None
    clock = [10 * HOUR_MS]
    services.library.lookup_budget = LookupBudget(per_window=PER_HOUR, window_ms=HOUR_MS, clock=lambda: clock[0])
    library = new_library_id()
    try:
        await services.library.ensure_library(library)
        forged = forged_mirror(3000)

        before = lookups(blob)
        await services.library.open_library(library, forged, [])
        first = lookups(blob) - before
        assert 0 < first <= PER_RECONCILE

        spent = first
        while spent < PER_HOUR:  # reload after reload, within the hour
            before = lookups(blob)
            await services.library.open_library(library, forged, [])
            assert 0 < lookups(blob) - before <= PER_RECONCILE
            spent += lookups(blob) - before
        assert spent == PER_HOUR
        before = lookups(blob)
        await services.library.open_library(library, forged, [])
        assert lookups(blob) == before, "the library's budget for this hour is spent"

        clock[0] += HOUR_MS  # an hour later the library may look again, still within the cap
        before = lookups(blob)
        await services.library.open_library(library, forged, [])
        assert 0 < lookups(blob) - before <= PER_RECONCILE
        assert (await services.library.snapshot(library)).items == []  # nothing forged was adopted
    finally:
        await services.runner.shutdown()


async def test_a_real_item_in_the_mirror_is_still_recovered(blob: BlobStub, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, blob_token=blob.token, blob_api_url=blob.api_url)
    first = build_services(settings, db_url=f"sqlite:///{tmp_path / 'lost.db'}", public_base_url="http://app")
    first.runner.notice_new_work = lambda library_id: None
    library = new_library_id()
    await first.library.ensure_library(library)
    real = await first.library.add_upload(library, "chair.jpg", photo_bytes())
    await first.runner.shutdown()
    fresh = build_services(settings, db_url=f"sqlite:///{tmp_path / 'new.db'}", public_base_url="http://app")
    fresh.runner.notice_new_work = lambda library_id: None
    try:
        mirror = [dataclasses.replace(real, urls={}), *forged_mirror(50)]
        await fresh.library.open_library(library, mirror, [])
        assert [item.id for item in (await fresh.library.snapshot(library)).items] == [real.id]
    finally:
        await fresh.runner.shutdown()
