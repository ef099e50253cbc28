"""The page's state: the library's cards and job counts, mirrored into browser localStorage, and the
page's events. The mirror is the browser's copy; the server's store is the truth it is reconciled with.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import reflex as rx

from home_editor.core.cards import Card, Stats
from home_editor.core.clock import now_ms
from home_editor.core.errors import ConfigError, UploadRefusedError
from home_editor.core.mirror import ITEMS_KEY, JOBS_KEY, LIBRARY_KEY, clean_text, decode_items, decode_jobs
from home_editor.core.models import is_library_id, is_record_id, new_library_id
from home_editor.core.update_pace import wait_before_update
from home_editor.library_service import CardAction, LibraryService
from home_editor.state.process_services import get_services
from home_editor.state.refresh import show_current, show_view

logger = logging.getLogger(__name__)
UPLOAD_ID = "photos"
LATE_PROGRESS_MS = 3_000
STALLED_UPLOAD_MS = 30_000
SHOW_BUSY_AFTER_SECONDS = 0.3  # a drop handled sooner never shows "Uploading…" (see _take_drop)
CUT_OFF_UPLOAD = (
    "The upload was cut off before it finished (the connection to the server was lost). Photos that are not"
    " shown here were not added: drop them again."
)


class LibraryState(rx.State):
    """One tab's view of its library."""

    library_key: str = rx.LocalStorage("", name=LIBRARY_KEY)
    items_mirror: str = rx.LocalStorage("", name=ITEMS_KEY)
    jobs_mirror: str = rx.LocalStorage("", name=JOBS_KEY)
    cards: list[Card] = []
    stats: Stats = Stats()
    uploading: bool = False
    upload_limit_bytes: int = 25 * 2**20
    upload_percent: int = 0
    backends: str = ""
    problem: str = ""
    model_status: str = ""
    model_notice: str = ""
    ready: bool = False
    compact: bool = False
    _library_id: str = ""
    _statuses: dict[str, str] = {}
    _batch_cutouts: list[list[str]] = []  # outcomes not yet announced, [name, error] (refresh: one toast per batch)
    _batch_models: list[list[str]] = []
    _shown_digest: str = ""
    _upload_handling: bool = False
    _upload_ended_ms: int = 0
    _upload_progress_ms: int = 0

    @rx.var
    def upload_limit_mb(self) -> int:
        """The upload size cap in whole megabytes, for the page's texts."""
        return round(self.upload_limit_bytes / 2**20)

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
            self.problem = services.problems
            self.upload_limit_bytes = services.settings.max_upload_bytes
        library = services.library
        try:
            await library.open_library(library_id, *mirror)
        except Exception:
            logger.exception("Could not reconcile the browser's mirror; showing the server's copy")
        services.start_background()
        announce = False
        while True:
            view = await library.view(library_id)  # one hand-off: read and encode
            async with self:
                toasts = show_view(self, view, announce=announce)
                _show_model_state(self, services)
                self.ready = True
                _end_stale_upload(self)
            shown_at = time.monotonic()
            for toast in toasts:
                yield toast
            announce = True
            if await library.wait_for_change(library_id, view.version):  # a quiet library's poll wakes the runner
                # at once after a quiet spell; a burst of changes as one update
                await asyncio.sleep(wait_before_update(time.monotonic() - shown_at, cards=len(view.cards)))

    @rx.event(background=True)
    async def handle_upload(self, chunks: rx.UploadChunkIterator):
        """Receive a drop while its bytes arrive (every cap enforced on the way), then store each file and
        queue its cutout; refuse bad files with a toast naming them. Only a library whose page has loaded
        takes uploads: a request that names no open library is refused and creates nothing."""
        library = get_services().library
        async with self:
            library_id = self._library_id  # set when this tab's page loaded its library
        if not library_id or not await library.library_exists(library_id):
            yield rx.toast.error("This page has not loaded its library yet; reload it and drop the photos again.")
            return  # unread bytes stay unread: the request is cut off here
        try:
            with library.admit_upload(library_id):
                async for toast in _take_drop(self, library, library_id, chunks):
                    yield toast
        except UploadRefusedError as error:
            yield rx.toast.error(f"The photos were not added: {error}.")

    @rx.event
    def upload_progressed(self, progress: dict[str, Any]):
        """Follow the browser's upload progress (the handler itself ends the upload state)."""
        value = progress.get("progress", 0)
        if not isinstance(value, int | float) or value >= 1:
            return  # the bytes are sent; handle_upload takes over
        if now_ms() - self._upload_ended_ms < LATE_PROGRESS_MS:
            return  # progress events travel apart from the upload itself: a straggler must not revive the bar
        self.uploading = True
        self.upload_percent = round(float(value) * 100)
        self._upload_progress_ms = now_ms()

    @rx.event
    def upload_cut_off(self):
        """The browser's upload request failed for good (the web worker taking it in died, the network went
        away): end the upload here and tell the user what to do (every file taken in whole is kept and shown).
        A handler that died with its process never cleared its flag: cleared here."""
        self.uploading, self._upload_handling, self.upload_percent = False, False, 0
        self._upload_ended_ms = now_ms()
        return rx.toast.error(CUT_OFF_UPLOAD)

    @rx.event
    def toggle_compact(self):
        """Smaller cards, more per row (or back)."""
        self.compact = not self.compact

    @rx.event
    async def cancel_item(self, item_id: str):
        """Cancel the item's queued or running cutout."""
        return await _act_on_card(self, item_id, CardAction.CANCEL_CUTOUT)

    @rx.event
    async def retry_item(self, item_id: str):
        """Queue a failed or cancelled cutout again."""
        return await _act_on_card(self, item_id, CardAction.RETRY_CUTOUT)

    @rx.event
    async def generate_model(self, item_id: str):
        """Queue a 3D model of this item (a click goes before batch work)."""
        return await _act_on_card(self, item_id, CardAction.GENERATE_MODEL)

    @rx.event
    async def cancel_model(self, item_id: str):
        """Cancel the item's queued or running 3D model."""
        return await _act_on_card(self, item_id, CardAction.CANCEL_MODEL)

    @rx.event
    async def retry_model(self, item_id: str):
        """Queue a failed or cancelled 3D model again."""
        return await _act_on_card(self, item_id, CardAction.RETRY_MODEL)

    @rx.event
    async def delete_item(self, item_id: str):
        """Delete the item and its files."""
        return await _act_on_card(self, item_id, CardAction.DELETE)

    @rx.event
    async def generate_all_models(self):
        """Queue a 3D model, as batch work, for every item with a cutout and no model."""
        if not self._library_id:
            return
        library = get_services().library
        queued = await library.generate_all_models(self._library_id)
        for toast in await show_current(self, library, self._library_id):
            yield toast
        yield rx.toast.info(
            f"Queued {queued} 3D model{'s' if queued != 1 else ''}." if queued else "Every cutout already has a model."
        )


async def _take_drop(state: Any, library: LibraryService, library_id: str, chunks: rx.UploadChunkIterator):
    """Spool the drop as it arrives, then take each file in; yields the toasts for the user. The page shows
    "Uploading…" only for a drop still being handled after `SHOW_BUSY_AFTER_SECONDS`: a quick drop's first
    page update is its new card, not a busy state that delays receiving it and re-renders the page beside it
    (the browser shows the bytes' own progress meanwhile)."""
    busy = asyncio.create_task(_show_busy_after(state, SHOW_BUSY_AFTER_SECONDS), name="home-editor-upload-busy")
    try:
        drop = await library.receive_drop(library_id, chunks)  # even if the tab closes, files received whole are kept
        for name, reason in drop.refusals:
            shown = clean_text(name, 80)
            yield rx.toast.error(
                f"“{shown}” was not added: {reason}." if shown else f"Not every photo was added: {reason}."
            )
        while (result := await drop.results.get()) is not None:
            if result.item is None:
                yield rx.toast.error(f"“{result.name}” {result.problem}")
                continue
            view = await library.view(library_id)
            async with state:
                toasts = show_view(state, view)
            for toast in toasts:
                yield toast
    finally:
        busy.cancel()
        await asyncio.gather(busy, return_exceptions=True)  # its write, if begun, comes before the end's
        async with state:
            state.uploading, state._upload_handling, state.upload_percent = False, False, 0
            state._upload_ended_ms = now_ms()


async def _show_busy_after(state: Any, delay: float) -> None:
    """Put the upload's busy state on the page once it has lasted `delay` seconds."""
    await asyncio.sleep(delay)
    async with state:
        state.uploading, state._upload_handling = True, True


async def _act_on_card(state: Any, item_id: str, action: CardAction) -> list[Any]:
    """The one path of the card handlers: run the action on this tab's own library (an id from elsewhere
    finds nothing), put the library back on the page, and return the toasts."""
    if not is_record_id(item_id) or not state._library_id:
        return []
    library = get_services().library
    notice = await library.act_on_item(state._library_id, item_id, action)
    toasts = await show_current(state, library, state._library_id)
    return toasts + ([rx.toast.info(notice)] if notice else [])


def _library_id(state: Any) -> str:
    """This tab's library: the browser's id when well-formed (the browser's copy is the one that lasts);
    otherwise the library this tab already had, or a new one. A garbled value is overwritten, never kept.
    """
    stored = state.library_key
    if is_library_id(stored):
        state._library_id = stored
    elif not state._library_id:
        state._library_id = new_library_id()
    if stored != state._library_id:
        state.library_key = state._library_id
    return state._library_id


def _show_model_state(state: Any, services: Any) -> None:
    """The cutout model's state and the backends in the header (sent only when they changed)."""
    model = services.cutout_model
    for name, value in (
        ("backends", services.backends_label),
        ("model_status", model.summary),
        ("model_notice", model.notice),
    ):
        if getattr(state, name) != value:
            setattr(state, name, value)


def _end_stale_upload(state: Any) -> None:
    """Never leave the drop zone disabled: an upload whose request died (tab closed, network gone)
    ends its "Uploading…" state once no progress has been seen for a while."""
    if state.uploading and not state._upload_handling and now_ms() - state._upload_progress_ms > STALLED_UPLOAD_MS:
        state.uploading, state.upload_percent = False, 0
