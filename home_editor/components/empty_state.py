"""What a new library shows instead of cards: what to do, and what comes of it."""

import reflex as rx

STEPS = (
    ("1", "Drop photos of furniture or objects into the box above (or click it to choose them)."),
    ("2", "Each photo gets its background removed; the card shows the cutout."),
    ("3", "Pick a background (transparent, white, a colour or a soft shadow), compare with the original,"
     " and download one cutout, the selected ones or all of them as a ZIP. Or make a 3D model."),
)  # fmt: skip


def empty_state() -> rx.Component:
    """Shown while the library has no photos."""
    return rx.callout.root(
        rx.vstack(
            rx.text("No photos yet. Here is how it works:", weight="bold"),
            *[
                rx.hstack(rx.badge(number, variant="solid", radius="full"), rx.text(text, size="2"), align="start")
                for number, text in STEPS
            ],
            spacing="2",
        ),
        color_scheme="gray",
        variant="surface",
        width="100%",
        custom_attrs={"data-testid": "empty-library"},
    )
