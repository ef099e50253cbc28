"""Settings from the environment (and `.env` / `.env.local`; real environment variables win)."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from home_editor.core.errors import ConfigError

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every tunable of the app; see README's configuration table."""

    poll_seconds: float = 2.0
    concurrency: int = 2
    max_upload_bytes: int = 25 * 2**20
    max_pixels: int = 50_000_000
    job_ttl_hours: float = 24.0
    max_attempts: int = 3
    retry_base_seconds: float = 2.0
    lease_seconds: float = 15.0
    cleanup_interval_seconds: float = 600.0
    media_dir: Path = Path("uploaded_files/home_editor")
    execution_log: Path | None = None
    local_delay_seconds: float = 0.0

    @property
    def job_ttl_ms(self) -> int:
        """The job time to live in milliseconds."""
        return int(self.job_ttl_hours * 3_600_000)

    @property
    def lease_ms(self) -> int:
        """The lease length in milliseconds."""
        return int(self.lease_seconds * 1000)

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Settings:
        """Read `HOME_EDITOR_*` variables; raise ConfigError naming the first bad one."""

        def read(name: str, parse: Callable[[str], T], default: T, *, minimum: float | None = None) -> T:
            raw = env.get(f"HOME_EDITOR_{name}", "").strip()
            if not raw:
                return default
            try:
                value = parse(raw)
            except ValueError as error:
                raise ConfigError(f"HOME_EDITOR_{name}={raw!r} is not a valid number") from error
            if minimum is not None and float(value) < minimum:  # type: ignore[arg-type]
                raise ConfigError(f"HOME_EDITOR_{name} must be at least {minimum}")
            return value

        log = env.get("HOME_EDITOR_EXECUTION_LOG", "").strip()
        return cls(
            poll_seconds=read("POLL_SECONDS", float, cls.poll_seconds, minimum=0.05),
            concurrency=read("CONCURRENCY", int, cls.concurrency, minimum=1),
            max_upload_bytes=int(read("MAX_UPLOAD_MB", float, 25.0, minimum=0.001) * 2**20),
            max_pixels=int(read("MAX_MEGAPIXELS", float, 50.0, minimum=0.001) * 1_000_000),
            job_ttl_hours=read("JOB_TTL_HOURS", float, cls.job_ttl_hours, minimum=0),
            max_attempts=read("MAX_ATTEMPTS", int, cls.max_attempts, minimum=1),
            retry_base_seconds=read("RETRY_BASE_SECONDS", float, cls.retry_base_seconds, minimum=0),
            lease_seconds=read("LEASE_SECONDS", float, cls.lease_seconds, minimum=1),
            cleanup_interval_seconds=read("CLEANUP_SECONDS", float, cls.cleanup_interval_seconds, minimum=1),
            media_dir=Path(env.get("HOME_EDITOR_MEDIA_DIR", "").strip() or cls.media_dir),
            execution_log=Path(log) if log else None,
            local_delay_seconds=read("LOCAL_DELAY_SECONDS", float, cls.local_delay_seconds, minimum=0),
        )


def load_env_files(directory: Path) -> None:
    """Load `.env` then `.env.local` from `directory` without overriding real environment variables."""
    from dotenv import load_dotenv

    for name in (".env.local", ".env"):  # first loaded wins, and real variables beat both
        path = directory / name
        if path.is_file():
            load_dotenv(path, override=False)


def settings_from_environment() -> Settings:
    """Settings from `os.environ`."""
    return Settings.from_env(os.environ)
