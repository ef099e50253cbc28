"""What the page shows, computed from a store snapshot (plain data, no Reflex)."""

from __future__ import annotations

import dataclasses

from home_editor.core.models import Item, Job, JobStatus, JobType
from home_editor.store.library_store import Snapshot


@dataclasses.dataclass(frozen=True)
class Card:
    """One item card."""

    id: str = ""
    name: str = ""
    status: str = ""
    progress: int = 0
    message: str = ""
    error: str = ""
    note: str = ""
    image_url: str = ""
    original_url: str = ""
    cutout_url: str = ""
    has_cutout: bool = False
    can_retry: bool = False
    can_cancel: bool = False
    attempts: int = 0


@dataclasses.dataclass(frozen=True)
class Stats:
    """Job counts for the header."""

    pending: int = 0
    processing: int = 0
    completed: int = 0
    failed: int = 0


def _latest_cutout_jobs(jobs: list[Job]) -> dict[str, Job]:
    latest: dict[str, Job] = {}
    for job in sorted(jobs, key=lambda job: job.created_ms):
        if job.type is JobType.REMBG:
            latest[job.item_id] = job
    return latest


def card_for(item: Item, job: Job | None) -> Card:
    """The card of one item, given its latest cutout job (if any is still kept)."""
    status = item.cutout_status
    running = job is not None and job.status is status and job.is_active
    return Card(
        id=item.id,
        name=item.name,
        status=status.value,
        progress=job.progress if running and job else (100 if status is JobStatus.COMPLETED else 0),
        message=job.message if running and job else "",
        error=item.cutout_error or (job.error if running and job else ""),
        note=item.cutout_note,
        image_url=item.urls.get(item.cutout or item.thumb, ""),
        original_url=item.urls.get(item.original, ""),
        cutout_url=item.urls.get(item.cutout, "") if item.cutout else "",
        has_cutout=bool(item.cutout),
        can_retry=status in (JobStatus.FAILED, JobStatus.CANCELLED),
        can_cancel=status in (JobStatus.PENDING, JobStatus.PROCESSING),
        attempts=job.attempts if job else 0,
    )


def cards_for(snapshot: Snapshot) -> list[Card]:
    """Cards for every live item, newest first."""
    latest = _latest_cutout_jobs(snapshot.jobs)
    return [card_for(item, latest.get(item.id)) for item in snapshot.items]


def stats_for(snapshot: Snapshot) -> Stats:
    """Job counts by status (cancelled jobs are not shown in the header)."""
    live_items = {item.id for item in snapshot.items}
    counts = dict.fromkeys(JobStatus, 0)
    for job in snapshot.jobs:
        if job.item_id in live_items:
            counts[job.status] += 1
    return Stats(
        pending=counts[JobStatus.PENDING],
        processing=counts[JobStatus.PROCESSING],
        completed=counts[JobStatus.COMPLETED],
        failed=counts[JobStatus.FAILED],
    )
