"""The header counts items apart from jobs: one photo with a cutout and a 3D model is one photo, not
"2 completed"; settled jobs are not counted, failed ones and the work in hand are."""

from __future__ import annotations

from home_editor.core.cards import Stats, stats_for
from home_editor.core.models import JobStatus, JobType, Snapshot
from tests.factories import item, job


def test_one_photo_with_a_cutout_and_a_model_counts_as_one_photo_with_one_of_each() -> None:
    photo = item(cutout="cutout-abcdefghijkm.png", cutout_status=JobStatus.COMPLETED, model="relief-abcdefghijkm.glb")
    done = [
        job(JobStatus.COMPLETED, item_id=photo.id, type=JobType.REMBG),
        job(JobStatus.COMPLETED, item_id=photo.id, type=JobType.GLB),
    ]
    assert stats_for(Snapshot(items=[photo], jobs=done)) == Stats(photos=1, cutouts=1, models=1)


def test_jobs_are_counted_by_what_is_still_to_do_or_went_wrong() -> None:
    waiting, running, broken = item(), item(), item(cutout_status=JobStatus.FAILED)
    jobs = [
        job(JobStatus.PENDING, item_id=waiting.id),
        job(JobStatus.PROCESSING, item_id=running.id),
        job(JobStatus.FAILED, item_id=broken.id),
        job(JobStatus.PENDING, item_id="gonegonegone"),  # its item was deleted
    ]
    assert stats_for(Snapshot(items=[waiting, running, broken], jobs=jobs)) == Stats(
        photos=3, queued=1, running=1, failed=1
    )
