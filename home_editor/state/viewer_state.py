"""The 3D viewer dialog of a tab (which model it shows)."""

from __future__ import annotations

import reflex as rx


class ViewerState(rx.State):
    """Which model the viewer shows, if any."""

    open: bool = False
    src: str = ""
    download_url: str = ""
    title: str = ""
    relief: bool = False

    @rx.event
    def show(self, src: str, download_url: str, title: str, relief: bool):
        """Open the viewer on a card's model (URLs the page already shows; the server fetches nothing)."""
        self.src, self.download_url, self.title, self.relief, self.open = src, download_url, title, relief, True

    @rx.event
    def set_open(self, value: bool):
        """Follow the dialog's own open/close."""
        self.open = value
        if not value:
            self.src = ""
