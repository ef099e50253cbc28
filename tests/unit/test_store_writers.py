"""SQLite has one writer at a time. A writer of this process that finds the write lock taken waits for the
other writer in the store (and goes the moment it commits), never in SQLite's busy handler, which sleeps
1, 2, 5, 10 ms… between tries however soon the lock is free. The database here has no busy handler at all
(busy_timeout 0), so a writer that reached SQLite's lock while it was taken would fail at once."""

from __future__ import annotations

import threading
from pathlib import Path

import sqlalchemy as sa

from home_editor.core.models import new_library_id
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from tests.factories import item, job


def test_a_second_writer_waits_in_the_store_not_in_sqlites_busy_handler(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'writers.db'}")

    @sa.event.listens_for(engine, "connect")
    def no_busy_handler(dbapi_connection, _record) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=0")

    store, library = LibraryStore(engine), new_library_id()
    store.ensure_library(library, 0)
    inside, release = threading.Event(), threading.Event()

    def hold_the_write_lock() -> None:
        with store._write():  # one write transaction, held open (the store's calls on this thread join it)
            first = item()
            store.add_item(library, first, job(item_id=first.id))
            inside.set()
            assert release.wait(10)

    first_writer = threading.Thread(target=hold_the_write_lock)
    first_writer.start()
    assert inside.wait(10)
    outcome: list[object] = []

    def second_write() -> None:
        second = item()
        try:
            store.add_item(library, second, job(item_id=second.id))
            outcome.append("written")
        except sa.exc.OperationalError as error:
            outcome.append(error)

    second_writer = threading.Thread(target=second_write)
    second_writer.start()
    second_writer.join(0.5)  # a writer that went to SQLite's lock has failed by now ("database is locked")
    release.set()
    first_writer.join(10)
    second_writer.join(10)
    assert outcome == ["written"]
    assert len(store.snapshot(library).items) == 2
