"""Settings from the environment (and `.env` / `.env.local`; real environment variables win)."""

from __future__ import annotations

import dataclasses
import math
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TypeVar

from home_editor.core.errors import ConfigError
from home_editor.storage.upload_spool import UploadLimits

T = TypeVar("T")
BLOB_TOKEN_PATTERN = re.compile(r"^vercel_blob_rw_([A-Za-z0-9]+)_([A-Za-z0-9]+)$")
DEFAULT_BLOB_API_URL = "https://vercel.com/api/blob"
DB_FILE_NAME = "home_editor.db"
ROLES = ("all", "web", "worker")


def data_dir_from(env: Mapping[str, str]) -> Path:
    """Where the app keeps what only the server may read (database, spool, and local files by default):
    `HOME_EDITOR_DATA_DIR`, else `$XDG_DATA_HOME/home_editor` (~/.local/share/home_editor). Never a folder
    the web server serves (Reflex serves `uploaded_files/` at /_upload/ and `assets/` at /), and outside
    the project, so SQLite's -wal/-shm writes never trigger the dev server's hot reload.
    """
    explicit = env.get("HOME_EDITOR_DATA_DIR", "").strip()
    if explicit:
        return Path(explicit).expanduser().absolute()
    xdg = env.get("XDG_DATA_HOME", "").strip()
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "home_editor"


def db_url_from(env: Mapping[str, str]) -> str:
    """`HOME_EDITOR_DB_URL`, else a SQLite file in the data folder. A plain `postgresql://` (or
    `postgres://`) URL is given the psycopg 3 driver the app ships with (SQLAlchemy's default is psycopg2),
    so Reflex's own use of the URL (its health check) works too."""
    url = env.get("HOME_EDITOR_DB_URL", "").strip() or f"sqlite:///{data_dir_from(env) / DB_FILE_NAME}"
    for plain in ("postgresql://", "postgres://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url.removeprefix(plain)
    return url


@dataclasses.dataclass(frozen=True)
class Settings:
    """Every tunable of the app; see README's configuration table."""

    poll_seconds: float = 2.0
    concurrency: int = 2
    max_upload_bytes: int = 25 * 2**20
    max_files_per_drop: int = 200
    max_drop_bytes: int = 1024 * 2**20
    max_uploads_in_flight: int = 2
    max_pixels: int = 50_000_000
    job_ttl_hours: float = 24.0
    max_attempts: int = 3
    retry_base_seconds: float = 2.0
    lease_seconds: float = 15.0
    renew_seconds: float | None = None  # how often a runner renews its jobs' leases (None: a third of the lease)
    cleanup_interval_seconds: float = 600.0
    data_dir: Path = dataclasses.field(default_factory=lambda: data_dir_from(os.environ))
    media_dir: Path = dataclasses.field(default_factory=lambda: data_dir_from(os.environ) / "media")
    execution_log: Path | None = None
    local_delay_seconds: float = 0.0
    hold_file: Path | None = None  # a test hook: local jobs wait at their end while this file exists
    wake_on_enqueue: bool = True
    trellis_url: str = ""
    trellis_key: str = dataclasses.field(default="", repr=False)
    blob_token: str = dataclasses.field(default="", repr=False)
    blob_api_url: str = DEFAULT_BLOB_API_URL
    blob_api_version: str = "12"
    trellis_timeout_seconds: float = 30.0
    trellis_cutout_deadline_minutes: float = 5.0
    trellis_model_deadline_minutes: float = 15.0
    cutout_method: str = "model"
    model_dir: Path = dataclasses.field(default_factory=lambda: default_model_dir())
    cutout_model_path: Path | None = None
    model_npm: tuple[str, ...] = ()
    role: str = "all"  # all: one process does everything; web: never claims jobs; worker: claims and runs them
    worker_slots: int = 0  # jobs one process runs at once, over all libraries (0: no cap beyond the per-library one)
    redis_url: str = dataclasses.field(default="", repr=False)  # pub/sub and shared budgets across processes
    problems: tuple[str, ...] = ()

    @property
    def claims_jobs(self) -> bool:
        """Whether this process claims and runs jobs (every role but `web`)."""
        return self.role != "web"

    @property
    def use_trellis(self) -> bool:
        """Whether background removal goes to the Trellis API."""
        return bool(self.trellis_url and self.trellis_key)

    @property
    def use_blob(self) -> bool:
        """Whether files go to Vercel Blob."""
        return bool(self.blob_token)

    @property
    def spool_dir(self) -> Path:
        """Private folder for uploads being taken in (never the system temp folder, never served)."""
        return self.data_dir / "spool"

    @property
    def upload_limits(self) -> UploadLimits:
        """The caps on a drop, enforced while its bytes arrive."""
        return UploadLimits(
            max_file_bytes=self.max_upload_bytes,
            max_files=self.max_files_per_drop,
            max_drop_bytes=self.max_drop_bytes,
            max_in_flight=self.max_uploads_in_flight,
        )

    @property
    def job_ttl_ms(self) -> int:
        """The job time to live in milliseconds."""
        return int(self.job_ttl_hours * 3_600_000)

    @property
    def lease_ms(self) -> int:
        """The lease length in milliseconds."""
        return int(self.lease_seconds * 1000)

    @property
    def renew_ms(self) -> int:
        """The lease renewal interval in milliseconds."""
        return int((self.renew_seconds or self.lease_seconds / 3) * 1000)

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
            if not math.isfinite(value):  # type: ignore[arg-type]
                raise ConfigError(f"HOME_EDITOR_{name}={raw!r} is not a finite number")
            if minimum is not None and float(value) < minimum:  # type: ignore[arg-type]
                raise ConfigError(f"HOME_EDITOR_{name} must be at least {minimum}")
            return value

        log = env.get("HOME_EDITOR_EXECUTION_LOG", "").strip()
        data_dir = data_dir_from(env)
        hold = env.get("HOME_EDITOR_TEST_HOLD_FILE", "").strip()
        remote = _remote_backends(env)
        lease = read("LEASE_SECONDS", float, cls.lease_seconds, minimum=1)
        poll = read("POLL_SECONDS", float, cls.poll_seconds, minimum=0.05)
        renew = read("RENEW_SECONDS", float, lease / 3, minimum=0.05)
        _check_lease_timing(lease=lease, poll=poll, renew=renew)
        cutout = _cutout_method(env)
        role = env.get("HOME_EDITOR_ROLE", "").strip().lower() or "all"
        if role not in ROLES:
            raise ConfigError(f"HOME_EDITOR_ROLE={role!r} must be one of {', '.join(ROLES)}")
        redis_url = (env.get("HOME_EDITOR_REDIS_URL") or env.get("REFLEX_REDIS_URL") or "").strip()
        return cls(
            role=role,
            worker_slots=read("WORKER_SLOTS", int, cls.worker_slots, minimum=0),
            redis_url=redis_url,
            poll_seconds=poll,
            concurrency=read("CONCURRENCY", int, cls.concurrency, minimum=1),
            max_upload_bytes=int(read("MAX_UPLOAD_MB", float, 25.0, minimum=0.001) * 2**20),
            max_files_per_drop=read("MAX_FILES_PER_DROP", int, cls.max_files_per_drop, minimum=1),
            max_drop_bytes=int(read("MAX_DROP_MB", float, 1024.0, minimum=0.001) * 2**20),
            max_uploads_in_flight=read("MAX_UPLOADS_IN_FLIGHT", int, cls.max_uploads_in_flight, minimum=1),
            max_pixels=int(read("MAX_MEGAPIXELS", float, 50.0, minimum=0.001) * 1_000_000),
            job_ttl_hours=read("JOB_TTL_HOURS", float, cls.job_ttl_hours, minimum=0),
            max_attempts=read("MAX_ATTEMPTS", int, cls.max_attempts, minimum=1),
            retry_base_seconds=read("RETRY_BASE_SECONDS", float, cls.retry_base_seconds, minimum=0),
            lease_seconds=lease,
            renew_seconds=renew,
            cleanup_interval_seconds=read("CLEANUP_SECONDS", float, cls.cleanup_interval_seconds, minimum=1),
            data_dir=data_dir,
            media_dir=Path(env.get("HOME_EDITOR_MEDIA_DIR", "").strip() or data_dir / "media"),
            execution_log=Path(log) if log else None,
            local_delay_seconds=read("LOCAL_DELAY_SECONDS", float, cls.local_delay_seconds, minimum=0),
            hold_file=Path(hold) if hold else None,
            trellis_timeout_seconds=read("TRELLIS_TIMEOUT_SECONDS", float, cls.trellis_timeout_seconds, minimum=0.1),
            trellis_cutout_deadline_minutes=read(
                "TRELLIS_CUTOUT_DEADLINE_MINUTES", float, cls.trellis_cutout_deadline_minutes, minimum=0.01
            ),
            trellis_model_deadline_minutes=read(
                "TRELLIS_MODEL_DEADLINE_MINUTES", float, cls.trellis_model_deadline_minutes, minimum=0.01
            ),
            wake_on_enqueue=env.get("HOME_EDITOR_WAKE_ON_ENQUEUE", "1").strip().lower() not in ("0", "false", "no"),
            **{**remote, **cutout, "problems": remote["problems"] + cutout["problems"]},
        )


def _check_lease_timing(*, lease: float, poll: float, renew: float) -> None:
    """A runner renews its leases on its ticks, so both the renewal interval and the poll interval must
    be well under the lease: at most a third of it each, which leaves a third of the lease for a slow
    tick (a busy database, a pause) before another runner may take a job over.

    Raises:
        ConfigError: Naming the variable to change and the largest value allowed.
    """
    limit = lease / 3
    for name, value in (("RENEW_SECONDS", renew), ("POLL_SECONDS", poll)):
        if value > limit:
            raise ConfigError(
                f"HOME_EDITOR_{name}={value:g} is too long for HOME_EDITOR_LEASE_SECONDS={lease:g}: it must be "
                f"at most a third of the lease ({limit:g} s), or a running job could be taken for abandoned "
                f"and run twice. Lower it or raise the lease."
            )


def _remote_backends(env: Mapping[str, str]) -> dict:
    """Trellis and Vercel Blob settings; a half or malformed configuration becomes a problem to report
    (and the local backend is used) rather than an error that stops the app. Secrets never appear in
    the problem texts."""
    problems = []
    url = env.get("TRELLIS_API_URL", "").strip().rstrip("/")
    key = env.get("TRELLIS_API_KEY", "").strip()
    if url and not re.match(r"^https?://[^\s/]+", url):
        problems.append("TRELLIS_API_URL is not an http(s) URL; using the local processor.")
        url = ""
    if url and not key:
        problems.append("TRELLIS_API_URL is set but TRELLIS_API_KEY is empty; using the local processor.")
    if key and not url:
        problems.append("TRELLIS_API_KEY is set but TRELLIS_API_URL is empty; using the local processor.")
    token = (env.get("BLOB_READ_WRITE_TOKEN") or env.get("VERCEL_BLOB_READ_WRITE_TOKEN") or "").strip()
    if token and not BLOB_TOKEN_PATTERN.match(token):
        problems.append(
            "BLOB_READ_WRITE_TOKEN does not look like vercel_blob_rw_<store id>_<secret>; using local files."
        )
        token = ""
    api_url = env.get("VERCEL_BLOB_API_URL", "").strip().rstrip("/") or DEFAULT_BLOB_API_URL
    return {
        "trellis_url": url if url and key else "",
        "trellis_key": key if url and key else "",
        "blob_token": token,
        "blob_api_url": api_url,
        "blob_api_version": env.get("VERCEL_BLOB_API_VERSION", "").strip() or "12",
        "problems": tuple(problems),
    }


def default_model_dir() -> Path:
    """The cutout model's cache: the user's cache folder (XDG), outside the project and any served folder."""
    base = os.environ.get("XDG_CACHE_HOME", "").strip() or str(Path.home() / ".cache")
    return Path(base) / "home_editor" / "models"


def _cutout_method(env: Mapping[str, str]) -> dict:
    """The cutout method (the learned model by default, or `classical`), where the model is cached, a
    user's own model file, and the npm command that fetches it. An unknown method is a problem to report."""
    problems = []
    method = env.get("HOME_EDITOR_CUTOUT_METHOD", "").strip().lower() or "model"
    if method not in ("model", "classical"):
        problems.append("HOME_EDITOR_CUTOUT_METHOD must be model or classical; using the model.")
        method = "model"
    model_dir = env.get("HOME_EDITOR_MODEL_DIR", "").strip()
    user_model = env.get("HOME_EDITOR_CUTOUT_MODEL_PATH", "").strip()
    npm = env.get("HOME_EDITOR_MODEL_NPM", "").strip()
    return {
        "cutout_method": method,
        "model_dir": Path(model_dir).expanduser() if model_dir else default_model_dir(),
        "cutout_model_path": Path(user_model).expanduser() if user_model else None,
        "model_npm": (npm,) if npm else (),
        "problems": tuple(problems),
    }


def load_env_files(directory: Path) -> None:
    """Load `.env.local`, then `.env`, from `directory` (first wins; real environment variables beat both)."""
    from dotenv import load_dotenv

    for name in (".env.local", ".env"):  # first loaded wins, and real variables beat both
        path = directory / name
        if path.is_file():
            load_dotenv(path, override=False)


def settings_from_environment() -> Settings:
    """Settings from `os.environ`."""
    return Settings.from_env(os.environ)
