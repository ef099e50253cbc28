"""The app as README's "Database: Postgres" starts it: `HOME_EDITOR_DB_URL=postgresql://…` and
`reflex run --env prod`, in real Chromium against a real Postgres."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page

from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, local_storage, open_app, processing, statuses, wait_for

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def postgres_app(postgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppServer, str]]:
    url = postgres.new_database()
    plain = url.replace("postgresql+psycopg://", "postgresql://")  # as README writes it
    server = AppServer(
        tmp_path_factory.mktemp("pg-app"),
        own_web_dir=True,  # a prod build of its own: the session's app keeps serving its own build meanwhile
        HOME_EDITOR_DB_URL=plain,
        HOME_EDITOR_POLL_SECONDS="1",
    )
    server.start()
    yield server, url
    server.stop()
    postgres.drop_database(url)


def test_the_app_keeps_its_library_in_postgres(postgres_app: tuple[AppServer, str], page: Page, images) -> None:
    app, url = postgres_app
    open_app(page, app)
    with app.hold_local_jobs():
        page.set_input_files(DROP, [images["chair.jpg"], images["lamp.png"], images["table.webp"]])
        wait_for(page, processing(2, of=3), what="two jobs processing")
        before = statuses(page)
        page.reload()
        page.wait_for_selector("[data-ready=true]")
        assert statuses(page) == before
    wait_for(page, all_completed(3), what="three cutouts")

    engine = create_engine(url)
    snapshot = LibraryStore(engine).snapshot(local_storage(page)["library"])
    engine.dispose()
    assert len(snapshot.items) == 3 and all(item.cutout for item in snapshot.items)
    runs = app.executions()
    assert {job.id: runs[job.id] for job in snapshot.jobs} == {job.id: 1 for job in snapshot.jobs}
    assert not (Path(app.env["HOME_EDITOR_DATA_DIR"]) / "home_editor.db").exists()
    assert not Path(sa.engine.make_url(app.db_url).database).exists()  # no SQLite store was made instead
