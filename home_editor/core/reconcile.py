"""Reconciling the browser's mirror with the server's store: union by id, the newer `updated_ms` wins,
and nothing the mirror says is believed without the server checking it (file names must exist in the
library's own folder; a job the mirror calls running or done is only as done as its output file).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence

from home_editor.core import scheduler
from home_editor.core.models import Item, Job, JobStatus, JobType
from home_editor.core.storage_keys import cutout_preview_name


@dataclasses.dataclass(frozen=True)
class ReconcilePlan:
    """Mirror records that should reach the server: new to it, or newer than its copy."""

    items: list[Item]
    jobs: list[Job]


def plan_reconcile(
    server_items: Sequence[Item],
    server_jobs: Sequence[Job],
    mirror_items: Sequence[Item],
    mirror_jobs: Sequence[Job],
    *,
    deleted_item_ids: Collection[str],
    now_ms: int,
    ttl_ms: int,
) -> ReconcilePlan:
    """Choose the mirror records that win over (or are missing from) the server's copy.

    Args:
        server_items: The library's items in the store.
        server_jobs: The library's jobs in the store.
        mirror_items: Items decoded from the browser's mirror.
        mirror_jobs: Jobs decoded from the browser's mirror.
        deleted_item_ids: Items the user deleted (a stale mirror must not bring them back).
        now_ms: The current time.
        ttl_ms: Settled jobs older than this are gone for good and are not re-imported.

    Returns:
        The candidates; the store still verifies them (see `adopt_item` and `adopt_job`).
    """
    items_by_id = {item.id: item for item in server_items}
    jobs_by_id = {job.id: job for job in server_jobs}
    items = [
        item
        for item in mirror_items
        if item.id not in deleted_item_ids
        and (item.id not in items_by_id or item.updated_ms > items_by_id[item.id].updated_ms)
    ]
    known_items = items_by_id.keys() | {item.id for item in items}
    jobs = [
        job
        for job in mirror_jobs
        if job.item_id in known_items
        and not scheduler.is_expired(job, now_ms=now_ms, ttl_ms=ttl_ms)
        and (job.id not in jobs_by_id or job.updated_ms > jobs_by_id[job.id].updated_ms)
    ]
    return ReconcilePlan(items=items, jobs=jobs)


def adopt_item(server: Item | None, mirror: Item, existing_files: Mapping[str, str]) -> Item | None:
    """The item to store for a winning mirror copy, keeping only file names that really exist.

    Args:
        server: The store's copy, if any.
        mirror: The mirror's (newer) copy.
        existing_files: Names found in the item's own folder by the server itself, with their URLs.

    Returns:
        The item to write, or None when a new item's original file does not exist.
    """

    def verified(name: str, fallback: str) -> str:
        return name if name and name in existing_files else fallback

    base = server or dataclasses.replace(
        mirror, original="", thumb="", cutout="", cutout_error="", cutout_note="", urls={}
    )
    original = verified(mirror.original, base.original)
    if not original:
        return None
    thumb = verified(mirror.thumb, base.thumb)
    cutout = verified(mirror.cutout, base.cutout)
    model = verified(mirror.model, base.model)
    status = _checked_status(mirror.cutout_status, has_result=bool(cutout))
    model_status = _checked_status(mirror.model_status, has_result=bool(model)) if mirror.model_status else None
    if model_status is JobStatus.PENDING and mirror.model_status is JobStatus.COMPLETED:
        model_status = None  # a model the files do not back up: offer "Generate 3D" again
    names = (original, thumb, cutout, cutout_preview_name(cutout) if cutout else "", model)
    found = {name: existing_files[name] for name in names if name in existing_files}
    return dataclasses.replace(
        base,
        name=mirror.name,
        updated_ms=mirror.updated_ms,
        original=original,
        thumb=thumb,
        cutout=cutout,
        cutout_status=status,
        cutout_error=mirror.cutout_error if status is JobStatus.FAILED else "",
        cutout_note=mirror.cutout_note if cutout else "",
        model=model,
        model_status=model_status,
        model_error=mirror.model_error if model_status is JobStatus.FAILED else "",
        urls={**base.urls, **found},
    )


def _checked_status(status: JobStatus, *, has_result: bool) -> JobStatus:
    """What a mirrored status can honestly be: nothing runs for it now, and "completed" needs a file."""
    if status is JobStatus.PROCESSING or (status is JobStatus.COMPLETED and not has_result):
        return JobStatus.PENDING
    return status


def adopt_job(server: Job | None, mirror: Job, *, item: Item, now_ms: int) -> Job | None:
    """The job to store for a winning mirror copy, or None to keep the server's.

    A job the server is running (a live lease) is never overridden; a mirror job that claims to be
    running goes back to pending (no claim exists for it); one that claims to be complete counts only
    if the item really has its result.
    """
    if server is not None and server.status is JobStatus.PROCESSING and not scheduler.lease_expired(server, now_ms):
        return None
    has_result = bool(item.cutout if mirror.type is JobType.REMBG else item.model)
    status = _checked_status(mirror.status, has_result=has_result)
    return dataclasses.replace(
        mirror,
        status=status,
        progress=100 if status is JobStatus.COMPLETED else 0,
        lease_token="",
        lease_until_ms=0,
        not_before_ms=0,
    )
