"""Metric 11: the ZIP download. A library of N items with 12 MP cutouts (default 200) is exported
through the real route (POST /export/zip, local files, SQLite) served by uvicorn in a process of its
own; prints the throughput (MB/s of archive received) and that process's resident memory before the
export and at its peak (VmHWM), i.e. how much the export raised it. A second, smaller run puts the
cutouts on white (composed by Pillow on the server) for the same figures.

python -m bench.zip_bench                # 200 × 12 MP
python -m bench.zip_bench --items 20     # a quick look

The stored cutouts are hard links to one generated 12 MP cutout PNG (so the bench needs ~15 MB of
disk, not 3 GB); the server still opens, reads and checksums every entry separately.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np
from PIL import Image

from bench.images import product_photo
from home_editor.core.models import Item, JobStatus, new_id, new_library_id
from home_editor.core.storage_keys import file_key
from home_editor.database.library_store import LibraryStore
from home_editor.database.schema import create_engine

ROOT = Path(__file__).parents[1]


def cutout_png(width: int = 4000, height: int = 3000) -> bytes:
    """A 12 MP cutout like the model's: the photo with an elliptical outline, cleared outside."""
    photo = np.asarray(Image.open(io.BytesIO(product_photo(width, height))).convert("RGB"))
    yy, xx = np.mgrid[0:height, 0:width]
    inside = ((xx - width / 2) / (width * 0.22)) ** 2 + ((yy - height * 0.55) / (height * 0.33)) ** 2 < 1
    rgba = np.dstack([photo * inside[..., None], inside * 255]).astype(np.uint8)
    buffer = io.BytesIO()
    Image.fromarray(rgba, "RGBA").save(buffer, "PNG")
    return buffer.getvalue()


def seed_library(folder: Path, count: int, cutout: bytes, background: str) -> tuple[str, str]:
    """A database and media folder holding one library of `count` items with that cutout."""
    db_url = f"sqlite:///{folder / 'app.db'}"
    store, library = LibraryStore(create_engine(db_url)), new_library_id()
    store.ensure_library(library, 1)
    source = folder / "cutout.png"
    source.write_bytes(cutout)
    for number in range(count):
        item = Item(id=new_id(), name=f"photo {number % 50}.jpg", created_ms=number, updated_ms=number,
                    cutout=f"cutout-{new_id()}.png", cutout_status=JobStatus.COMPLETED,
                    background=background)  # fmt: skip
        store.add_item(library, item, None)
        target = folder / "media" / file_key(library, item.id, item.cutout)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.link(source, target)
    return db_url, library


def _status_mib(pid: int, field: str) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise KeyError(field)


def export_run(count: int, cutout: bytes, *, background: str = "") -> dict[str, float]:
    """Export one library through a fresh server process; throughput and memory figures."""
    with tempfile.TemporaryDirectory() as work:
        folder = Path(work)
        db_url, library = seed_library(folder, count, cutout, background)
        with socket_port() as port:
            server = subprocess.Popen(
                [sys.executable, "-m", "bench.zip_bench", "--serve", db_url, str(folder / "media"), str(port)],
                cwd=ROOT,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
        try:
            url = f"http://127.0.0.1:{port}"
            _wait_until_up(url)
            httpx.post(f"{url}/export/zip", data={"library": new_library_id(), "scope": "all"})  # warm the route
            before = _status_mib(server.pid, "VmRSS")
            received, started = 0, time.perf_counter()
            form = {"library": library, "scope": "all"}
            with httpx.stream("POST", f"{url}/export/zip", data=form, timeout=600) as response:
                response.raise_for_status()
                for chunk in response.iter_bytes():
                    received += len(chunk)
            seconds = time.perf_counter() - started
            peak = _status_mib(server.pid, "VmHWM")
        finally:
            server.terminate()
            server.wait(10)
    return {"items": count, "archive_mb": received / 1e6, "seconds": seconds, "mb_per_s": received / 1e6 / seconds,
            "rss_before_mib": before, "rss_peak_mib": peak, "rss_rise_mib": peak - before}  # fmt: skip


class socket_port:
    """A free local port (closed again before the server binds it)."""

    def __enter__(self) -> int:
        import socket

        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            return sock.getsockname()[1]

    def __exit__(self, *_: object) -> None:
        return None


def _wait_until_up(url: str) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            httpx.get(f"{url}/export/image/x", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError("the export server did not start")


def serve(db_url: str, media: str, port: int) -> None:
    """The export routes on the app's real service, store and local storage."""
    import uvicorn
    from starlette.applications import Starlette

    from home_editor.database.async_store import AsyncLibraryStore
    from home_editor.export.export_service import ExportService
    from home_editor.export.routes import export_routes
    from home_editor.storage.local_files import LocalFileStorage

    service = ExportService(AsyncLibraryStore(LibraryStore(create_engine(db_url))),
                            LocalFileStorage(Path(media), base_url="http://bench/media"))  # fmt: skip
    app = Starlette(routes=export_routes(lambda: service))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def zip_figures(*, items: int = 200, composed_items: int = 20) -> dict[str, dict[str, float]]:
    """Both runs: stored PNGs (the big export) and cutouts put on white on the fly."""
    cutout = cutout_png()
    print(f"  cutout PNG: {len(cutout) / 1e6:.1f} MB, 12 MP", flush=True)
    stored = export_run(items, cutout)
    print(f"  {_line(stored)}", flush=True)
    composed = export_run(composed_items, cutout, background="white")
    print(f"  on white: {_line(composed)}", flush=True)
    return {"stored": stored, "composed": composed}


def _line(run: dict[str, float]) -> str:
    return (f"{run['items']} items, {run['archive_mb']:.0f} MB in {run['seconds']:.1f} s = {run['mb_per_s']:.0f} MB/s;"
            f" server RSS {run['rss_before_mib']:.0f} → peak {run['rss_peak_mib']:.0f} MiB"
            f" (+{run['rss_rise_mib']:.0f} MiB)")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--items", type=int, default=200, help="items in the big export (12 MP cutouts)")
    parser.add_argument("--composed-items", type=int, default=20, help="items in the run on white")
    parser.add_argument("--serve", nargs=3, metavar=("DB_URL", "MEDIA", "PORT"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve[0], args.serve[1], int(args.serve[2]))
        return
    zip_figures(items=args.items, composed_items=args.composed_items)


if __name__ == "__main__":
    main()
