"""The drop zone (also tap or click to pick) with the upload's progress, and on touch screens a
"Take photo" button that opens the camera."""

from typing import Any

import reflex as rx
from reflex.vars import ArrayVar, ObjectVar

from home_editor import styles
from home_editor.state.library_state import UPLOAD_ID, LibraryState

CAMERA_UPLOAD_ID = "camera"
FORMATS = "JPEG, PNG, WebP, AVIF or HEIC"
# What the file picker offers: any image (a phone opens its photo library, and offers the camera), and
# HEIC/HEIF by name too, since desktop browsers often give such files no type. The server checks again.
PHOTO_TYPES = {"image/*": [], "image/heic": [".heic"], "image/heif": [".heif"]}


def _refused_toast(rejections: ArrayVar[list[dict[str, Any]]]) -> rx.event.EventSpec:
    """A toast, built in the browser, naming each file the picker refused (too large, or not an image;
    the server checks everything again)."""

    def line(rejection: ObjectVar[dict[str, Any]]) -> rx.Var:
        rejection = rejection.to(ObjectVar, dict[str, Any])
        name = rejection["file"].to(ObjectVar, dict[str, Any])["name"]
        code = rejection["errors"].to(ArrayVar, list[dict[str, Any]])[0].to(ObjectVar, dict[str, Any])["code"]
        return rx.cond(
            code == "file-too-large",
            f"“{name}” was not added: it is larger than {LibraryState.upload_limit_mb} MB.",
            f"“{name}” was not added: it is not a photo ({FORMATS}).",
        )

    return rx.toast.error(rejections.to(ArrayVar).map(line).join("\n"), style={"white_space": "pre-line"})


def _on_drop(upload_id: str) -> rx.event.EventSpec:
    return LibraryState.handle_upload(
        rx.upload_files_chunk(upload_id=upload_id, on_upload_progress=LibraryState.upload_progressed)
    )


def _upload_props(upload_id: str) -> dict[str, Any]:
    """What every way in (the drop zone, the camera button) shares: the size cap the browser checks first,
    off while an upload runs, the streamed upload and the toast for refused files."""
    return {
        "id": upload_id,
        "max_size": LibraryState.upload_limit_bytes,
        "disabled": LibraryState.uploading,
        "on_drop": _on_drop(upload_id),
        "on_drop_rejected": _refused_toast,
    }


def _camera_button() -> rx.Component:
    """Opens the phone's (back) camera; shown on touch screens only. A browser without a camera opens its
    file picker instead."""
    button = rx.upload.root(
        rx.icon("camera", size=20),
        rx.text("Take photo"),
        accept={"image/*": []},
        multiple=False,
        no_drag=True,
        style=styles.CAMERA_BUTTON,
        custom_attrs={"data-testid": "camera-button", "aria-label": "Take photo"},
        **_upload_props(CAMERA_UPLOAD_ID),
    )
    zone = button.children[0]
    file_input = zone.children[0]  # rx.upload.root renders <div {...root}><input type=file {...input}/>…</div>
    file_input.capture = rx.Var.create("environment")
    return button


CUT_OFF_TRIGGER = "upload-cut-off"
# Reflex's upload request only logs a network failure (the web worker taking the drop in died, the network
# went away) to the console; this reports it to the page's state, which tells the user. Chromium first
# re-sends the request by itself where it can (a broken reused connection): only a final failure counts.
REPORT_CUT_OFF_UPLOADS = rx.script(
    f"""(() => {{
  const open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url, ...rest) {{
    if (method === "POST" && String(url).includes("/_upload")) {{
      this.addEventListener("error", () => document.getElementById("{CUT_OFF_TRIGGER}")?.click());
    }}
    return open.call(this, method, url, ...rest);
  }};
}})();"""
)


def dropzone() -> rx.Component:
    """Drop or pick photos here; uploads start at once. The server checks every file again."""
    return rx.vstack(
        rx.upload.root(
            rx.vstack(
                rx.icon("image_plus", size=32, color="var(--gray-10)"),
                rx.cond(
                    LibraryState.uploading,
                    rx.text("Uploading…", weight="medium"),
                    rx.fragment(
                        rx.text("Drop photos here, or click to choose", weight="medium", style=styles.POINTER_ONLY),
                        rx.text("Tap to choose photos", weight="medium", style=styles.TOUCH_ONLY),
                    ),
                ),
                rx.text(
                    f"{FORMATS} · up to {LibraryState.upload_limit_mb} MB each",
                    size="1",
                    color_scheme="gray",
                ),
                align="center",
                spacing="1",
            ),
            accept=PHOTO_TYPES,
            multiple=True,
            style=styles.DROPZONE,
            custom_attrs={"data-testid": "dropzone"},
            **_upload_props(UPLOAD_ID),
        ),
        _camera_button(),
        rx.el.button(  # clicked by REPORT_CUT_OFF_UPLOADS (in the page's head) when an upload request fails
            id=CUT_OFF_TRIGGER,
            type="button",
            hidden=True,
            tab_index=-1,
            on_click=LibraryState.upload_cut_off,
        ),
        rx.cond(
            LibraryState.uploading,
            rx.progress(
                value=LibraryState.upload_percent, width="100%", custom_attrs={"data-testid": "upload-progress"}
            ),
        ),
        width="100%",
    )
