"""Names of the files in a download: after the photo's original file name, safe on every system and
unique within one ZIP (pure)."""

from __future__ import annotations

import re
import unicodedata

MAX_STEM = 80
FALLBACK_STEM = "photo"
_UNSAFE = re.compile(r'[<>:"/\\|?*]')  # path separators and what Windows refuses in a name
_RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(10)), *(f"lpt{n}" for n in range(10))}


def safe_stem(original_name: str) -> str:
    """The original's name without its folder and suffix, as a safe file-name stem: no path separators,
    no `..`, no control characters, no leading or trailing dots or spaces, at most 80 characters."""
    name = re.split(r"[/\\]", original_name)[-1]
    stem = name.rsplit(".", 1)[0] if "." in name.strip(".") else name
    kept = "".join(" " if unicodedata.category(char)[0] in "CZ" and char != " " else char for char in stem)
    kept = _UNSAFE.sub("_", unicodedata.normalize("NFC", kept))
    kept = re.sub(r"\.{2,}", ".", re.sub(r"\s+", " ", kept)).strip(" .")[:MAX_STEM].strip(" .")
    if not kept or kept.lower() in _RESERVED:
        return kept + "_" if kept else FALLBACK_STEM
    return kept


class UniqueStems:
    """Hands out stems unique within one download, ignoring case: "chair", "chair (2)", "chair (3)"."""

    def __init__(self) -> None:
        self._taken: set[str] = set()

    def take(self, original_name: str) -> str:
        """A stem for this item's files (its cutout and its model share it)."""
        base = safe_stem(original_name)
        stem, number = base, 1
        while stem.lower() in self._taken:
            number += 1
            stem = f"{base} ({number})"
        self._taken.add(stem.lower())
        return stem
