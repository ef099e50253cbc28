"""A forged browser mirror cannot make the server send unbounded lookups to Vercel Blob (one billed HEAD
per claimed file): claimed files that are not there are capped per reconcile and per library per hour,
while a real library's files (which are there) are all found, so a lost database is still refilled.
Counted at the Blob stub over real HTTP."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from home_editor import mirror_recovery
from home_editor.app_wiring import build_services
from home_editor.core.lookup_budget import LookupBudget
from home_editor.core.models import Item, JobStatus, new_id, new_library_id
from home_editor.settings import Settings
from tests.images import photo_bytes
from tests.stubs.blob_stub import BlobStub

HOUR_MS = 3_600_000
# Smaller than the real limits (each lookup is an HTTP request to the stub); the same code paths.
PER_RECONCILE, PER_HOUR = 40, 100


def test_the_real_limits_bound_misses_tightly_and_let_a_full_mirror_recover_at_once() -> None:
    assert 0 < mirror_recovery.MISSES_PER_RECONCILE <= mirror_recovery.MISSES_PER_LIBRARY_HOUR <= 3000
    full_mirror_files = 1600 * 5  # a mirror holds at most ~1600 items (400 k characters), each ≤ 5 files
    assert full_mirror_files <= mirror_recovery.LOOKUPS_PER_RECONCILE <= mirror_recovery.LOOKUPS_PER_LIBRARY_HOUR


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
    monkeypatch.setattr(mirror_recovery, "MISSES_PER_RECONCILE", PER_RECONCILE)
    settings = Settings(data_dir=tmp_path, blob_token=blob.token, blob_api_url=blob.api_url, role="web")
    services = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")
    clock = [10 * HOUR_MS]
    services.library.recovery.miss_budget = LookupBudget(per_window=PER_HOUR, window_ms=HOUR_MS, clock=lambda: clock[0])
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


async def test_a_real_library_is_recovered_whole_even_beyond_the_cap_on_misses(
    blob: BlobStub, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(mirror_recovery, "MISSES_PER_RECONCILE", 5)
    settings = Settings(data_dir=tmp_path, blob_token=blob.token, blob_api_url=blob.api_url, role="web")
    first = build_services(settings, db_url=f"sqlite:///{tmp_path / 'lost.db'}", public_base_url="http://app")
    library = new_library_id()
    await first.library.ensure_library(library)
    real = [await first.library.add_upload(library, f"photo {n}.jpg", photo_bytes()) for n in range(12)]
    await first.runner.shutdown()
    fresh = build_services(settings, db_url=f"sqlite:///{tmp_path / 'new.db'}", public_base_url="http://app")
    try:
        mirror = [*(dataclasses.replace(item, urls={}) for item in real), *forged_mirror(50)]
        before = lookups(blob)
        await fresh.library.open_library(library, mirror, [])
        recovered = {item.id for item in (await fresh.library.snapshot(library)).items}
        assert recovered == {item.id for item in real}  # 24 files found: more than the cap on misses
        assert lookups(blob) - before == 2 * 12 + 5  # and only 5 forged names were looked up
    finally:
        await fresh.runner.shutdown()
