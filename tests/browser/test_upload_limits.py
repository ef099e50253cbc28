"""Upload limits enforced while the bytes arrive, tried from outside the page as an attacker would: a
`POST /_upload` sent by hand (the two Reflex headers, any body) against the real running app."""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterable, Iterator
from pathlib import Path

import httpx
import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from home_editor.database.schema import items, libraries
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, open_app
from tests.images import photo_bytes

pytestmark = pytest.mark.browser
MB = 2**20
CAP = 25 * MB  # the app's default HOME_EDITOR_MAX_UPLOAD_MB


def upload_headers(page: Page, app: AppServer, photo: Path) -> dict[str, str]:
    """The page's own upload headers (its token and the handler's name), read off one real drop."""
    sent: dict[str, str] = {}
    page.on("request", lambda request: sent.update(request.headers) if "/_upload" in request.url else None)
    open_app(page, app)
    page.set_input_files(DROP, [photo])
    expect(page.locator("[data-testid=item-card]")).to_have_count(1, timeout=30_000)
    return {"reflex-client-token": sent["reflex-client-token"], "reflex-event-handler": sent["reflex-event-handler"]}


def zeros(size: int) -> Iterator[bytes]:
    for _ in range(size // MB):
        yield bytes(MB)


def multipart(files: list[tuple[str, Iterable[bytes]]], boundary: str) -> Iterator[bytes]:
    """A multipart body streamed part by part, as a browser (or a script) sends it."""
    for name, content in files:
        yield (
            f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="{name}"\r\n'
            "Content-Type: image/jpeg\r\n\r\n"
        ).encode()
        yield from content
        yield b"\r\n"
    yield f"--{boundary}--\r\n".encode()


def post_upload(app: AppServer, headers: dict[str, str], files: list[tuple[str, Iterable[bytes]]]) -> None:
    boundary = secrets.token_hex(12)
    with contextlib.suppress(httpx.HTTPError):  # a server may hang up on a body it refuses to read
        httpx.post(
            f"{app.url}/_upload",
            headers={**headers, "content-type": f"multipart/form-data; boundary={boundary}"},
            content=multipart(files, boundary),
            timeout=120,
        )


def spool_files(app: AppServer) -> list[Path]:
    folder = app.data_dir / "spool"
    return sorted(folder.iterdir()) if folder.exists() else []


def test_a_300_mb_file_is_abandoned_at_the_cap_while_it_arrives(app: AppServer, page: Page, tmp_path: Path) -> None:
    photo = tmp_path / "chair.jpg"
    photo.write_bytes(photo_bytes())
    headers = upload_headers(page, app, photo)
    written_before = app.bytes_written()
    post_upload(app, headers, [("huge.jpg", zeros(300 * MB))])
    written = app.bytes_written() - written_before
    assert written < CAP + 5 * MB, f"the app wrote {written / MB:.0f} MB for a file it refuses past 25 MB"
    expect(page.get_by_text("“huge.jpg” was not added: it is larger than 25 MB.")).to_be_visible(timeout=30_000)
    expect(page.locator("[data-testid=item-card]")).to_have_count(1)  # nothing was added for it
    assert spool_files(app) == []  # its bytes are gone


def test_an_over_cap_file_inside_a_drop_does_not_stop_the_others(app: AppServer, page: Page, tmp_path: Path) -> None:
    photo = tmp_path / "chair.jpg"
    photo.write_bytes(photo_bytes())
    headers = upload_headers(page, app, photo)
    files = [("lamp.jpg", [photo_bytes("gradient")]), ("big.jpg", zeros(30 * MB)), ("sofa.jpg", [photo_bytes()])]
    post_upload(app, headers, files)
    expect(page.get_by_text("“big.jpg” was not added: it is larger than 25 MB.")).to_be_visible(timeout=30_000)
    cards = page.locator("[data-testid=item-card]")
    expect(cards).to_have_count(3, timeout=30_000)  # chair from the page, lamp and sofa from the drop
    expect(page.get_by_text("lamp.jpg").first).to_be_visible()
    expect(page.get_by_text("sofa.jpg").first).to_be_visible()
    expect(page.get_by_text("big.jpg", exact=True)).to_have_count(0)
    assert spool_files(app) == []


def test_an_upload_with_a_made_up_token_creates_nothing(app: AppServer, page: Page, tmp_path: Path) -> None:
    photo = tmp_path / "chair.jpg"
    photo.write_bytes(photo_bytes())
    handler = upload_headers(page, app, photo)["reflex-event-handler"]  # the real handler, as the page names it
    media = app.workdir / "media"
    files_before = sorted(media.rglob("*")) if media.exists() else []
    engine = sa.create_engine(app.db_url)
    with engine.connect() as conn:
        libraries_before = conn.execute(sa.select(sa.func.count()).select_from(libraries)).scalar_one()
        items_before = conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one()
    post_upload(
        app,
        {"reflex-client-token": str(uuid.uuid4()), "reflex-event-handler": handler},
        [("chair.jpg", [photo_bytes()])],
    )
    with engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(libraries)).scalar_one() == libraries_before
        assert conn.execute(sa.select(sa.func.count()).select_from(items)).scalar_one() == items_before
    assert (sorted(media.rglob("*")) if media.exists() else []) == files_before
    assert spool_files(app) == []
    engine.dispose()
