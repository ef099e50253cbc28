"""The process's services, built on first use from the environment and Reflex's config."""

from __future__ import annotations

import reflex as rx

from home_editor.services import Services, build_services
from home_editor.settings import settings_from_environment

_services: Services | None = None


def get_services() -> Services:
    """The services of this process (raises ConfigError for a bad configuration)."""
    global _services
    if _services is None:
        config = rx.config.get_config()
        _services = build_services(
            settings_from_environment(),
            db_url=config.db_url or "sqlite:///uploaded_files/home_editor.db",
            public_base_url=config.api_url,
        )
    return _services
