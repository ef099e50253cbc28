"""The download routes.

`POST /export/zip` sends one ZIP of a library's items. The library's key travels in the form body
(never in a URL, which ends up in logs and history); the body names the items (`items`, comma-separated
ids) or asks for all (`scope=all`); only that library's items can be in it.

`GET /export/image/<cutout key>?background=…` sends one cutout on a background (a JPEG; the stored PNG
when transparent), `&download=1&name=…` as an attachment. It reads only the public file its key names,
as /media does, so it needs no key; the card's previews use it with the small WebP copy.
"""

from __future__ import annotations

import logging
import urllib.parse
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from home_editor.core.backgrounds import TRANSPARENT, export_suffix, parse_background
from home_editor.core.errors import BadInputError, HomeEditorError, StorageError
from home_editor.core.export_names import safe_stem
from home_editor.core.models import is_record_id
from home_editor.export.export_service import ComposerBusyError, ExportService, UnknownLibraryError
from home_editor.export.zip_stream import stream_zip
from home_editor.storage.base import check_key

logger = logging.getLogger(__name__)
MAX_FORM_BYTES = 256 * 1024  # ~18,000 item ids
ZIP_NAME = "home-editor-cutouts.zip"
_CUTOUT_FILE = ("cutout-",)
_SAFE_HEADERS = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "default-src 'none'; sandbox"}


def export_routes(exports: Callable[[], ExportService]) -> list[Route]:
    """The routes; `exports` gives the process's export service (built on first use)."""

    async def download_zip(request: Request) -> Response:
        form = await _small_form(request)
        if form is None:
            return PlainTextResponse("The request is too large.", status_code=413)
        named = [item_id for item_id in form.get("items", "").split(",") if is_record_id(item_id)]
        chosen = None if form.get("scope") == "all" else named
        try:
            service = exports()
            items = await service.items_to_export(form.get("library", ""), chosen)
        except UnknownLibraryError:
            return PlainTextResponse("Nothing to download: this page's library is unknown here.", status_code=404)
        if not items:
            return PlainTextResponse("Nothing to download: none of these photos has a cutout yet.", status_code=404)
        return StreamingResponse(
            stream_zip(service.entries(form["library"], items)),
            media_type="application/zip",
            headers={
                **_SAFE_HEADERS,
                "Content-Disposition": f'attachment; filename="{ZIP_NAME}"',
                "Cache-Control": "no-store",
            },
        )

    async def download_image(request: Request) -> Response:
        key = request.path_params["key"]
        try:
            background = parse_background(request.query_params.get("background", ""))
            check_key(key)
            if not key.rsplit("/", 1)[-1].startswith(_CUTOUT_FILE):
                raise BadInputError("not a cutout")
        except HomeEditorError:
            return PlainTextResponse("Not found", status_code=404)
        try:
            data = await exports().image(key, background, refuse_when_busy=True)
        except StorageError:
            return PlainTextResponse("Not found", status_code=404)
        except ComposerBusyError:
            return PlainTextResponse(
                "Busy composing pictures; try again in a moment.", status_code=503, headers={"Retry-After": "2"}
            )
        suffix = key.rsplit(".", 1)[-1] if background == TRANSPARENT else export_suffix(background)
        name = f"{safe_stem(request.query_params.get('name', '') or 'cutout')}.{suffix}"
        disposition = "attachment" if request.query_params.get("download") else "inline"
        return Response(
            data,
            media_type={"png": "image/png", "webp": "image/webp"}.get(suffix, "image/jpeg"),
            headers={
                **_SAFE_HEADERS,
                "Content-Disposition": f"{disposition}; filename*=UTF-8''{urllib.parse.quote(name)}",
                "Cache-Control": "public, max-age=31536000, immutable",  # every cutout has a new name
            },
        )

    return [
        Route("/export/zip", download_zip, methods=["POST"]),
        Route("/export/image/{key:path}", download_image, methods=["GET"]),
    ]


async def _small_form(request: Request) -> dict[str, str] | None:
    """The url-encoded form body (first value per field), or None when it passes the size cap."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            return None
    try:
        fields = urllib.parse.parse_qs(body.decode("utf-8", "replace"), max_num_fields=16)
    except ValueError:  # too many fields
        return None
    return {name: values[0] for name, values in fields.items()}
