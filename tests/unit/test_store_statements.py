"""The store's hot calls run statements built once: a queue transition, a drop's insert and a tab's read
build no SQL expression per call (building one cost more Python time than SQLite takes to run it)."""

from __future__ import annotations

import secrets

import pytest
import sqlalchemy as sa
from sqlalchemy.sql import elements

from home_editor.core.models import new_library_id
from home_editor.database.library_store import ClaimRequest, LibraryStore
from home_editor.database.schema import create_engine
from tests.factories import item, job

NOW = 1_000_000
LEASE = 15_000


@pytest.fixture
def built_expressions(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What each new comparison (`column == value`, the heart of any WHERE clause) compares, from now on."""
    built: list[str] = []
    real_init = elements.BinaryExpression.__init__

    def recorded(self: elements.BinaryExpression, left: object, *args: object, **kwargs: object) -> None:
        built.append(str(left))
        real_init(self, left, *args, **kwargs)

    monkeypatch.setattr(elements.BinaryExpression, "__init__", recorded)
    return built


def _request(library_id: str, still_running: list[str]) -> ClaimRequest:
    return ClaimRequest(
        library_id=library_id,
        tokens=[secrets.token_hex(8)],
        now_ms=NOW,
        lease_ms=LEASE,
        concurrency=1,
        still_running=still_running,
    )


def _one_round(store: LibraryStore, library_id: str) -> None:
    """What the app does for each photo: add it with its job, claim it, report progress, read the library
    (a tab), look for a twin, settle it while claiming the next, look at the queue."""
    new_item = item(created_ms=NOW)
    store.add_item(library_id, new_item, job("P", item_id=new_item.id, created_ms=NOW), content_hash="abc")
    (claimed,) = store.claim_due(library_id, tokens=[secrets.token_hex(8)], now_ms=NOW, lease_ms=LEASE, concurrency=1)
    assert store.report_progress(claimed.id, claimed.lease_token, progress=50, message="Halfway", now_ms=NOW)
    assert store.item(library_id, claimed.item_id) is not None
    store.finished_twin(library_id, claimed.item_id)
    store.snapshot(library_id)
    done, _ = store.claiming(
        _request(library_id, [claimed.id]),
        lambda writer: writer.complete(claimed.id, claimed.lease_token, now_ms=NOW, result="cutout.png", url="u"),
    )
    assert done is not None
    store.queue_state(library_id, NOW)


def test_hot_store_calls_build_no_sql_expression(db_url: str, built_expressions: list[str]) -> None:
    engine = create_engine(db_url)
    try:
        store = LibraryStore(engine)
        library_id = new_library_id()
        store.ensure_library(library_id, NOW)
        _one_round(store, library_id)  # the first round compiles each statement once (SQLAlchemy's cache)
        built_expressions.clear()

        _one_round(store, library_id)

        assert built_expressions == []
        assert len(store.snapshot(library_id).items) == 2  # the rounds did their work
    finally:
        engine.dispose()


def test_the_probe_sees_a_statement_built_per_call(built_expressions: list[str]) -> None:
    """The fixture would notice a WHERE clause written in a store call (what the test above guards)."""
    items = sa.table("he_items", sa.column("id"))
    sa.select(items).where(items.c.id == "x")
    assert built_expressions == ["he_items.id"]
