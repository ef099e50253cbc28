"""Security checks that need no browser: library isolation through the page's own event handlers,
no inbound endpoint to forge results through, and safe headers on served files."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest
import reflex as rx
from starlette.testclient import TestClient

from home_editor.core.layout import folder_for
from home_editor.core.models import JobStatus, new_library_id
from home_editor.home_editor import app
from home_editor.services import build_services
from home_editor.settings import Settings
from home_editor.state import services_access
from home_editor.state.library_state import LibraryState
from tests.images import photo_bytes


@pytest.fixture
async def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    made = build_services(
        Settings(media_dir=tmp_path / "media", cutout_method="classical"),
        db_url=f"sqlite:///{tmp_path / 'app.db'}",
        public_base_url="http://app",
    )
    made.runner.notice_new_work = lambda library_id: None  # keep the victim's job queued and untouched
    monkeypatch.setattr(services_access, "_services", made)
    yield made
    await made.runner.shutdown()


def tab_of(library_id: str) -> LibraryState:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(LibraryState.get_full_name().split(".")[1:])
    state._library_id = library_id
    return state


async def drain(call) -> None:
    """Run an event handler to its end (a generator yields events; a coroutine returns them)."""
    if inspect.isasyncgen(call):
        async for _ in call:
            pass
    else:
        await call


@pytest.mark.reliability("S one library cannot touch another's items", "forged item ids in events are refused")
async def test_events_with_another_librarys_item_id_change_nothing(services, tmp_path: Path) -> None:
    victim, attacker = new_library_id(), new_library_id()
    await services.library.store.ensure_library(victim, 0)
    target = await services.library.add_upload(victim, "private.jpg", photo_bytes())
    tab = tab_of(attacker)
    for handler in (
        tab.cancel_item,
        tab.retry_item,
        tab.generate_model,
        tab.cancel_model,
        tab.retry_model,
        tab.delete_item,
    ):
        await drain(handler(target.id))
    after = await services.library.store.item(victim, target.id)
    assert after is not None and after.cutout_status is JobStatus.PENDING and after.model_status is None
    assert (tmp_path / "media" / folder_for(victim) / target.id / target.original).is_file()
    assert tab.cards == []  # and the attacker's page shows nothing of it


@pytest.mark.reliability("S garbage event payloads", "ids that are not ours are ignored, not looked up")
async def test_malformed_ids_are_ignored(services) -> None:
    tab = tab_of(new_library_id())
    for bad in ("../../etc", "", "x" * 10_000, "' OR 1=1 --"):
        await drain(tab.delete_item(bad))
        await drain(tab.cancel_item(bad))


@pytest.mark.reliability("S no inbound endpoint can set results", "no callback or webhook route exists to forge")
def test_there_is_no_callback_or_webhook_route() -> None:
    client = TestClient(app._api)  # the backend's ASGI app with our /media route and Reflex's own
    assert client.get("/ping").status_code == 200  # (the client really reaches the backend)
    for path in ("/api/callback", "/api/trellis/callback", "/webhook", "/api/jobs/complete", "/callback"):
        assert client.post(path, json={"job_id": "x", "status": "completed"}).status_code in (404, 405)
