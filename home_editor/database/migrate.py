"""Copy a store into another database: libraries, items and jobs, e.g. from the SQLite file of a single
server to the Postgres of a scaled-out one.

    python -m home_editor.database.migrate --from sqlite:///path/to/home_editor.db --to postgresql://user:pw@host/db

Rows are copied as they are (ids, statuses, leases, tombstones). A row whose id the target already has is
left alone, so a second run copies nothing twice and never overwrites work done on the target since. Run it
while the app is stopped (a job that was running is handed over by its lease, as after a restart). Both
databases get this version's tables first (the source's are brought up to date as the app's start does).
Nothing identifying (library ids, URLs, passwords) is printed: only counts.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Sequence

import sqlalchemy as sa

from home_editor.database.schema import create_engine, insert_for, items, jobs, libraries

BATCH = 500


@dataclasses.dataclass(frozen=True)
class Copied:
    """How many rows of one table were copied, and how many the target already had."""

    table: str
    copied: int
    already_there: int


def copy_store(source: sa.Engine, target: sa.Engine, *, batch: int = BATCH) -> list[Copied]:
    """Copy every library, item and job of `source` that `target` lacks (by id), in batches.

    Returns:
        One count per table, libraries first.
    """
    return [_copy_table(source, target, table, batch) for table in (libraries, items, jobs)]


def _copy_table(source: sa.Engine, target: sa.Engine, table: sa.Table, batch: int) -> Copied:
    copied = seen = 0
    after = ""
    while True:
        with source.connect() as conn:
            rows = [
                dict(row)
                for row in conn.execute(
                    sa.select(table).where(table.c.id > after).order_by(table.c.id).limit(batch)
                ).mappings()
            ]
        if not rows:
            return Copied(table.name, copied, seen - copied)
        with target.begin() as conn:
            insert = insert_for(conn, table).on_conflict_do_nothing(index_elements=[table.c.id])
            copied += len(conn.execute(insert.returning(table.c.id), rows).all())
        seen += len(rows)
        after = rows[-1]["id"]


def _engine(url: str) -> sa.Engine:
    engine = create_engine(url)
    engine.hide_parameters = True  # errors name no library ids
    return engine


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m home_editor.database.migrate",
        description="Copy libraries, items and jobs from one store database to another (idempotent).",
    )
    parser.add_argument("--from", dest="source", required=True, help="SQLAlchemy URL to copy from (sqlite:///…)")
    parser.add_argument("--to", dest="target", required=True, help="SQLAlchemy URL to copy to (postgresql://…)")
    args = parser.parse_args(argv)
    if sa.engine.make_url(args.source) == sa.engine.make_url(args.target):
        parser.error("--from and --to name the same database")
    source, target = _engine(args.source), _engine(args.target)
    try:
        counts = copy_store(source, target)
    finally:
        source.dispose()
        target.dispose()
    print(f"Copied from {source.dialect.name} to {target.dialect.name}:")
    for count in counts:
        print(f"  {count.table}: {count.copied} copied, {count.already_there} already there")
    return 0


if __name__ == "__main__":
    sys.exit(main())
