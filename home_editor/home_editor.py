"""The Reflex app: one page, the /media route for local files, and the runner's start-up sweep."""

import gc
import logging

import reflex as rx

from home_editor.core.errors import ConfigError
from home_editor.media_route import media_app
from home_editor.pages.index import index
from home_editor.state.library_state import LibraryState
from home_editor.state.services_access import get_services

logger = logging.getLogger(__name__)


async def resume_work() -> None:
    """At start-up, resume libraries that still have queued work (e.g. after a restart)."""
    # Everything built at start-up (Reflex, the compiled app) lives as long as the process: collected once
    # here and frozen, later full collections skip it (walking it held the event loop for ~80 ms here).
    gc.collect()
    gc.freeze()
    try:
        get_services().start_background()
    except ConfigError as error:
        logger.error("home_editor configuration problem: %s", error)


app = rx.App(api_transformer=media_app(lambda: get_services().settings.media_dir))
app.add_page(index, route="/", title="home_editor", on_load=LibraryState.watch_library)
app.register_lifespan_task(resume_work)
