"""The server's private data folder: created owner-only, and filled on first start with what an older
version kept in Reflex's upload folder (`uploaded_files/`, which Reflex serves to anyone at /_upload/).
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import time
from collections.abc import Mapping
from pathlib import Path

from home_editor.file_lock import exclusive_lock
from home_editor.settings import DB_FILE_NAME, Settings

logger = logging.getLogger(__name__)
OLD_MEDIA_NAME = "home_editor"  # older versions: uploaded_files/home_editor.db and uploaded_files/home_editor/
SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")
SPOOL_LEFTOVER_SECONDS = 86_400  # a spooled upload older than this was left by a process that died


def served_folders(env: Mapping[str, str] | None = None) -> list[Path]:
    """The folders the web server hands out to anyone: Reflex's upload folder and `assets/`."""
    env = os.environ if env is None else env
    return [Path(env.get("REFLEX_UPLOADED_FILES_DIR") or "uploaded_files").absolute(), Path("assets").absolute()]


def sqlite_path(db_url: str) -> Path | None:
    """The file of a SQLite URL (None for other databases and in-memory SQLite)."""
    prefix = "sqlite:///"
    if not db_url.startswith(prefix) or db_url[len(prefix) :] in ("", ":memory:"):
        return None
    return Path(db_url[len(prefix) :].split("?", 1)[0]).absolute()


def is_served(path: Path, served: list[Path]) -> bool:
    """Whether `path` lies in a served folder."""
    resolved = path.resolve()
    return any(resolved.is_relative_to(folder.resolve()) for folder in served)


def prepare_data_folder(settings: Settings, db_url: str, *, served: list[Path] | None = None) -> None:
    """Create the private folders and move an older version's database and files out of the upload
    folder (once; another worker starting at the same time waits for the first)."""
    served = served_folders() if served is None else served
    for folder in (settings.data_dir, settings.spool_dir):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    _remove_spool_leftovers(settings.spool_dir)
    database = sqlite_path(db_url)
    for what, path in (("database", database), ("media folder", settings.media_dir)):
        if path is not None and is_served(path, served):
            logger.error("home_editor: the %s %s is in a folder the web server serves; move it elsewhere", what, path)
    with exclusive_lock(settings.data_dir / ".migration.lock"):
        upload_folder, moved = served[0], []
        if database is not None and not is_served(database, served):
            moved.append(_move_old_database(upload_folder / DB_FILE_NAME, database, settings.data_dir))
        if not is_served(settings.media_dir, served):
            moved.append(_move_old_media(upload_folder / OLD_MEDIA_NAME, settings.media_dir, settings.data_dir))
    if moved := [text for text in moved if text]:
        logger.warning(
            "home_editor: moved an older version's data out of the served folder %s: %s",
            upload_folder,
            "; ".join(moved),
        )


def _move_old_database(old: Path, new: Path, data_dir: Path) -> str:
    if not old.is_file():
        return ""
    target = new if not _has_content(new) else _set_aside(data_dir) / new.name
    target.parent.mkdir(parents=True, exist_ok=True)
    for suffix in SQLITE_COMPANIONS:
        source = old.with_name(old.name + suffix)
        if source.exists():
            shutil.move(source, target.with_name(target.name + suffix))
    return f"the database {old.name} to {target}"


def _move_old_media(old: Path, new: Path, data_dir: Path) -> str:
    if not old.is_dir():
        return ""
    target = new if not _has_content(new) else _set_aside(data_dir) / "media"
    if target.exists():
        target.rmdir()  # an empty folder made earlier
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(old, target)
    return f"the files in {old.name}/ to {target}"


def _remove_spool_leftovers(spool_dir: Path) -> None:
    for leftover in spool_dir.iterdir():
        with contextlib.suppress(OSError):
            if time.time() - leftover.stat().st_mtime > SPOOL_LEFTOVER_SECONDS:
                leftover.unlink()


def _has_content(path: Path) -> bool:
    if path.is_dir():
        return any(path.iterdir())
    return path.exists() and path.stat().st_size > 0


def _set_aside(data_dir: Path) -> Path:
    """A folder for an old copy when the new place is already in use (nothing is overwritten)."""
    return data_dir / f"from-uploaded_files-{int(time.time())}"
