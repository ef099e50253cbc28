"""Serves local-storage files at /media/<key> with safe headers: only app-made keys, a fixed content type
per suffix, `nosniff`, and `inline` only for images and models (`?download=1` asks for an attachment).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response
from starlette.routing import Route

from home_editor.core.errors import StorageError
from home_editor.storage.base import check_key, content_type_for


def media_app(root: Callable[[], Path]) -> Starlette:
    """A Starlette app with the /media route; `root` gives the storage folder (read per request)."""

    async def serve(request: Request) -> Response:
        key = request.path_params["key"]
        try:
            path = root() / check_key(key)
        except StorageError:
            return PlainTextResponse("Not found", status_code=404)
        if not path.is_file():
            return PlainTextResponse("Not found", status_code=404)
        disposition = "attachment" if request.query_params.get("download") else "inline"
        return FileResponse(
            path,
            media_type=content_type_for(key),
            headers={
                "X-Content-Type-Options": "nosniff",
                "Content-Disposition": f'{disposition}; filename="{path.name}"',
                "Cache-Control": "public, max-age=31536000, immutable",
                "Content-Security-Policy": "default-src 'none'; sandbox",
            },
        )

    return Starlette(routes=[Route("/media/{key:path}", serve, methods=["GET", "HEAD"])])
