"""Settings from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from home_editor.core.errors import ConfigError
from home_editor.settings import Settings


def test_defaults_match_the_documented_values() -> None:
    settings = Settings.from_env({})
    assert (settings.poll_seconds, settings.concurrency, settings.max_attempts, settings.job_ttl_hours) == (
        2.0,
        2,
        3,
        24.0,
    )
    assert settings.max_upload_bytes == 25 * 2**20 and settings.max_pixels == 50_000_000


def test_values_are_read_from_home_editor_variables() -> None:
    settings = Settings.from_env(
        {
            "HOME_EDITOR_POLL_SECONDS": "0.5",
            "HOME_EDITOR_CONCURRENCY": "3",
            "HOME_EDITOR_MAX_UPLOAD_MB": "10",
            "HOME_EDITOR_MAX_MEGAPIXELS": "12",
            "HOME_EDITOR_JOB_TTL_HOURS": "1",
            "HOME_EDITOR_MEDIA_DIR": "/data/media",
        }
    )
    assert (settings.poll_seconds, settings.concurrency, settings.max_upload_bytes, settings.max_pixels) == (
        0.5,
        3,
        10 * 2**20,
        12_000_000,
    )
    assert settings.job_ttl_ms == 3_600_000 and settings.media_dir == Path("/data/media")


@pytest.mark.parametrize(("name", "value"), [("CONCURRENCY", "two"), ("CONCURRENCY", "0"), ("POLL_SECONDS", "-1")])
def test_bad_values_are_a_config_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=f"HOME_EDITOR_{name}"):
        Settings.from_env({f"HOME_EDITOR_{name}": value})
