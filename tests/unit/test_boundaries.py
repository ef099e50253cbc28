"""Import boundaries: the pure core imports nothing with I/O, only the Reflex layer imports reflex, and
the Reflex layer reaches the rest of the app through one facade.

The transitive rules are computed from the import graph of `home_editor` (an edge for every
`import home_editor.x` and `from home_editor.x import y`, to the module `home_editor.x.y` when that is a
module, else to `home_editor.x`; a package's `__init__` counts as the package):

- The state layer's *gateways* are its only edges out of `core` and `state`: a module under `state/` to
  a facade module (`FACADE`: `home_editor.library_service`), and `state/process_services.py` (which builds
  the process's services) to the composition root, settings and data folder (`COMPOSITION`).
- Modules under `state/` import, of the app, only `home_editor.core.*`, `home_editor.state.*` and their
  gateways (checked on direct imports).
- Cutting the gateway edges, nothing under `state/`, `components/` or `pages/` reaches any module under
  `database/`, `storage/`, `processing/` or `jobs/` (nor the modules behind the facade) by any path:
  the Reflex layer touches the app's I/O only through a gateway.
- The facade modules never import `processing/` (image checks are handed in by the composition root).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).parents[2] / "home_editor"
REFLEX_LAYER = {"state", "components", "pages", "home_editor.py", "styles.py"}
IO_LIBRARIES = {"reflex", "sqlalchemy", "httpx", "PIL", "numpy", "scipy", "starlette", "asyncio", "os", "pathlib"}
FACADE = {"home_editor.library_service"}
BEHIND_THE_FACADE = {"home_editor.upload_intake", "home_editor.mirror_recovery", "home_editor.app_wiring"}
COMPOSITION = {"home_editor.app_wiring", "home_editor.settings", "home_editor.data_folder"}
PROCESS_SERVICES = "home_editor.state.process_services"
IO_PACKAGES = ("database", "storage", "processing", "jobs")


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
        for forbidden in (
            "database",
            "storage",
            "processing",
            "jobs",
            "core.scheduler",
            "library_service",
            "app_wiring",
        ):
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


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {module_name(path): path for path in modules()}


def app_imports(path: Path) -> set[str]:
    """The app's modules that `path` imports directly (`from package import module` names the module)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names if alias.name.split(".")[0] == "home_editor"}
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "home_editor":
            named = {f"{node.module}.{alias.name}" for alias in node.names} & MODULES.keys()
            found |= named or {node.module}
    return found


GRAPH = {name: app_imports(path) for name, path in MODULES.items()}


def is_gateway(importer: str, imported: str) -> bool:
    """The state layer's allowed edges out of core and state."""
    if not importer.startswith("home_editor.state."):
        return False
    return imported in FACADE or (importer == PROCESS_SERVICES and imported in COMPOSITION)


def reached(start: str) -> dict[str, list[str]]:
    """Every module `start` reaches with the gateway edges cut, each with one import path to it."""
    paths = {start: [start]}
    todo = [start]
    while todo:
        current = todo.pop()
        for imported in sorted(GRAPH.get(current, ())):
            if imported not in paths and not is_gateway(current, imported):
                paths[imported] = [*paths[current], imported]
                todo.append(imported)
    return paths


def forbidden_for_the_reflex_layer(name: str) -> bool:
    return name in FACADE | BEHIND_THE_FACADE or any(
        name == f"home_editor.{package}" or name.startswith(f"home_editor.{package}.") for package in IO_PACKAGES
    )


def test_the_import_graph_is_read() -> None:
    assert "home_editor.core.models" in GRAPH["home_editor.state.library_state"]
    assert "home_editor.library_service" in GRAPH["home_editor.state.library_state"]
    assert "home_editor.core.reconcile" in GRAPH["home_editor.mirror_recovery"]  # `from package import module`


@pytest.mark.parametrize("path", modules(inside="state"), ids=lambda p: p.name)
def test_the_state_layer_imports_only_core_state_and_its_gateways(path: Path) -> None:
    importer = module_name(path)
    for name in GRAPH[importer]:
        allowed = name.startswith(("home_editor.core.", "home_editor.state.")) or is_gateway(importer, name)
        assert allowed, f"{path.name} imports {name}"


@pytest.mark.parametrize(
    "path",
    [*modules(inside="state"), *modules(inside="components"), *modules(inside="pages")],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_the_reflex_layer_reaches_the_apps_io_only_through_a_gateway(path: Path) -> None:
    for name, route in reached(module_name(path)).items():
        assert not forbidden_for_the_reflex_layer(name), " -> ".join(route)


@pytest.mark.parametrize("name", sorted(FACADE | (BEHIND_THE_FACADE - COMPOSITION)))
def test_the_facade_never_imports_processing(name: str) -> None:
    for imported in GRAPH[name]:
        assert not imported.startswith("home_editor.processing"), f"{name} imports {imported}"
