"""Import boundaries: the pure core imports nothing with I/O, and only the Reflex layer imports reflex."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "home_editor"
REFLEX_LAYER = {"state", "components", "pages", "home_editor.py", "styles.py"}
IO_LIBRARIES = {"reflex", "sqlalchemy", "httpx", "PIL", "numpy", "scipy", "starlette", "asyncio", "os", "pathlib"}


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def modules(*, inside: str | None = None) -> list[Path]:
    root = PACKAGE / inside if inside else PACKAGE
    return sorted(root.rglob("*.py"))


@pytest.mark.parametrize("path", modules(inside="core"), ids=lambda p: p.name)
def test_the_core_is_pure(path: Path) -> None:
    for name in imports(path):
        top = name.split(".")[0]
        assert top not in IO_LIBRARIES, f"{path.name} imports {name}"
        if top == "home_editor":
            assert name.startswith("home_editor.core"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_only_the_reflex_layer_imports_reflex(path: Path) -> None:
    part = path.relative_to(PACKAGE).parts[0]
    if part in REFLEX_LAYER:
        return
    assert not any(name.split(".")[0] == "reflex" for name in imports(path)), path


@pytest.mark.parametrize("path", modules(inside="components"), ids=lambda p: p.name)
def test_components_never_reach_past_the_state(path: Path) -> None:
    for name in imports(path):
        for forbidden in ("store", "storage", "processing", "jobs", "core.scheduler", "library_service", "services"):
            assert not name.startswith(f"home_editor.{forbidden}"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", modules(inside="database"), ids=lambda p: p.name)
def test_every_database_module_stays_under_300_lines(path: Path) -> None:
    """The store stays in halves a reader can hold (queue transitions, item operations, their shared base)
    rather than growing back into one file."""
    lines = len(path.read_text().splitlines())
    assert lines < 300, f"database/{path.name} has {lines} lines: split it"


@pytest.mark.parametrize("path", modules(inside="jobs"), ids=lambda p: p.name)
def test_the_job_queue_leaves_images_to_processing(path: Path) -> None:
    """Pixels are processing's business: the queue moves jobs and files, never decodes an image."""
    for name in imports(path):
        assert name.split(".")[0] != "PIL", f"{path.name} imports {name}"
