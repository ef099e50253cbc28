"""A loopback stand-in for the deployed Trellis API that speaks its documented contract
(docs/trellis-api.md): trailing-slash POST paths (307 without the slash), scalars read from
the query string only, the image from the multipart field `files`, Bearer auth with both 401 bodies,
async jobs moving through the documented progress sequence, relative `download_url`s, 404 for unknown
jobs, DELETE removing the record. Results are real files made from the input."""

from __future__ import annotations

import dataclasses
import io
import re
import threading
import time
import uuid
from datetime import UTC, datetime
from email.parser import BytesParser
from email.policy import HTTP

import numpy as np
from PIL import Image

from tests.stubs.lying_glb import lying_box_glb
from tests.stubs.server import Reply, Request, StubServer

JOB_PATH = re.compile(r"^/api/v1/jobs/([0-9a-f-]{36})(/result)?$")
SEQUENCES = {
    "rembg": [
        (0, "pending", "Job queued for processing"),
        (20, "processing", "Processing image..."),
        (80, "processing", "Saving result..."),
    ],
    "trellis": [
        (0, "pending", "Job queued for processing"),
        (10, "processing", "Loading TRELLIS model..."),
        (30, "processing", "Running inference..."),
        (70, "processing", "Extracting mesh..."),
        (90, "processing", "Saving result..."),
    ],
}
DONE_MESSAGES = {"rembg": "Background removed successfully", "trellis": "Successfully generated 3D model"}


@dataclasses.dataclass
class StubJob:
    id: str
    job_type: str
    created: float  # on the stub's progression clock (which `hold` stops)
    input_bytes: bytes
    query: dict[str, str]
    outcome: str = "completed"  # or "failed"; "vanished" (the record is lost once processing starts: 404);
    # "lost_result" (completes, but its result file is missing: 404 "Result file not found")
    result: bytes = b""


def _iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def rembg_result(image_bytes: bytes) -> bytes:
    """A real cutout: pixels that differ from the top-left corner colour are kept."""
    image = Image.open(io.BytesIO(image_bytes)).convert("RGB")
    pixels = np.asarray(image).astype(np.int16)
    alpha = (np.abs(pixels - pixels[0, 0]).sum(axis=-1) > 40).astype(np.uint8) * 255
    cutout = image.convert("RGBA")
    cutout.putalpha(Image.fromarray(alpha, mode="L"))
    buffer = io.BytesIO()
    cutout.save(buffer, "PNG")
    return buffer.getvalue()


class TrellisStub(StubServer):
    """The stub. `step_seconds` is how long each progress step lasts (`queue_seconds` for `pending`)."""

    def __init__(
        self,
        *,
        keys: tuple[str, ...] = ("test-trellis-key",),
        step_seconds: float = 0.3,
        queue_seconds: float | None = None,
        old_fastapi: bool = False,
    ) -> None:
        super().__init__()
        self.keys = keys
        self.step_seconds = step_seconds
        self.queue_seconds = step_seconds if queue_seconds is None else queue_seconds
        self.old_fastapi = old_fastapi
        self.jobs: dict[str, StubJob] = {}
        self.next_outcomes: list[str] = []
        self.next_results: list[bytes] = []
        self.status_extra: dict = {}  # fields forced into every status body (odd values a real API might send)
        self._jobs_lock = threading.Lock()
        self._held_at: float | None = None
        self._held_total = 0.0
        self._initial = (keys, step_seconds, self.queue_seconds)

    # ---- what tests look at ------------------------------------------------------------------

    def submissions(self, job_type: str = "rembg") -> list[Request]:
        """Accepted submissions (200) of one job type."""
        return [r for r in self.calls("POST", f"/api/v1/{job_type}/async/") if r.status == 200]

    def status_calls(self) -> list[Request]:
        return self.calls("GET", r"/api/v1/jobs/[0-9a-f-]{36}")

    def status_of(self, job_id: str) -> str:
        """The job's status as a status call would read it now ("gone" once its record is deleted)."""
        with self._jobs_lock:
            job = self.jobs.get(job_id)
        return "gone" if job is None else self._status(job)["status"]

    # ---- what tests control ------------------------------------------------------------------

    def hold(self) -> None:
        """Stop every job's progression (a job submitted now stays queued) until `release`."""
        with self._jobs_lock:
            if self._held_at is None:
                self._held_at = time.time()

    def release(self) -> None:
        """Let jobs progress again from where `hold` stopped them."""
        with self._jobs_lock:
            if self._held_at is not None:
                self._held_total += time.time() - self._held_at
                self._held_at = None

    def reset(self) -> None:
        """Between tests: no faults, log, scripted outcomes or odd fields; progression released; the keys
        and pacing it was made with. Jobs in flight are kept (an app may still be following them)."""
        super().reset()
        self.release()
        self.next_outcomes.clear()
        self.next_results.clear()
        self.status_extra = {}
        self.keys, self.step_seconds, self.queue_seconds = self._initial

    def _now(self) -> float:
        """The progression clock: wall time, minus every held stretch."""
        return (time.time() if self._held_at is None else self._held_at) - self._held_total

    # ---- the contract --------------------------------------------------------------------------

    def route(self, request: Request) -> Reply:
        path = request.path
        if request.method == "GET" and path == "/":
            return Reply.json(200, {"name": "TRELLIS API (Modal)", "version": "2.3.0-modal-async"})
        if request.method == "GET" and path == "/health":
            return Reply.json(200, {"status": "healthy", "version": "2.3.0-modal-async"})
        if request.method == "POST" and path in ("/api/v1/rembg/async", "/api/v1/trellis/async"):
            return Reply(307, b"", "text/plain", {"Location": path + "/"})
        denied = self._authenticate(request)
        if denied is not None:
            return denied
        if request.method == "POST" and path in ("/api/v1/rembg/async/", "/api/v1/trellis/async/"):
            return self._submit(request, "rembg" if "rembg" in path else "trellis")
        match = JOB_PATH.match(path)
        if match is None:
            return Reply.json(404, {"detail": "Not Found"})
        job = self._find(match.group(1))
        if job is None:
            return Reply.json(404, {"detail": f"Job {match.group(1)} not found"})
        if request.method == "DELETE":
            with self._jobs_lock:
                self.jobs.pop(job.id, None)
            return Reply.json(200, {"message": f"Job {job.id} cancelled and deleted"})
        if match.group(2):
            return self._result(job)
        return Reply.json(200, self._status(job))

    def _find(self, job_id: str) -> StubJob | None:
        """The job's record (a "vanished" job's is lost once it leaves the queue)."""
        with self._jobs_lock:
            job = self.jobs.get(job_id)
            if job is not None and job.outcome == "vanished" and self._stage(job) != SEQUENCES[job.job_type][0]:
                del self.jobs[job_id]
                return None
        return job

    def _authenticate(self, request: Request) -> Reply | None:
        header = request.headers.get("authorization", "")
        token = header[7:].strip() if header.lower().startswith("bearer ") else ""
        if not token:
            status = 403 if self.old_fastapi else 401
            return Reply.json(status, {"detail": "Not authenticated"}, **{"WWW-Authenticate": "Bearer"})
        if token not in self.keys:
            return Reply.json(401, {"detail": "Invalid API key"})
        return None

    def _submit(self, request: Request, job_type: str) -> Reply:
        files = _multipart_files(request)
        if not files:
            return Reply.json(422, {"detail": [{"loc": ["body", "files"], "msg": "Field required", "type": "missing"}]})
        job = StubJob(
            id=str(uuid.uuid4()),
            job_type=job_type,
            created=self._now(),
            input_bytes=files[0],
            query=dict(request.query),
            outcome=self.next_outcomes.pop(0) if self.next_outcomes else "completed",
            result=self.next_results.pop(0) if self.next_results else b"",
        )
        with self._jobs_lock:
            self.jobs[job.id] = job
        ticket = {
            "job_id": job.id,
            "status": "pending",
            "job_type": job_type,
            "created_at": _iso(job.created),
            "message": "Job submitted for processing",
            "poll_url": f"/api/v1/jobs/{job.id}",
        }
        return Reply.json(200, ticket)

    def _stage(self, job: StubJob) -> tuple[int, str, str] | None:
        """(progress, status, message) now, or None once the job has settled."""
        elapsed = self._now() - job.created
        if elapsed < self.queue_seconds:
            return SEQUENCES[job.job_type][0]
        index = 1 + int((elapsed - self.queue_seconds) // self.step_seconds)
        steps = SEQUENCES[job.job_type]
        return steps[index] if index < len(steps) else None

    def _status(self, job: StubJob) -> dict:
        stage = self._stage(job)
        body = {
            "job_id": job.id,
            "job_type": job.job_type,
            "created_at": _iso(job.created),
            "updated_at": _iso(time.time()),
            "completed_at": None,
            "error": None,
            "output_size_bytes": None,
        }
        if stage is not None:
            progress, status, message = stage
            return {**body, "status": status, "progress": progress, "message": message, **self.status_extra}
        if job.outcome == "failed":
            error = 'CUDA out of memory\nTraceback (most recent call last):\n  File "/app/modal_app.py", line 1'
            return {
                **body,
                "status": "failed",
                "progress": 0,
                "message": "Processing failed",
                "error": error,
                "completed_at": _iso(time.time()),
            }
        return {
            **body,
            "status": "completed",
            "progress": 100,
            "message": DONE_MESSAGES[job.job_type],
            "completed_at": _iso(time.time()),
            "download_url": f"/api/v1/jobs/{job.id}/result",
            "output_size_bytes": len(self._output(job)),
        }

    def _result(self, job: StubJob) -> Reply:
        status = self._status(job)
        if status["status"] != "completed":
            return Reply.json(400, {"detail": f"Job is not completed (status: {status['status']})"})
        if job.outcome == "lost_result":
            return Reply.json(404, {"detail": "Result file not found"})
        suffix = "_nobg.png" if job.job_type == "rembg" else ".glb"
        content_type = "image/png" if job.job_type == "rembg" else "model/gltf-binary"
        disposition = f'attachment; filename="{job.id}{suffix}"'
        return Reply(200, self._output(job), content_type, {"Content-Disposition": disposition})

    def _output(self, job: StubJob) -> bytes:
        if not job.result:
            job.result = rembg_result(job.input_bytes) if job.job_type == "rembg" else lying_box_glb()
        return job.result


def _multipart_files(request: Request) -> list[bytes]:
    """The contents of every multipart part named `files`."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        return []
    message = _message(request)
    found = []
    for part in message.iter_parts():
        disposition = part.get("Content-Disposition", "")
        if 'name="files"' in disposition:
            found.append(part.get_payload(decode=True) or b"")
    return found


def multipart_field_names(request: Request) -> list[str]:
    """Names of every multipart part (to check that scalars were not sent as form fields)."""
    message = _message(request)
    names = []
    for part in message.iter_parts():
        match = re.search(r'name="([^"]+)"', part.get("Content-Disposition", ""))
        if match:
            names.append(match.group(1))
    return names


def _message(request: Request):
    head = b"Content-Type: " + request.headers.get("content-type", "").encode() + b"\r\n\r\n"
    return BytesParser(policy=HTTP).parsebytes(head + request.body)
