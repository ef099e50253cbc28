"""The bad-input corpus through the real upload path (validation, storage, store): refused files get a
reason and leave nothing behind; accepted odd ones are stored upright under generated names."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path

import pytest
from PIL import Image

from home_editor.app_wiring import build_services
from home_editor.core.errors import BadInputError
from home_editor.core.models import new_library_id
from home_editor.settings import Settings
from home_editor.storage.base import KEY_PATTERN
from tests.bad_inputs import Sample, corpus

SAMPLES = corpus()


@pytest.fixture
async def services(tmp_path: Path):
    # intake only: a web-only process, which never claims (no processing needed here)
    settings = Settings(media_dir=tmp_path / "media", cutout_method="classical", role="web")
    made = build_services(settings, db_url=f"sqlite:///{tmp_path / 'app.db'}", public_base_url="http://app")
    yield made
    await made.runner.shutdown()


def stored_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.is_file()] if root.exists() else []


def test_the_corpus_has_at_least_20_kinds() -> None:
    assert len({sample.kind for sample in SAMPLES}) >= 20


@pytest.mark.parametrize("sample", SAMPLES, ids=[sample.kind for sample in SAMPLES])
async def test_each_kind_of_file(sample: Sample, services, request: pytest.FixtureRequest) -> None:
    request.node.add_marker(
        pytest.mark.reliability(
            f"B {sample.kind}",
            "accepted, upright, under a generated name" if sample.accepted else f"refused: “{sample.reason}…”",
        )
    )
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    media = services.settings.media_dir
    if not sample.accepted:
        with pytest.raises(BadInputError, match=sample.reason):
            await services.library.add_upload(library, sample.name, sample.data)
        assert stored_files(media) == [] and (await services.library.snapshot(library)).items == []
        return
    item = await services.library.add_upload(library, sample.name, sample.data)
    files = stored_files(media)
    assert len(files) == 2 and all(KEY_PATTERN.match(str(path.relative_to(media))) for path in files)
    assert "\u202e" not in item.name and "\x00" not in item.name and len(item.name) <= 80  # a display name only
    thumb = Image.open(io.BytesIO((media / next(p for p in files if p.name == "thumb.webp")).read_bytes()))
    assert thumb.mode in ("RGB", "RGBA")
    if sample.kind in ("EXIF-rotated JPEG", "HEIC"):
        assert thumb.height > thumb.width  # stood up


async def test_a_mixed_drop_keeps_the_good_files(services) -> None:
    library = new_library_id()
    await services.library.store.ensure_library(library, 0)
    results = services.library.intake(library, [(sample.name, sample.data) for sample in SAMPLES])
    outcomes = []
    while (result := await asyncio.wait_for(results.get(), 30)) is not None:
        outcomes.append(result)
    assert [result.item is not None for result in outcomes] == [sample.accepted for sample in SAMPLES]
    for sample, result in zip(SAMPLES, outcomes, strict=True):
        if not sample.accepted:
            assert sample.reason in result.problem
    assert len((await services.library.snapshot(library)).items) == sum(sample.accepted for sample in SAMPLES)
