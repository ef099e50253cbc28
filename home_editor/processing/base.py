"""The processing seam: the runner sees only this protocol (local today, the Trellis API later)."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Protocol

ProgressReport = Callable[[int, str], Awaitable[None]]
"""Called with a percentage (0–99) and a short message while a job runs."""


@dataclasses.dataclass(frozen=True)
class Cutout:
    """A background-removal result: an RGBA PNG and an optional note for the user (e.g. low confidence)."""

    png: bytes
    note: str = ""


class Processor(Protocol):
    """Turns a stored original into artefacts. Raises BadInputError (never retried) or other errors."""

    label: str

    async def remove_background(self, image: bytes, *, report: ProgressReport) -> Cutout:
        """The cutout of `image` (the stored original's bytes)."""
        ...
