"""Style constants (Radix props and small style dicts)."""

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
    "padding": "2em",
    "width": "100%",
    "cursor": "pointer",
    "text_align": "center",
}
PAGE = {"max_width": "1200px", "margin": "0 auto", "padding": "1.5em"}
