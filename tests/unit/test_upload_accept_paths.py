"""A JPEG upload is checked and decoded side by side (its thumbnail is ready sooner), with exactly the
outcome of the one-after-the-other path: the same facts, stored bytes and thumbnail, the same refusals."""

from __future__ import annotations

import hashlib
import threading

import pytest

from home_editor.core.errors import BadInputError
from home_editor.processing import images, upload_checks
from home_editor.processing.images import accept_upload
from home_editor.processing.upload_checks import UploadChecks
from home_editor.settings import Settings
from tests.bad_inputs import corpus
from tests.images import photo_bytes

SETTINGS = Settings()
LIMITS = {"max_bytes": SETTINGS.max_upload_bytes, "max_pixels": SETTINGS.max_pixels}
CHECK = UploadChecks(**LIMITS)


@pytest.mark.parametrize("sample", corpus(SETTINGS.max_upload_bytes), ids=lambda sample: sample.kind)
async def test_every_sample_has_the_outcome_of_the_sequential_path(sample) -> None:
    try:
        expected = accept_upload(sample.data, **LIMITS)
    except BadInputError as error:
        with pytest.raises(BadInputError) as raised:
            await CHECK(sample.data)
        assert str(raised.value) == str(error)
        return
    accepted, content_hash = await CHECK(sample.data)
    assert accepted == expected
    assert content_hash == hashlib.sha256(sample.data).hexdigest()


async def test_a_jpeg_is_checked_while_it_is_decoded(monkeypatch) -> None:
    """The byte checks and the decode are in flight at once: each waits to see the other start, which
    one-after-the-other could never satisfy (the wait only bounds a failure)."""
    started = {"checks": threading.Event(), "decode": threading.Event()}
    overlapped: list[str] = []

    def meeting(name: str, other: str, function):
        def run(*args, **kwargs):
            started[name].set()
            if started[other].wait(timeout=30):
                overlapped.append(name)
            return function(*args, **kwargs)

        return run

    monkeypatch.setattr(upload_checks, "check_jpeg_upload", meeting("checks", "decode", images.check_jpeg_upload))
    monkeypatch.setattr(upload_checks, "thumbnail_of", meeting("decode", "checks", images.thumbnail_of))
    data = photo_bytes(size=1024)
    accepted, _ = await CHECK(data)
    assert sorted(overlapped) == ["checks", "decode"]
    assert accepted == accept_upload(data, **LIMITS)
