"""A job worker: `python -m home_editor.worker`. A plain Python process (no Reflex server, no page) that
claims and runs jobs from the shared database with the same runner as the app, at most
HOME_EDITOR_CONCURRENCY per library over all workers (the claim in the database enforces it) and at most
HOME_EDITOR_WORKER_SLOTS in this process. Start as many as the machine (or several machines) can carry;
web processes (HOME_EDITOR_ROLE=web) then only serve pages and uploads and queue work.

SIGTERM or Ctrl-C stops it: its running jobs are cancelled and their leases expire, after which another
worker takes them over (as after a crash).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from pathlib import Path

from home_editor.app_wiring import build_services
from home_editor.data_folder import prepare_data_folder
from home_editor.server_process import prepare_server_process
from home_editor.settings import Settings, db_url_from, load_env_files

logger = logging.getLogger("home_editor.worker")
READY = "home_editor worker: ready"  # logged once it claims work (and, with Redis, hears notices)
DEFAULT_API_URL = "http://localhost:8000"  # Reflex's default backend URL, which local file URLs start with


def worker_settings(env: dict[str, str]) -> Settings:
    """The settings of a job worker: the environment's, in the worker role whatever it says."""
    return Settings.from_env({**env, "HOME_EDITOR_ROLE": "worker"})


async def serve(settings: Settings, *, db_url: str, public_base_url: str, stop: asyncio.Event) -> None:
    """Run jobs until `stop` is set, then cancel what runs (the leases hand it over)."""
    services = build_services(settings, db_url=db_url, public_base_url=public_base_url)
    services.start_background()
    if services.bus is not None:
        await services.bus.listening.wait()
    logger.info("%s (%s; at most %s jobs)", READY, services.backends_label, settings.worker_slots or "unlimited")
    try:
        await stop.wait()
    finally:
        await services.runner.shutdown()
        if services.bus is not None:
            await services.bus.close()


async def _main() -> None:
    prepare_server_process(asyncio.get_running_loop())
    env = dict(os.environ)
    settings = worker_settings(env)
    db_url = db_url_from(env)
    await asyncio.to_thread(prepare_data_folder, settings, db_url)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    public = env.get("REFLEX_API_URL", "").strip() or env.get("API_URL", "").strip() or DEFAULT_API_URL
    await serve(settings, db_url=db_url, public_base_url=public, stop=stop)


def main() -> None:
    """The command's entry point."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    load_env_files(Path(__file__).parents[1])  # the project's .env.local / .env, as `reflex run` reads them
    asyncio.run(_main())


if __name__ == "__main__":
    main()
