"""Stub servers for the contract tests (real HTTP on loopback)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.stubs.blob_stub import BlobStub
from tests.stubs.trellis_stub import TrellisStub


@pytest.fixture
def trellis() -> Iterator[TrellisStub]:
    stub = TrellisStub(step_seconds=0.05).start()
    yield stub
    stub.stop()


@pytest.fixture
def blob() -> Iterator[BlobStub]:
    stub = BlobStub().start()
    yield stub
    stub.stop()


@pytest.fixture
async def http() -> httpx.AsyncClient:
    async with httpx.AsyncClient() as client:
        yield client
