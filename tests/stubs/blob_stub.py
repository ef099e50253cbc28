"""A loopback stand-in for the Vercel Blob REST API (docs/vercel-blob.md): PUT with its
headers, metadata lookups by pathname or URL, batch delete, and public delivery of stored blobs.
Requests missing `authorization` or `x-api-version: 12` are refused the way the service would."""

from __future__ import annotations

import hashlib
import json
import threading
from urllib.parse import unquote

from tests.stubs.server import Reply, Request, StubServer

API = "/api/blob"


class BlobStub(StubServer):
    """The stub; `token` is the only accepted token."""

    def __init__(self, *, token: str = "vercel_blob_rw_teststore_SecretPart123") -> None:
        super().__init__()
        self.token = token
        self.blobs: dict[str, tuple[bytes, str]] = {}
        self._blobs_lock = threading.Lock()

    @property
    def api_url(self) -> str:
        return self.url + API

    def public_url(self, pathname: str) -> str:
        return f"{self.url}/public/{pathname}"

    def route(self, request: Request) -> Reply:
        if request.method == "GET" and request.path.startswith("/public/"):
            return self._deliver(unquote(request.path[len("/public/") :]))
        if not request.path.startswith(API):
            return Reply.json(404, {"error": {"code": "not_found", "message": "Not found"}})
        if request.headers.get("authorization") != f"Bearer {self.token}":
            return Reply.json(403, {"error": {"code": "forbidden", "message": "Access denied"}})
        if request.headers.get("x-api-version") != "12":
            return Reply.json(400, {"error": {"code": "bad_request", "message": "Unsupported API version"}})
        if request.method == "PUT" and request.path == API:
            return self._put(request)
        if request.method == "GET" and request.path == API and "url" in request.query:
            return self._head(request.query["url"])
        if request.method == "POST" and request.path == f"{API}/delete":
            return self._delete(request)
        return Reply.json(400, {"error": {"code": "bad_request", "message": "Unsupported"}})

    def _pathname(self, value: str) -> str:
        prefix = self.url + "/public/"
        return value.removeprefix(prefix)

    def _put(self, request: Request) -> Reply:
        pathname = request.query.get("pathname", "")
        if not pathname or ".." in pathname or "//" in pathname or len(pathname) > 950:
            return Reply.json(400, {"error": {"code": "bad_request", "message": "Invalid pathname"}})
        if request.headers.get("x-vercel-blob-access") not in ("public", "private"):
            return Reply.json(400, {"error": {"code": "bad_request", "message": "Access must be public or private"}})
        content_type = request.headers.get("x-content-type", "application/octet-stream")
        with self._blobs_lock:
            if pathname in self.blobs and request.headers.get("x-allow-overwrite") != "1":
                return Reply.json(400, {"error": {"code": "bad_request", "message": "This blob already exists"}})
            self.blobs[pathname] = (request.body, content_type)
        return Reply.json(200, self._metadata(pathname))

    def _metadata(self, pathname: str) -> dict:
        data, content_type = self.blobs[pathname]
        url = self.public_url(pathname)
        return {
            "url": url,
            "downloadUrl": url + "?download=1",
            "pathname": pathname,
            "contentType": content_type,
            "contentDisposition": f'inline; filename="{pathname.rsplit("/", 1)[-1]}"',
            "size": len(data),
            "etag": hashlib.md5(data).hexdigest(),
        }

    def _head(self, target: str) -> Reply:
        pathname = self._pathname(target)
        with self._blobs_lock:
            if pathname not in self.blobs:
                return Reply.json(404, {"error": {"code": "not_found", "message": "The requested blob does not exist"}})
            return Reply.json(200, self._metadata(pathname))

    def _delete(self, request: Request) -> Reply:
        try:
            targets = json.loads(request.body)["urls"]
        except (ValueError, KeyError, TypeError):
            return Reply.json(400, {"error": {"code": "bad_request", "message": "Invalid body"}})
        with self._blobs_lock:
            for target in targets:
                self.blobs.pop(self._pathname(target), None)
        return Reply(200, b"", "application/json")

    def _deliver(self, pathname: str) -> Reply:
        with self._blobs_lock:
            found = self.blobs.get(pathname)
        if found is None:
            return Reply(404, b"Not found", "text/plain")
        headers = {"Cache-Control": "public, max-age=31536000", "Access-Control-Allow-Origin": "*"}  # as Blob's CDN
        return Reply(200, found[0], found[1], headers)
