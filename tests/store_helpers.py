"""Store calls only tests and benchmarks need (the app never claims one job alone or reads a job by id): plain
functions on a `LibraryStore`, with awaitable forms for an `AsyncLibraryStore` (or a wrapper that forwards
`run`), which run them on the store's threads."""

from __future__ import annotations

import sqlalchemy as sa

from home_editor.core.models import Job
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.records import job_from_row
from home_editor.database.schema import jobs


def claim_next(
    store: LibraryStore, library_id: str, *, token: str, now_ms: int, lease_ms: int, concurrency: int
) -> Job | None:
    """Atomically claim the library's best due pending job if fewer than `concurrency` run."""
    claimed = store.claim_due(library_id, tokens=[token], now_ms=now_ms, lease_ms=lease_ms, concurrency=concurrency)
    return claimed[0] if claimed else None


def stored_job(store: LibraryStore, job_id: str) -> Job | None:
    """One job by id, as the store holds it now."""
    with store._engine.connect() as conn:
        row = conn.execute(sa.select(jobs).where(jobs.c.id == job_id)).mappings().first()
        return job_from_row(row) if row else None


async def claim_next_async(
    store: AsyncLibraryStore, library_id: str, *, token: str, now_ms: int, lease_ms: int, concurrency: int
) -> Job | None:
    """`claim_next` on the store's threads."""
    claim = {"token": token, "now_ms": now_ms, "lease_ms": lease_ms, "concurrency": concurrency}
    return await store.run(lambda sync: claim_next(sync, library_id, **claim))


async def stored_job_async(store: AsyncLibraryStore, job_id: str) -> Job | None:
    """`stored_job` on the store's threads."""
    return await store.run(lambda sync: stored_job(sync, job_id))
