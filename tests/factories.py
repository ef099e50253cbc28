"""Small builders for records used across the unit tests."""

from __future__ import annotations

import dataclasses
import itertools

from home_editor.core.models import Item, Job, JobStatus, JobType, new_id

_clock = itertools.count(1_000)

STATUS_CODES = {
    "P": JobStatus.PENDING,
    "R": JobStatus.PROCESSING,
    "C": JobStatus.COMPLETED,
    "F": JobStatus.FAILED,
    "X": JobStatus.CANCELLED,
}


def job(status: JobStatus | str = JobStatus.PENDING, **changes: object) -> Job:
    """A job with sensible defaults; `status` may be a one-letter code (P, R, C, F, X)."""
    if isinstance(status, str) and status in STATUS_CODES:
        status = STATUS_CODES[status]
    created = changes.pop("created_ms", next(_clock))
    base = Job(
        id=new_id(),
        item_id=new_id(),
        type=JobType.REMBG,
        created_ms=created,
        updated_ms=created,
        status=JobStatus(status),
    )
    return dataclasses.replace(base, **changes)


def item(**changes: object) -> Item:
    """An item with an original and a thumbnail."""
    created = changes.pop("created_ms", next(_clock))
    base = Item(
        id=new_id(),
        name="chair.jpg",
        created_ms=created,
        updated_ms=created,
        original="original.jpg",
        thumb="thumb.webp",
    )
    return dataclasses.replace(base, **changes)


def codes(jobs: list[Job]) -> str:
    """Status letters of jobs, in order."""
    letters = {status: code for code, status in STATUS_CODES.items()}
    return "".join(letters[job.status] for job in jobs)
