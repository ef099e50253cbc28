"""The notes a cutout carries, and what they say about the result: the page's toast and card read a
result from its note ("Background removed" only when it was)."""

from __future__ import annotations

KEPT_WHOLE = "the photo is kept as it was"
DOUBTFUL = "Doubtful cutout"


def kept_whole_note(reason: str) -> str:
    """The note of a cutout that gave up: the photo is stored unchanged."""
    return f"Low confidence: {reason}; {KEPT_WHOLE}."


def doubtful_note(reason: str) -> str:
    """The note of a cutout that was made but may be wrong."""
    return f"{DOUBTFUL}: {reason}; check the edges."


def background_kept(note: str) -> bool:
    """Whether the result is the photo unchanged (no background was removed)."""
    return KEPT_WHOLE in note or "already transparent" in note


def is_doubtful(note: str) -> bool:
    """Whether the cutout was made but is doubtful."""
    return note.startswith(DOUBTFUL)
