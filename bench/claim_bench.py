"""Metric 11: claim latency on SQLite and on Postgres, alone and under contention, and why claims on Postgres
lock the library's row rather than the job rows with FOR UPDATE SKIP LOCKED.

Every round times `claim_next` calls (each claimed job is completed at once, so the limit of 2 running per
library is met only under contention):
- one: one thread, one library;
- many: 8 threads (each its own engine, as separate workers) claiming from 64 libraries at once;
- same: 8 threads claiming from one library (they wait for each other there, by design).
On a throw-away Postgres 15 with its default durability (every commit flushed) and a SQLite file (WAL,
synchronous=NORMAL: no flush per commit). For comparison on Postgres, the textbook queue claim (job rows
locked FOR UPDATE SKIP LOCKED, no library lock): its latency, and the most jobs of one library it let run
at once in the `same` round (the limit is 2).

python -m bench.claim_bench [--quick]     # these figures alone
"""

from __future__ import annotations

import argparse
import json
import tempfile
import threading
import time
from collections.abc import Collection, Sequence
from pathlib import Path

import sqlalchemy as sa

from bench.stats import summary
from home_editor.core import scheduler
from home_editor.core.models import Item, Job, JobStatus, JobType, new_id, new_library_id
from home_editor.database.library_store import LibraryStore
from home_editor.database.records import item_values, job_from_row, job_values
from home_editor.database.schema import create_engine, for_writes, items, jobs
from home_editor.database.schema import libraries as libraries_table
from tests.db_probes import peak_processing, record_peak_processing
from tests.servers import PostgresServer
from tests.store_helpers import claim_next

LEASE_MS = 60_000
THREADS = 8
LIBRARIES = 64


class SkipLockedStore(LibraryStore):
    """The alternative not taken: count the library's running jobs, then lock due pending job rows with
    FOR UPDATE SKIP LOCKED (claimers never wait for each other, and each takes a different job)."""

    def claim_due(
        self,
        library_id: str,
        *,
        tokens: Sequence[str],
        now_ms: int,
        lease_ms: int,
        concurrency: int,
        still_running: Collection[str] = (),
    ) -> list[Job]:
        claims: list[Job] = []
        with self._writer.begin() as conn:
            running = conn.execute(
                sa.select(sa.func.count()).where(
                    jobs.c.library_id == library_id, jobs.c.status == JobStatus.PROCESSING.value
                )
            ).scalar_one()
            free = min(concurrency - running, len(tokens))
            if free <= 0:
                return []
            rows = conn.execute(
                sa.select(jobs)
                .where(
                    jobs.c.library_id == library_id,
                    jobs.c.status == JobStatus.PENDING.value,
                    jobs.c.not_before_ms <= now_ms,
                )
                .order_by(jobs.c.priority.desc(), jobs.c.created_ms, jobs.c.id)
                .limit(free)
                .with_for_update(skip_locked=True)
            ).mappings()
            for row, token in zip(list(rows), tokens, strict=False):
                job = job_from_row(row)
                claimed = scheduler.claimed(job, now_ms=now_ms, token=token, lease_ms=lease_ms)
                if self._compare_and_set(conn, job, claimed):
                    self._sync_item(conn, claimed)
                    claims.append(claimed)
        return claims


def _fill(url: str, libraries: int, per_library: int) -> list[str]:
    """New libraries with `per_library` pending jobs each (written in one transaction)."""
    engine = create_engine(url)
    ids = [new_library_id() for _ in range(libraries)]
    now = int(time.time() * 1000)
    new_items, new_jobs = [], []
    for library in ids:
        for index in range(per_library):
            item = Item(id=new_id(), name="b.jpg", created_ms=now + index, updated_ms=now + index, original="o.jpg")
            job = Job(id=new_id(), item_id=item.id, type=JobType.REMBG, created_ms=now + index, updated_ms=now)
            new_items.append({"library_id": library, **item_values(item)})
            new_jobs.append({"library_id": library, **job_values(job)})
    with for_writes(engine).begin() as conn:
        conn.execute(sa.insert(libraries_table), [{"id": library, "created_ms": now} for library in ids])
        conn.execute(sa.insert(items), new_items)
        conn.execute(sa.insert(jobs), new_jobs)
    engine.dispose()
    return ids


def _claim_round(url: str, libraries: list[str], threads: int, claims_each: int, store_class: type) -> dict:
    """`threads` claimers, each claiming `claims_each` times (round robin over the libraries) and completing
    what it got; the latency of every claim call and the calls per second."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads)
    engines = [create_engine(url) for _ in range(threads)]

    def claimer(index: int) -> None:
        store = store_class(engines[index])
        mine: list[float] = []
        barrier.wait()
        for n in range(claims_each):
            library = libraries[(index + n * threads) % len(libraries)]
            now = int(time.time() * 1000)
            started = time.perf_counter()
            try:
                job = claim_next(store, library, token=f"{index}-{n}", now_ms=now, lease_ms=LEASE_MS, concurrency=2)
                mine.append((time.perf_counter() - started) * 1000)
                if job is not None:
                    store.complete(job.id, job.lease_token, now_ms=now + 1)
            except sa.exc.OperationalError as error:  # e.g. SQLite's busy timeout: counted, not hidden
                errors.append(str(error.orig))
        with lock:
            latencies.extend(mine)

    workers = [threading.Thread(target=claimer, args=(index,)) for index in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    elapsed = time.perf_counter() - started
    for engine in engines:
        engine.dispose()
    return summary(latencies) | {"claims_per_s": len(latencies) / elapsed, "errors": errors[:3], "failed": len(errors)}


def _rounds(new_url, claims: int, store_class: type = LibraryStore) -> dict[str, dict]:
    one_url, many_url, same_url = new_url(), new_url(), new_url()
    return {
        "one": _claim_round(one_url, _fill(one_url, 1, claims), 1, claims, store_class),
        "many": _claim_round(many_url, _fill(many_url, LIBRARIES, claims // 4), THREADS, claims, store_class),
        "same": _claim_round(same_url, _fill(same_url, 1, claims * THREADS), THREADS, claims, store_class),
    }


def _peak_in_one_library(url: str, claims: int, store_class: type) -> int:
    """The most jobs of one library running at once while 8 threads claim from it (each holding its job
    while it claims the next, as busy workers do)."""
    [library] = _fill(url, 1, claims * THREADS)
    record_peak_processing(url)
    engines = [create_engine(url) for _ in range(THREADS)]
    barrier = threading.Barrier(THREADS)

    def claimer(index: int) -> None:
        store = store_class(engines[index])
        held: Job | None = None
        barrier.wait()
        for n in range(claims):
            now = int(time.time() * 1000)
            got = claim_next(store, library, token=f"{index}-{n}", now_ms=now, lease_ms=LEASE_MS, concurrency=2)
            if held is not None:
                store.complete(held.id, held.lease_token, now_ms=now + 1)
            held = got
        if held is not None:
            store.complete(held.id, held.lease_token, now_ms=int(time.time() * 1000))

    workers = [threading.Thread(target=claimer, args=(index,)) for index in range(THREADS)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    for engine in engines:
        engine.dispose()
    return peak_processing(url)


def claim_figures(*, quick: bool = False) -> dict[str, object]:
    """Claim latencies on SQLite and Postgres (library lock), and the SKIP LOCKED alternative's."""
    claims = 40 if quick else 200
    with tempfile.TemporaryDirectory(prefix="he-claim-bench-") as folder:
        files = iter(range(1000))
        sqlite = _rounds(lambda: f"sqlite:///{Path(folder) / f'{next(files)}.db'}", claims)
    server = PostgresServer(durable=True).start()
    try:
        postgres = _rounds(server.new_database, claims)
        skip_locked = _rounds(server.new_database, claims, SkipLockedStore)
        peaks = {
            "library_lock": _peak_in_one_library(server.new_database(), claims // 4, LibraryStore),
            "skip_locked": _peak_in_one_library(server.new_database(), claims // 4, SkipLockedStore),
        }
    finally:
        server.stop()
    return {
        "sqlite": sqlite,
        "postgres": postgres,
        "postgres_skip_locked": skip_locked,
        "peak_running_one_library": peaks,
        "threads": THREADS,
        "libraries": LIBRARIES,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    figures = claim_figures(quick=parser.parse_args().quick)
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
