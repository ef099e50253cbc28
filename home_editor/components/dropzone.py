"""The drop zone (also click-to-pick) with the upload's progress."""

import reflex as rx

from home_editor import styles
from home_editor.state.library_state import UPLOAD_ID, LibraryState

MAX_CLIENT_BYTES = 25 * 2**20


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
                rx.text("JPEG, PNG, WebP, AVIF or HEIC · up to 25 MB each", size="1", color_scheme="gray"),
                align="center",
                spacing="1",
            ),
            id=UPLOAD_ID,
            multiple=True,
            max_size=MAX_CLIENT_BYTES,
            disabled=LibraryState.uploading,
            on_drop=LibraryState.handle_upload(
                rx.upload_files(upload_id=UPLOAD_ID, on_upload_progress=LibraryState.upload_progressed)
            ),
            on_drop_rejected=LibraryState.files_rejected,
            style=styles.DROPZONE,
            custom_attrs={"data-testid": "dropzone"},
        ),
        rx.cond(
            LibraryState.uploading,
            rx.progress(value=LibraryState.upload_percent, width="100%", custom_attrs={"data-testid": "upload-progress"}),
        ),
        width="100%",
    )
