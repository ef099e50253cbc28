"""The browser's copy of the library (rx.LocalStorage strings): compact versioned JSON, ids, file names,
statuses, progress, timestamps and short error texts only. Decoding never raises: anything garbled,
forged, of another version or too large decodes to an empty list, and the server's copy refills it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from typing import Any

from home_editor.core.models import ACTIVE_STATUSES, Item, Job, JobStatus, JobType, is_record_id

VERSION = 1
ITEMS_KEY = "home_editor.items.v1"
JOBS_KEY = "home_editor.jobs.v1"
LIBRARY_KEY = "home_editor.library.v1"
# Each of the two mirror strings stays below this; together they stay well inside Reflex's ~1 MB hydrate.
MAX_MIRROR_CHARS = 400_000
MAX_NAME_CHARS = 80
MAX_TEXT_CHARS = 120
MAX_TIME_MS = 10**14
FILE_NAME_PATTERN = re.compile(r"^[a-z]{1,12}(-[a-z0-9]{12})?\.(jpg|png|webp|avif|heic|glb)$")
_STATUSES = {status.value: status for status in JobStatus}
_TYPES = {job_type.value: job_type for job_type in JobType}
# Control characters and bidirectional overrides make names that display misleadingly.
_UNSAFE_TEXT = re.compile("[\x00-\x1f\x7f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def clean_text(value: object, limit: int) -> str:
    """A display-safe string: control and bidi-override characters removed, cut to `limit` characters."""
    if not isinstance(value, str):
        return ""
    text = _UNSAFE_TEXT.sub("", value).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _file_name(value: object) -> str:
    return value if isinstance(value, str) and FILE_NAME_PATTERN.match(value) else ""


def _time(value: object) -> int:
    return value if isinstance(value, int) and 0 <= value < MAX_TIME_MS else 0


def _small_int(value: object, low: int, high: int) -> int:
    return min(max(value, low), high) if isinstance(value, int) and not isinstance(value, bool) else low


def _item_row(item: Item) -> list[Any]:
    return [
        item.id,
        clean_text(item.name, MAX_NAME_CHARS),
        item.created_ms,
        item.updated_ms,
        item.original,
        item.thumb,
        item.cutout,
        item.cutout_status.value,
        clean_text(item.cutout_error, MAX_TEXT_CHARS),
        clean_text(item.cutout_note, MAX_TEXT_CHARS),
        item.model,
        item.model_status.value if item.model_status else "",
        clean_text(item.model_error, MAX_TEXT_CHARS),
    ]


def _item_from_row(row: object) -> Item | None:
    """Rows have 13 fields (10 before 3D models existed: those are still read)."""
    if not isinstance(row, list) or len(row) not in (10, 13) or not is_record_id(row[0]):
        return None
    status = _STATUSES.get(row[7]) if isinstance(row[7], str) else None
    model_fields = row[10:] if len(row) == 13 else ["", "", ""]
    return Item(
        id=row[0],
        name=clean_text(row[1], MAX_NAME_CHARS) or "image",
        created_ms=_time(row[2]),
        updated_ms=_time(row[3]),
        original=_file_name(row[4]),
        thumb=_file_name(row[5]),
        cutout=_file_name(row[6]),
        cutout_status=status or JobStatus.PENDING,
        cutout_error=clean_text(row[8], MAX_TEXT_CHARS),
        cutout_note=clean_text(row[9], MAX_TEXT_CHARS),
        model=_file_name(model_fields[0]),
        model_status=_STATUSES.get(model_fields[1]) if isinstance(model_fields[1], str) else None,
        model_error=clean_text(model_fields[2], MAX_TEXT_CHARS),
    )


def _job_row(job: Job) -> list[Any]:
    return [
        job.id,
        job.item_id,
        job.type.value,
        job.status.value,
        job.priority,
        job.attempts,
        job.progress,
        clean_text(job.error, MAX_TEXT_CHARS),
        job.created_ms,
        job.updated_ms,
    ]


def _job_from_row(row: object) -> Job | None:
    if not isinstance(row, list) or len(row) != 10 or not (is_record_id(row[0]) and is_record_id(row[1])):
        return None
    job_type = _TYPES.get(row[2]) if isinstance(row[2], str) else None
    status = _STATUSES.get(row[3]) if isinstance(row[3], str) else None
    if job_type is None or status is None:
        return None
    return Job(
        id=row[0],
        item_id=row[1],
        type=job_type,
        status=status,
        priority=_small_int(row[4], 0, 100),
        attempts=_small_int(row[5], 0, 10),
        progress=_small_int(row[6], 0, 100),
        error=clean_text(row[7], MAX_TEXT_CHARS),
        created_ms=_time(row[8]),
        updated_ms=_time(row[9]),
    )


def _encode(key: str, rows: list[list[Any]]) -> str:
    return json.dumps({"v": VERSION, key: rows}, separators=(",", ":"), ensure_ascii=False)


def _decode(raw: object, key: str, parse: Callable[[object], Any]) -> list[Any]:
    if not isinstance(raw, str) or not raw or len(raw) > MAX_MIRROR_CHARS:
        return []
    try:
        payload = json.loads(raw)
    except (ValueError, RecursionError):
        return []
    if not isinstance(payload, dict) or payload.get("v") != VERSION or not isinstance(payload.get(key), list):
        return []
    records, seen = [], set()
    for row in payload[key]:
        record = parse(row)
        if record is not None and record.id not in seen:
            seen.add(record.id)
            records.append(record)
    return records


def _fit(key: str, rows: list[list[Any]]) -> str:
    """Encode, dropping rows from the end until the string fits the budget (the server keeps them all)."""
    text = _encode(key, rows)
    while len(text) > MAX_MIRROR_CHARS and rows:
        rows = rows[: len(rows) * 9 // 10]
        text = _encode(key, rows)
    return text


def encode_items(items: Sequence[Item]) -> str:
    """The items mirror string, newest first."""
    ordered = sorted(items, key=lambda item: (-item.created_ms, item.id))
    return _fit("items", [_item_row(item) for item in ordered])


def decode_items(raw: object) -> list[Item]:
    """Items from a mirror string; [] for anything unreadable."""
    return _decode(raw, "items", _item_from_row)


def encode_jobs(jobs: Sequence[Job]) -> str:
    """The jobs mirror string, active jobs first, then newest first."""
    ordered = sorted(jobs, key=lambda job: (job.status not in ACTIVE_STATUSES, -job.updated_ms, job.id))
    return _fit("jobs", [_job_row(job) for job in ordered])


def decode_jobs(raw: object) -> list[Job]:
    """Jobs from a mirror string; [] for anything unreadable."""
    return _decode(raw, "jobs", _job_from_row)
