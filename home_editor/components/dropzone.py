"""The drop zone (also click-to-pick) with the upload's progress."""

from typing import Any

import reflex as rx
from reflex.vars import ArrayVar, ObjectVar

from home_editor import styles
from home_editor.state.library_state import UPLOAD_ID, LibraryState


def _too_large_toast(rejections: ArrayVar[list[dict[str, Any]]]) -> rx.event.EventSpec:
    """A toast, built in the browser, naming each file the drop zone refused (only the size is checked
    there; the server checks everything again)."""

    def line(rejection: ObjectVar[dict[str, Any]]) -> str:
        file = rejection.to(ObjectVar, dict[str, dict[str, Any]])["file"].to(ObjectVar, dict[str, Any])
        return f"“{file['name']}” was not added: it is larger than {LibraryState.upload_limit_mb} MB."

    return rx.toast.error(rejections.to(ArrayVar).map(line).join("\n"), style={"white_space": "pre-line"})


def dropzone() -> rx.Component:
    """Drop photos here; uploads start at once. The server checks every file again."""
    return rx.vstack(
        rx.upload.root(
            rx.vstack(
                rx.icon("image_plus", size=32, color="var(--gray-10)"),
                rx.cond(
                    LibraryState.uploading,
                    rx.text("Uploading…", weight="medium"),
                    rx.text("Drop photos here, or click to choose", weight="medium"),
                ),
                rx.text(
                    f"JPEG, PNG, WebP, AVIF or HEIC · up to {LibraryState.upload_limit_mb} MB each",
                    size="1",
                    color_scheme="gray",
                ),
                align="center",
                spacing="1",
            ),
            id=UPLOAD_ID,
            multiple=True,
            max_size=LibraryState.upload_limit_bytes,
            disabled=LibraryState.uploading,
            on_drop=LibraryState.handle_upload(
                rx.upload_files_chunk(upload_id=UPLOAD_ID, on_upload_progress=LibraryState.upload_progressed)
            ),
            on_drop_rejected=_too_large_toast,
            style=styles.DROPZONE,
            custom_attrs={"data-testid": "dropzone"},
        ),
        rx.cond(
            LibraryState.uploading,
            rx.progress(
                value=LibraryState.upload_percent, width="100%", custom_attrs={"data-testid": "upload-progress"}
            ),
        ),
        width="100%",
    )
