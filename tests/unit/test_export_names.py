"""Entries of a download are named after the original files: safe (no folders, no `..`, no control
characters) and unique within one ZIP."""

from __future__ import annotations

import pytest

from home_editor.core.export_names import UniqueStems, safe_stem


@pytest.mark.parametrize(
    ("original", "stem"),
    [
        ("chair.jpg", "chair"),
        ("Living room sofa.HEIC", "Living room sofa"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win"),
        ("..", "photo"),
        ("...jpg", "jpg"),
        ("a..b.png", "a.b"),
        ("tab\there\nnew\x00line\x7f.png", "tab here new line"),
        ('what?*<>|:".png', "what_______"),
        ("  .hidden.  ", "hidden"),
        ("", "photo"),
        ("CON.jpg", "CON_"),
        ("Stuhl – grün.jpg", "Stuhl – grün"),
        ("x" * 300 + ".jpg", "x" * 80),
    ],
)
def test_a_stem_is_safe_on_every_system(original: str, stem: str) -> None:
    assert safe_stem(original) == stem


def test_stems_are_unique_in_one_download_ignoring_case() -> None:
    stems = UniqueStems()
    taken = [stems.take(name) for name in ("chair.jpg", "chair.png", "Chair.webp", "sub/chair.jpg", "lamp.jpg")]
    assert taken == ["chair", "chair (2)", "Chair (3)", "chair (4)", "lamp"]


def test_no_stem_carries_a_path_or_a_control_character() -> None:
    stems = UniqueStems()
    for name in ["../x", "/abs/y", "a/../../b", "\x01\x02", "..\\..", "c:\\z.png"]:
        stem = stems.take(name)
        assert "/" not in stem and "\\" not in stem and ".." not in stem
        assert all(ord(char) >= 32 for char in stem)
