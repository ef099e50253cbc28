"""The cutout model's state in the header: a short line (preparing with a percentage, ready, unavailable)
and, on the first start or after a failure, the longer message (model, source, licence, choices)."""

import reflex as rx

from home_editor.state.library_state import LibraryState


def model_status() -> rx.Component:
    """The model's state line and its notice (each shown only when there is something to say)."""
    return rx.fragment(
        rx.cond(
            LibraryState.model_status != "",
            rx.text(
                LibraryState.model_status,
                size="1",
                color_scheme="gray",
                custom_attrs={"data-testid": "cutout-model-status"},
            ),
        ),
        rx.cond(
            LibraryState.model_notice != "",
            rx.callout(
                LibraryState.model_notice,
                icon="info",
                color_scheme="blue",
                size="1",
                width="100%",
                custom_attrs={"data-testid": "cutout-model-notice"},
            ),
        ),
    )
