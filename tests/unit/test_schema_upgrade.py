"""An older database gains the columns a newer version added, with their defaults (SQLite and Postgres)."""

from __future__ import annotations

import sqlalchemy as sa

from home_editor.database.schema import create_engine
from home_editor.settings import db_url_from


def test_missing_columns_are_added_to_an_existing_database(db_url: str) -> None:
    old = sa.create_engine(db_url)
    with old.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE he_items (id VARCHAR(16) PRIMARY KEY, name VARCHAR(200) NOT NULL)")
        conn.exec_driver_sql("INSERT INTO he_items (id, name) VALUES ('abcdefghijkm', 'chair.jpg')")
    old.dispose()
    engine = create_engine(db_url)
    with engine.connect() as conn:
        row = conn.exec_driver_sql(
            "SELECT name, model, model_status, deleted_ms, file_urls, created_ms, background FROM he_items"
        ).one()
        assert tuple(row) == ("chair.jpg", "", "", 0, "{}", 0, "")
        assert {"he_libraries", "he_jobs"} <= set(sa.inspect(conn).get_table_names())
    engine.dispose()
    again = create_engine(db_url)  # a second start finds nothing to add
    again.dispose()


def test_a_plain_postgresql_url_uses_psycopg_3(postgres_url: str) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    engine = create_engine(plain)
    assert (engine.dialect.name, engine.dialect.driver) == ("postgresql", "psycopg")
    engine.dispose()


def test_the_url_setting_with_a_plain_postgresql_url_works_for_the_app_and_for_reflex(postgres_url: str) -> None:
    from reflex.model import get_engine

    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    url = db_url_from({"HOME_EDITOR_DB_URL": plain})
    assert url == postgres_url  # psycopg 3, the driver the app ships with
    reflex_engine = get_engine(url)  # what Reflex's health check connects with (rxconfig's db_url)
    with reflex_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT 1")).scalar_one() == 1
    reflex_engine.dispose()
    assert db_url_from({"HOME_EDITOR_DB_URL": "postgres://u@h/d"}) == "postgresql+psycopg://u@h/d"
    assert db_url_from({"HOME_EDITOR_DB_URL": "sqlite:///x.db"}) == "sqlite:///x.db"
