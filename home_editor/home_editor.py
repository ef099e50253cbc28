"""The Reflex app: one page, the /media route for local files, the /export download routes, and the
runner's start-up sweep."""

import asyncio
import logging

import reflex as rx
from starlette.applications import Starlette

from home_editor.components.dropzone import REPORT_CUT_OFF_UPLOADS
from home_editor.components.header import PRODUCT_NAME
from home_editor.core.errors import ConfigError
from home_editor.export.routes import export_routes
from home_editor.media_route import media_app
from home_editor.pages.index import index
from home_editor.server_process import prepare_server_process
from home_editor.state.library_state import LibraryState
from home_editor.state.process_services import get_services

logger = logging.getLogger(__name__)


async def resume_work() -> None:
    """At start-up, resume libraries that still have queued work (e.g. after a restart)."""
    prepare_server_process(asyncio.get_running_loop())
    try:
        # Built on a thread: it opens the database, prepares the data folder and starts the processing
        # workers, none of which may hold up the event loop (tabs reconnecting after a restart wait on it).
        services = await asyncio.to_thread(get_services)
        services.start_background()
        await services.warm_up_uploads()
    except ConfigError as error:
        logger.error("home_editor configuration problem: %s", error)


app = rx.App(
    api_transformer=Starlette(
        routes=[
            *media_app(lambda: get_services().settings.media_dir).routes,
            *export_routes(lambda: get_services().exports),
        ]
    ),
    head_components=[rx.el.link(rel="icon", href="/favicon.ico", sizes="any"), REPORT_CUT_OFF_UPLOADS],
    # The page reads left to right. Told so, the toaster stops asking the browser for the page's computed
    # direction on each of its renders (a forced style pass over the whole page, in every open tab).
    toaster=rx.toast.provider(dir="ltr"),
)
app.add_page(
    index,
    route="/",
    title=PRODUCT_NAME,
    description="Remove the background from photos of furniture, in bulk; download cutouts or 3D models.",
    image="/favicon.ico",
    on_load=LibraryState.watch_library,
)
app.register_lifespan_task(resume_work)
