"""A cutout job claimed while the cutout model is still being prepared: the card shows it as waiting for
the model (with the model's progress, no job percentage) and the header counts it as pending; once it
reports real progress it is processing like any other."""

from __future__ import annotations

from home_editor.core.cards import card_for, stats_for
from home_editor.core.model_wait import WAITING, waiting_message, waits_for_model
from home_editor.core.models import JobStatus, Snapshot
from tests.factories import item, job


def _claimed(message: str, progress: int = 0):
    photo = item(cutout_status=JobStatus.PROCESSING)
    return photo, job(JobStatus.PROCESSING, item_id=photo.id, progress=progress, message=message, started_ms=1)


def test_a_job_waiting_for_the_model_shows_as_waiting_with_the_models_progress() -> None:
    photo, waiting = _claimed(waiting_message(40))
    card = card_for(photo, waiting, None, now_ms=5_000)
    assert waits_for_model(waiting)
    assert card.status == WAITING and card.message == "Waiting for the cutout model: 40 % prepared"
    assert card.can_cancel
    assert stats_for(Snapshot(items=[photo], jobs=[waiting])).queued == 1
    assert stats_for(Snapshot(items=[photo], jobs=[waiting])).running == 0


def test_once_the_model_is_ready_the_same_job_is_processing() -> None:
    photo, running = _claimed("Removing the background…", progress=10)
    card = card_for(photo, running, None, now_ms=5_000)
    assert not waits_for_model(running)
    assert card.status == "processing" and card.progress == 10
    assert stats_for(Snapshot(items=[photo], jobs=[running])).running == 1


def test_a_pending_job_is_not_taken_for_a_waiting_one() -> None:
    photo = item()
    queued = job(JobStatus.PENDING, item_id=photo.id, message=waiting_message(40))
    assert not waits_for_model(queued) and card_for(photo, queued, None, now_ms=0).status == "pending"
