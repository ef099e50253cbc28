"""Background choices: what the page may ask for, how they are kept, and the file type they export as."""

from __future__ import annotations

import pytest

from home_editor.core.backgrounds import export_suffix, fill_rgb, kind_of, parse_background
from home_editor.core.errors import BadInputError


@pytest.mark.parametrize(
    ("asked", "kept", "kind", "rgb", "suffix"),
    [
        ("transparent", "", "transparent", None, "png"),
        ("white", "white", "white", (255, 255, 255), "jpg"),
        ("#FF8800", "#ff8800", "colour", (255, 136, 0), "jpg"),
        ("shadow", "shadow", "shadow", (255, 255, 255), "jpg"),
    ],
)
def test_each_choice_is_kept_short_and_exports_as_its_type(asked, kept, kind, rgb, suffix) -> None:
    assert parse_background(asked) == kept
    assert (kind_of(kept), fill_rgb(kept), export_suffix(kept)) == (kind, rgb, suffix)


@pytest.mark.parametrize("asked", ["red", "#fff", "#12345g", "url(x)", None, 3, "#ff8800; x"])
def test_anything_else_is_refused(asked: object) -> None:
    with pytest.raises(BadInputError):
        parse_background(asked)
