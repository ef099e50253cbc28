"""Builds the app's services once per process from settings (the only place that picks implementations)."""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path

from home_editor.jobs.changes import ChangeHub
from home_editor.jobs.cutout_job import CutoutJob
from home_editor.jobs.runner import Runner
from home_editor.library_service import LibraryService
from home_editor.processing.base import Processor
from home_editor.processing.local_processor import LocalProcessor
from home_editor.settings import Settings
from home_editor.storage.base import Storage
from home_editor.storage.local_files import LocalFileStorage
from home_editor.store.async_store import AsyncLibraryStore
from home_editor.store.library_store import LibraryStore
from home_editor.store.schema import create_engine

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

    @property
    def backends_label(self) -> str:
        """Which backends are active, for the page (never a secret)."""
        return f"Processing: {self.processor.label} · Storage: {self.storage.label}"


def build_services(settings: Settings, *, db_url: str, public_base_url: str) -> Services:
    """Wire the store, storage, processor, runner and library service.

    Args:
        settings: The app's settings.
        db_url: SQLAlchemy URL of the database (Reflex's `db_url`).
        public_base_url: Where the browser reaches the backend (Reflex's `api_url`).
    """
    store = AsyncLibraryStore(LibraryStore(create_engine(db_url)))
    storage = LocalFileStorage(Path(settings.media_dir), base_url=f"{public_base_url.rstrip('/')}/media")
    processor = LocalProcessor(max_pixels=settings.max_pixels, slow_motion_seconds=settings.local_delay_seconds)
    hub = ChangeHub()
    runner = Runner(store, CutoutJob(store, storage, processor), hub, settings=settings)
    library = LibraryService(store, storage, runner, hub, settings=settings)
    logger.info("home_editor services: %s", f"Processing: {processor.label} · Storage: {storage.label}")
    return Services(settings=settings, library=library, runner=runner, hub=hub, processor=processor, storage=storage)
