"""The /media route: app-made keys only, fixed content types, safe headers."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.testclient import TestClient

from home_editor.media_route import media_app

KEY = "abcdefgh12345678abcdefgh/abcdefghijkm/cutout-abcdefghijkm.png"


def client(tmp_path: Path) -> TestClient:
    target = tmp_path / KEY
    target.parent.mkdir(parents=True)
    target.write_bytes(b"\x89PNG fake")
    (tmp_path / "secret.txt").write_text("secret")
    return TestClient(media_app(lambda: tmp_path))


@pytest.mark.reliability("S files are served safely", "fixed content type per suffix, nosniff, sandbox CSP")
def test_files_are_served_inline_with_nosniff_and_a_fixed_type(tmp_path: Path) -> None:
    response = client(tmp_path).get(f"/media/{KEY}")
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("inline")
    assert "sandbox" in response.headers["content-security-policy"]


def test_download_asks_for_an_attachment(tmp_path: Path) -> None:
    response = client(tmp_path).get(f"/media/{KEY}?download=1")
    assert response.headers["content-disposition"].startswith("attachment")


@pytest.mark.reliability(
    "S uploaded names never become paths", "only app-made keys are served; ../ and .svg/.html are 404"
)
def test_anything_but_an_app_made_key_is_not_found(tmp_path: Path) -> None:
    web = client(tmp_path)
    for path in ["secret.txt", "../secret.txt", "%2e%2e/secret.txt", KEY.replace(".png", ".svg"), "a/b/c.html"]:
        assert web.get(f"/media/{path}").status_code == 404, path


def test_a_small_and_a_large_file_come_back_whole_with_the_same_headers(tmp_path: Path) -> None:
    from home_editor.media_route import SMALL_FILE_BYTES

    web = client(tmp_path)
    small, large = bytes(range(256)) * 40, bytes(range(256)) * (SMALL_FILE_BYTES // 256 + 7)
    (tmp_path / KEY).write_bytes(small)
    big_key = KEY.replace("cutout-", "model-").replace(".png", ".glb")
    (tmp_path / big_key).write_bytes(large)
    answers = [web.get(f"/media/{KEY}"), web.get(f"/media/{big_key}")]
    assert [answer.content for answer in answers] == [small, large]
    for answer in answers:
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
        assert "sandbox" in answer.headers["content-security-policy"]
    part = web.get(f"/media/{big_key}", headers={"Range": "bytes=10-19"})
    assert part.status_code == 206 and part.content == large[10:20]


def test_a_missing_file_or_a_folder_is_not_found(tmp_path: Path) -> None:
    web = client(tmp_path)
    missing = KEY.replace("cutout-abcdefghijkm", "cutout-abcdefghijkn")
    (tmp_path / KEY.replace(".png", ".webp")).mkdir()
    assert web.get(f"/media/{missing}").status_code == 404
    assert web.get(f"/media/{KEY.replace('.png', '.webp')}").status_code == 404
