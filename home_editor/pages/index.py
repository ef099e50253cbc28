"""The one page: header, drop zone and the grid of item cards."""

import reflex as rx

from home_editor import styles
from home_editor.components.dropzone import dropzone
from home_editor.components.empty_state import empty_state
from home_editor.components.header import header
from home_editor.components.item_card import item_card
from home_editor.components.model_viewer import model_viewer_dialog
from home_editor.state.library_state import LibraryState


def index() -> rx.Component:
    """Drop photos, watch them become cutouts."""
    return rx.box(
        rx.vstack(
            header(),
            dropzone(),
            model_viewer_dialog(),
            rx.cond(
                LibraryState.cards.length() == 0,
                empty_state(),
            ),
            rx.grid(
                rx.foreach(LibraryState.cards, item_card),
                columns=rx.cond(
                    LibraryState.compact,
                    rx.breakpoints(initial="2", sm="3", md="5", lg="6"),
                    rx.breakpoints(initial="1", xs="2", md="3", lg="4"),  # one card per row on a phone
                ),
                spacing="4",
                width="100%",
                custom_attrs={"data-testid": "item-grid"},
            ),
            spacing="4",
            width="100%",
            custom_attrs={"data-testid": "page-ready", "data-ready": LibraryState.ready.to_string()},
        ),
        style=styles.PAGE,
    )
