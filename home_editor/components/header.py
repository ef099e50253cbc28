"""The header: title, active backends and job counts."""

import reflex as rx

from home_editor.components.model_status import model_status
from home_editor.state.library_state import LibraryState


def _count(label: str, value: rx.Var, color: str) -> rx.Component:
    return rx.badge(f"{label} ", value, color_scheme=color, variant="soft", size="2")


def header() -> rx.Component:
    """Title, backends and the job stats."""
    stats = LibraryState.stats
    return rx.vstack(
        rx.hstack(
            rx.heading("home_editor", size="7"),
            rx.spacer(),
            rx.hstack(
                _count("Pending", stats.pending, "gray"),
                _count("Processing", stats.processing, "blue"),
                _count("Completed", stats.completed, "green"),
                _count("Failed", stats.failed, "red"),
                spacing="2",
                custom_attrs={"data-testid": "job-stats"},
            ),
            width="100%",
            align="center",
        ),
        rx.hstack(
            rx.text(LibraryState.backends, size="1", color_scheme="gray", custom_attrs={"data-testid": "backends"}),
            rx.spacer(),
            rx.button(
                rx.cond(LibraryState.compact, "Larger cards", "Smaller cards"),
                size="1",
                variant="ghost",
                on_click=LibraryState.toggle_compact,
                custom_attrs={"data-testid": "density-toggle"},
            ),
            rx.button(
                "Generate 3D for all",
                size="1",
                variant="soft",
                on_click=LibraryState.generate_all_models,
                custom_attrs={"data-testid": "generate-3d-all-button"},
            ),
            width="100%",
            align="center",
        ),
        model_status(),
        rx.cond(
            LibraryState.problem != "",
            rx.callout(LibraryState.problem, icon="triangle_alert", color_scheme="red", width="100%"),
        ),
        width="100%",
        spacing="1",
    )
