"""A card's export controls: the selection checkbox, the before/after switch, the background choice and
the image shown for them (the original, the cutout on the checkerboard, or its preview on the chosen
background, composed on the server like the download)."""

import reflex as rx

from home_editor import styles
from home_editor.core.cards import Card
from home_editor.state.export_state import ExportState

API_URL = rx.config.get_config().api_url.rstrip("/")
BACKGROUND_CHOICES = ["transparent", "white", "colour", "shadow"]
# The first cards are on screen on any window: their pictures load at once, not after a layout pass
# (lazy loading waits for one); the rest of a long library loads as it scrolls into view.
EAGER_CARDS = 12


def card_image(card: rx.Var[Card], *, eager: rx.Var[bool]) -> rx.Component:
    """The original while "Before" is on; else the cutout (its preview) on its background; `eager` loads
    it at once (a card near the top) instead of when it nears the window."""
    before = ExportState.showing_original.contains(card.id)
    opaque = card.preview_path != ""
    return rx.box(
        rx.image(
            src=rx.cond(before, card.before_url, rx.cond(opaque, API_URL + card.preview_path, card.image_url)),
            alt=rx.cond(before, card.name + " (original)", card.name),
            style=styles.THUMB_IMAGE,
            loading=rx.cond(eager, "eager", "lazy"),
            custom_attrs={
                "data-testid": "item-thumbnail",
                "decoding": "async",
                "data-view": rx.cond(before, "before", "after"),
            },
        ),
        style=rx.cond(
            before | ~opaque,
            {**styles.THUMB_FRAME, **styles.CHECKERBOARD},
            {**styles.THUMB_FRAME, "background_color": card.background_fill},
        ),
    )


def select_box(card: rx.Var[Card]) -> rx.Component:
    """Choose this card for "Download selected"."""
    return rx.el.label(
        rx.checkbox(
            checked=ExportState.selected.contains(card.id),
            on_change=lambda _: ExportState.toggle_selected(card.id),
            aria_label="Select " + card.name,
            style=styles.TOUCH_CONTROL,
            custom_attrs={"data-testid": "select-item"},
        ),
        rx.text("Select", size="1"),
        style={**styles.TOUCH_LINK, "display": "inline-flex", "gap": "6px", "align_items": "center"},
    )


def before_after(card: rx.Var[Card]) -> rx.Component:
    """A switch between the cutout (after) and the original photo (before): a focusable switch with
    role="switch" and aria-checked, toggled by Space or Enter."""
    return rx.cond(
        card.has_cutout,
        rx.el.label(
            rx.switch(
                checked=ExportState.showing_original.contains(card.id),
                on_change=lambda _: ExportState.toggle_original(card.id),
                aria_label="Show the original photo of " + card.name,
                size="1",
                style=styles.TOUCH_CONTROL,
                custom_attrs={"data-testid": "before-after"},
            ),
            rx.text("Before", size="1"),
            style={**styles.TOUCH_LINK, "display": "inline-flex", "gap": "6px", "align_items": "center"},
        ),
    )


def background_select(testid: str, label: rx.Var | str, **props) -> rx.Component:
    """A select of the background choices whose trigger (the focusable button) carries the label."""
    return rx.select.root(
        rx.select.trigger(aria_label=label, style=styles.TOUCH_CONTROL, custom_attrs={"data-testid": testid},
                          placeholder=props.pop("placeholder", "")),
        rx.select.content(*[rx.select.item(choice, value=choice) for choice in BACKGROUND_CHOICES]),
        size="1",
        **props,
    )  # fmt: skip


def background_picker(card: rx.Var[Card]) -> rx.Component:
    """Transparent, white, a colour (with its colour well) or a soft shadow, kept with the item."""
    return rx.cond(
        card.has_cutout,
        rx.hstack(
            background_select(
                "background-select",
                "Background of " + card.name,
                on_change=lambda choice: ExportState.choose_background(card.id, choice),
                value=card.background_kind,
            ),
            rx.cond(
                card.background_kind == "colour",
                rx.el.input(
                    type="color",
                    value=card.background_colour,
                    on_change=lambda colour: ExportState.choose_background(card.id, colour),
                    aria_label="Background colour of " + card.name,
                    style=styles.COLOUR_WELL,
                    custom_attrs={"data-testid": "background-colour"},
                ),
            ),
            align="center",
            spacing="2",
        ),
    )
