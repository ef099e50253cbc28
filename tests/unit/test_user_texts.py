"""Texts a user could misread: a 3D job in slow motion says what it does; a finished batch is one toast,
not one per photo; the README and the code point only to documents the repository itself has."""

from __future__ import annotations

import dataclasses
import io
import json
import re
import types
from pathlib import Path

import numpy as np
from PIL import Image

from home_editor.core.models import JobStatus, JobType, Snapshot
from home_editor.processing.base import JobContext
from home_editor.processing.local_processor import LocalProcessor
from home_editor.state.refresh import show
from tests.factories import item, job

ROOT = Path(__file__).parents[2]


def cutout_png() -> bytes:
    rgba = np.zeros((96, 96, 4), dtype=np.uint8)
    rgba[20:76, 24:72] = (200, 120, 40, 255)
    buffer = io.BytesIO()
    Image.fromarray(rgba, mode="RGBA").save(buffer, "PNG")
    return buffer.getvalue()


async def test_a_3d_job_in_slow_motion_never_says_it_removes_the_background() -> None:
    messages: list[str] = []

    async def report(percent: int, message: str) -> None:
        messages.append(message)

    async def load() -> bytes:
        return cutout_png()

    processor = LocalProcessor(max_pixels=10_000_000, slow_motion_seconds=0.01)
    await processor.generate_model(JobContext(report=report, load_image=load))
    assert len(messages) >= 5  # the slow-motion steps reported too
    assert not [message for message in messages if "background" in message.lower()]
    assert "Building the 2.5D relief…" in messages[1:-1]


def toast_texts(toasts: list) -> list[str]:
    """The messages of `rx.toast.*` events (the call's one string argument, as JSON in the JS)."""
    calls = [re.search(r'\("((?:[^"\\]|\\.)*)"\)', toast.args[0][1]._js_expr) for toast in toasts]
    return [json.loads(f'"{call.group(1)}"') for call in calls]


def tab() -> types.SimpleNamespace:
    return types.SimpleNamespace(
        cards=[], stats=None, _shown_digest="", items_mirror="", jobs_mirror="", _statuses={},
        _batch_cutouts=[], _batch_models=[],
    )  # fmt: skip


def library(count: int, done: int, status_type: JobType = JobType.REMBG, *, failed: int = 0) -> Snapshot:
    """`count` photos: the first `done` completed, the next `failed` failed, the rest still processing."""
    items = [item(id=f"item{n:08d}", name=f"photo {n}.jpg") for n in range(count)]
    jobs = []
    for n, one in enumerate(items):
        status = JobStatus.COMPLETED if n < done else JobStatus.FAILED if n < done + failed else JobStatus.PROCESSING
        error = "Trellis API rejected the key (401)." if status is JobStatus.FAILED else ""
        if status_type is JobType.REMBG:
            cutout = "cutout-x.png" if status is JobStatus.COMPLETED else ""
            items[n] = dataclasses.replace(one, cutout_status=status, cutout=cutout, cutout_error=error)
        else:
            items[n] = dataclasses.replace(
                one, cutout_status=JobStatus.COMPLETED, model_status=status, model_error=error
            )
        jobs.append(job(status, item_id=one.id, type=status_type))
    return Snapshot(items=items, jobs=jobs)


def test_a_finished_batch_of_ten_is_one_toast() -> None:
    state = tab()
    show(state, library(10, 0), announce=False)
    assert toast_texts(show(state, library(10, 4))) == []  # six still running: no news yet
    assert toast_texts(show(state, library(10, 9))) == []
    assert toast_texts(show(state, library(10, 10))) == ["Background removed from 10 photos."]
    assert toast_texts(show(state, library(10, 10))) == []  # and only once


def test_a_single_photo_is_named_and_3d_batches_are_grouped_too() -> None:
    state = tab()
    show(state, library(1, 0), announce=False)
    assert toast_texts(show(state, library(1, 1))) == ["Background removed: “photo 0.jpg”."]
    state = tab()
    show(state, library(3, 0, JobType.GLB), announce=False)
    assert toast_texts(show(state, library(3, 3, JobType.GLB))) == ["3D models ready for 3 photos."]


def test_the_readme_and_the_code_point_only_to_documents_in_the_repository() -> None:
    readme = (ROOT / "README.md").read_text()
    sources = [ROOT / "README.md", *ROOT.glob("home_editor/**/*.py"), *ROOT.glob("tests/**/*.py"), ROOT / "rxconfig.py"]
    sources += [*ROOT.glob("docs/*.md"), *ROOT.glob("bench/*.py"), *ROOT.glob("scripts/*")]
    outside = "../" + "shared"  # the maintainers' folder beside the repository, which a clone does not have
    assert not [str(path) for path in sources if outside in path.read_text()]
    linked = set(re.findall(r"\]\((docs/[^)#]+)", readme))
    assert {"docs/trellis-api.md", "docs/vercel-blob.md", "docs/design.md"} <= linked
    assert all((ROOT / link).is_file() for link in linked)


def test_failures_in_a_batch_are_counted_in_its_one_toast_and_a_single_failure_says_why() -> None:
    state = tab()
    show(state, library(10, 0), announce=False)
    assert toast_texts(show(state, library(10, 2))) == []
    assert toast_texts(show(state, library(10, 7, failed=3))) == [
        "Background removed from 7 photos; 3 failed: Trellis API rejected the key (401)."
    ]
    state = tab()
    show(state, library(1, 0), announce=False)
    assert toast_texts(show(state, library(1, 0, failed=1))) == [
        "“photo 0.jpg” failed: Trellis API rejected the key (401)."
    ]
    state = tab()
    show(state, library(4, 0, JobType.GLB), announce=False)
    assert toast_texts(show(state, library(4, 0, JobType.GLB, failed=4))) == [
        "3D models failed for 4 photos: Trellis API rejected the key (401)."
    ]
