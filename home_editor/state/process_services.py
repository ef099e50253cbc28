"""The process's services, built on first use from the environment and Reflex's config."""

from __future__ import annotations

import os
import threading

import reflex as rx

from home_editor.app_wiring import Services, build_services
from home_editor.data_folder import prepare_data_folder
from home_editor.settings import db_url_from, settings_from_environment

_services: Services | None = None
_building = threading.Lock()


def get_services() -> Services:
    """The services of this process (raises ConfigError for a bad configuration). The first call also
    prepares the private data folder (and moves an older version's data out of the served folder)."""
    global _services
    if _services is None:
        with _building:  # the start-up builds them on a thread; a request meanwhile waits for that build
            if _services is None:
                config = rx.config.get_config()
                settings = settings_from_environment()
                db_url = config.db_url or db_url_from(os.environ)
                prepare_data_folder(settings, db_url)
                _services = build_services(settings, db_url=db_url, public_base_url=config.api_url)
    return _services
