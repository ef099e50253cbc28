"""Reconciling the browser's mirror with the server store: union by id, newer wins, nothing trusted."""

from __future__ import annotations

import dataclasses

from home_editor.core.models import JobStatus, JobType
from home_editor.core.reconcile import adopt_item, adopt_job, plan_reconcile
from tests.factories import item, job

NOW = 10_000_000
DAY = 86_400_000


def plan(server_items=(), server_jobs=(), mirror_items=(), mirror_jobs=(), deleted=()):
    return plan_reconcile(
        list(server_items),
        list(server_jobs),
        list(mirror_items),
        list(mirror_jobs),
        deleted_item_ids=set(deleted),
        now_ms=NOW,
        ttl_ms=DAY,
    )


def test_a_cleared_server_takes_everything_from_the_mirror() -> None:
    items = [item(), item()]
    jobs = [job("P", item_id=items[0].id)]
    result = plan(mirror_items=items, mirror_jobs=jobs)
    assert result.items == items and result.jobs == jobs


def test_a_fresh_browser_brings_nothing_and_the_server_copy_stays() -> None:
    result = plan(server_items=[item()], server_jobs=[job()])
    assert result.items == [] and result.jobs == []


def test_newer_updated_wins_in_both_directions() -> None:
    server = item(updated_ms=500)
    newer = dataclasses.replace(server, name="renamed", updated_ms=600)
    older = dataclasses.replace(server, name="stale", updated_ms=400)
    assert plan(server_items=[server], mirror_items=[newer]).items == [newer]
    assert plan(server_items=[server], mirror_items=[older]).items == []


def test_deleted_items_and_their_jobs_are_not_revived_by_a_stale_mirror() -> None:
    gone = item()
    result = plan(mirror_items=[gone], mirror_jobs=[job(item_id=gone.id)], deleted=[gone.id])
    assert result.items == [] and result.jobs == []


def test_jobs_of_unknown_items_and_expired_jobs_are_dropped() -> None:
    kept = item()
    result = plan(
        mirror_items=[kept],
        mirror_jobs=[job(item_id="zzzzzzzzzzzz"), job("C", item_id=kept.id, updated_ms=NOW - DAY - 1)],
    )
    assert result.jobs == []


def test_adopted_items_keep_only_files_that_exist() -> None:
    claim = item(cutout="cutout-abcdefghijkm.png", cutout_status=JobStatus.COMPLETED)
    adopted = adopt_item(None, claim, {"original.jpg": "u1", "thumb.webp": "u2"})
    assert adopted is not None
    assert (adopted.original, adopted.thumb, adopted.cutout) == ("original.jpg", "thumb.webp", "")
    assert adopted.urls == {"original.jpg": "u1", "thumb.webp": "u2"}
    assert adopted.cutout_status is JobStatus.PENDING  # "completed" without its file is not believed


def test_a_recovered_cutout_brings_its_card_preview_when_that_file_exists() -> None:
    claim = item(cutout="cutout-abcdefghijkm.png", cutout_status=JobStatus.COMPLETED)
    files = {"original.jpg": "u1", "thumb.webp": "u2", "cutout-abcdefghijkm.png": "u3"}
    assert "cutout-abcdefghijkm.webp" not in adopt_item(None, claim, files).urls
    adopted = adopt_item(None, claim, files | {"cutout-abcdefghijkm.webp": "u4"})
    assert adopted.urls["cutout-abcdefghijkm.webp"] == "u4" and adopted.cutout_status is JobStatus.COMPLETED


def test_an_item_whose_original_is_missing_is_not_adopted() -> None:
    assert adopt_item(None, item(), {}) is None


def test_a_newer_mirror_copy_cannot_erase_server_files() -> None:
    server = item(cutout="cutout-abcdefghijkm.png", cutout_status=JobStatus.COMPLETED)
    mirror_copy = dataclasses.replace(server, cutout="cutout-zzzzzzzzzzzz.png", updated_ms=server.updated_ms + 1)
    adopted = adopt_item(server, mirror_copy, {"original.jpg": "u"})
    assert adopted is not None and adopted.cutout == server.cutout


def test_a_job_the_mirror_calls_running_goes_back_to_pending() -> None:
    adopted = adopt_job(None, job("R", lease_token="forged", lease_until_ms=NOW * 2), item=item(), now_ms=NOW)
    assert adopted is not None
    assert (adopted.status, adopted.lease_token, adopted.lease_until_ms) == (JobStatus.PENDING, "", 0)


def test_a_job_the_mirror_calls_complete_needs_the_result_file() -> None:
    without = adopt_job(None, job("C", type=JobType.REMBG), item=item(), now_ms=NOW)
    with_file = adopt_job(None, job("C", type=JobType.REMBG), item=item(cutout="cutout-abcdefghijkm.png"), now_ms=NOW)
    assert without is not None and without.status is JobStatus.PENDING
    assert with_file is not None and with_file.status is JobStatus.COMPLETED


def test_a_job_running_on_the_server_is_never_overridden() -> None:
    running = job("R", lease_until_ms=NOW + 5_000)
    assert (
        adopt_job(
            running, dataclasses.replace(running, status=JobStatus.CANCELLED, updated_ms=NOW), item=item(), now_ms=NOW
        )
        is None
    )
