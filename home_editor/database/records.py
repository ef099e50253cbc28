"""Conversions between table rows and the core's records."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import Any

from home_editor.core.models import Item, Job, JobStatus, JobType

_ITEM_FIELDS = [field.name for field in dataclasses.fields(Item) if field.name != "urls"]
_JOB_FIELDS = [field.name for field in dataclasses.fields(Job)]


def item_from_row(row: Mapping[str, Any]) -> Item:
    """The item in a `he_items` row."""
    values = {name: row[name] for name in _ITEM_FIELDS}
    values["cutout_status"] = JobStatus(values["cutout_status"])
    values["model_status"] = JobStatus(values["model_status"]) if values["model_status"] else None
    return Item(**values, urls=json.loads(row["file_urls"] or "{}"))


def item_values(item: Item) -> dict[str, Any]:
    """Column values for an item."""
    values = {name: getattr(item, name) for name in _ITEM_FIELDS}  # flat: no deep copy (`asdict`) per write
    values["cutout_status"] = item.cutout_status.value
    values["model_status"] = item.model_status.value if item.model_status else ""
    values["file_urls"] = json.dumps(dict(item.urls), sort_keys=True)
    return values


def job_from_row(row: Mapping[str, Any]) -> Job:
    """The job in a `he_jobs` row."""
    values = {name: row[name] for name in _JOB_FIELDS}
    values["type"] = JobType(values["type"])
    values["status"] = JobStatus(values["status"])
    return Job(**values)


def job_values(job: Job) -> dict[str, Any]:
    """Column values for a job."""
    values = {name: getattr(job, name) for name in _JOB_FIELDS}
    values["type"] = job.type.value
    values["status"] = job.status.value
    return values
