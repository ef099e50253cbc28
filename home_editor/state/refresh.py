"""Putting a library's page view on a tab: its cards and counts, its localStorage mirror, and toasts for
work that just finished (module functions: they also run on a background task's state proxy). The view
itself is worked out in `core.page_view` and read through `LibraryService.view`."""

from __future__ import annotations

from typing import Any

import reflex as rx

from home_editor.core.cutout_notes import background_kept, is_doubtful
from home_editor.core.models import ACTIVE_STATUSES, ENDED_STATUSES, Item, JobStatus, JobType, Snapshot
from home_editor.core.page_view import PageView, page_view
from home_editor.library_service import LibraryService

CUTOUT_TEXTS = {
    "done": ("Background removed: “{}”.", "Background removed from {} photos"),
    "failed": ("“{}” failed: {}", "Background removal failed for {} photos"),
}
MODEL_TEXTS = {
    "done": ("3D model ready: “{}”.", "3D models ready for {} photos"),
    "failed": ("3D model of “{}” failed: {}", "3D models failed for {} photos"),
}


async def show_current(state: Any, library: LibraryService, library_id: str) -> list[Any]:
    """Put the library as it is now on the page after a card action (read and encoded in one hand-off,
    shared with any tab loading the same change)."""
    return show_view(state, await library.view(library_id))


def show(state: Any, snapshot: Snapshot, *, announce: bool = True) -> list[Any]:
    """Put a snapshot on the page and into the mirror; return toasts for jobs that just settled (see
    `show_view`)."""
    return show_view(state, page_view(snapshot), announce=announce)


def show_view(state: Any, view: PageView, *, announce: bool = True) -> list[Any]:
    """Put a page view on the page and into the mirror; return toasts for jobs that just settled.

    Args:
        state: The tab's LibraryState (or its proxy).
        view: The library as the store has it, worked out for the page (`LibraryService.view`).
        announce: False on a page's first view, so reopening a page does not repeat old news.
    """
    snapshot = view.snapshot
    if state._shown_digest != view.digest:  # an unchanged view sends nothing, and the page does not re-render
        state.cards, state.stats, state._shown_digest = view.cards, view.stats, view.digest
    if state.items_mirror != view.items_text:  # only real changes reach the browser's storage
        state.items_mirror = view.items_text
    if state.jobs_mirror != view.jobs_text:
        state.jobs_mirror = view.jobs_text
    previous = state._statuses
    current = {item.id: _statuses(item) for item in snapshot.items}
    state._statuses = current
    if not announce:
        return []
    news = [_news(item, previous.get(item.id), current[item.id]) for item in snapshot.items]
    state._batch_cutouts = [*state._batch_cutouts, *(cutout for cutout, _ in news if cutout)]
    state._batch_models = [*state._batch_models, *(model for _, model in news if model)]
    busy = {job.type for job in snapshot.jobs if job.is_active}
    toasts = []
    if state._batch_cutouts and JobType.REMBG not in busy:
        toasts.append(_batch_toast(state._batch_cutouts, CUTOUT_TEXTS))
        state._batch_cutouts = []
    if state._batch_models and JobType.GLB not in busy:
        toasts.append(_batch_toast(state._batch_models, MODEL_TEXTS))
        state._batch_models = []
    return toasts


def _statuses(item: Item) -> str:
    return f"{item.cutout_status.value}/{item.model_status.value if item.model_status else 'none'}"


def _news(item: Item, before: str | None, now: str) -> tuple[list[str] | None, list[str] | None]:
    """The item's cutout and model outcomes that just settled, as [name, error, caveat] (error "" when it succeeded)."""
    if before is None or before == now:
        return None, None
    (cutout_before, model_before), (cutout_now, model_now) = before.split("/"), now.split("/")
    cutout = model = None
    if cutout_before in ACTIVE_STATUSES and cutout_now in ENDED_STATUSES:
        cutout = [item.name, item.cutout_error or "failed" if cutout_now == JobStatus.FAILED else "", _caveat(item)]
    if model_before in ACTIVE_STATUSES and model_now in ENDED_STATUSES:
        model = [item.name, item.model_error or "failed" if model_now == JobStatus.FAILED else "", ""]
    return cutout, model


def _caveat(item: Item) -> str:
    """What a finished cutout's note says against "Background removed" ('' when it was removed cleanly)."""
    if background_kept(item.cutout_note):
        return f"Background not removed: “{item.name}”. {item.cutout_note}"
    if is_doubtful(item.cutout_note):
        return f"Background removed, but doubtful: “{item.name}”. {item.cutout_note}"
    return ""


def _batch_toast(outcomes: list[list[str]], texts: dict[str, tuple[str, str]]) -> Any:
    """One toast for a finished batch (work of one kind settles while more is queued or running, and is
    announced once none is left): a single photo is named, several are counted; failures say why, and a
    cutout that kept the photo whole or is doubtful is never announced as a clean "Background removed"."""
    failed = [(name, error) for name, error, _ in outcomes if error]
    caveats = [caveat for _, error, caveat in outcomes if not error and caveat]
    if failed:
        return _failed_toast([[name, error] for name, error, _ in outcomes], texts)
    if caveats:
        return _caveat_toast(outcomes, caveats)
    done = [name for name, _, _ in outcomes]
    one, several = texts["done"]
    return rx.toast.success(one.format(done[0]) if len(done) == 1 else f"{several.format(len(done))}.")


def _caveat_toast(outcomes: list[list[str]], caveats: list[str]) -> Any:
    if len(outcomes) == 1:
        return rx.toast.warning(caveats[0])
    clean = len(outcomes) - len(caveats)
    return rx.toast.warning(
        f"Background removed from {clean} of {len(outcomes)} photos; {len(caveats)} kept whole or doubtful"
        " (each card says why)."
    )


def _failed_toast(outcomes: list[list[str]], texts: dict[str, tuple[str, str]]) -> Any:
    done = [name for name, error in outcomes if not error]
    failed = [(name, error) for name, error in outcomes if error]
    one, several = texts["failed"]
    if len(failed) == 1 and not done:
        return rx.toast.error(one.format(*failed[0]))
    errors = {error for _, error in failed}
    reason = f": {errors.pop()}" if len(errors) == 1 else " (each card says why)"
    if not done:
        return rx.toast.error(f"{several.format(len(failed))}{reason}")
    done_text = texts["done"][1].format(len(done)) if len(done) > 1 else texts["done"][0].format(done[0])[:-1]
    return rx.toast.error(f"{done_text}; {len(failed)} failed{reason}")
