"""The Vercel Blob client against the contract stub: exact requests and the mapping of failures."""

from __future__ import annotations

import json

import httpx
import pytest

from home_editor.core.errors import StorageError
from home_editor.storage.vercel_blob import VercelBlobStorage
from tests.stubs.blob_stub import BlobStub
from tests.stubs.server import Fault

KEY = "abcdefgh12345678abcdefgh/abcdefghijkm/original.jpg"


def storage(http: httpx.AsyncClient, stub: BlobStub, token: str | None = None) -> VercelBlobStorage:
    return VercelBlobStorage(http, token=token or stub.token, api_url=stub.api_url)


async def test_put_sends_the_documented_request_and_returns_the_public_url(http, blob: BlobStub) -> None:
    url = await storage(http, blob).put(KEY, b"jpeg bytes", content_type="image/jpeg")
    [request] = blob.calls("PUT", "/api/blob")
    assert request.query == {"pathname": KEY}
    assert request.headers["authorization"] == f"Bearer {blob.token}"
    assert request.headers["x-api-version"] == "12"
    assert request.headers["x-content-type"] == "image/jpeg"
    assert request.headers["x-vercel-blob-access"] == "public"
    assert request.headers["x-add-random-suffix"] == "0"
    assert request.headers["x-allow-overwrite"] == "1"
    assert request.headers["x-cache-control-max-age"] == "31536000"
    assert request.body == b"jpeg bytes"
    assert url == blob.public_url(KEY)


async def test_get_and_locate_use_the_apis_own_metadata(http, blob: BlobStub) -> None:
    store = storage(http, blob)
    assert await store.locate(KEY) is None
    await store.put(KEY, b"data", content_type="image/jpeg")
    assert await store.locate(KEY) == blob.public_url(KEY)
    assert await store.get(KEY) == b"data"
    delivery = blob.calls("GET", f"/public/{KEY}")[0]
    assert "authorization" not in delivery.headers  # the token never goes to the delivery URL


async def test_delete_posts_the_pathnames(http, blob: BlobStub) -> None:
    store = storage(http, blob)
    await store.put(KEY, b"data", content_type="image/jpeg")
    await store.delete([KEY])
    [request] = blob.calls("POST", "/api/blob/delete")
    assert json.loads(request.body) == {"urls": [KEY]}
    assert KEY not in blob.blobs


async def test_keys_the_app_did_not_make_are_refused_before_any_request(http, blob: BlobStub) -> None:
    with pytest.raises(StorageError):
        await storage(http, blob).put("../../etc/passwd", b"x", content_type="image/png")
    assert blob.requests == []


async def test_a_wrong_token_is_a_clear_error_without_retries(http, blob: BlobStub) -> None:
    with pytest.raises(StorageError, match=r"rejected the token \(403\)") as caught:
        await storage(http, blob, token="vercel_blob_rw_other_Wrong1").put(KEY, b"x", content_type="image/png")
    assert "Wrong1" not in str(caught.value)
    assert len(blob.calls("PUT", "/api/blob")) == 1


async def test_401_is_not_retried_either(http, blob: BlobStub) -> None:
    blob.inject(Fault("PUT", "/api/blob", status=401))
    with pytest.raises(StorageError, match=r"\(401\)"):
        await storage(http, blob).put(KEY, b"x", content_type="image/png")
    assert len(blob.calls("PUT", "/api/blob")) == 1


@pytest.mark.parametrize("status", [500, 503, 429])
async def test_5xx_and_429_are_retried_with_backoff(http, blob: BlobStub, status: int) -> None:
    blob.inject(Fault("PUT", "/api/blob", status=status, times=2, retry_after="0"))
    assert await storage(http, blob).put(KEY, b"x", content_type="image/png") == blob.public_url(KEY)
    assert len(blob.calls("PUT", "/api/blob")) == 3


async def test_a_lasting_outage_ends_in_a_storage_error(http, blob: BlobStub) -> None:
    blob.inject(Fault("PUT", "/api/blob", status=502, times=10, retry_after="0"))
    with pytest.raises(StorageError, match=r"unavailable \(502\)"):
        await storage(http, blob).put(KEY, b"x", content_type="image/png")
    assert len(blob.calls("PUT", "/api/blob")) == 4


async def test_other_4xx_are_refused_without_retry(http, blob: BlobStub) -> None:
    blob.inject(Fault("PUT", "/api/blob", status=400))
    with pytest.raises(StorageError, match=r"refused the request \(400\)"):
        await storage(http, blob).put(KEY, b"x", content_type="image/png")
    assert len(blob.calls("PUT", "/api/blob")) == 1


async def test_the_api_version_header_is_required_by_the_stub(blob: BlobStub) -> None:
    async with httpx.AsyncClient() as raw:
        response = await raw.put(
            blob.api_url, params={"pathname": KEY}, headers={"authorization": f"Bearer {blob.token}"}, content=b"x"
        )
    assert response.status_code == 400
