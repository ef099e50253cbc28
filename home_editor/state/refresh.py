"""Putting a store snapshot on a tab: its cards and counts, its localStorage mirror, and toasts for
work that just finished (module functions: they also run on a background task's state proxy)."""

from __future__ import annotations

import hashlib
from typing import Any

import reflex as rx

from home_editor.core.mirror import encode_items, encode_jobs
from home_editor.core.models import Item, JobType
from home_editor.jobs.runner import now_ms
from home_editor.store.library_store import Snapshot
from home_editor.views import cards_for, stats_for

ACTIVE = ("pending", "processing")
CUTOUTS_DONE = ("Background removed: “{}”.", "Background removed from {} photos.")
MODELS_DONE = ("3D model ready: “{}”.", "3D models ready for {} photos.")


def show(state: Any, snapshot: Snapshot, *, announce: bool = True) -> list[Any]:
    """Put a snapshot on the page and into the mirror; return toasts for jobs that just settled.

    Args:
        state: The tab's LibraryState (or its proxy).
        snapshot: The library as the store has it.
        announce: False on a page's first view, so reopening a page does not repeat old news.
    """
    cards, stats = cards_for(snapshot, now_ms=now_ms()), stats_for(snapshot)
    digest = hashlib.blake2b(repr((cards, stats)).encode(), digest_size=12).hexdigest()
    if state._shown_digest != digest:  # an unchanged view sends nothing, and the page does not re-render
        state.cards, state.stats, state._shown_digest = cards, stats, digest
    items_text, jobs_text = encode_items(snapshot.items), encode_jobs(snapshot.jobs)
    if state.items_mirror != items_text:  # only real changes reach the browser's storage
        state.items_mirror = items_text
    if state.jobs_mirror != jobs_text:
        state.jobs_mirror = jobs_text
    previous = state._statuses
    current = {item.id: _statuses(item) for item in snapshot.items}
    state._statuses = current
    if not announce:
        return []
    news = [_news(item, previous.get(item.id), current[item.id]) for item in snapshot.items]
    return [toast for _, _, failures in news for toast in failures] + _finished_batches(state, snapshot, news)


def _statuses(item: Item) -> str:
    return f"{item.cutout_status.value}/{item.model_status.value if item.model_status else 'none'}"


def _news(item: Item, before: str | None, now: str) -> tuple[bool, bool, list[Any]]:
    """Whether the item's cutout and model just completed, and toasts for what just failed."""
    if before is None or before == now:
        return False, False, []
    (cutout_before, model_before), (cutout_now, model_now) = before.split("/"), now.split("/")
    failures = []
    if cutout_before in ACTIVE and cutout_now == "failed":
        failures.append(rx.toast.error(f"“{item.name}” failed: {item.cutout_error}"))
    if model_before in ACTIVE and model_now == "failed":
        failures.append(rx.toast.error(f"3D model of “{item.name}” failed: {item.model_error}"))
    return (
        cutout_before in ACTIVE and cutout_now == "completed",
        model_before in ACTIVE and model_now == "completed",
        failures,
    )


def _finished_batches(state: Any, snapshot: Snapshot, news: list[tuple[bool, bool, list[Any]]]) -> list[Any]:
    """One toast per finished batch, not one per photo: completions are collected while more work of
    the same kind is queued or running, and announced together once none is left."""
    items = snapshot.items
    state._done_cutouts = [*state._done_cutouts, *(item.name for item, n in zip(items, news, strict=True) if n[0])]
    state._done_models = [*state._done_models, *(item.name for item, n in zip(items, news, strict=True) if n[1])]
    busy = {job.type for job in snapshot.jobs if job.is_active}
    toasts = []
    if state._done_cutouts and JobType.REMBG not in busy:
        toasts.append(rx.toast.success(_done_text(state._done_cutouts, *CUTOUTS_DONE)))
        state._done_cutouts = []
    if state._done_models and JobType.GLB not in busy:
        toasts.append(rx.toast.success(_done_text(state._done_models, *MODELS_DONE)))
        state._done_models = []
    return toasts


def _done_text(names: list[str], one: str, several: str) -> str:
    return one.format(names[0]) if len(names) == 1 else several.format(len(names))
