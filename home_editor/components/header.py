"""The header: the product name, item and job counts, active backends and the page-wide actions.

On a phone it stacks (title, counts, backend line, actions); from 768 px on, the title shares a row with
the counts and the backend line one with the actions.
"""

import reflex as rx

from home_editor import styles
from home_editor.components.card_controls import background_select
from home_editor.components.model_status import model_status
from home_editor.state.export_state import ExportState
from home_editor.state.library_state import LibraryState

PRODUCT_NAME = "Home Editor"

_STACKED_THEN_ROW = {
    "direction": rx.breakpoints(initial="column", sm="row"),
    "align": rx.breakpoints(initial="start", sm="center"),
    "justify": "between",
    "spacing": "2",
    "width": "100%",
}


def _selected_on_page() -> rx.Var[list[str]]:
    """The selected cards still on the page: a selected card deleted (here or in another tab) drops out."""
    on_page = LibraryState.cards.pluck("id")
    return ExportState.selected.filter(lambda item_id: on_page.contains(item_id))


def _count(label: str, value: rx.Var, color: str, testid: str) -> rx.Component:
    return rx.badge(
        f"{label} ", value, color_scheme=color, variant="soft", size="2", custom_attrs={"data-testid": testid}
    )


def _counts() -> rx.Component:
    """Items (what the library holds) apart from jobs (the work): one photo with a cutout and a model
    reads "Photos 1 · Cutouts 1 · 3D models 1", not "2 completed"."""
    stats = LibraryState.stats
    return rx.flex(
        rx.flex(
            _count("Photos", stats.photos, "gray", "count-photos"),
            _count("Cutouts", stats.cutouts, "green", "count-cutouts"),
            _count("3D models", stats.models, "green", "count-models"),
            wrap="wrap",
            spacing="2",
            custom_attrs={"data-testid": "item-stats"},
        ),
        rx.flex(
            rx.text("Jobs", size="1", weight="bold", color_scheme="gray"),
            _count("queued", stats.queued, "gray", "count-queued"),
            _count("running", stats.running, "blue", "count-running"),
            _count("failed", stats.failed, "red", "count-failed"),
            wrap="wrap",
            align="center",
            spacing="2",
            custom_attrs={"data-testid": "job-stats"},
        ),
        wrap="wrap",
        spacing="3",
        custom_attrs={"data-testid": "header-counts"},
    )


def _actions() -> rx.Component:
    button_style = {**styles.TOUCH_BUTTON, "flex": rx.breakpoints(initial="1", sm="none"), "overflow_wrap": "normal"}
    selected = _selected_on_page().length()
    return rx.flex(
        rx.button(
            rx.cond(LibraryState.compact, "Larger cards", "Smaller cards"),
            size="1",
            variant="soft",
            color_scheme="gray",
            on_click=LibraryState.toggle_compact,
            style=button_style,
            custom_attrs={"data-testid": "density-toggle"},
        ),
        rx.button(
            "Download all",
            size="1",
            on_click=ExportState.download_all,
            style=button_style,
            custom_attrs={"data-testid": "download-all-button"},
        ),
        rx.cond(
            selected > 0,
            rx.button(
                "Download selected (" + selected.to_string() + ")",
                size="1",
                variant="soft",
                on_click=ExportState.download_selected,
                style=button_style,
                custom_attrs={"data-testid": "download-selected-button"},
            ),
        ),
        background_select(
            "background-all-select",
            "Background for all photos",
            placeholder="Background for all",
            value="",
            on_change=ExportState.choose_background_for_all,
        ),
        rx.button(
            "Generate 3D for all",
            size="1",
            variant="soft",
            on_click=LibraryState.generate_all_models,
            style=button_style,
            custom_attrs={"data-testid": "generate-3d-all-button"},
        ),
        spacing="2",
        wrap="wrap",
        flex_shrink="0",
        width=rx.breakpoints(initial="100%", sm="auto"),
        custom_attrs={"data-testid": "header-actions"},
    )


def _title() -> rx.Component:
    return rx.hstack(
        rx.image(src="/favicon.ico", alt="", width="28px", height="28px"),
        rx.heading(PRODUCT_NAME, size="7", as_="h1"),
        align="center",
        spacing="2",
        wrap="wrap",
        flex_shrink="0",
    )


def header() -> rx.Component:
    """Title, job counts, backends and the page-wide actions."""
    return rx.vstack(
        rx.flex(_title(), _counts(), **_STACKED_THEN_ROW),
        rx.flex(
            rx.text(LibraryState.backends, size="1", color_scheme="gray", custom_attrs={"data-testid": "backends"}),
            _actions(),
            **_STACKED_THEN_ROW,
        ),
        model_status(),
        rx.cond(
            LibraryState.problem != "",
            rx.callout(LibraryState.problem, icon="triangle_alert", color_scheme="red", width="100%"),
        ),
        width="100%",
        spacing="2",
    )
