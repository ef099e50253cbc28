"""What the page shows, computed from a store snapshot (plain data, no Reflex)."""

from __future__ import annotations

import dataclasses
import urllib.parse

from home_editor.core.backgrounds import CHOICES, TRANSPARENT, export_suffix, fill_rgb, kind_of
from home_editor.core.export_names import safe_stem
from home_editor.core.model_wait import WAITING, waits_for_model
from home_editor.core.models import ACTIVE_STATUSES, SETTLED_WITHOUT_RESULT, Item, Job, JobStatus, JobType, Snapshot
from home_editor.core.storage_keys import cutout_preview_name, is_relief

DEFAULT_COLOUR = CHOICES["colour"]


@dataclasses.dataclass(frozen=True)
class Card:
    """One item card: its cutout stage, its 3D stage, and links."""

    id: str = ""
    name: str = ""
    status: str = ""
    progress: int = 0
    message: str = ""
    error: str = ""
    note: str = ""
    image_url: str = ""
    original_url: str = ""
    cutout_url: str = ""
    cutout_download_url: str = ""
    has_cutout: bool = False
    can_retry: bool = False
    can_cancel: bool = False
    attempts: int = 0
    model_status: str = "none"
    model_progress: int = 0
    model_message: str = ""
    model_elapsed: str = ""
    model_error: str = ""
    model_url: str = ""
    model_download_url: str = ""
    model_is_relief: bool = False
    can_generate_model: bool = False
    can_cancel_model: bool = False
    can_retry_model: bool = False
    before_url: str = ""  # the photo as uploaded (its thumbnail), for the before/after toggle
    background_kind: str = "transparent"  # transparent, white, colour or shadow
    background_colour: str = DEFAULT_COLOUR
    background_fill: str = ""  # the frame's colour behind an opaque preview
    preview_path: str = ""  # the card preview on its background (backend path), "" when transparent
    export_path: str = ""  # the full cutout on its background, as a download (backend path)
    export_label: str = "PNG"


@dataclasses.dataclass(frozen=True)
class Stats:
    """The header's counts: items (photos, and how many have a cutout or a 3D model) apart from jobs
    (work queued, running or failed), so one photo with a cutout and a model reads as one photo."""

    photos: int = 0
    cutouts: int = 0
    models: int = 0
    queued: int = 0
    running: int = 0
    failed: int = 0


@dataclasses.dataclass(frozen=True)
class _Stage:
    """One job type's state on a card."""

    status: str
    progress: int
    message: str
    error: str
    elapsed: str


def _download(url: str) -> str:
    """The same file, asked for as a download (both storages understand `download=1`)."""
    return f"{url}{'&' if '?' in url else '?'}download=1" if url else ""


def _clock(milliseconds: int) -> str:
    seconds = max(milliseconds, 0) // 1000
    return f"{seconds // 60}:{seconds % 60:02d}"


def _stage(status: JobStatus | None, error: str, job: Job | None, now_ms: int) -> _Stage:
    running = job is not None and status is not None and job.status is status and job.is_active
    if not running or job is None:
        progress = 100 if status is JobStatus.COMPLETED else 0
        return _Stage(status.value if status else "none", progress, "", error, "")
    if waits_for_model(job):
        return _Stage(WAITING, 0, job.message, error or job.error, "")
    elapsed = _clock(now_ms - job.started_ms) if job.status is JobStatus.PROCESSING and job.started_ms else ""
    return _Stage(job.status.value, job.progress, job.message, error or job.error, elapsed)


def card_for(item: Item, cutout_job: Job | None, model_job: Job | None, *, now_ms: int) -> Card:
    """The card of one item, given its latest job of each type (if still kept)."""
    cutout = _stage(item.cutout_status, item.cutout_error, cutout_job, now_ms)
    model = _stage(item.model_status, item.model_error, model_job, now_ms)
    cutout_url = item.urls.get(item.cutout, "") if item.cutout else ""
    model_url = item.urls.get(item.model, "") if item.model else ""
    return Card(
        id=item.id,
        name=item.name,
        status=cutout.status,
        progress=cutout.progress,
        message=cutout.message,
        error=cutout.error,
        note=item.cutout_note,
        image_url=_card_image(item),
        original_url=item.urls.get(item.original, ""),
        cutout_url=cutout_url,
        cutout_download_url=_download(cutout_url),
        has_cutout=bool(item.cutout),
        can_retry=item.cutout_status in SETTLED_WITHOUT_RESULT,
        can_cancel=item.cutout_status in ACTIVE_STATUSES,
        attempts=cutout_job.attempts if cutout_job else 0,
        model_status=model.status,
        model_progress=model.progress,
        model_message=model.message,
        model_elapsed=model.elapsed,
        model_error=model.error,
        model_url=model_url,
        model_download_url=_download(model_url),
        model_is_relief=is_relief(item.model),
        can_generate_model=bool(item.cutout) and not item.model and item.model_status is None,
        can_cancel_model=item.model_status in ACTIVE_STATUSES,
        can_retry_model=bool(item.cutout) and item.model_status in SETTLED_WITHOUT_RESULT,
        before_url=item.urls.get(item.thumb, ""),
        **_background_fields(item, cutout_url),
    )


def cards_for(snapshot: Snapshot, *, now_ms: int) -> list[Card]:
    """Cards for every live item, newest first."""
    latest: dict[tuple[str, JobType], Job] = {}
    for job in sorted(snapshot.jobs, key=lambda job: job.created_ms):
        latest[(job.item_id, job.type)] = job
    return [
        card_for(item, latest.get((item.id, JobType.REMBG)), latest.get((item.id, JobType.GLB)), now_ms=now_ms)
        for item in snapshot.items
    ]


def stats_for(snapshot: Snapshot) -> Stats:
    """Items by what they have, and jobs (both types) by status; settled jobs other than failed ones are
    not counted (a finished job is seen as its item's cutout or model), and a job waiting for the cutout
    model counts as queued."""
    live_items = {item.id for item in snapshot.items}
    counts = dict.fromkeys(JobStatus, 0)
    for job in snapshot.jobs:
        if job.item_id in live_items:
            counts[JobStatus.PENDING if waits_for_model(job) else job.status] += 1
    return Stats(
        photos=len(snapshot.items),
        cutouts=sum(1 for item in snapshot.items if item.cutout),
        models=sum(1 for item in snapshot.items if item.model),
        queued=counts[JobStatus.PENDING],
        running=counts[JobStatus.PROCESSING],
        failed=counts[JobStatus.FAILED],
    )


def _background_fields(item: Item, cutout_url: str) -> dict[str, str]:
    """How the card shows and exports the item's background choice. Composed images come from the
    backend's /export/image route, named by the cutout's storage key (the last three parts of its URL,
    whatever the storage), so both the preview and the download are made from the stored files."""
    kind, background = kind_of(item.background), item.background
    fields = {"background_kind": kind, "export_label": export_suffix(background).replace("jpg", "jpeg").upper()}
    if kind == "colour":
        fields["background_colour"] = background
    if background == TRANSPARENT or not cutout_url:
        return fields
    key = "/".join(urllib.parse.urlsplit(cutout_url).path.split("/")[-3:])
    preview = cutout_preview_name(key) if cutout_preview_name(item.cutout) in item.urls else key
    choice = urllib.parse.quote(background)
    fill = fill_rgb(background) or (255, 255, 255)
    return fields | {
        "background_fill": "#{:02x}{:02x}{:02x}".format(*fill),
        "preview_path": f"/export/image/{preview}?background={choice}",
        "export_path": f"/export/image/{key}?background={choice}&name={urllib.parse.quote(safe_stem(item.name))}"
        "&download=1",
    }


def _card_image(item: Item) -> str:
    """The cutout's preview once there is one (a cutout from before previews: the cutout), else the thumbnail."""
    if item.cutout:
        return item.urls.get(cutout_preview_name(item.cutout)) or item.urls.get(item.cutout, "")
    return item.urls.get(item.thumb, "")
