"""Probes installed in a test's SQLite database: a trigger records the most jobs of one library that were
ever processing at once, checked at every write by whichever process or connection made it."""

from __future__ import annotations

import sqlite3


def record_peak_processing(db_path: str) -> None:
    """Start recording the peak number of processing jobs per library (call after the tables exist)."""
    with sqlite3.connect(db_path) as conn:
        conn.executescript(
            """
            CREATE TABLE probe_peak (n INTEGER NOT NULL);
            INSERT INTO probe_peak VALUES (0);
            CREATE TRIGGER probe_peak_update AFTER UPDATE OF status ON he_jobs
            BEGIN
                UPDATE probe_peak SET n = max(n, (
                    SELECT count(*) FROM he_jobs WHERE library_id = NEW.library_id AND status = 'processing'
                ));
            END;
            """
        )
    conn.close()


def peak_processing(db_path: str) -> int:
    """The most jobs of one library that were processing at once since `record_peak_processing`."""
    with sqlite3.connect(db_path) as conn:
        peak = conn.execute("SELECT n FROM probe_peak").fetchone()[0]
    conn.close()
    return peak
