"""Serves local-storage files at /media/<key> with safe headers: only app-made keys, a fixed content type
per suffix, `nosniff`, and `inline` only for images and models (`?download=1` asks for an attachment).
A small file (a card's thumbnail or preview) is read whole in one hand-off to a thread; a large one is
streamed (and answers Range requests).
"""

from __future__ import annotations

import asyncio
import os
import stat
from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from home_editor.core.errors import StorageError
from home_editor.storage.base import check_key, content_type_for

SMALL_FILE_BYTES = 256 * 1024


def media_app(root: Callable[[], Path]) -> Starlette:
    """A Starlette app with the /media route; `root` gives the storage folder (read per request)."""

    async def serve(request: Request) -> Response:
        key = request.path_params["key"]
        try:
            path = root() / check_key(key)
        except StorageError:
            return PlainTextResponse("Not found", status_code=404)
        whole = request.method == "GET" and "range" not in request.headers
        found = await asyncio.to_thread(_read_if_small, path) if whole else _LARGE
        if found is None or (found is _LARGE and not await asyncio.to_thread(path.is_file)):
            return PlainTextResponse("Not found", status_code=404)
        disposition = "attachment" if request.query_params.get("download") else "inline"
        headers = {
            "X-Content-Type-Options": "nosniff",
            "Content-Disposition": f'{disposition}; filename="{path.name}"',
            "Cache-Control": "public, max-age=31536000, immutable",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        }
        if isinstance(found, bytes):
            return Response(found, media_type=content_type_for(key), headers=headers)
        return FileResponse(path, media_type=content_type_for(key), headers=headers)

    return Starlette(routes=[Route("/media/{key:path}", serve, methods=["GET", "HEAD"])])


_LARGE = object()  # the file exists but is streamed, not read whole


def _read_if_small(path: Path) -> bytes | object | None:
    """A regular file's bytes when it is small, `_LARGE` when it is not, None when there is none."""
    try:
        with path.open("rb") as file:
            status = os.fstat(file.fileno())
            if not stat.S_ISREG(status.st_mode):
                return None
            return file.read() if status.st_size <= SMALL_FILE_BYTES else _LARGE
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return None
