"""Browser-test fixtures: Debian's Chromium through pytest-playwright, and one real app for the session."""

from __future__ import annotations

import os
import secrets
import shutil
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.browser.app_server import AppServer
from tests.stubs.blob_stub import BlobStub
from tests.stubs.trellis_stub import TrellisStub


def _chromium() -> str | None:
    return os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    args = {
        **browser_type_launch_args,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }
    if executable := _chromium():
        args["executable_path"] = executable
    return args


@pytest.fixture(scope="session", autouse=True)
def _teardown_on_sigterm() -> None:
    """A CI time-out sends SIGTERM: turn it into an interrupt so fixtures stop their app servers."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


@pytest.fixture(scope="session")
def app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """The app at full speed; a test that must act while a job runs holds local jobs (`hold_local_jobs`)."""
    server = AppServer(
        tmp_path_factory.mktemp("app"),
        HOME_EDITOR_LEASE_SECONDS="4",
        HOME_EDITOR_POLL_SECONDS="1",
    )
    server.start()
    yield server
    server.stop()


@pytest.fixture
def images(tmp_path: Path) -> dict[str, Path]:
    """Photos to drop (generated), and a text file posing as a PNG."""
    from tests.images import photo_bytes

    files = {
        "chair.jpg": photo_bytes("plain", "ellipse", 600),
        "lamp.png": photo_bytes("gradient", "box", 500, image_format="PNG"),
        "table.webp": photo_bytes("shadow", "border", 500, image_format="WEBP"),
        "sofa.jpg": photo_bytes("textured", "ring", 600),
        "notes.png": b"these are my shopping notes, not a picture",
    }
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    return {name: tmp_path / name for name in files}


TRELLIS_KEY = f"trellis-key-{secrets.token_hex(8)}"
BLOB_TOKEN = f"vercel_blob_rw_teststore_{secrets.token_hex(12)}"


@pytest.fixture(scope="session")
def stubs() -> Iterator[tuple[TrellisStub, BlobStub]]:
    """Loopback stand-ins for the Trellis API and Vercel Blob, shared by the remote-backend tests."""
    trellis = TrellisStub(keys=(TRELLIS_KEY,), step_seconds=1.0).start()
    blob = BlobStub(token=BLOB_TOKEN).start()
    yield trellis, blob
    trellis.stop()
    blob.stop()


@pytest.fixture(autouse=True)
def _stubs_reset_around_each_test(request: pytest.FixtureRequest) -> Iterator[None]:
    """The stubs are shared by the session: each test that uses them starts and ends with no scripted
    fault, outcome, hold or request log left by another, so one test's failure cannot leak into the next."""
    if "stubs" not in request.fixturenames:
        yield
        return
    shared = request.getfixturevalue("stubs")
    for stub in shared:
        stub.reset()
    yield
    for stub in shared:
        stub.reset()


@pytest.fixture(scope="session")
def remote_app(tmp_path_factory: pytest.TempPathFactory, stubs) -> Iterator[AppServer]:
    """The app configured for both stubs (its own frontend build: it runs beside the local one)."""
    trellis, blob = stubs
    server = AppServer(
        tmp_path_factory.mktemp("remote-app"),
        own_web_dir=True,
        TRELLIS_API_URL=trellis.url,
        TRELLIS_API_KEY=TRELLIS_KEY,
        BLOB_READ_WRITE_TOKEN=BLOB_TOKEN,
        VERCEL_BLOB_API_URL=blob.api_url,
        HOME_EDITOR_RETRY_BASE_SECONDS="0.5",
        HOME_EDITOR_LEASE_SECONDS="4",
        HOME_EDITOR_POLL_SECONDS="1",
    )
    server.start()
    yield server
    server.stop()
