"""The app's start-up builds its services (database, data folder, processing workers) off the event loop:
tabs reconnecting after a restart are served by that loop meanwhile."""

from __future__ import annotations

import asyncio
import gc
import sys
import threading
from pathlib import Path

import pytest

from home_editor import home_editor as app_module
from home_editor.processing.upload_checks import UploadChecks
from home_editor.state import process_services
from home_editor.thread_pools import default_thread_count


@pytest.fixture
def app_environment(tmp_path: Path, monkeypatch) -> None:
    """A throw-away data folder and database for the app's start-up (the fast classical cutout)."""
    monkeypatch.setenv("HOME_EDITOR_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("HOME_EDITOR_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("HOME_EDITOR_DB_URL", f"sqlite:///{tmp_path / 'app.db'}")
    monkeypatch.setenv("HOME_EDITOR_CUTOUT_METHOD", "classical")


@pytest.mark.usefixtures("app_environment")
async def test_services_are_built_off_the_event_loop(monkeypatch) -> None:
    built_on: list[int] = []
    real_build = process_services.build_services

    def recorded(*args, **kwargs):
        built_on.append(threading.get_ident())
        return real_build(*args, **kwargs)

    monkeypatch.setattr(process_services, "build_services", recorded)
    monkeypatch.setattr(process_services, "_services", None)
    try:
        await app_module.resume_work()
        assert built_on and threading.get_ident() not in built_on
        assert process_services._services is not None  # and the janitor of those services was started
    finally:
        if process_services._services is not None:
            await process_services._services.runner.shutdown()


@pytest.mark.usefixtures("app_environment")
async def test_the_start_up_runs_the_upload_checks_once(monkeypatch) -> None:
    warmed: list[object] = []
    real_warm_up = UploadChecks.warm_up

    async def recorded(checks: UploadChecks) -> None:
        warmed.append(checks)
        await real_warm_up(checks)

    monkeypatch.setattr(UploadChecks, "warm_up", recorded)
    monkeypatch.setattr(process_services, "_services", None)
    try:
        await app_module.resume_work()
        services = process_services._services
        assert services is not None and warmed == [services.photo_check]
    finally:
        if process_services._services is not None:
            await process_services._services.runner.shutdown()


@pytest.mark.usefixtures("app_environment")
async def test_the_start_up_starts_every_to_thread_thread_shortens_thread_switches_and_freezes_what_it_loaded(
    monkeypatch, thread_starts: list[str]
) -> None:
    monkeypatch.setattr(process_services, "_services", None)
    switch_interval = sys.getswitchinterval()
    gc.unfreeze()
    try:
        await app_module.resume_work()
        assert gc.get_freeze_count() > 0
        assert sum(name.startswith("home-editor-io") for name in thread_starts) == default_thread_count()
        assert sys.getswitchinterval() == 0.001
        thread_starts.clear()
        everyone = threading.Barrier(default_thread_count(), timeout=10)  # as many at once as the pool has
        await asyncio.gather(*(asyncio.to_thread(everyone.wait) for _ in range(default_thread_count())))
        assert thread_starts == []
    finally:
        gc.unfreeze()
        sys.setswitchinterval(switch_interval)
        if process_services._services is not None:
            await process_services._services.runner.shutdown()
