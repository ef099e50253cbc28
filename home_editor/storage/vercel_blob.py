"""Vercel Blob storage over its REST API with plain httpx (the same requests the official SDKs send,
API version 12; see docs/vercel-blob.md for why not the `vercel` package).

Pathnames are the app's own keys (never client names), public access, no random suffix, overwrite
allowed so a retried PUT whose first response was lost cannot fail. 5xx and 429 are retried with
back-off (honouring retry-after); 401/403 and other 4xx are not. Every failure is a StorageError.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import httpx

from home_editor.core.errors import StorageError
from home_editor.core.polling import retry_after_seconds
from home_editor.storage.base import STREAM_CHUNK, check_key, finish_even_if_cancelled

TIMEOUT = httpx.Timeout(60.0, connect=10.0)
ATTEMPTS = 4
CACHE_SECONDS = 31_536_000  # every stored file has a new name, so it can be cached for a year


class VercelBlobStorage:
    """The `Storage` protocol on a Vercel Blob store."""

    label = "Vercel Blob"

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        token: str,
        api_url: str,
        api_version: str = "12",
        rng: random.Random | None = None,
    ) -> None:
        self._http = http
        self._api = api_url.rstrip("/")
        self._headers = {"authorization": f"Bearer {token}", "x-api-version": api_version}
        self._rng = rng or random.Random()

    async def put(self, key: str, data: bytes, *, content_type: str) -> str:
        """Upload; returns the blob's public URL."""
        headers = {
            "x-vercel-blob-access": "public",
            "x-add-random-suffix": "0",
            "x-allow-overwrite": "1",
            "x-content-type": content_type,
            "x-cache-control-max-age": str(CACHE_SECONDS),
        }
        response = await self._request(
            "PUT", self._api, params={"pathname": check_key(key)}, headers=headers, content=data
        )
        url = _field(response, "url")
        if not url.startswith(("https://", "http://")):
            raise StorageError("Vercel Blob answered without a usable URL.")
        return url

    async def get(self, key: str) -> bytes:
        """Download a blob (its URL comes from the API's own metadata, never from a client)."""
        url = await self.locate(key)
        if url is None:
            raise StorageError("A stored file is missing from Vercel Blob.")
        response = await self._request("GET", url, authorized=False)
        return response.content

    async def stream(self, key: str) -> AsyncIterator[bytes]:
        """Download a blob as it arrives (its URL from the API's metadata; the lookup is retried like
        every request, the download itself is not: it may already have been partly handed on)."""
        url = await self.locate(key)
        if url is None:
            raise StorageError("A stored file is missing from Vercel Blob.")
        try:
            async with self._http.stream("GET", url, timeout=TIMEOUT) as response:
                if response.status_code >= 300:
                    raise StorageError(f"Vercel Blob could not send a stored file ({response.status_code}).")
                async for chunk in response.aiter_bytes(STREAM_CHUNK):
                    yield chunk
        except httpx.HTTPError as error:
            raise StorageError("Could not read a stored file from Vercel Blob.") from error

    def local_path(self, key: str) -> None:
        """Blobs are not on this machine's disk."""
        return None

    async def locate(self, key: str) -> str | None:
        """The blob's public URL, or None when no blob has this pathname."""
        try:
            response = await self._request("GET", self._api, params={"url": check_key(key)})
        except _NotFound:
            return None
        return _field(response, "url")

    async def delete(self, keys: list[str]) -> None:
        """Delete blobs by pathname (missing ones are ignored by the API)."""
        for start in range(0, len(keys), 1000):
            batch = [check_key(key) for key in keys[start : start + 1000]]
            await self._request("POST", f"{self._api}/delete", json={"urls": batch})

    async def _request(self, method: str, url: str, *, authorized: bool = True, **kwargs: Any) -> httpx.Response:
        headers = {**(self._headers if authorized else {}), **kwargs.pop("headers", {})}
        pause = 1.0
        for attempt in range(ATTEMPTS):
            try:
                response = await self._send(method, url, headers=headers, **kwargs)
            except httpx.TimeoutException as error:
                failure: StorageError = StorageError("Vercel Blob did not answer in time.")
                failure.__cause__ = error
            except httpx.TransportError as error:
                failure = StorageError("Could not reach Vercel Blob.")
                failure.__cause__ = error
            else:
                code = response.status_code
                if code < 300:
                    return response
                if code == 404:
                    raise _NotFound(f"Vercel Blob: not found ({code}).")
                if code in (401, 403):
                    raise StorageError(f"Vercel Blob rejected the token ({code}).")
                if code != 429 and code < 500:
                    raise StorageError(f"Vercel Blob refused the request ({code}).")
                failure = StorageError(f"Vercel Blob is unavailable ({code}).")
                pause = retry_after_seconds(response.headers.get("retry-after"), pause)
            if attempt + 1 < ATTEMPTS:
                await asyncio.sleep(min(pause, 30.0) * (0.5 + self._rng.random() / 2))
                pause *= 2
        raise failure

    async def _send(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        """One request. An upload on the wire is let finish when its caller is cancelled (the store may
        keep it even if the connection is dropped), so the caller's clean-up comes after it; no further
        attempt is made."""
        request = self._http.request(method, url, timeout=TIMEOUT, **kwargs)
        return await (finish_even_if_cancelled(request) if method == "PUT" else request)


class _NotFound(StorageError):
    """404 from the API (kept internal: `locate` turns it into None)."""


def _field(response: httpx.Response, name: str) -> str:
    try:
        value = response.json().get(name)
    except (ValueError, AttributeError) as error:
        raise StorageError("Vercel Blob sent an unreadable response.") from error
    if not isinstance(value, str):
        raise StorageError("Vercel Blob sent an unreadable response.")
    return value
