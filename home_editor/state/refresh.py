"""Putting a store snapshot on a tab: its cards and counts, its localStorage mirror, and toasts for
work that just finished (module functions: they also run on a background task's state proxy)."""

from __future__ import annotations

import hashlib
from typing import Any

import reflex as rx

from home_editor.core.cutout_notes import background_kept, is_doubtful
from home_editor.core.mirror import encode_items, encode_jobs
from home_editor.core.models import Item
from home_editor.jobs.runner import now_ms
from home_editor.store.library_store import Snapshot
from home_editor.views import cards_for, stats_for

ACTIVE = ("pending", "processing")


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
    return [toast for item in snapshot.items for toast in _news(item, previous.get(item.id), current[item.id])]


def _statuses(item: Item) -> str:
    return f"{item.cutout_status.value}/{item.model_status.value if item.model_status else 'none'}"


def _news(item: Item, before: str | None, now: str) -> list[Any]:
    if before is None or before == now:
        return []
    (cutout_before, model_before), (cutout_now, model_now) = before.split("/"), now.split("/")
    toasts = []
    if cutout_before in ACTIVE and cutout_now == "completed":
        toasts.append(_cutout_toast(item))
    elif cutout_before in ACTIVE and cutout_now == "failed":
        toasts.append(rx.toast.error(f"“{item.name}” failed: {item.cutout_error}"))
    if model_before in ACTIVE and model_now == "completed":
        toasts.append(rx.toast.success(f"3D model ready: “{item.name}”."))
    elif model_before in ACTIVE and model_now == "failed":
        toasts.append(rx.toast.error(f"3D model of “{item.name}” failed: {item.model_error}"))
    return toasts


def _cutout_toast(item: Item) -> Any:
    """The completion toast: "Background removed" only when it was (a photo kept whole or a doubtful cutout says so)."""
    if background_kept(item.cutout_note):
        return rx.toast.warning(f"Background not removed: “{item.name}”. {item.cutout_note}")
    if is_doubtful(item.cutout_note):
        return rx.toast.warning(f"Background removed, but doubtful: “{item.name}”. {item.cutout_note}")
    return rx.toast.success(f"Background removed: “{item.name}”.")
