"""The page's state: the library's cards and job counts, mirrored into browser localStorage, and the
page's events. The mirror is the browser's copy; the server's store is the truth it is reconciled with.
"""

from __future__ import annotations

import logging
from typing import Any

import reflex as rx

from home_editor.core.errors import BadInputError, ConfigError, StorageError
from home_editor.core.mirror import ITEMS_KEY, JOBS_KEY, LIBRARY_KEY, clean_text, decode_items, decode_jobs, encode_items, encode_jobs
from home_editor.core.models import is_library_id, is_record_id, new_library_id
from home_editor.services import Services
from home_editor.state.services_access import get_services
from home_editor.store.library_store import Snapshot
from home_editor.views import Card, Stats, cards_for, stats_for

logger = logging.getLogger(__name__)
UPLOAD_ID = "photos"


class LibraryState(rx.State):
    """One tab's view of its library."""

    library_key: str = rx.LocalStorage("", name=LIBRARY_KEY)
    items_mirror: str = rx.LocalStorage("", name=ITEMS_KEY)
    jobs_mirror: str = rx.LocalStorage("", name=JOBS_KEY)
    cards: list[Card] = []
    stats: Stats = Stats()
    uploading: bool = False
    upload_percent: int = 0
    backends: str = ""
    problem: str = ""
    ready: bool = False
    _library_id: str = ""
    _statuses: dict[str, str] = {}

    @rx.event(background=True)
    async def watch_library(self):
        """Started on page load: reconcile the mirror, then keep the page live until the tab goes away
        (this task is cancelled on reload and close; the work itself runs in the process's runner).
        """
        try:
            services = get_services()
        except ConfigError as error:
            async with self:
                self.problem = str(error)
            return
        async with self:
            library_id = _library_id(self)
            mirror = (decode_items(self.items_mirror), decode_jobs(self.jobs_mirror))
            self.backends = services.backends_label
        try:
            await services.library.open_library(library_id, *mirror)
        except Exception:
            logger.exception("Could not reconcile the browser's mirror; showing the server's copy")
        services.runner.start_janitor()
        announce = False
        while True:
            seen = services.hub.version(library_id)
            snapshot = await services.library.snapshot(library_id)
            async with self:
                toasts = _show(self, snapshot, services, announce=announce)
                self.ready = True
            for toast in toasts:
                yield toast
            announce = True
            await services.hub.wait(library_id, seen, timeout=services.settings.poll_seconds)
            services.runner.wake(library_id)

    @rx.event
    async def handle_upload(self, files: list[rx.UploadFile]):
        """Store each dropped file and queue its cutout; refuse bad files with a toast naming them."""
        services = get_services()
        library_id = _library_id(self)
        await services.library.store.ensure_library(library_id, 0)
        self.uploading = True
        for file in files:
            name = clean_text(file.name or "", 80) or "image"
            if file.size is not None and file.size > services.settings.max_upload_bytes:
                limit = services.settings.max_upload_bytes / 2**20
                yield rx.toast.error(f"“{name}” was not added: it is larger than {limit:.0f} MB.")
                continue
            try:
                await services.library.add_upload(library_id, name, await file.read())
            except BadInputError as error:
                yield rx.toast.error(f"“{name}” was not added: {error}.")
                continue
            except StorageError as error:
                yield rx.toast.error(f"“{name}” could not be stored: {error}. Nothing was kept; please try again.")
                continue
            _show(self, await services.library.snapshot(library_id), services, announce=False)
            yield
        self.uploading = False
        self.upload_percent = 0

    @rx.event
    def upload_progressed(self, progress: dict[str, Any]):
        """Follow the browser's upload progress (the handler itself ends the upload state)."""
        value = progress.get("progress", 0)
        if not isinstance(value, int | float) or value >= 1:
            return  # the bytes are sent; handle_upload takes over (a late event must not revive the bar)
        self.uploading = True
        self.upload_percent = round(float(value) * 100)

    @rx.event
    def files_rejected(self, rejections: list[dict[str, Any]]):
        """Name every file the drop zone refused before upload (too large) and say why."""
        limit = get_services().settings.max_upload_bytes / 2**20
        for rejection in rejections[:20]:
            file = rejection.get("file") if isinstance(rejection, dict) else None
            name = clean_text(file.get("path") or file.get("name") or "", 80) if isinstance(file, dict) else ""
            yield rx.toast.error(f"“{name or 'A file'}” was not added: it is larger than {limit:.0f} MB.")

    @rx.event
    async def cancel_item(self, item_id: str):
        """Cancel the item's queued or running cutout."""
        if not is_record_id(item_id) or not self._library_id:
            return
        services = get_services()
        await services.library.cancel(self._library_id, item_id)
        _show(self, await services.library.snapshot(self._library_id), services, announce=False)

    @rx.event
    async def retry_item(self, item_id: str):
        """Queue a failed or cancelled cutout again."""
        if not is_record_id(item_id) or not self._library_id:
            return
        services = get_services()
        await services.library.retry(self._library_id, item_id)
        _show(self, await services.library.snapshot(self._library_id), services, announce=False)

    @rx.event
    async def delete_item(self, item_id: str):
        """Delete the item and its files."""
        if not is_record_id(item_id) or not self._library_id:
            return
        services = get_services()
        deleted = await services.library.delete(self._library_id, item_id)
        _show(self, await services.library.snapshot(self._library_id), services, announce=False)
        if deleted is not None:
            yield rx.toast.info(f"Deleted “{deleted.name}”.")


def _library_id(state: Any) -> str:
    """This tab's library: the browser's id if well-formed, else a new library (garbage is never kept)."""
    if not state._library_id:
        stored = state.library_key
        state._library_id = stored if is_library_id(stored) else new_library_id()
        if stored != state._library_id:
            state.library_key = state._library_id
    return state._library_id


def _show(state: Any, snapshot: Snapshot, services: Services, *, announce: bool) -> list[Any]:
    """Put a snapshot on the page and into the mirror; return toasts for jobs that just settled."""
    library_id = state._library_id
    state.cards = cards_for(snapshot, lambda item_id, name: services.library.url(library_id, item_id, name))
    state.stats = stats_for(snapshot)
    items_text, jobs_text = encode_items(snapshot.items), encode_jobs(snapshot.jobs)
    if state.items_mirror != items_text:
        state.items_mirror = items_text
    if state.jobs_mirror != jobs_text:
        state.jobs_mirror = jobs_text
    toasts = []
    previous = state._statuses
    for item in snapshot.items:
        before, now = previous.get(item.id), item.cutout_status.value
        if announce and before in ("pending", "processing") and now != before:
            if now == "completed":
                toasts.append(rx.toast.success(f"Background removed: “{item.name}”."))
            elif now == "failed":
                toasts.append(rx.toast.error(f"“{item.name}” failed: {item.cutout_error}"))
    state._statuses = {item.id: item.cutout_status.value for item in snapshot.items}
    return toasts
