"""An older database gains the columns a newer version added, with their defaults."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from home_editor.store.schema import create_engine


def test_missing_columns_are_added_to_an_existing_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    old = sa.create_engine(url)
    with old.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE he_items (id VARCHAR(16) PRIMARY KEY, name VARCHAR(200) NOT NULL)")
        conn.exec_driver_sql("INSERT INTO he_items (id, name) VALUES ('abcdefghijkm', 'chair.jpg')")
    old.dispose()
    engine = create_engine(url)
    with engine.connect() as conn:
        columns = "name, model, model_status, deleted_ms, file_urls, background"
        row = conn.exec_driver_sql(f"SELECT {columns} FROM he_items").one()
    assert tuple(row) == ("chair.jpg", "", "", 0, "{}", "")
