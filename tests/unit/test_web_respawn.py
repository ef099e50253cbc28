"""granian, as `reflex run --env prod` starts it, replaces a web worker that dies (its own default stops
every worker and the app); a hot-reloading dev server keeps granian's handling."""

from __future__ import annotations

from granian.constants import Interfaces
from granian.server import Server

from home_editor.web_respawn import respawn_failed_web_workers


def _server(**options: object) -> Server:
    return Server(target="home_editor.home_editor:app", interface=Interfaces.ASGI, workers=2, **options)


def test_a_prod_server_respawns_a_failed_worker_and_a_reloading_one_keeps_the_default() -> None:
    respawn_failed_web_workers()
    respawn_failed_web_workers()  # idempotent
    assert _server().respawn_failed_workers is True
    assert _server(respawn_failed_workers=False).respawn_failed_workers is False  # an explicit choice stands
    assert _server(reload=True).respawn_failed_workers is False
