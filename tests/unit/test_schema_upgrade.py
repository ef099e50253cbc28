"""An older database gains the columns a newer version added, with their defaults (SQLite and Postgres)."""

from __future__ import annotations

import sqlalchemy as sa

from home_editor.store.schema import create_engine


def test_missing_columns_are_added_to_an_existing_database(db_url: str) -> None:
    old = sa.create_engine(db_url)
    with old.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE he_items (id VARCHAR(16) PRIMARY KEY, name VARCHAR(200) NOT NULL)")
        conn.exec_driver_sql("INSERT INTO he_items (id, name) VALUES ('abcdefghijkm', 'chair.jpg')")
    old.dispose()
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT name, model, model_status, deleted_ms, file_urls, created_ms FROM he_items"
        ).one()
        assert tuple(row) == ("chair.jpg", "", "", 0, "{}", 0)
        assert {"he_libraries", "he_jobs"} <= set(sa.inspect(conn).get_table_names())
    engine.dispose()
    again = create_engine(db_url)  # a second start finds nothing to add
    again.dispose()


def test_a_plain_postgresql_url_uses_psycopg_3(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    engine = create_engine(plain)
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()
