"""The background an item is exported on: transparent (the cutout as it is), white, a colour, or white
with a soft contact shadow under the object. Kept with the item as a short text (pure)."""

from __future__ import annotations

import re

from home_editor.core.errors import BadInputError

TRANSPARENT = ""
WHITE = "white"
SHADOW = "shadow"
CHOICES = {"transparent": TRANSPARENT, "white": WHITE, "colour": "#d9ecea", "shadow": SHADOW}  # colour: its default
_COLOUR = re.compile(r"^#[0-9a-f]{6}$")


def parse_background(value: object) -> str:
    """The stored form of a background the page asks for; BadInputError for anything else."""
    if not isinstance(value, str):
        raise BadInputError("Choose transparent, white, a colour (#rrggbb) or a shadow.")
    text = value.strip().lower()
    if text in ("", "transparent"):
        return TRANSPARENT
    if text in (WHITE, SHADOW) or _COLOUR.match(text):
        return text
    raise BadInputError("Choose transparent, white, a colour (#rrggbb) or a shadow.")


def kind_of(background: str) -> str:
    """Which choice a stored background is: transparent, white, colour or shadow."""
    if background in (TRANSPARENT, WHITE, SHADOW):
        return {TRANSPARENT: "transparent", WHITE: "white", SHADOW: "shadow"}[background]
    return "colour"


def fill_rgb(background: str) -> tuple[int, int, int] | None:
    """The colour behind the object (None: transparent). The shadow sits on white."""
    if background == TRANSPARENT:
        return None
    if background in (WHITE, SHADOW):
        return (255, 255, 255)
    return (int(background[1:3], 16), int(background[3:5], 16), int(background[5:7], 16))


def export_suffix(background: str) -> str:
    """Transparent cutouts stay PNG; on an opaque background they become JPEG (what listings take)."""
    return "png" if background == TRANSPARENT else "jpg"
