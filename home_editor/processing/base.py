"""The processing seam: the job executor sees only this protocol (the local processor or the Trellis API)
and hands it one `JobContext` per attempt, built whole (`jobs.executor.Claim.context`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Protocol

ProgressReport = Callable[[int, str], Awaitable[None]]
"""Called with a percentage (0–99) and a short message while a job runs."""


@dataclasses.dataclass(frozen=True)
class Cutout:
    """A background-removal result: an RGBA PNG, an optional note for the user (e.g. low confidence), and
    the card's WebP copy when the processor made it with the cutout (else the job makes it)."""

    png: bytes
    note: str = ""
    preview: bytes = b""


@dataclasses.dataclass(frozen=True)
class Model3D:
    """A generated 3D model: an upright GLB, whether it is only the local 2.5D relief, and a note."""

    glb: bytes
    relief: bool = False
    note: str = ""


@dataclasses.dataclass(frozen=True)
class JobContext:
    """What a processor gets for one attempt of a job.

    Attributes:
        report: Progress callback; raises if the job's claim is gone (the processor should stop).
        load_image: Reads the job's input (only called when the work must really be (re)submitted): the
            original photo for a cutout, the cutout PNG for a 3D model.
        remote_id: The provider's job id from an earlier attempt ('' if none): re-attach, never resubmit.
        remember_remote_id: Persists a newly issued provider job id at once ('' forgets it).
        image_path: The job's input as a file on this machine's disk, when its storage keeps it there (else
            None): a processor working on this machine reads it there instead of calling `load_image`.
    """

    report: ProgressReport
    load_image: Callable[[], Awaitable[bytes]]
    remote_id: str = ""
    remember_remote_id: Callable[[str], Awaitable[None]] = dataclasses.field(default=lambda _id: _noop())
    image_path: Path | None = None


async def _noop() -> None:
    return None


class Processor(Protocol):
    """Turns a stored original into artefacts. Raises PermanentError (never retried) or other errors."""

    label: str

    async def remove_background(self, context: JobContext) -> Cutout:
        """The cutout of the job's image."""
        ...

    async def generate_model(self, context: JobContext) -> Model3D:
        """A 3D model from the job's image (an RGBA cutout, at most 1024 px on the long side)."""
        ...

    async def cancel_remote(self, remote_id: str) -> None:
        """Cancel and delete a provider job nobody needs any more: cancelled, its result recorded, failed for
        good, retried or its item deleted (best effort; nothing for local work)."""
        ...
