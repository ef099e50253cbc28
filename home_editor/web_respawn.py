"""Keep the web tier up when one of its workers dies.

`reflex run --env prod` (Reflex 0.10.1) starts granian without `respawn_failed_workers`, and granian then
treats one worker's unexpected exit (SIGKILL, the OOM killer, a crash in native code) as the end of the
whole server: it stops every other worker and the app goes down, with every tab on it. Here granian's
default is turned around for servers that do not hot-reload (prod): a worker that dies is replaced at once,
and the tabs it served reconnect to the others (their state is in Redis, their data in the database).
Dev mode (hot reload) keeps granian's own handling.
"""

from __future__ import annotations

import functools
from typing import Any


def respawn_failed_web_workers() -> None:
    """Make granian servers created from now on respawn a worker that exits unexpectedly (idempotent)."""
    try:
        from granian.server.common import AbstractServer
    except ImportError:  # uvicorn instead of granian: one process, nothing to respawn
        return
    original = AbstractServer.__init__
    if getattr(original, "_home_editor_respawns", False):
        return

    @functools.wraps(original)
    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        if not kwargs.get("reload"):
            kwargs.setdefault("respawn_failed_workers", True)
        original(self, *args, **kwargs)

    init._home_editor_respawns = True  # type: ignore[attr-defined]
    AbstractServer.__init__ = init  # type: ignore[method-assign]
