"""The private data folder: created owner-only; an older version's database and files are moved out of
the served upload folder once, and nothing already in the new place is overwritten."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from home_editor.data_folder import is_served, prepare_data_folder
from home_editor.settings import Settings, data_dir_from, db_url_from


def old_version(upload: Path) -> None:
    upload.mkdir(parents=True)
    for suffix in ("", "-wal", "-shm"):
        (upload / f"home_editor.db{suffix}").write_bytes(f"old{suffix}".encode())
    (upload / "home_editor" / "folder").mkdir(parents=True)
    (upload / "home_editor" / "folder" / "photo.jpg").write_bytes(b"jpeg")


def test_the_default_places_are_in_the_users_data_folder_not_in_a_served_one(tmp_path: Path) -> None:
    env = {"XDG_DATA_HOME": str(tmp_path / "xdg")}
    assert data_dir_from(env) == tmp_path / "xdg" / "home_editor"
    assert db_url_from(env) == f"sqlite:///{tmp_path / 'xdg' / 'home_editor' / 'home_editor.db'}"
    settings = Settings.from_env(env)
    assert settings.media_dir == tmp_path / "xdg" / "home_editor" / "media"
    served = [Path("uploaded_files").absolute(), Path("assets").absolute()]
    for path in (settings.data_dir, settings.media_dir, settings.spool_dir):
        assert not is_served(path, served)
    assert data_dir_from({"HOME_EDITOR_DATA_DIR": str(tmp_path / "d")}) == tmp_path / "d"


def test_an_old_database_and_its_files_are_moved_out_once_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    upload = tmp_path / "uploaded_files"
    old_version(upload)
    settings = Settings(data_dir=tmp_path / "data", media_dir=tmp_path / "data" / "media")
    db_url = f"sqlite:///{tmp_path / 'data' / 'home_editor.db'}"
    with caplog.at_level(logging.INFO):
        prepare_data_folder(settings, db_url, served=[upload])
        prepare_data_folder(settings, db_url, served=[upload])  # a second start finds nothing to move
    assert sorted(path.name for path in upload.iterdir()) == []
    for suffix in ("", "-wal", "-shm"):
        assert (tmp_path / "data" / f"home_editor.db{suffix}").read_bytes() == f"old{suffix}".encode()
    assert (settings.media_dir / "folder" / "photo.jpg").read_bytes() == b"jpeg"
    assert (settings.data_dir.stat().st_mode & 0o077, settings.spool_dir.stat().st_mode & 0o077) == (0, 0)
    assert caplog.text.count("moved an older version's data out of the served folder") == 1


def test_an_old_database_never_overwrites_the_current_one(tmp_path: Path) -> None:
    upload = tmp_path / "uploaded_files"
    old_version(upload)
    settings = Settings(data_dir=tmp_path / "data", media_dir=tmp_path / "data" / "media")
    (tmp_path / "data" / "media").mkdir(parents=True)
    (tmp_path / "data" / "media" / "kept.jpg").write_bytes(b"new")
    (tmp_path / "data" / "home_editor.db").write_bytes(b"current")
    prepare_data_folder(settings, f"sqlite:///{tmp_path / 'data' / 'home_editor.db'}", served=[upload])
    assert (tmp_path / "data" / "home_editor.db").read_bytes() == b"current"
    assert (tmp_path / "data" / "media" / "kept.jpg").read_bytes() == b"new"
    (aside,) = (tmp_path / "data").glob("from-uploaded_files-*")
    assert (aside / "home_editor.db").read_bytes() == b"old" and (aside / "media" / "folder" / "photo.jpg").exists()
    assert not (upload / "home_editor.db").exists() and not (upload / "home_editor").exists()
