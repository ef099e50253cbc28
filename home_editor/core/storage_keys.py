"""Where an item's files live: keys made only from ids the server generated, never from client input."""

from __future__ import annotations

import hashlib

from home_editor.core.models import Item, new_id

ORIGINAL_STEM = "original"
THUMB_NAME = "thumb.webp"


def folder_for(library_id: str) -> str:
    """The library's public storage folder: a one-way hash, so file URLs never reveal the library id
    (which is the key to the library) and a lost database can still find the files again.
    """
    return hashlib.sha256(f"home_editor/folder/{library_id}".encode()).hexdigest()[:24]


def file_key(library_id: str, item_id: str, name: str) -> str:
    """The storage key of one of an item's files."""
    return f"{folder_for(library_id)}/{item_id}/{name}"


def original_name(extension: str) -> str:
    """The original's file name (the extension comes from the detected format, not the client's name)."""
    return f"{ORIGINAL_STEM}.{extension}"


def new_cutout_name() -> str:
    """A fresh cutout file name; a new name per result keeps browsers from showing a cached old one."""
    return f"cutout-{new_id()}.png"


def cutout_preview_name(cutout_name: str) -> str:
    """The card's small WebP copy of a cutout (same stem): the grid shows it, "open" links the full PNG."""
    return f"{cutout_name.rsplit('.', 1)[0]}.webp"


def file_names(item: Item) -> list[str]:
    """Every file an item has in storage (a cutout brings its preview)."""
    names = [item.original, item.thumb, item.cutout, item.model]
    if item.cutout:
        names.insert(3, cutout_preview_name(item.cutout))
    return [name for name in names if name]


RELIEF_STEM = "relief"


def new_model_name(*, relief: bool) -> str:
    """A fresh model file name; a local 2.5D relief is named so, which keeps that label even for an
    item recovered from the browser's mirror."""
    return f"{RELIEF_STEM if relief else 'model'}-{new_id()}.glb"


def is_relief(model_name: str) -> bool:
    """Whether a model file is the local 2.5D preview (not a reconstruction)."""
    return model_name.startswith(f"{RELIEF_STEM}-")
