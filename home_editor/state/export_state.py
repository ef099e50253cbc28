"""The page's download and presentation choices: which cards are selected, which show their original
(before/after), and each item's background (kept in the server's store with the item, not in the
browser). Downloads go to the backend's /export routes (see `home_editor.export.routes`)."""

from __future__ import annotations

import json

import reflex as rx

from home_editor.core.backgrounds import CHOICES
from home_editor.core.errors import BadInputError
from home_editor.core.mirror import LIBRARY_KEY
from home_editor.core.models import is_record_id
from home_editor.state.library_state import LibraryState
from home_editor.state.process_services import get_services
from home_editor.state.refresh import show_current


def zip_download_script(items: list[str] | None) -> str:
    """Browser code that posts the download form: the library's key is read from this browser's own
    storage into the form body (never a URL); the response is an attachment, so the page stays."""
    action = f"{rx.config.get_config().api_url.rstrip('/')}/export/zip"
    fields = {"scope": "all"} if items is None else {"scope": "selected", "items": ",".join(items)}
    return (
        "(() => { const form = document.createElement('form');"
        f" form.method = 'post'; form.action = {json.dumps(action)}; form.style.display = 'none';"
        f" const fields = {json.dumps(fields)};"
        f" fields.library = localStorage.getItem({json.dumps(LIBRARY_KEY)}) || '';"
        " for (const [name, value] of Object.entries(fields)) {"
        " const input = document.createElement('input'); input.type = 'hidden'; input.name = name;"
        " input.value = value; form.appendChild(input); }"
        " document.body.appendChild(form); form.submit(); form.remove(); })()"
    )


class ExportState(rx.State):
    """Selection, before/after and background choices of one tab."""

    selected: list[str] = []
    showing_original: list[str] = []

    @rx.event
    def toggle_selected(self, item_id: str):
        """Select a card for "Download selected", or unselect it."""
        if item_id in self.selected:
            self.selected = [chosen for chosen in self.selected if chosen != item_id]
        elif is_record_id(item_id):
            self.selected = [*self.selected, item_id]

    @rx.event
    def clear_selection(self):
        """Unselect every card."""
        self.selected = []

    @rx.event
    def toggle_original(self, item_id: str):
        """Show the card's original photo instead of its cutout, or back."""
        if item_id in self.showing_original:
            self.showing_original = [shown for shown in self.showing_original if shown != item_id]
        elif is_record_id(item_id):
            self.showing_original = [*self.showing_original, item_id]

    @rx.event
    async def download_all(self):
        """One ZIP of every item with a cutout."""
        library = await self.get_state(LibraryState)
        if not any(card.has_cutout for card in library.cards):
            return rx.toast.info("Nothing to download yet: no photo has its cutout.")
        return rx.call_script(zip_download_script(None))

    @rx.event
    async def download_selected(self):
        """One ZIP of the selected items that have a cutout."""
        library = await self.get_state(LibraryState)
        ready = {card.id for card in library.cards if card.has_cutout}
        chosen = [item_id for item_id in self.selected if item_id in ready]
        if not chosen:
            return rx.toast.info("None of the selected photos has its cutout yet.")
        return rx.call_script(zip_download_script(chosen))

    @rx.event
    async def choose_background(self, item_id: str, choice: str):
        """Keep a background for one item: transparent, white, colour or shadow (colour: its last colour,
        or the default), or a colour itself (#rrggbb)."""
        if is_record_id(item_id):
            return await _set_background(self, item_id, choice)

    @rx.event
    async def choose_background_for_all(self, choice: str):
        """Keep a background for every item."""
        return await _set_background(self, None, choice)


async def _set_background(state: ExportState, item_id: str | None, choice: str):
    library = await state.get_state(LibraryState)
    if not library._library_id:
        return None
    value = CHOICES.get(choice, choice)
    if choice == "colour" and item_id is not None:
        card = next((card for card in library.cards if card.id == item_id), None)
        value = card.background_colour if card is not None else value
    service = get_services().library
    try:
        await service.set_background(library._library_id, item_id, value)
    except BadInputError as error:
        return rx.toast.error(str(error))
    return await show_current(library, service, library._library_id)
