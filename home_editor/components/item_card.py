"""One item: its image (the cutout once done, on a checkerboard), status, progress and actions."""

import reflex as rx

from home_editor import styles
from home_editor.state.library_state import LibraryState
from home_editor.views import Card

STATUS_COLORS = {"pending": "gray", "processing": "blue", "completed": "green", "failed": "red", "cancelled": "orange"}


def _thumbnail(card: rx.Var[Card]) -> rx.Component:
    return rx.box(
        rx.image(
            src=card.image_url,
            alt=card.name,
            style=styles.THUMB_IMAGE,
            loading="lazy",
            custom_attrs={"data-testid": "item-thumbnail"},
        ),
        style={**styles.THUMB_FRAME, **styles.CHECKERBOARD},
    )


def _status(card: rx.Var[Card]) -> rx.Component:
    return rx.hstack(
        rx.badge(
            card.status,
            color_scheme=rx.match(card.status, *STATUS_COLORS.items(), "gray"),
            custom_attrs={"data-testid": "item-status"},
        ),
        rx.text(card.progress.to_string() + "%", size="1", custom_attrs={"data-testid": "item-progress"}),
        rx.text(card.message, size="1", color_scheme="gray", trim="both"),
        align="center",
        spacing="2",
    )


def _actions(card: rx.Var[Card]) -> rx.Component:
    return rx.hstack(
        rx.cond(
            card.can_retry,
            rx.button(
                "Retry",
                size="1",
                on_click=LibraryState.retry_item(card.id),
                custom_attrs={"data-testid": "retry-button"},
            ),
        ),
        rx.cond(
            card.can_cancel,
            rx.button(
                "Cancel",
                size="1",
                variant="soft",
                on_click=LibraryState.cancel_item(card.id),
                custom_attrs={"data-testid": "cancel-button"},
            ),
        ),
        rx.button(
            "Delete",
            size="1",
            variant="soft",
            color_scheme="red",
            on_click=LibraryState.delete_item(card.id),
            custom_attrs={"data-testid": "delete-button"},
        ),
        rx.spacer(),
        rx.link(
            "Original",
            href=card.original_url,
            is_external=True,
            size="1",
            custom_attrs={"data-testid": "open-original"},
        ),
        rx.cond(
            card.has_cutout,
            rx.link(
                "Cutout", href=card.cutout_url, is_external=True, size="1", custom_attrs={"data-testid": "open-cutout"}
            ),
        ),
        width="100%",
        align="center",
        spacing="2",
    )


def item_card(card: rx.Var[Card]) -> rx.Component:
    """The card of one item."""
    return rx.card(
        rx.vstack(
            _thumbnail(card),
            rx.text(card.name, size="2", weight="medium", trim="both", style={"word_break": "break-all"}),
            _status(card),
            rx.cond(card.status == "processing", rx.progress(value=card.progress, width="100%")),
            rx.cond(
                card.error != "",
                rx.text(card.error, size="1", color_scheme="red", custom_attrs={"data-testid": "item-error"}),
            ),
            rx.cond(
                card.note != "",
                rx.text(card.note, size="1", color_scheme="amber", custom_attrs={"data-testid": "item-note"}),
            ),
            _actions(card),
            spacing="2",
        ),
        custom_attrs={"data-testid": "item-card", "data-item-id": card.id, "data-status": card.status},
    )
