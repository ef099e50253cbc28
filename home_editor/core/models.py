"""Records of the library: items (one uploaded photo each) and jobs (work queued for an item)."""

from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Mapping
from enum import StrEnum

ID_ALPHABET = "abcdefghijkmnpqrstuvwxyz23456789"
ID_LENGTH = 12
LIBRARY_ID_LENGTH = 24
_ID_PATTERN = re.compile(f"^[{ID_ALPHABET}]{{{ID_LENGTH}}}$")
_LIBRARY_ID_PATTERN = re.compile(f"^[{ID_ALPHABET}]{{{LIBRARY_ID_LENGTH}}}$")


class JobStatus(StrEnum):
    """Where a job is in its life; `ACTIVE` ones still need work, `TERMINAL` ones are settled."""

    PENDING = "pending"
    PROCESSING = "processing"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = frozenset({JobStatus.PENDING, JobStatus.PROCESSING})
TERMINAL_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED, JobStatus.CANCELLED})
SETTLED_WITHOUT_RESULT = frozenset({JobStatus.FAILED, JobStatus.CANCELLED})  # what Retry can start again
ENDED_STATUSES = frozenset({JobStatus.COMPLETED, JobStatus.FAILED})  # what a user is told about when reached


class JobType(StrEnum):
    """What a job produces. `REMBG` makes the cutout; `GLB` (a 3D model) arrives with the 3D work."""

    REMBG = "rembg"
    GLB = "glb"


@dataclasses.dataclass(frozen=True)
class ItemFields:
    """The item's fields that mirror one job type's latest job: its result file, status, error and note."""

    result: str
    status: str
    error: str
    note: str


ITEM_FIELDS = {
    JobType.REMBG: ItemFields("cutout", "cutout_status", "cutout_error", "cutout_note"),
    JobType.GLB: ItemFields("model", "model_status", "model_error", "model_note"),
}


class Priority:
    """Higher runs first; within a priority the oldest job runs first."""

    BATCH = 0
    NORMAL = 10
    USER = 20


def new_id(length: int = ID_LENGTH) -> str:
    """A random id from an unambiguous lower-case alphabet (12 chars = 60 bits)."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(length))


def new_library_id() -> str:
    """A random library id (24 chars = 120 bits): it is the key to a library, so it must be unguessable."""
    return new_id(LIBRARY_ID_LENGTH)


def is_record_id(value: object) -> bool:
    """Whether `value` is an item or job id this app could have generated."""
    return isinstance(value, str) and bool(_ID_PATTERN.match(value))


def is_library_id(value: object) -> bool:
    """Whether `value` is a well-formed library id."""
    return isinstance(value, str) and bool(_LIBRARY_ID_PATTERN.match(value))


@dataclasses.dataclass(frozen=True)
class Item:
    """One uploaded photo and the files made from it. File names are relative to the item's folder;
    `urls` maps each stored file's name to the public URL its storage returned (server side only).
    The cutout and model statuses mirror the item's latest job of each type (None: never asked for),
    so they outlive the jobs, which are cleaned up.
    """

    id: str
    name: str
    created_ms: int
    updated_ms: int
    original: str = ""
    thumb: str = ""
    cutout: str = ""
    cutout_status: JobStatus = JobStatus.PENDING
    cutout_error: str = ""
    cutout_note: str = ""
    model: str = ""
    model_status: JobStatus | None = None
    model_error: str = ""
    model_note: str = ""
    background: str = ""  # what the cutout is exported on (core/backgrounds.py); "" is transparent
    urls: Mapping[str, str] = dataclasses.field(default_factory=dict, compare=False)

    def status_of(self, job_type: JobType) -> JobStatus | None:
        """The status of the item's latest job of this type (None: never asked for)."""
        return getattr(self, ITEM_FIELDS[job_type].status)

    def error_of(self, job_type: JobType) -> str:
        """Why the item's latest job of this type failed ('' when it did not)."""
        return getattr(self, ITEM_FIELDS[job_type].error)


@dataclasses.dataclass(frozen=True)
class Job:
    """A unit of queued work for one item.

    `attempts` counts claims (each claim is one execution); `not_before_ms` holds a retry back; a
    `processing` job belongs to the claim whose `lease_token` it carries until `lease_until_ms`.
    `remote_id` is the provider's job id once submitted, so a restarted runner re-attaches to it.
    """

    id: str
    item_id: str
    type: JobType
    created_ms: int
    updated_ms: int
    status: JobStatus = JobStatus.PENDING
    priority: int = Priority.NORMAL
    attempts: int = 0
    progress: int = 0
    message: str = ""
    error: str = ""
    not_before_ms: int = 0
    lease_token: str = ""
    lease_until_ms: int = 0
    remote_id: str = ""
    started_ms: int = 0

    @property
    def is_active(self) -> bool:
        """Whether the job still needs work."""
        return self.status in ACTIVE_STATUSES


@dataclasses.dataclass(frozen=True)
class Snapshot:
    """A library's live items (newest first) and all its jobs (oldest first)."""

    items: list[Item]
    jobs: list[Job]
