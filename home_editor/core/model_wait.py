"""A cutout job that has been claimed but waits for the cutout model's file (fetched on the first start):
the page shows it as waiting, a pending-like status with the model's progress, not as processing at 0 %.
It starts by itself once the model is ready (or the fetch failed: then with the classical method)."""

from __future__ import annotations

from home_editor.core.models import Job, JobStatus

WAITING = "waiting"  # the status the page shows for such a job
WAITING_FOR_MODEL = "Waiting for the cutout model"


def waiting_message(percent: int) -> str:
    """The job's message while it waits (the model's preparation, in percent)."""
    return f"{WAITING_FOR_MODEL}: {percent} % prepared"


def waits_for_model(job: Job) -> bool:
    """Whether the job is claimed only to wait for the model (nothing is being processed yet)."""
    return job.status is JobStatus.PROCESSING and job.message.startswith(WAITING_FOR_MODEL)
