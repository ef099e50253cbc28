"""Nothing server-only can be downloaded: the app runs with its default places (a user's data folder and
Reflex's upload folder, both in a temporary folder), starts over an older version's database and files
left in the upload folder (served at /_upload/), moves them out and says so, takes in a photo, and then
every file it keeps that is not a public image answers 404 at every URL we can think of. A photo with GPS
and an orientation tag is served without its private metadata, and Chromium shows it upright."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest
from playwright.sync_api import Page

from home_editor.core.models import new_id, new_library_id
from home_editor.core.storage_keys import file_key
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from tests.browser.app_server import ROOT, AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, wait_for
from tests.images import photo_bytes
from tests.unit.test_private_metadata import assert_private_metadata_gone, private_photo

pytestmark = pytest.mark.browser

OLD_LIBRARY = new_library_id()
OLD_ITEM = new_id()
MIGRATION_LINE = "moved an older version's data out of the served folder"
PUBLIC_SUFFIXES = (".jpg", ".png", ".webp", ".avif", ".heic", ".glb")


def leave_old_version_data(upload_dir: Path, seed: Path) -> None:
    """What an older version left in Reflex's upload folder: its SQLite database with -wal and -shm
    (copied while a connection holds them open) and its media folder."""
    store = LibraryStore(create_engine(f"sqlite:///{seed}"))
    store.ensure_library(OLD_LIBRARY, 1)
    upload_dir.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        source = seed.with_name(seed.name + suffix)
        assert source.exists(), f"the seed database has no {suffix or 'main'} file"
        (upload_dir / f"home_editor.db{suffix}").write_bytes(source.read_bytes())
    old_photo = upload_dir / "home_editor" / file_key(OLD_LIBRARY, OLD_ITEM, "original.jpg")
    old_photo.parent.mkdir(parents=True)
    old_photo.write_bytes(photo_bytes())


@pytest.fixture(scope="module")
def default_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app with its default places, started over an older version's data (its own frontend build)."""
    workdir = tmp_path_factory.mktemp("default-places")
    server = AppServer(workdir, own_web_dir=True, default_places=True, HOME_EDITOR_LOCAL_DELAY_SECONDS="0")
    leave_old_version_data(server.upload_dir, workdir / "seed" / "old.db")
    server.start()
    yield server
    server.stop()


def urls_for(path: Path, app: AppServer) -> set[str]:
    """Every way we can think of to ask the server for `path`: by name and by relative path under each
    served prefix, and by encoded (and double-encoded) traversal from each served folder to the file."""
    served = {
        "/_upload/": app.upload_dir,
        "/media/": app.data_dir / "media",
        "/": ROOT / "assets",
        "/assets/": app.workdir / "web" / "build" / "client",
    }
    urls = {f"/{path.name}", f"/_upload/{path.name}", f"/_upload/home_editor/{path.name}", f"/media/{path.name}"}
    for prefix, folder in served.items():
        relative = Path(*[".." for _ in folder.parts[1:]], *path.parts[1:])  # up to / and down to the file
        text = relative.as_posix()
        urls |= {
            prefix + text.replace("../", "%2e%2e/"),
            prefix + quote(text, safe=""),
            prefix + quote(text, safe="").replace(".", "%2e"),
            prefix + quote(quote(text, safe=""), safe=""),
            prefix + text.replace("/", "%5c"),
            prefix + quote(str(path), safe=""),
            prefix + "%2f" + quote(str(path)[1:], safe="/"),
        }
        if path.is_relative_to(folder):
            urls.add(prefix + path.relative_to(folder).as_posix())
    return urls


def server_files(app: AppServer) -> list[Path]:
    """Every file the app keeps: its data folder and Reflex's upload folder (public images excepted)."""
    found = [*app.data_dir.rglob("*"), *app.upload_dir.rglob("*")]
    return [path for path in found if path.is_file() and path.suffix not in PUBLIC_SUFFIXES]


def test_no_server_only_file_is_served_and_old_data_is_moved_out(
    default_app: AppServer, page: Page, images: dict[str, Path]
) -> None:
    for name in ("home_editor.db", "home_editor.db-wal", "home_editor.db-shm"):  # where older versions kept it
        assert httpx.get(f"{default_app.url}/_upload/{name}").status_code == 404
    log = default_app.log.read_text()
    assert log.count(MIGRATION_LINE) == 1, "the move of the old database is logged once"
    (line,) = [line for line in log.splitlines() if MIGRATION_LINE in line]
    assert f"the database home_editor.db to {default_app.data_dir / 'home_editor.db'}" in line
    database = default_app.data_dir / "home_editor.db"
    assert not (default_app.upload_dir / "home_editor.db").exists()
    with sqlite3.connect(database) as connection:  # the old library came along
        assert connection.execute("select count(*) from he_libraries where id = ?", (OLD_LIBRARY,)).fetchone() == (1,)
    old_key = file_key(OLD_LIBRARY, OLD_ITEM, "original.jpg")
    assert httpx.get(f"{default_app.url}/media/{old_key}").status_code == 200  # its photo is still shown
    assert httpx.get(f"{default_app.url}/_upload/home_editor/{old_key}").status_code == 404

    open_app(page, default_app)
    page.set_input_files(DROP, [images["chair.jpg"]])
    wait_for(page, all_completed(1), what="the cutout")
    library_id = local_storage(page)["library"]
    spool = default_app.data_dir / "spool"
    assert spool.is_dir() and spool.stat().st_mode & 0o077 == 0, "the spool folder is the server's alone"
    (spool / "home-editor-upload-leftover").write_bytes(b"a spooled upload " + library_id.encode())

    files = server_files(default_app)
    names = {path.name for path in files}
    assert {"home_editor.db", "home_editor.db-wal", "home_editor.db-shm", "home-editor-upload-leftover"} <= names
    served = []
    with httpx.Client(base_url=default_app.url, timeout=10) as client:
        for path in files:
            for url in urls_for(path, default_app):
                response, head = client.get(url), path.read_bytes()[:64]
                if response.status_code != 404 or (head and head in response.content):
                    served.append(f"{url} -> {response.status_code}")
    assert served == []
    assert library_id not in default_app.log.read_text() and OLD_LIBRARY not in default_app.log.read_text()


def test_a_dropped_photo_is_served_without_its_location_and_shows_upright(
    default_app: AppServer, page: Page, tmp_path: Path
) -> None:
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(private_photo("JPEG"))  # GPS, camera serial, XMP, a comment; orientation 6 (turn 90°)
    open_app(page, default_app)
    page.set_input_files(DROP, [photo])
    link = page.locator("[data-testid=open-original]").first
    link.wait_for(timeout=30_000)
    url = link.get_attribute("href")
    assert url and url.startswith(f"{default_app.url}/media/")
    assert_private_metadata_gone(httpx.get(url).content)
    shown = page.evaluate(
        "async url => { const image = new Image(); image.src = url; await image.decode();"
        " return [image.naturalWidth, image.naturalHeight]; }",
        url,
    )
    assert shown == [40, 80], "Chromium shows the 80×40 photo turned upright"
