"""Style constants (Radix props and small style dicts).

Phones: the page is laid out for 320 px and up (Radix breakpoints: `initial` < 520 px ≤ `xs` < 768 px ≤
`sm` < 1024 px ≤ `md` < 1280 px ≤ `lg`). On touch screens (`pointer: coarse`) every control is at least
44 × 44 px; with a mouse the compact desktop sizes stay.
"""

import reflex as rx

TOUCH = "@media (pointer: coarse)"
TOUCH_TARGET = "44px"
WIDE = "@media (min-width: 768px)"  # Radix `sm`: from here on the page is laid out in rows

CHECKERBOARD = {
    "background_color": "#fff",
    "background_image": (
        "linear-gradient(45deg, #e5e7eb 25%, transparent 25%), linear-gradient(-45deg, #e5e7eb 25%, transparent 25%),"
        " linear-gradient(45deg, transparent 75%, #e5e7eb 75%), linear-gradient(-45deg, transparent 75%, #e5e7eb 75%)"
    ),
    "background_size": "16px 16px",
    "background_position": "0 0, 0 8px, 8px -8px, -8px 0px",
}
THUMB_FRAME = {"width": "100%", "aspect_ratio": "1", "border_radius": "8px", "overflow": "hidden"}
THUMB_IMAGE = {"width": "100%", "height": "100%", "object_fit": "contain"}
DROPZONE = {
    "border": "2px dashed var(--gray-7)",
    "border_radius": "12px",
    "padding": rx.breakpoints(initial="1.25em", sm="2em"),
    "width": "100%",
    "cursor": "pointer",
    "text_align": "center",
}
PAGE = {
    "max_width": "1200px",
    "margin": "0 auto",
    "padding": rx.breakpoints(initial="1em", sm="1.5em"),
    "overflow_wrap": "anywhere",  # a long file name or backend line wraps instead of widening the page
}

# A button: at least a fingertip on touch screens.
TOUCH_BUTTON = {TOUCH: {"min_height": TOUCH_TARGET, "min_width": TOUCH_TARGET}}
# A small control (checkbox, switch, select): a fingertip's box on touch screens.
TOUCH_CONTROL = {TOUCH: {"min_height": TOUCH_TARGET, "min_width": TOUCH_TARGET}}
# The colour well of a card's background choice.
COLOUR_WELL = {
    "width": "36px",
    "height": "24px",
    "padding": "0",
    "border": "1px solid var(--gray-7)",
    "border_radius": "4px",
    "cursor": "pointer",
    TOUCH: {"min_height": TOUCH_TARGET, "min_width": TOUCH_TARGET},
}
# A text link: on touch screens a 44 px box around its text.
TOUCH_LINK = {
    TOUCH: {
        "display": "inline-flex",
        "align_items": "center",
        "justify_content": "center",
        "min_height": TOUCH_TARGET,
        "min_width": TOUCH_TARGET,
    }
}
# Shown only with a mouse / only on touch screens.
POINTER_ONLY = {TOUCH: {"display": "none"}}
TOUCH_ONLY = {"display": "none", TOUCH: {"display": "flex"}}

CAMERA_BUTTON = {
    **TOUCH_ONLY,
    "align_items": "center",
    "justify_content": "center",
    "gap": "8px",
    "width": "100%",
    "min_height": TOUCH_TARGET,
    "border_radius": "var(--radius-3)",
    "background_color": "var(--accent-3)",
    "color": "var(--accent-11)",
    "font_weight": "500",
    "cursor": "pointer",
}

# The 3D viewer: a dialog on wide screens, the whole screen on a phone.
VIEWER_DIALOG = {
    "display": "flex",
    "flex_direction": "column",
    "gap": "12px",
    "position": "fixed",
    "inset": "0",
    "width": "100%",
    "max_width": "none",
    "height": "100dvh",
    "max_height": "none",
    "border_radius": "0",
    "padding": "16px",
    WIDE: {
        "position": "relative",
        "inset": "auto",
        "max_width": "900px",
        "height": "auto",
        "max_height": "calc(100vh - 96px)",
        "border_radius": "var(--radius-5)",
        "padding": "24px",
    },
}
MODEL_VIEWER = {
    "display": "block",
    "width": "100%",
    "flex": "1",
    "min_height": "0",
    "background_color": "var(--gray-3)",
    "border_radius": "var(--radius-3)",
    "touch_action": "none",  # a drag or pinch turns and zooms the model instead of moving the page
    WIDE: {"flex": "none", "height": "60vh"},
}
