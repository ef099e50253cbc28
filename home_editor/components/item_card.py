"""One item: its image (the cutout once done, on a checkerboard or its background), its selection,
before/after and background controls, status, progress and actions."""

import reflex as rx

from home_editor import styles
from home_editor.components.card_controls import (
    API_URL,
    EAGER_CARDS,
    background_picker,
    before_after,
    card_image,
    select_box,
)
from home_editor.components.memo_by_value import MEMO_BY_VALUE
from home_editor.core.cards import Card
from home_editor.core.model_wait import WAITING
from home_editor.core.models import JobStatus
from home_editor.state.library_state import LibraryState
from home_editor.state.viewer_state import ViewerState

_ROW = {"width": "100%", "align": "center", "spacing": "2", "wrap": "wrap"}
STATUS_COLORS = {
    JobStatus.PENDING: "gray",
    WAITING: "gray",
    JobStatus.PROCESSING: "blue",
    JobStatus.COMPLETED: "green",
    JobStatus.FAILED: "red",
    JobStatus.CANCELLED: "orange",
}


def _status(card: rx.Var[Card]) -> rx.Component:
    return rx.hstack(
        rx.badge(
            card.status,
            color_scheme=rx.match(card.status, *STATUS_COLORS.items(), "gray"),
            custom_attrs={"data-testid": "item-status"},
        ),
        rx.cond(
            card.status != "waiting",  # a job waiting for the cutout model has no progress of its own yet
            rx.text(
                card.progress.to_string() + "%",
                size="1",
                white_space="nowrap",
                custom_attrs={"data-testid": "item-progress"},
            ),
        ),
        rx.text(card.message, size="1", color_scheme="gray", trim="both"),
        align="center",
        spacing="2",
        wrap="wrap",
    )


def _button(label: str, on_click: rx.event.EventSpec, testid: str, when: rx.Var[bool] | None = None, **style: str):
    """A small card button with its test hook, shown only `when` (if given)."""
    button = rx.button(
        label, size="1", on_click=on_click, style=styles.TOUCH_BUTTON, custom_attrs={"data-testid": testid}, **style
    )
    return button if when is None else rx.cond(when, button)


def _link(label: str, href: rx.Var[str], testid: str, **props: bool) -> rx.Component:
    """A small text link with its test hook (a 44 px box on touch screens)."""
    return rx.link(label, href=href, size="1", style=styles.TOUCH_LINK, custom_attrs={"data-testid": testid}, **props)


def _actions(card: rx.Var[Card]) -> rx.Component:
    return rx.hstack(
        _button("Retry", LibraryState.retry_item(card.id), "retry-button", card.can_retry),
        _button("Cancel", LibraryState.cancel_item(card.id), "cancel-button", card.can_cancel, variant="soft"),
        _button("Delete", LibraryState.delete_item(card.id), "delete-button", variant="soft", color_scheme="red"),
        rx.spacer(),
        _link("Original", card.original_url, "open-original", is_external=True),
        rx.cond(card.has_cutout, _link("Cutout", card.cutout_url, "open-cutout", is_external=True)),
        width="100%",
        align="center",
        spacing="2",
        wrap="wrap",
    )


def _testid(name: str) -> dict[str, str]:
    return {"data-testid": name}


def _model_status(card: rx.Var[Card]) -> rx.Component:
    return rx.hstack(
        rx.text("3D", size="1", weight="bold"),
        rx.badge(
            card.model_status,
            color_scheme=rx.match(card.model_status, *STATUS_COLORS.items(), "gray"),
            custom_attrs=_testid("model-status"),
        ),
        rx.cond(card.model_is_relief, rx.badge("2.5D preview", color_scheme="amber", variant="outline")),
        rx.cond(
            card.can_cancel_model,
            rx.text(
                card.model_message,
                rx.cond(card.model_elapsed != "", " · " + card.model_elapsed, ""),
                size="1",
                color_scheme="gray",
                trim="both",
                custom_attrs=_testid("model-progress-text"),
            ),
        ),
        align="center",
        spacing="2",
        wrap="wrap",
    )


def _model_actions(card: rx.Var[Card]) -> rx.Component:
    view = ViewerState.show(card.model_url, card.model_download_url, card.name, card.model_is_relief)
    return rx.hstack(
        _button("Generate 3D", LibraryState.generate_model(card.id), "generate-3d-button", card.can_generate_model),
        _button("Cancel 3D", LibraryState.cancel_model(card.id), "cancel-3d-button", card.can_cancel_model,
                variant="soft"),
        _button("Retry 3D", LibraryState.retry_model(card.id), "retry-3d-button", card.can_retry_model),
        _button("View 3D", view, "view-3d-button", card.model_url != ""),
        rx.spacer(),
        rx.cond(card.has_cutout, _cutout_download(card)),
        rx.cond(card.model_url != "", _link("GLB", card.model_download_url, "download-glb")),
        width="100%",
        align="center",
        spacing="2",
        wrap="wrap",
    )  # fmt: skip


def _cutout_download(card: rx.Var[Card]) -> rx.Component:
    """The cutout as the card shows it: the stored PNG when transparent, else a JPEG on its background
    (a plain download link: the page's router must not take it for a page)."""
    opaque = card.export_path != ""
    return rx.el.a(
        "Cutout " + card.export_label,
        href=rx.cond(opaque, API_URL + card.export_path, card.cutout_download_url),
        download="",
        class_name="rt-Text rt-reset rt-Link rt-r-size-1 rt-underline-auto",
        style=styles.TOUCH_LINK,
        custom_attrs={"data-testid": "download-cutout", "reloadDocument": True},
    )


def _model(card: rx.Var[Card]) -> rx.Component:
    return rx.cond(
        card.has_cutout,
        rx.vstack(
            _model_status(card),
            rx.cond(
                card.model_status == JobStatus.PROCESSING.value,
                rx.progress(value=card.model_progress, width="100%"),
            ),
            rx.cond(
                card.model_error != "",
                rx.text(card.model_error, size="1", color_scheme="red", custom_attrs=_testid("model-error")),
            ),
            _model_actions(card),
            spacing="1",
            width="100%",
        ),
    )


def item_card(card: rx.Var[Card], index: rx.Var[int]) -> rx.Component:
    """The card of one item; `index` is its place on the page (newest first). A card renders again only
    when its own data changed (or whether it loads its picture at once), not on every page update."""
    # the key: React keeps each item's card (and its loaded picture) when a new card arrives on top
    return _card(card=card, eager=index < EAGER_CARDS, key=card.id)


@rx.memo(wrapper=MEMO_BY_VALUE)
def _card(card: rx.Var[Card], eager: rx.Var[bool]) -> rx.Component:
    return rx.card(
        rx.vstack(
            card_image(card, eager=eager),
            rx.hstack(select_box(card), before_after(card), rx.spacer(), background_picker(card), **_ROW),
            rx.text(card.name, size="2", weight="medium", trim="both", style={"word_break": "break-all"}),
            _status(card),
            rx.cond(card.status == JobStatus.PROCESSING.value, rx.progress(value=card.progress, width="100%")),
            rx.cond(
                card.error != "",
                rx.text(card.error, size="1", color_scheme="red", custom_attrs={"data-testid": "item-error"}),
            ),
            rx.cond(
                card.note != "",
                rx.text(card.note, size="1", color_scheme="amber", custom_attrs={"data-testid": "item-note"}),
            ),
            _actions(card),
            _model(card),
            spacing="2",
        ),
        custom_attrs={
            "data-testid": "item-card",
            "data-item-id": card.id,
            "data-status": card.status,
            "data-background": card.background_kind,
            "data-glb-url": rx.cond(card.model_url != "", card.model_url, rx.Var.create(None)),
        },
    )
