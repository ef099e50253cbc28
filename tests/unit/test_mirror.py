"""The localStorage mirror: round trips, budget, and garbage, forged or oversized values that must
decode to something harmless instead of breaking the page.
"""

from __future__ import annotations

import dataclasses
import json

import pytest

from home_editor.core import mirror
from home_editor.core.models import JobStatus, JobType, new_id
from tests.factories import item, job


def test_items_and_jobs_round_trip() -> None:
    items = [item(cutout="cutout-abcdefghijkm.png", cutout_status=JobStatus.COMPLETED, cutout_note="low confidence")]
    jobs = [job("C", item_id=items[0].id, attempts=1, progress=100, error="")]
    assert mirror.decode_items(mirror.encode_items(items)) == items
    decoded = mirror.decode_jobs(mirror.encode_jobs(jobs))
    assert [(j.id, j.item_id, j.status, j.attempts, j.progress) for j in decoded] == [
        (jobs[0].id, jobs[0].item_id, JobStatus.COMPLETED, 1, 100)
    ]


def test_budget_is_under_400_bytes_per_item_with_its_jobs_for_1000_items() -> None:
    """Worst realistic case: a long camera file name, a cutout and a model, both jobs still kept."""
    items = [
        item(
            name=f"IMG_2024_{index:04d}_living-room-chair.jpg",
            cutout=f"cutout-{new_id()}.png",
            cutout_status=JobStatus.COMPLETED,
            model=f"relief-{new_id()}.glb",
            model_status=JobStatus.COMPLETED,
            created_ms=1_795_000_000_000 + index,
            updated_ms=1_795_000_000_000 + index,
        )
        for index in range(1000)
    ]
    jobs = [
        job(
            "C", item_id=i.id, type=job_type, progress=100, attempts=1, created_ms=i.created_ms, updated_ms=i.updated_ms
        )
        for i in items
        for job_type in (JobType.REMBG, JobType.GLB)
    ]
    total = len(mirror.encode_items(items).encode()) + len(mirror.encode_jobs(jobs).encode())
    assert total / 1000 <= 400
    assert total < 1_000_000  # far below Reflex's hydrate limit


def test_the_mirror_never_holds_image_bytes_or_urls() -> None:
    text = mirror.encode_items([item(cutout="cutout-abcdefghijkm.png")])
    assert "http" not in text and "base64" not in text and "/" not in text


@pytest.mark.reliability("F7 garbage, wrong version, oversized mirror", "decodes to empty, never a crash")
@pytest.mark.parametrize(
    "raw",
    [
        "",
        "not json",
        "{",
        "[]",
        "null",
        "42",
        '{"v": 2, "items": []}',
        '{"items": [["x"]]}',
        '{"v": 1, "items": "nope"}',
        '{"v": 1, "items": [null, 1, "a", {"id": "x"}]}',
        "[" * 5000 + "]" * 5000,
        json.dumps({"v": 1, "items": [["a" * 12] * 10]}) + "x" * (mirror.MAX_MIRROR_CHARS + 1),
    ],
)
def test_garbage_wrong_version_or_oversized_items_decode_to_empty(raw: str) -> None:
    assert mirror.decode_items(raw) == []
    assert mirror.decode_jobs(raw) == []


def test_non_string_values_decode_to_empty() -> None:
    assert mirror.decode_items(None) == []
    assert mirror.decode_jobs(b'{"v":1}') == []


def _row(**changes: object) -> list:
    good = item(cutout="cutout-abcdefghijkm.png", cutout_status=JobStatus.COMPLETED)
    row = json.loads(mirror.encode_items([dataclasses.replace(good)]))["items"][0]
    positions = {
        "id": 0,
        "name": 1,
        "created": 2,
        "updated": 3,
        "original": 4,
        "thumb": 5,
        "cutout": 6,
        "status": 7,
        "error": 8,
    }
    for key, value in changes.items():
        row[positions[key]] = value
    return row


@pytest.mark.parametrize(
    "path",
    [
        "../../etc/passwd",
        "file:///etc/passwd",
        "http://127.0.0.1:8000/admin.png",
        "https://evil.example/x.png",
        "/abs/original.jpg",
        "original.svg",
        "original.jpg\x00.png",
        "ORIGINAL.JPG",
    ],
)
def test_forged_file_references_are_dropped(path: str) -> None:
    raw = json.dumps({"v": 1, "items": [_row(original=path, thumb=path, cutout=path)]})
    [decoded] = mirror.decode_items(raw)
    assert (decoded.original, decoded.thumb, decoded.cutout) == ("", "", "")


@pytest.mark.parametrize("bad_id", ["", "short", "A" * 12, "../../x/y/zz", 12, None, "abcdefghijk!"])
def test_rows_with_forged_ids_are_skipped(bad_id: object) -> None:
    assert mirror.decode_items(json.dumps({"v": 1, "items": [_row(id=bad_id)]})) == []


@pytest.mark.reliability("F7 negative progress, unknown statuses", "clamped or dropped")
def test_out_of_range_numbers_are_clamped_and_unknown_statuses_refused() -> None:
    j = job("P")
    row = [j.id, j.item_id, "rembg", "processing", -5, 999, -40, "e" * 500, -1, 10**20]
    [decoded] = mirror.decode_jobs(json.dumps({"v": 1, "jobs": [row]}))
    assert (decoded.priority, decoded.attempts, decoded.progress, decoded.created_ms, decoded.updated_ms) == (
        0,
        10,
        0,
        0,
        0,
    )
    assert len(decoded.error) <= mirror.MAX_TEXT_CHARS
    row[3] = "hacked"
    assert mirror.decode_jobs(json.dumps({"v": 1, "jobs": [row]})) == []


def test_names_lose_control_and_bidi_characters_and_are_shortened() -> None:
    raw = json.dumps({"v": 1, "items": [_row(name="evil\u202egpj.exe\x00" + "x" * 300)]})
    [decoded] = mirror.decode_items(raw)
    assert "\u202e" not in decoded.name and "\x00" not in decoded.name
    assert len(decoded.name) <= mirror.MAX_NAME_CHARS


def test_duplicate_ids_keep_the_first_row() -> None:
    row = _row()
    other = list(row)
    other[1] = "second"
    [decoded] = mirror.decode_items(json.dumps({"v": 1, "items": [row, other]}))
    assert decoded.name == row[1]


def test_an_oversized_library_is_cut_to_fit_not_broken() -> None:
    many = [item(name="n" * 70, cutout=f"cutout-{new_id()}.png") for _ in range(5000)]
    text = mirror.encode_items(many)
    assert len(text) <= mirror.MAX_MIRROR_CHARS
    assert 1000 < len(mirror.decode_items(text)) < 5000
