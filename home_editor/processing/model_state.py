"""The cutout model's state in this process: which method cutouts use, and the model file's preparation
(fetched once in a background thread at start-up; the app works meanwhile and cutouts wait for it).

States: `off` (the Trellis API makes cutouts), `classical` (chosen by the user), `preparing` (with a
percentage), `ready` (a verified file), `failed` (said once in the log and in the page; cutouts use the
classical method for this run, and the next start tries again).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from home_editor.processing.model_convert import float32_model
from home_editor.processing.model_fetch import ISNET, ModelFetchError, cached_model, fetch_model

logger = logging.getLogger(__name__)

OFF, CLASSICAL, PREPARING, READY, FAILED = "off", "classical", "preparing", "ready", "failed"
MODEL_NAME = "ISNet (isnet-general-use)"
SOURCE_TEXT = f"the npm package {ISNET.package}"
CHOICES_TEXT = (
    "To use another ONNX file set HOME_EDITOR_CUTOUT_MODEL_PATH; for the classical method (no model) set "
    "HOME_EDITOR_CUTOUT_METHOD=classical."
)
Fetch = Callable[..., Path]


class CutoutModelState:
    """Prepares the model file once and tells everyone where it stands (thread-safe reads)."""

    def __init__(
        self,
        *,
        method: str,
        model_dir: Path,
        user_model: Path | None = None,
        npm: Sequence[str] | None = None,
        fetch: Fetch = fetch_model,
        convert: Callable[[Path], Path] = float32_model,
    ) -> None:
        self._model_dir = model_dir
        self._user_model = user_model
        self._npm = list(npm) if npm else None
        self._fetch = fetch
        self._convert = convert
        self._done = threading.Event()
        self.phase = {"classical": CLASSICAL, "none": OFF}.get(method, PREPARING)
        self.fraction = 0.0
        self.error = ""
        self.path: Path | None = None
        self.fetched_now = False  # this start fetched the file (the first start): say what it is and its licence
        if self.phase in (OFF, CLASSICAL):
            self._done.set()

    def start(self) -> None:
        """Begin preparing in a background thread (no-op for the classical method)."""
        if self.phase == PREPARING:
            threading.Thread(target=self.prepare, name="home-editor-model", daemon=True).start()

    def prepare(self) -> None:
        """Find, or fetch and verify, the model file; never raises."""
        try:
            if self._user_model is not None:
                if not self._user_model.is_file():
                    raise ModelFetchError(f"HOME_EDITOR_CUTOUT_MODEL_PATH names no file ({self._user_model.name})")
                path = self._user_model
            else:
                path = cached_model(self._model_dir)
                if path is None:
                    self.fetched_now = True
                    logger.info(
                        "Fetching the cutout model %s from %s (%s licence) into %s. %s",
                        MODEL_NAME,
                        SOURCE_TEXT,
                        ISNET.licence,
                        self._model_dir,
                        CHOICES_TEXT,
                    )
                    path = self._fetch(self._model_dir, npm=self._npm, progress=self._progress)
                path = self._convert(path)  # the float32 copy (made once; the file itself if it cannot be)
        except Exception as error:  # a failed fetch must never stop the app: classical for this run
            self.error = str(error) if isinstance(error, ModelFetchError) else f"unexpected {type(error).__name__}"
            self.phase = FAILED
            logger.warning("Cutout model unavailable (%s); using the classical method for this run", self.error)
        else:
            self.path, self.fraction, self.phase = path, 1.0, READY
            logger.info("Cutout model ready: %s", path)
        finally:
            self._done.set()

    def _progress(self, fraction: float) -> None:
        self.fraction = max(self.fraction, min(fraction, 1.0))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until preparation has ended (True) or `timeout` passed (False)."""
        return self._done.wait(timeout)

    @property
    def percent(self) -> int:
        """How far preparation has come."""
        return int(self.fraction * 100)

    @property
    def model_path(self) -> str | None:
        """The file cutouts should use now, or None for the classical method."""
        return str(self.path) if self.phase == READY and self.path else None

    @property
    def summary(self) -> str:
        """A short line for the header ('' when cutouts are not made locally)."""
        if self.phase == OFF:
            return ""
        if self.phase == CLASSICAL:
            return "Cutout: classical method (chosen)"
        if self.phase == PREPARING:
            return f"Preparing the cutout model… {self.percent} %"
        if self.phase == FAILED:
            return "Cutout model unavailable: classical method for now"
        if self._user_model is not None:
            return f"Cutout model: {self._user_model.name}"
        return f"Cutout model: {MODEL_NAME}, {ISNET.licence}"

    @property
    def notice(self) -> str:
        """The longer message for the page: what the model is on the first start, or why it failed."""
        if self.phase == FAILED:
            return (
                f"The cutout model could not be prepared ({self.error}). Cutouts use the classical method "
                f"(plain backgrounds only) until the next start, which tries again. {CHOICES_TEXT}"
            )
        if self._user_model is None and self.fetched_now and self.phase in (PREPARING, READY):
            return (
                f"First start: background removal uses the {MODEL_NAME} model from {SOURCE_TEXT}, fetched "
                f"once into the cache folder (HOME_EDITOR_MODEL_DIR); the model file is under the "
                f"{ISNET.licence} licence. {CHOICES_TEXT}"
            )
        return ""
