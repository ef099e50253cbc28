"""Security checks that need no browser: library isolation through the page's own event handlers,
no inbound endpoint to forge results through, and safe headers on served files."""

from __future__ import annotations

import asyncio
import inspect
import logging
import secrets
from pathlib import Path

import pytest
import reflex as rx
from sqlalchemy import event
from sqlalchemy.engine import Engine
from starlette.testclient import TestClient

from home_editor.app_wiring import build_services
from home_editor.core.errors import StorageError
from home_editor.core.models import Item, JobStatus, JobType, new_library_id
from home_editor.home_editor import app
from home_editor.settings import Settings
from home_editor.state import process_services
from home_editor.state.library_state import LibraryState
from tests.images import photo_bytes
from tests.store_helpers import claim_next_async
from tests.stubs.blob_stub import BlobStub
from tests.stubs.server import Fault
from tests.stubs.trellis_stub import TrellisStub


@pytest.fixture
async def services(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    made = build_services(
        # a web-only process never claims: the victim's jobs stay queued and untouched
        Settings(media_dir=tmp_path / "media", cutout_method="classical", role="web"),
        db_url=f"sqlite:///{tmp_path / 'app.db'}",
        public_base_url="http://app",
    )
    monkeypatch.setattr(process_services, "_services", made)
    yield made
    await made.runner.shutdown()


def tab_of(library_id: str) -> LibraryState:
    root = rx.State(_reflex_internal_init=True)
    state = root.get_substate(LibraryState.get_full_name().split(".")[1:])
    state._library_id = library_id
    return state


async def run(call) -> list:
    """Run an event handler to its end and return the events it gave the page (toasts)."""
    if inspect.isasyncgen(call):
        return [event async for event in call]
    return list(await call or [])


def stored_files(root: Path) -> dict[str, bytes]:
    """Every file under the media folder, with its bytes."""
    return {str(path.relative_to(root)): path.read_bytes() for path in sorted(root.rglob("*")) if path.is_file()}


async def with_cutout(services, library_id: str, name: str):
    """An item whose cutout is done (its job claimed and completed through the store, as the runner would)."""
    item = await services.library.add_upload(library_id, name, photo_bytes(size=300 + len(name)))
    store = services.library.store
    job = await claim_next_async(store, library_id, token="test-claim", now_ms=1, lease_ms=60_000, concurrency=9)
    assert job is not None and job.item_id == item.id
    assert await store.complete(job.id, "test-claim", now_ms=2, result="cutout-abcdefghijkm.png") is not None
    return await store.item(library_id, item.id)


async def items_in_state(services, library_id: str, count: int) -> list[dict]:
    """`count` sets of items, one per action, each in a state in which that action would change it for its owner."""
    library, sets = services.library, [{} for _ in range(count)]
    for index, made in enumerate(sets):  # first every cutout, completed one at a time (nothing else is queued)
        for action in ACTIONS:
            if "model" in action:
                made[action] = await with_cutout(services, library_id, f"{action}-{index}.jpg")
    for index, made in enumerate(sets):
        for action in ACTIONS:
            if action in ("cancel_model", "retry_model"):
                assert await library.generate_model(library_id, made[action].id)
            if action == "retry_model":
                assert await library.cancel(library_id, made[action].id, JobType.GLB)
            if "model" not in action:  # its cutout is queued
                name = f"{action}-{index}.jpg"
                made[action] = await library.add_upload(library_id, name, photo_bytes(size=300 + len(name)))
            if action == "retry_item":
                assert await library.cancel(library_id, made[action].id, JobType.REMBG)
    return sets


def changed_as_the_action_says(action: str, before: Item, after: Item | None) -> bool:
    if action == "delete_item" or after is None:
        return action == "delete_item" and after is None
    return {
        "cancel_item": after.cutout_status is JobStatus.CANCELLED,
        "retry_item": (before.cutout_status, after.cutout_status) == (JobStatus.CANCELLED, JobStatus.PENDING),
        "generate_model": (before.model_status, after.model_status) == (None, JobStatus.PENDING),
        "cancel_model": after.model_status is JobStatus.CANCELLED,
        "retry_model": (before.model_status, after.model_status) == (JobStatus.CANCELLED, JobStatus.PENDING),
    }[action]


ACTIONS = ("cancel_item", "retry_item", "generate_model", "cancel_model", "retry_model", "delete_item")


@pytest.mark.reliability(
    "S one library cannot touch another's items",
    "another library's item id in any of the six card events changes nothing and tells nothing",
)
async def test_events_with_another_librarys_item_id_change_nothing(services, tmp_path: Path) -> None:
    victim, attacker = new_library_id(), new_library_id()
    store = services.library.store
    for library_id in (victim, attacker):
        await store.ensure_library(library_id, 0)
    targets, twins = await items_in_state(services, victim, 2)

    # control: each action, called by the owner's tab on a twin in the same state, does change it
    owner = tab_of(victim)
    for action, twin in twins.items():
        before = await store.item(victim, twin.id)
        await run(getattr(owner, action)(twin.id))
        assert changed_as_the_action_says(action, before, await store.item(victim, twin.id)), action

    media = tmp_path / "media"
    snapshot_before, files_before = await store.snapshot(victim), stored_files(media)
    tab = tab_of(attacker)
    for action, target in targets.items():
        assert await run(getattr(tab, action)(target.id)) == [], action  # no toast speaks of the victim's item
    assert await store.snapshot(victim) == snapshot_before
    assert stored_files(media) == files_before
    assert tab.cards == [] and (await store.snapshot(attacker)).items == []  # the attacker sees nothing of it


@pytest.mark.reliability(
    "S garbage event payloads", "malformed item ids are ignored: not looked up, nothing changed, no message"
)
async def test_malformed_ids_are_ignored(services, tmp_path: Path) -> None:
    library_id = new_library_id()
    await services.library.store.ensure_library(library_id, 0)
    item = await services.library.add_upload(library_id, "mine.jpg", photo_bytes())
    snapshot_before, files_before = await services.library.snapshot(library_id), stored_files(tmp_path / "media")
    tab = tab_of(library_id)
    statements = []

    def count(*_args) -> None:
        statements.append(1)

    event.listen(Engine, "before_cursor_execute", count)
    try:
        for bad in ("../../etc", "", "x" * 10_000, "' OR 1=1 --", f"{item.id}/../x", item.id.upper(), None, 42):
            for action in ACTIONS:
                assert await run(getattr(tab, action)(bad)) == [], (action, bad)  # no toast, no error
    finally:
        event.remove(Engine, "before_cursor_execute", count)
    assert statements == []  # not looked up: the store was never asked
    assert await services.library.snapshot(library_id) == snapshot_before
    assert stored_files(tmp_path / "media") == files_before
    assert tab.cards == []  # the page was not refreshed for them either


@pytest.mark.reliability(
    "S no inbound endpoint can set results", "POSTed results to callback and webhook paths are refused (404/405)"
)
def test_there_is_no_callback_or_webhook_route() -> None:
    client = TestClient(app._api)  # the backend's ASGI app with our /media route and Reflex's own
    assert client.get("/ping").status_code == 200  # (the client really reaches the backend)
    for path in ("/api/callback", "/api/trellis/callback", "/webhook", "/api/jobs/complete", "/callback"):
        assert client.post(path, json={"job_id": "x", "status": "completed"}).status_code in (404, 405)


@pytest.mark.reliability(
    "S no secret in logs or errors",
    "keys and tokens absent from every log line (start-up with bad configurations, Trellis and Blob errors"
    " over HTTP), from stored job errors and from raised error texts",
)
async def test_secrets_never_reach_logs_or_errors(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture
) -> None:
    key, token = f"trellis-key-{secrets.token_hex(8)}", f"vercel_blob_rw_store_{secrets.token_hex(12)}"
    caplog.set_level(logging.DEBUG)  # every logger: ours, httpx, httpcore
    base = {"HOME_EDITOR_MEDIA_DIR": str(tmp_path / "media"), "HOME_EDITOR_MAX_ATTEMPTS": "2"}
    base |= {"HOME_EDITOR_RETRY_BASE_SECONDS": "0.05"}
    texts: list[str] = []

    async def start(env: dict[str, str]):
        made = build_services(
            Settings.from_env(base | env), db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app"
        )
        await made.library.store.ensure_library(library, 0)
        return made

    library = new_library_id()
    for bad in (  # start-up with bad configurations: each problem is logged
        {"TRELLIS_API_KEY": key},
        {"TRELLIS_API_URL": "ftp://trellis", "TRELLIS_API_KEY": key},
        {"BLOB_READ_WRITE_TOKEN": f"not-a-token-{token}"},
    ):
        await (await start(bad)).runner.shutdown()

    trellis = TrellisStub(keys=(f"another-{key}",), step_seconds=0.01).start()
    good_blob, bad_blob = BlobStub(token=token).start(), BlobStub(token=f"{token}x").start()
    try:
        remote = {"TRELLIS_API_URL": trellis.url, "TRELLIS_API_KEY": key, "BLOB_READ_WRITE_TOKEN": token}
        refused = await start(remote | {"VERCEL_BLOB_API_URL": bad_blob.api_url})  # Blob rejects the token
        with pytest.raises(StorageError) as raised:
            await refused.library.add_upload(library, "a.jpg", photo_bytes(size=300))
        texts.append(str(raised.value))
        await refused.runner.shutdown()

        made = await start(remote | {"VERCEL_BLOB_API_URL": good_blob.api_url})
        await made.library.add_upload(library, "b.jpg", photo_bytes(size=310))  # Trellis rejects the key (401)
        await asyncio.wait_for(made.runner.until_idle(library), 30)
        trellis.keys = (key,)
        trellis.inject(Fault("POST", "/api/v1/rembg/async/", times=10, status=500))  # lasting 500s
        await made.library.add_upload(library, "c.jpg", photo_bytes(size=320))
        await asyncio.wait_for(made.runner.until_idle(library), 30)
        jobs = (await made.library.snapshot(library)).jobs
        await made.runner.shutdown()
    finally:
        for stub in (trellis, good_blob, bad_blob):
            stub.stop()

    texts += [job.error for job in jobs]
    assert {job.status for job in jobs} == {JobStatus.FAILED} and len(jobs) == 2
    logged, printed = caplog.text, "".join(capfd.readouterr())
    # the checks below are not vacuous: each fault was seen and reported
    for evidence in ("TRELLIS_API_KEY is set", "not an http(s) URL", "BLOB_READ_WRITE_TOKEN does not look like"):
        assert evidence in logged, evidence
    assert any("401" in text for text in texts) and any("500" in text for text in texts)
    assert len(trellis.submissions()) == 0 and len(trellis.calls("POST", "/api/v1/rembg/async/")) == 1 + 2
    for secret in (key, token, token.rsplit("_", 1)[1]):
        assert secret not in logged and secret not in printed and not any(secret in text for text in texts)
