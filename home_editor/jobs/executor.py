"""The seam between the runner and the work. The runner claims a job and hands it to a `JobExecutor`
with its `Claim` (the write-backs bound to that claim); the executor does the work, building the
processor's `JobContext` from the claim and the job's input, and returns an `Outcome` the runner records.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

from home_editor.core.models import Job
from home_editor.processing.base import JobContext, ProgressReport


class ClaimLostError(Exception):
    """The job's claim is gone (cancelled by the user, or taken over after a lease expiry)."""


@dataclasses.dataclass(frozen=True)
class Claim:
    """One claimed attempt of a job, as the work sees it: write-backs bound to the claim, each raising
    `ClaimLostError` once the claim is gone (the work should then stop).

    Attributes:
        report: Stores progress (a percentage, 0–99, and a short message) and tells the library's watchers.
        remember_remote_id: Persists a newly issued provider job id at once ('' forgets it).
        remote_id: The provider's job id from an earlier attempt ('' if none): re-attach, never resubmit.
    """

    report: ProgressReport
    remember_remote_id: Callable[[str], Awaitable[None]]
    remote_id: str = ""

    def context(self, load_image: Callable[[], Awaitable[bytes]], image_path: Path | None = None) -> JobContext:
        """The processor's context for this attempt, whole: these write-backs, and the reader of the job's
        input (and its file on this machine, if it has one)."""
        return JobContext(
            report=self.report,
            load_image=load_image,
            remote_id=self.remote_id,
            remember_remote_id=self.remember_remote_id,
            image_path=image_path,
        )


@dataclasses.dataclass(frozen=True)
class Outcome:
    """A job's stored result: the file name and URL recorded on the item, a note, every key written, and
    the URLs of files stored with it (a cutout's preview)."""

    name: str
    url: str
    note: str
    keys: list[str]
    more_urls: dict[str, str] = dataclasses.field(default_factory=dict)


class JobExecutor(Protocol):
    """Does one job's work and stores its result."""

    async def run(self, library_id: str, job: Job, claim: Claim) -> Outcome:
        """Execute the job, reporting through `claim`; raise on failure."""
        ...

    async def discard(self, keys: list[str]) -> None:
        """Remove a result that will not be recorded."""
        ...

    async def cancel_remote(self, job: Job) -> None:
        """Delete the provider's record of a job (best effort): cancelled, recorded, or failed for good."""
        ...
