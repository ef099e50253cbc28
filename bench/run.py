"""Runs every benchmark in one go, prints a table, and writes bench/results/latest.json and BENCHMARKS.md.

python -m bench.run            # the full run (about 15 minutes)
python -m bench.run --quick    # fewer repetitions, for a smoke check
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from pathlib import Path

from bench.browser_bench import run_browser_metrics
from bench.claim_bench import claim_figures
from bench.hops_bench import hop_figures
from bench.live_bench import live_update_figures
from bench.loop_bench import loop_stalls_ms
from bench.model_bench import model_figures
from bench.processing_bench import processing_times
from bench.queue_bench import makespan, pickup_latencies, sqlite_databases
from bench.read_bench import read_metrics
from bench.report import rows_for, write_markdown
from bench.stats import machine, source, summary
from bench.trellis_bench import status_calls_per_minute
from bench.workers_bench import worker_figures
from bench.zip_bench import zip_figures
from home_editor.server_process import prepare_server_process
from tests.servers import PostgresServer

ROOT = Path(__file__).parents[1]


async def _queue_metrics(count: int, *, quick: bool) -> dict[str, object]:
    """Rows 1, 1b and 2 on SQLite (the default store), and 1 and 2 again on Postgres (with its defaults)."""
    prepare_server_process(asyncio.get_running_loop())  # the runner's loop as in the app's server processes
    runs = 3 if quick else 5
    with sqlite_databases() as new_sqlite:
        results = {
            "pickup_wake_ms": summary(await pickup_latencies(count, wake_on_enqueue=True, new_url=new_sqlite)),
            "pickup_poll_ms": summary(await pickup_latencies(count, wake_on_enqueue=False, new_url=new_sqlite)),
            "makespan": await makespan(new_sqlite, runs=runs),
        }
    server = await asyncio.to_thread(PostgresServer(durable=True).start)
    try:
        new_postgres = server.new_database
        results["postgres"] = {
            "pickup_wake_ms": summary(await pickup_latencies(count, wake_on_enqueue=True, new_url=new_postgres)),
            "makespan": await makespan(new_postgres, runs=runs),
        }
    finally:
        await asyncio.to_thread(server.stop)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (not for the record)")
    args = parser.parse_args()
    started = time.time()
    results: dict[str, object] = {"machine": machine(), "source": source(ROOT), "quick": args.quick}
    print("queue…", flush=True)
    results |= asyncio.run(_queue_metrics(20 if args.quick else 100, quick=args.quick))
    print("reads while claiming…", flush=True)
    results["snapshots_while_claiming"] = asyncio.run(read_metrics(6.0 if args.quick else 30.0))
    print("processing…", flush=True)
    results["processing_s"] = {
        name: summary(values) for name, values in processing_times(3 if args.quick else 10).items()
    }
    print("thread hand-offs…", flush=True)
    results["hops"] = asyncio.run(hop_figures())
    print("event loop…", flush=True)
    results["loop_stall_ms"] = summary(asyncio.run(loop_stalls_ms(20 if args.quick else 50)))
    print("browser…", flush=True)
    browser = run_browser_metrics(quick=args.quick)
    results["drop_to_thumbnail_samples_ms"] = [round(ms, 1) for ms in browser["drop_to_thumbnail_ms"]]
    results["drop_to_thumbnail_ms"] = summary(browser.pop("drop_to_thumbnail_ms"))
    lag = browser.pop("lag_ms")
    results["lag_ms"] = {
        "idle": summary(lag["idle"]),
        "busy": summary(lag["busy"]),
        "processing_seen": lag["processing_seen"][0],
    }
    results |= browser
    print("cutout model…", flush=True)
    results["model"] = model_figures(quick=args.quick)
    print("ZIP export…", flush=True)
    results["zip"] = zip_figures(items=20 if args.quick else 200, composed_items=3 if args.quick else 20)
    print("trellis polling…", flush=True)
    results["trellis_status"] = asyncio.run(status_calls_per_minute(20.0 if args.quick else 60.0))
    print("claims on SQLite and Postgres…", flush=True)
    results["claims"] = claim_figures(quick=args.quick)
    print("job workers…", flush=True)
    results["workers"] = worker_figures(quick=args.quick)
    print("live updates across processes, in the browser…", flush=True)
    results["live"] = live_update_figures(quick=args.quick)
    results["duration_s"] = time.time() - started
    rows = rows_for(results)
    width = max(len(row[0]) for row in rows)
    for name, value, target, verdict in rows:
        print(f"{name:<{width}}  {value:<34} {target:<22} {verdict}")
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    (out / "latest.json").write_text(json.dumps(results, indent=2, default=str))
    if not args.quick:
        write_markdown(ROOT / "BENCHMARKS.md", results, rows)


if __name__ == "__main__":
    main()
