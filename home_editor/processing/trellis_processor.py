"""Background removal and 3D generation on the Trellis API: submit once, persist the remote job id at once, follow it
(re-attaching after any restart instead of submitting again) and hand back the result.

The remote record is deleted upstream only by whoever settles the job, once the result is recorded in the
app's storage or the job has failed for good (contract §9; see `Runner`): never here after a download,
which would lose the only copy if storing it then failed. Here a remote job is only deleted when this
processor forgets it (a broken result), so the next attempt submits again.
"""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, TypeVar

from PIL import Image

from home_editor.core.errors import PermanentError, TransientError
from home_editor.core.polling import MIN_SECONDS, next_poll_seconds
from home_editor.processing.base import Cutout, JobContext, Model3D
from home_editor.processing.glb import stand_upright
from home_editor.processing.rate_limit import RateLimiter
from home_editor.processing.trellis_client import RemoteJobGone, RemoteStatus, TrellisClient

T = TypeVar("T")
DEFAULT_SEED = 1
CUTOUT_DEADLINE_SECONDS = 5 * 60.0  # rembg: seconds warm, 5-10 s cold; the API itself stops it at 300 s
MODEL_DEADLINE_SECONDS = 15 * 60.0  # TRELLIS: 30-60 s warm, 2-3 min on a first run; the GPU limit is 600 s
STATUS_ERRORS_TOLERATED = 3  # consecutive transient errors while following a job before the attempt fails


class RemoteDeadlineError(TransientError):
    """A remote job did not settle within its deadline: the attempt fails (it counts) and the next one
    submits again."""

    def __init__(self, deadline_seconds: float) -> None:
        super().__init__(f"The Trellis API did not finish within {deadline_seconds / 60:g} min.")


class StatusBudget(Protocol):
    """Paces status calls (RateLimiter in one process, RedisRateLimiter across processes)."""

    async def acquire(self) -> None:
        """Wait until a call is allowed."""
        ...


class TrellisProcessor:
    """The remote processor. One per process (its rate limiter is per key)."""

    label = "Trellis API"

    def __init__(
        self,
        client: TrellisClient,
        *,
        status_calls_per_minute: float = 30,
        poll_floor: float = MIN_SECONDS,
        seed: int = DEFAULT_SEED,
        cutout_deadline_seconds: float = CUTOUT_DEADLINE_SECONDS,
        model_deadline_seconds: float = MODEL_DEADLINE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        limiter: StatusBudget | None = None,
    ):
        """Args:
        client: The API client.
        status_calls_per_minute: The status-call budget of the key, shared by every job.
        limiter: Where that budget is kept (default: in this process; RedisRateLimiter shares it).
        poll_floor: The shortest wait between status calls of one job.
        seed: TRELLIS's seed.
        cutout_deadline_seconds, model_deadline_seconds: How long one attempt follows a remote job
            before giving up on it (deleted upstream; the attempt fails and the next one submits again).
        clock, sleep: Monotonic time and waiting (tests step them without real waiting).
        """
        self._client = client
        self._seed = seed
        self._limiter = limiter or RateLimiter(per_minute=status_calls_per_minute)
        self._floor = poll_floor
        self._deadlines = {"cutout": cutout_deadline_seconds, "model": model_deadline_seconds}
        self._clock = clock
        self._sleep = sleep

    async def remove_background(self, context: JobContext) -> Cutout:
        """Submit (or re-attach to) a rembg job and return its PNG."""

        async def submit(image: bytes) -> str:
            return await self._client.submit_rembg(image, "photo")

        png, remote_id = await self._run(context, submit, "remove the background", self._deadlines["cutout"])
        await self._checked(context, remote_id, _check_png, png)
        return Cutout(png=png)  # the remote record stays until the result is stored (the runner deletes it)

    async def generate_model(self, context: JobContext) -> Model3D:
        """Submit (or re-attach to) a TRELLIS job for the cutout and return its GLB, stood upright."""

        async def submit(cutout: bytes) -> str:
            return await self._client.submit_trellis(cutout, "cutout", seed=self._seed)

        glb, remote_id = await self._run(context, submit, "make a 3D model", self._deadlines["model"])
        upright = await self._checked(context, remote_id, stand_upright, glb)  # TRELLIS models lie on their back
        return Model3D(glb=upright)

    async def _checked(self, context: JobContext, remote_id: str, check: Callable[[bytes], T], data: bytes) -> T:
        """Check a downloaded result; a broken one is dropped upstream and forgotten, so the next attempt
        submits again instead of downloading the same broken file."""
        try:
            return await asyncio.to_thread(check, data)  # reads the whole file: not on the event loop
        except TransientError:
            await self._forget(context, remote_id)
            raise

    async def _forget(self, context: JobContext, remote_id: str) -> None:
        """Drop a remote job this attempt gives up on, upstream and in the store: the next attempt submits again."""
        await self._client.delete(remote_id)
        await context.remember_remote_id("")

    async def _run(
        self, context: JobContext, submit: Callable[[bytes], Awaitable[str]], what: str, deadline: float
    ) -> tuple[bytes, str]:
        """Submit once (keeping the id at once) or re-attach, follow to the end, download the result."""
        remote_id = context.remote_id
        if not remote_id:
            await context.report(2, "Sending to the Trellis API…")
            remote_id = await submit(await context.load_image())
            try:
                await context.remember_remote_id(remote_id)
            except BaseException:  # cancelled before the id could be kept: nobody could re-attach to it
                await asyncio.shield(self._client.delete(remote_id))
                raise
        # A cancelled task here is the user's cancel (whose handler deletes the remote job) or a
        # shutdown (the remote job goes on and the next runner re-attaches): never delete it here.
        try:
            finished = await self._follow(remote_id, context, deadline)
        except RemoteJobGone:  # 404: the record is gone (contract §7); the next attempt submits again
            await context.remember_remote_id("")
            raise
        except RemoteDeadlineError:  # stuck upstream
            await self._forget(context, remote_id)
            raise
        if finished.status != "completed":  # the failed record is deleted once the failure is recorded
            reason = finished.error or finished.message or finished.status
            raise PermanentError(f"The Trellis API could not {what}: {reason}")
        try:
            return await self._client.result(finished.download_url), remote_id
        except RemoteJobGone:  # 404 on the result: never fetched again; what is left of the record goes too
            await self._forget(context, remote_id)
            raise

    async def cancel_remote(self, remote_id: str) -> None:
        """Cancel and delete the provider job (best effort)."""
        await self._client.delete(remote_id)

    async def _follow(self, remote_id: str, context: JobContext, deadline: float) -> RemoteStatus:
        """Poll until the remote job settles; RemoteDeadlineError once `deadline` seconds have passed."""
        give_up_at = self._clock() + deadline

        async def pause(seconds: float) -> None:
            """Wait before the next status call, never past the deadline (one last call is made at it)."""
            left = give_up_at - self._clock()
            if left <= 0:
                raise RemoteDeadlineError(deadline)
            await self._sleep(min(seconds, left))

        wait, errors, last = self._floor, 0, None
        while True:
            await self._limiter.acquire()
            try:
                current = await self._client.status(remote_id)
                errors = 0
            except TransientError:  # a RemoteJobGone (404) is not one: it ends the following at once
                errors += 1
                if errors >= STATUS_ERRORS_TOLERATED:
                    raise
                await pause(wait * 2**errors)
                continue
            if current.finished:
                return current
            changed = last is None or (current.status, current.progress, current.message) != (
                last.status,
                last.progress,
                last.message,
            )
            if changed:
                await context.report(
                    max(5, min(current.progress, 95)), current.message or "Waiting for the Trellis API…"
                )
            last = current
            wait = next_poll_seconds(wait, status=current.status, changed=changed, floor=self._floor)
            await pause(wait)


def _check_png(data: bytes) -> bytes:
    try:
        with Image.open(io.BytesIO(data), formats=("PNG",)) as image:
            image.verify()
    except Exception as error:
        raise TransientError("The Trellis API returned a result that is not a PNG image.") from error
    return data
