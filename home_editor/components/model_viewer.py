"""`<model-viewer>` (Google, Apache-2.0) as a Reflex component, and the dialog that shows a model.

The library is imported lazily in the browser (a static import touches `HTMLElement` during the
production build's prerender and breaks it); `three` is listed because npm peers are not installed.
"""

from __future__ import annotations

from typing import Any, ClassVar

import reflex as rx
from reflex.constants.compiler import MemoizationDisposition, MemoizationMode
from reflex.utils.imports import ImportVar

from home_editor import styles
from home_editor.state.viewer_state import ViewerState


class ModelViewer(rx.Component):
    """The `<model-viewer>` custom element."""

    tag = "model-viewer"
    _is_tag_in_global_scope: ClassVar[bool] = True
    # Reflex 0.10 names a memoized component after its tag, and "model-viewer" is not a JS identifier.
    _memoization_mode = MemoizationMode(disposition=MemoizationDisposition.NEVER)
    lib_dependencies: list[str] = ["@google/model-viewer@4.4.0", "three@0.183.2"]  # noqa: RUF012

    src: rx.Var[str]
    alt: rx.Var[str]

    def add_imports(self) -> dict[str, Any]:
        """React's useEffect, for the lazy import."""
        return {"react": ImportVar(tag="useEffect")}

    def add_hooks(self) -> list[str | rx.Var]:
        """Load the library in the browser only, once a model is to be shown: it is ~1 MB of script, and
        parsing it as the page opened made the first photos dropped into a new tab ~50–100 ms slower."""
        shown = self.src.bool()
        return [
            rx.Var(
                f'useEffect(() => {{ if ({shown}) {{ import("@google/model-viewer"); }} }}, [{shown}]);',
                _var_data=shown._get_all_var_data(),
            )
        ]


def model_viewer_dialog() -> rx.Component:
    """A dialog with the model, camera controls and auto-rotate, opened from a card. On a phone it fills
    the screen, and one finger turns the model, two zoom it (the page does not scroll or zoom meanwhile)."""
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(ViewerState.title, margin="0"),
            rx.cond(
                ViewerState.relief,
                rx.dialog.description(
                    "2.5D preview: an inflated silhouette made on this server, not a 3D reconstruction.",
                    size="2",
                    color_scheme="amber",
                ),
                rx.dialog.description("3D model from the Trellis API.", size="2", color_scheme="gray"),
            ),
            rx.cond(
                ViewerState.src != "",
                ModelViewer.create(
                    src=ViewerState.src,
                    alt=ViewerState.title,
                    custom_attrs={
                        "camera-controls": True,
                        "touch-action": "none",
                        "auto-rotate": True,
                        "shadow-intensity": "0.8",
                        "exposure": "1.0",
                        "data-testid": "model-viewer",
                    },
                    style=styles.MODEL_VIEWER,
                ),
            ),
            rx.hstack(
                rx.link(
                    "Download GLB",
                    href=ViewerState.download_url,
                    style=styles.TOUCH_LINK,
                    custom_attrs={"download": ""},
                ),
                rx.spacer(),
                rx.dialog.close(
                    rx.button(
                        "Close", variant="soft", style=styles.TOUCH_BUTTON, custom_attrs={"data-testid": "close-viewer"}
                    )
                ),
                width="100%",
                align="center",
            ),
            style=styles.VIEWER_DIALOG,
            custom_attrs={"data-testid": "model-dialog"},
        ),
        open=ViewerState.open,
        on_open_change=ViewerState.set_open,
    )
