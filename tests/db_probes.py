"""Probes installed in a test's database (SQLite or Postgres): a trigger records the most jobs of one library
that were ever processing at once, checked at every write by whichever process or connection made it."""

from __future__ import annotations

import sqlalchemy as sa

_SQLITE = """
CREATE TABLE probe_peak (n INTEGER NOT NULL);
INSERT INTO probe_peak VALUES (0);
CREATE TRIGGER probe_peak_update AFTER UPDATE OF status ON he_jobs
BEGIN
    UPDATE probe_peak SET n = max(n, (
        SELECT count(*) FROM he_jobs WHERE library_id = NEW.library_id AND status = 'processing'
    ));
END;
"""

# Postgres: checked when each writing transaction commits (a deferred trigger), one commit at a time (an
# advisory lock), so every count sees all earlier commits: two claims that each saw only their own work
# cannot both escape the count.
_POSTGRES = [
    "CREATE TABLE probe_peak (n INTEGER NOT NULL)",
    "INSERT INTO probe_peak VALUES (0)",
    """
    CREATE FUNCTION probe_peak_count() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_advisory_xact_lock(424242);
        UPDATE probe_peak SET n = greatest(n, (
            SELECT count(*) FROM he_jobs WHERE library_id = NEW.library_id AND status = 'processing'
        ));
        RETURN NULL;
    END $$
    """,
    """
    CREATE CONSTRAINT TRIGGER probe_peak_update AFTER UPDATE OF status ON he_jobs
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION probe_peak_count()
    """,
]


def _engine(db: str) -> sa.Engine:
    """An engine for a database URL, or for a SQLite file given by its path."""
    return sa.create_engine(db if "://" in db else f"sqlite:///{db}")


def record_peak_processing(db: str) -> None:
    """Start recording the peak number of processing jobs per library (call after the tables exist); `db`
    is a database URL or a SQLite file's path."""
    engine = _engine(db)
    with engine.begin() as conn:
        if conn.dialect.name == "sqlite":
            conn.connection.driver_connection.executescript(_SQLITE)
        else:
            for statement in _POSTGRES:
                conn.exec_driver_sql(statement)
    engine.dispose()


def peak_processing(db: str) -> int:
    """The most jobs of one library that were processing at once since `record_peak_processing`."""
    engine = _engine(db)
    with engine.connect() as conn:
        peak = conn.exec_driver_sql("SELECT n FROM probe_peak").scalar_one()
    engine.dispose()
    return peak
