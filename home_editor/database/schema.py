"""Tables and engine set-up. Plain SQLAlchemy Core, so the same statements run on SQLite and Postgres."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from home_editor.core.errors import ConfigError

metadata = sa.MetaData()

libraries = sa.Table(
    "he_libraries",
    metadata,
    sa.Column("id", sa.String(32), primary_key=True),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
)

items = sa.Table(
    "he_items",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("library_id", sa.String(32), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.Column("original", sa.String(64), nullable=False, default=""),
    sa.Column("thumb", sa.String(64), nullable=False, default=""),
    sa.Column("cutout", sa.String(64), nullable=False, default=""),
    sa.Column("cutout_status", sa.String(16), nullable=False),
    sa.Column("cutout_error", sa.String(500), nullable=False, default=""),
    sa.Column("cutout_note", sa.String(200), nullable=False, default=""),
    sa.Column("model", sa.String(64), nullable=False, default=""),
    sa.Column("model_status", sa.String(16), nullable=False, default=""),
    sa.Column("model_error", sa.String(500), nullable=False, default=""),
    sa.Column("model_note", sa.String(200), nullable=False, default=""),
    sa.Column("file_urls", sa.Text, nullable=False, default="{}"),
    sa.Column("content_hash", sa.String(64), nullable=False, default=""),
    sa.Column("deleted_ms", sa.BigInteger, nullable=False, default=0),
    sa.Column("background", sa.String(16), nullable=False, default=""),  # see core/backgrounds.py
)

jobs = sa.Table(
    "he_jobs",
    metadata,
    sa.Column("id", sa.String(16), primary_key=True),
    sa.Column("library_id", sa.String(32), nullable=False),
    sa.Column("item_id", sa.String(16), nullable=False, index=True),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("progress", sa.Integer, nullable=False),
    sa.Column("message", sa.String(200), nullable=False),
    sa.Column("error", sa.String(500), nullable=False),
    sa.Column("not_before_ms", sa.BigInteger, nullable=False),
    sa.Column("lease_token", sa.String(32), nullable=False),
    sa.Column("lease_until_ms", sa.BigInteger, nullable=False),
    sa.Column("remote_id", sa.String(64), nullable=False, default=""),
    sa.Column("started_ms", sa.BigInteger, nullable=False, default=0),
    sa.Column("created_ms", sa.BigInteger, nullable=False),
    sa.Column("updated_ms", sa.BigInteger, nullable=False),
    sa.Index("ix_he_jobs_library_status", "library_id", "status"),
)


WRITE_LOCK = "home_editor_write_lock"
SUPPORTED_DATABASES = ("sqlite", "postgresql")  # both have INSERT … ON CONFLICT


def create_engine(url: str) -> sa.Engine:
    """An engine for `url` with the tables created (and older tables brought up to date).

    A plain `postgresql://` (or `postgres://`) URL uses psycopg 3. Creating and upgrading the tables is one
    transaction; on Postgres it first takes an advisory lock, so processes starting at once (web and job
    workers) never race each other's CREATE TABLE or ALTER TABLE.

    On SQLite, transactions of the engine returned by `for_writes` start with BEGIN IMMEDIATE (they
    take the write lock at once, so a read-then-write claim can never interleave with another
    process's); every other transaction is deferred, so with WAL a read never waits for a writer nor
    holds one up. A busy timeout makes writers wait for each other instead of failing.
    """
    kwargs: dict[str, Any] = {}
    parsed = sa.engine.make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    is_sqlite = parsed.drivername.startswith("sqlite")
    if is_sqlite:
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    elif parsed.drivername.startswith("postgresql"):
        kwargs["pool_pre_ping"] = True  # a restarted database server costs no failed job
    engine = sa.create_engine(parsed, **kwargs)
    if engine.dialect.name not in SUPPORTED_DATABASES:
        raise ConfigError(f"HOME_EDITOR_DB_URL must name a SQLite or Postgres database, not {engine.dialect.name!r}")
    if is_sqlite:
        _make_sqlite_writes_immediate(engine)
    with for_writes(engine).begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext('home_editor.schema'))"))
        metadata.create_all(conn)
        _add_missing_columns(conn)
    return engine


def insert_for(conn: sa.Connection, table: sa.Table) -> sqlite.Insert | postgresql.Insert:
    """An INSERT that supports `ON CONFLICT` in the connection's database (SQLite or Postgres)."""
    return sqlite.insert(table) if conn.dialect.name == "sqlite" else postgresql.insert(table)


def for_writes(engine: sa.Engine) -> sa.Engine:
    """The same engine (and pool) for transactions that write: on SQLite they take the write lock when
    they begin. Reads use the plain engine."""
    return engine.execution_options(**{WRITE_LOCK: True})


def _add_missing_columns(conn: sa.Connection) -> None:
    """Bring an older database up to date: add columns this version has and the tables lack (every
    column has a default, so existing rows stay valid). Dropping or changing columns is never done."""
    inspector = sa.inspect(conn)
    for table in metadata.sorted_tables:
        present = {column["name"] for column in inspector.get_columns(table.name)}
        for column in table.columns:
            if column.name in present:
                continue
            kind = column.type.compile(dialect=conn.dialect)
            literal = _default_literal(column)
            conn.exec_driver_sql(
                f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind} NOT NULL DEFAULT {literal}'
            )


def _default_literal(column: sa.Column) -> str:
    """The SQL literal an added column gets in existing rows: its default, else the empty value of its
    type (0 or ''; Postgres, unlike SQLite, refuses '' for a number)."""
    empty = 0 if isinstance(column.type, sa.Integer) else ""
    default = column.default.arg if column.default is not None else empty
    return repr(default) if isinstance(default, str) else str(default)


def _make_sqlite_writes_immediate(engine: sa.Engine) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # let SQLAlchemy's "begin" event issue BEGIN
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")  # safe with WAL: a crash never corrupts; fsync per checkpoint
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        writes = connection.get_execution_options().get(WRITE_LOCK, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")
