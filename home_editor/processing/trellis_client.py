"""A small client for the deployed Trellis API (Modal), spoken exactly as its contract says: POST paths
with their trailing slash, scalars as query parameters, the image in the multipart field `files`,
`Authorization: Bearer`, relative `download_url`s, explicit timeouts on every call.

Every failure becomes one of the app's error classes, with a short user-facing text (never the key,
never an upstream traceback): a rejected key or request is permanent; 5xx, timeouts and dropped
connections are transient; 429 is waited out here (honouring Retry-After) without failing anything.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import math
import random
import re
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

import httpx

from home_editor.core.errors import HomeEditorError, PermanentError, TransientError
from home_editor.core.polling import retry_after_seconds

logger = logging.getLogger(__name__)

TIMEOUT = httpx.Timeout(30.0, connect=10.0)
RESULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)
MAX_RATE_LIMIT_WAIT_SECONDS = 180.0
MAX_RATE_LIMIT_ROUNDS = 10  # a "Retry-After: 0" loop ends too
MAX_REASON_CHARS = 200
JOB_ID = re.compile(r"[A-Za-z0-9-]{1,64}")  # a uuid4 in the contract; nothing that could change the path
RESULT_PATH = re.compile(r"/api/v1/jobs/[A-Za-z0-9-]{1,64}/result")  # the contract's relative download_url


class SharedPause(Protocol):
    """A 429 pause shared by every process using the key (RedisPause)."""

    async def hold(self, seconds: float) -> None:
        """Pause everyone's calls for `seconds`."""
        ...

    async def remaining(self) -> float:
        """Seconds the current pause still lasts."""
        ...


class TrellisAuthError(PermanentError):
    """The API refused the key (401/403): a wrong key does not get better by retrying."""


class RemoteJobGone(HomeEditorError):
    """The remote job or its result no longer exists (404, contract §7). Permanent for that remote job
    (never polled or fetched again), but not for ours: the attempt fails and the next one submits again."""

    retryable = True


@dataclasses.dataclass(frozen=True)
class RemoteStatus:
    """A remote job's state as `GET /api/v1/jobs/{id}` reports it."""

    status: str
    progress: int
    message: str
    error: str = ""
    download_url: str = ""

    @property
    def finished(self) -> bool:
        """Whether the remote job has settled."""
        return self.status in ("completed", "failed", "cancelled")


def short_reason(text: object) -> str:
    """The first meaningful line of an upstream message, without any traceback, cut short."""
    if not isinstance(text, str):
        return ""
    text = text.split("Traceback (most recent call last)")[0]
    line = next((part.strip() for part in text.splitlines() if part.strip()), "")
    return line if len(line) <= MAX_REASON_CHARS else line[: MAX_REASON_CHARS - 1] + "…"


class TrellisClient:
    """One API base URL and key; share one per process (its 429 pauses are shared too)."""

    def __init__(
        self,
        http: httpx.AsyncClient,
        *,
        base_url: str,
        key: str,
        timeout: httpx.Timeout = TIMEOUT,
        max_rate_limit_wait: float = MAX_RATE_LIMIT_WAIT_SECONDS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        shared_pause: SharedPause | None = None,
    ) -> None:
        if not key:
            raise PermanentError("The Trellis API key is empty.")  # an empty Bearer always fails
        self._http = http
        self._base = base_url.rstrip("/")
        self._headers = {"Authorization": f"Bearer {key}"}
        self._timeout = timeout
        self._max_wait = max_rate_limit_wait
        self._rng = random.Random()
        self._sleep = sleep
        self._shared_pause = shared_pause  # with several processes: a 429 seen by one pauses them all

    async def submit_rembg(
        self, image: bytes, filename: str, *, model: str = "u2net", alpha_matting: bool = False
    ) -> str:
        """Submit a background removal; returns the remote job id."""
        params = {"model": model, "alpha_matting": str(alpha_matting).lower()}
        return await self._submit("/api/v1/rembg/async/", image, filename, params)

    async def submit_trellis(self, image: bytes, filename: str, *, seed: int = 0) -> str:
        """Submit a 3D generation; returns the remote job id."""
        return await self._submit("/api/v1/trellis/async/", image, filename, {"seed": str(seed)})

    async def status(self, job_id: str) -> RemoteStatus:
        """The remote job's status. Raises RemoteJobGone on 404."""
        response = await self._call("GET", f"/api/v1/jobs/{job_id}", gone="The Trellis job no longer exists (404).")
        body = _json(response)
        return RemoteStatus(
            status=str(body.get("status", "")),
            progress=_int(body.get("progress")),
            message=short_reason(body.get("message")),
            error=short_reason(body.get("error")),
            download_url=str(body.get("download_url") or ""),
        )

    async def result(self, download_url: str) -> bytes:
        """The result file, from a relative `download_url` joined with the base URL. Raises RemoteJobGone on
        404 (the job or its output file is gone)."""
        if not RESULT_PATH.fullmatch(download_url):
            raise TransientError("The Trellis API gave an unexpected result location.")
        gone = "The Trellis API no longer has the job's result (404)."
        response = await self._call("GET", download_url, timeout=RESULT_TIMEOUT, gone=gone)
        return response.content

    async def delete(self, job_id: str) -> None:
        """Cancel and delete the remote job; best effort (failures are logged, not raised; 404 means it is
        already gone, which is what was wanted)."""
        try:
            await self._call("DELETE", f"/api/v1/jobs/{job_id}", gone="", max_wait=10.0)
        except RemoteJobGone:
            return
        except (TransientError, PermanentError) as error:
            logger.info("Could not delete Trellis job %s: %s", job_id, error)

    async def _submit(self, path: str, image: bytes, filename: str, params: dict[str, str]) -> str:
        files = {"files": (filename, image, "application/octet-stream")}
        response = await self._call("POST", path, params=params, files=files)
        job_id = _json(response).get("job_id")
        if not isinstance(job_id, str) or not JOB_ID.fullmatch(job_id):
            raise TransientError("The Trellis API accepted the image but sent no usable job id.")
        return job_id

    async def _call(
        self,
        method: str,
        path: str,
        *,
        timeout: httpx.Timeout | None = None,
        gone: str | None = None,
        max_wait: float | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        timeout = timeout or self._timeout
        max_wait = self._max_wait if max_wait is None else max_wait
        waited, pause = 0.0, 2.0
        for round_number in range(1, MAX_RATE_LIMIT_ROUNDS + 1):
            if self._shared_pause is not None and (paused := await self._shared_pause.remaining()) > 0:
                await self._sleep(paused)  # another process was told to slow down: so is this one
            try:
                response = await self._http.request(
                    method, self._base + path, headers=self._headers, timeout=timeout, **kwargs
                )
            except httpx.TimeoutException as error:
                raise TransientError("The Trellis API did not answer in time.") from error
            except httpx.TransportError as error:
                raise TransientError("Could not reach the Trellis API.") from error
            if response.status_code != 429:
                _raise_for(response, gone=gone)
                return response
            delay = retry_after_seconds(response.headers.get("retry-after"), pause * (0.5 + self._rng.random() / 2))
            if waited + delay > max_wait or round_number == MAX_RATE_LIMIT_ROUNDS:
                break
            waited += delay
            pause = min(pause * 2, 60.0)
            if self._shared_pause is not None:
                await self._shared_pause.hold(delay)
            await self._sleep(delay)
        raise TransientError("The Trellis API kept asking to slow down (429).")


def _raise_for(response: httpx.Response, *, gone: str | None) -> None:
    """Map an error status to the app's errors; a 404 is RemoteJobGone(`gone`) on calls about a job."""
    code = response.status_code
    if code < 300:
        return
    if code in (401, 403):
        raise TrellisAuthError(f"Trellis API rejected the key ({code}).")
    if code == 404 and gone is not None:
        raise RemoteJobGone(gone)
    if code >= 500:
        raise TransientError(f"The Trellis API had an error ({code}).")
    reason = _detail(response)
    raise PermanentError(f"The Trellis API refused the request ({code}){': ' + reason if reason else ''}.")


def _detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except (ValueError, AttributeError):
        return ""
    if isinstance(detail, list):  # FastAPI validation errors
        detail = "; ".join(str(entry.get("msg", "")) for entry in detail if isinstance(entry, dict))
    return short_reason(detail)


def _json(response: httpx.Response) -> dict:
    try:
        body = response.json()
    except ValueError as error:
        raise TransientError("The Trellis API sent an unreadable response.") from error
    if not isinstance(body, dict):
        raise TransientError("The Trellis API sent an unreadable response.")
    return body


def _int(value: object) -> int:
    """A progress percentage from the body: 0–100, 0 for anything else (JSON's NaN and Infinity included)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(0, min(int(value), 100))
