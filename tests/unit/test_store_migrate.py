"""`python -m home_editor.database.migrate`: a SQLite store copied into a real Postgres, twice."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import sqlalchemy as sa

from home_editor.core.models import JobStatus, new_library_id
from home_editor.database.library_store import LibraryStore
from home_editor.database.migrate import Copied, copy_store
from home_editor.database.schema import create_engine
from tests.store_helpers import claim_next, stored_job
from tests.unit.test_store import LEASE, NOW, add

ROOT = Path(__file__).parents[2]


def filled_sqlite_store(path: Path) -> tuple[LibraryStore, list[str]]:
    """Two libraries: one with pending, running, completed and deleted work, one with a single job."""
    store = LibraryStore(create_engine(f"sqlite:///{path}"))
    busy, quiet = new_library_id(), new_library_id()
    done, running, _waiting, gone = add(store, busy, 4)
    for job in (done, running):
        claim_next(store, busy, token=job.id, now_ms=NOW, lease_ms=LEASE, concurrency=2)
    store.complete(done.id, done.id, now_ms=NOW + 1, result="cutout-abcdefghijkm.png", url="http://x/c.png")
    store.delete_item(busy, gone.item_id, now_ms=NOW + 2)
    add(store, quiet, 1)
    return store, [busy, quiet]


def migrate(source: str, target: str) -> str:
    done = subprocess.run(
        [sys.executable, "-m", "home_editor.database.migrate", "--from", source, "--to", target],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        check=True,
    )
    return done.stdout


def test_the_command_copies_everything_once_and_a_second_run_copies_nothing(tmp_path: Path, postgres_url: str) -> None:
    source, library_ids = filled_sqlite_store(tmp_path / "home_editor.db")
    sqlite_url = f"sqlite:///{tmp_path / 'home_editor.db'}"
    plain_url = postgres_url.replace("postgresql+psycopg://", "postgresql://")  # as a user would write it

    first = migrate(sqlite_url, plain_url)
    assert "he_libraries: 2 copied, 0 already there" in first
    assert "he_items: 5 copied, 0 already there" in first
    assert "he_jobs: 5 copied, 0 already there" in first
    password = sa.engine.make_url(postgres_url).password
    assert password not in first and not any(library in first for library in library_ids)

    target = LibraryStore(create_engine(postgres_url))
    for library in library_ids:
        assert target.snapshot(library) == source.snapshot(library)
        assert target.deleted_item_ids(library) == source.deleted_item_ids(library)
        assert target.library_exists(library)

    # Work goes on in the target; a second run neither duplicates nor overwrites it.
    [waiting] = [j for j in target.snapshot(library_ids[0]).jobs if j.status is JobStatus.PENDING]
    claimed = claim_next(target, library_ids[0], token="pg", now_ms=NOW + 10, lease_ms=LEASE, concurrency=2)
    assert claimed is not None and claimed.id == waiting.id
    second = migrate(sqlite_url, plain_url)
    assert "he_libraries: 0 copied, 2 already there" in second
    assert "he_items: 0 copied, 5 already there" in second
    assert "he_jobs: 0 copied, 5 already there" in second
    assert stored_job(target, waiting.id) == claimed
    with target._engine.connect() as conn:
        assert conn.execute(sa.text("SELECT count(*) FROM he_jobs")).scalar_one() == 5
    target._engine.dispose()


def test_copying_in_batches_copies_every_row_and_only_the_missing_ones(tmp_path: Path, postgres_url: str) -> None:
    source = LibraryStore(create_engine(f"sqlite:///{tmp_path / 'many.db'}"))
    library = new_library_id()
    add(source, library, 7)
    target = create_engine(postgres_url)
    assert copy_store(source._engine, target, batch=3)[1:] == [Copied("he_items", 7, 0), Copied("he_jobs", 7, 0)]
    add(source, library, 2)  # the source gained work since
    assert copy_store(source._engine, target, batch=3)[1:] == [Copied("he_items", 2, 7), Copied("he_jobs", 2, 7)]
    copied = LibraryStore(target).snapshot(library)
    assert copied == source.snapshot(library)
    assert dataclasses.asdict(copied)["items"]  # not vacuous
    target.dispose()


def test_the_same_database_on_both_sides_is_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'one.db'}"
    done = subprocess.run(
        [sys.executable, "-m", "home_editor.database.migrate", "--from", url, "--to", url],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert done.returncode == 2 and "name the same database" in done.stderr
