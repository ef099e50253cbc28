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


def test_remote_backends_are_chosen_independently() -> None:
    both = Settings.from_env(
        {
            "TRELLIS_API_URL": "https://w--trellis-api-fastapi-app.modal.run/",
            "TRELLIS_API_KEY": "k",
            "BLOB_READ_WRITE_TOKEN": "vercel_blob_rw_store1_Secret9",
        }
    )
    assert both.use_trellis and both.use_blob and both.trellis_url.endswith(".modal.run") and both.problems == ()
    only_blob = Settings.from_env({"BLOB_READ_WRITE_TOKEN": "vercel_blob_rw_store1_Secret9"})
    assert only_blob.use_blob and not only_blob.use_trellis
    assert not Settings.from_env({}).use_trellis and not Settings.from_env({}).use_blob


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({"TRELLIS_API_URL": "https://x.modal.run"}, "TRELLIS_API_KEY is empty"),
        ({"TRELLIS_API_KEY": "secret-key-123"}, "TRELLIS_API_URL is empty"),
        ({"TRELLIS_API_URL": "ftp://x", "TRELLIS_API_KEY": "secret-key-123"}, "not an http(s) URL"),
        ({"BLOB_READ_WRITE_TOKEN": "secret-token-456"}, "does not look like vercel_blob_rw_"),
    ],
)
def test_a_bad_remote_configuration_is_a_reported_problem_not_a_crash(env: dict, problem: str) -> None:
    settings = Settings.from_env(env)
    assert any(problem in text for text in settings.problems)
    assert not settings.use_trellis and not settings.use_blob
    for value in env.values():
        assert value not in " ".join(settings.problems) + repr(settings)


def test_secrets_never_appear_in_the_settings_repr() -> None:
    settings = Settings.from_env(
        {
            "TRELLIS_API_URL": "https://x",
            "TRELLIS_API_KEY": "k-9f8e7d",
            "BLOB_READ_WRITE_TOKEN": "vercel_blob_rw_s_T0ken",
        }
    )
    assert "k-9f8e7d" not in repr(settings) and "T0ken" not in repr(settings)


def test_leases_are_renewed_three_times_a_lease_by_default() -> None:
    settings = Settings.from_env({"HOME_EDITOR_LEASE_SECONDS": "30"})
    assert (settings.lease_seconds, settings.renew_ms) == (30.0, 10_000)
    assert Settings.from_env({}).renew_ms == Settings().renew_ms == 5_000


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"HOME_EDITOR_LEASE_SECONDS": "15", "HOME_EDITOR_RENEW_SECONDS": "6"}, "HOME_EDITOR_RENEW_SECONDS=6"),
        ({"HOME_EDITOR_LEASE_SECONDS": "3", "HOME_EDITOR_POLL_SECONDS": "2"}, "HOME_EDITOR_POLL_SECONDS=2"),
        ({"HOME_EDITOR_POLL_SECONDS": "20"}, "HOME_EDITOR_POLL_SECONDS=20"),
    ],
)
def test_renew_and_poll_intervals_longer_than_a_third_of_the_lease_are_refused(env: dict, named: str) -> None:
    """A runner that renews or looks too rarely would see its own running job as abandoned."""
    with pytest.raises(ConfigError) as raised:
        Settings.from_env(env)
    assert named in str(raised.value) and "third of the lease" in str(raised.value)


def test_intervals_of_exactly_a_third_of_the_lease_are_accepted() -> None:
    settings = Settings.from_env(
        {"HOME_EDITOR_LEASE_SECONDS": "9", "HOME_EDITOR_RENEW_SECONDS": "3", "HOME_EDITOR_POLL_SECONDS": "3"}
    )
    assert (settings.renew_ms, settings.poll_seconds) == (3000, 3.0)
