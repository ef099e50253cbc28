"""What each job type does, behind the one `JobExecutor`: `rembg` removes the background of the original
(or reuses a twin's finished cutout), `glb` makes a 3D model from the cutout; both store their result
under a new name and report it as an `Outcome`.
"""

from __future__ import annotations

from home_editor.core.errors import BadInputError
from home_editor.core.models import Item, Job, JobType
from home_editor.core.storage_keys import cutout_preview_name, file_key, new_cutout_name, new_model_name
from home_editor.database.async_store import AsyncLibraryStore
from home_editor.jobs.executor import Claim, Outcome
from home_editor.processing.base import Cutout, Processor
from home_editor.processing.pools import run_job_work
from home_editor.processing.previews import MODEL_INPUT_SIDE, PREVIEW_SIDE, make_preview, no_larger_than
from home_editor.storage.base import Storage


class CutoutAndModelExecutor:
    """The app's `JobExecutor`: runs both job types (cutout, 3D model) against the injected store, storage
    and processor."""

    def __init__(self, store: AsyncLibraryStore, storage: Storage, processor: Processor) -> None:
        self._store = store
        self._storage = storage
        self._processor = processor

    async def run(self, library_id: str, job: Job, claim: Claim) -> Outcome:
        """Do the job's work and store its result.

        Raises:
            BadInputError: The item is gone or lacks the job's input (never retried).
        """
        item = await self._store.item(library_id, job.item_id)
        if item is None or not item.original:
            raise BadInputError("The item no longer exists.")
        if job.type is JobType.GLB:
            return await self._model(library_id, item, claim)
        return await self._cutout(library_id, item, claim)

    async def cancel_remote(self, job: Job) -> None:
        """Cancel and delete the provider's record of the job (best effort): when the user cancels it or
        deletes its item, when its result is recorded, when it failed for good or is retried afresh."""
        if job.remote_id:
            await self._processor.cancel_remote(job.remote_id)

    async def discard(self, keys: list[str]) -> None:
        """Remove files of a result that will not be recorded (the job was cancelled meanwhile)."""
        try:
            await self._storage.delete(keys)
        except Exception:  # best effort: an orphan file is harmless
            return

    async def _cutout(self, library_id: str, item: Item, claim: Claim) -> Outcome:
        cutout = await self._reuse_twin(library_id, item)
        if cutout is None:
            original = file_key(library_id, item.id, item.original)

            async def load_original() -> bytes:
                return await self._storage.get(original)

            context = claim.context(load_original, image_path=self._storage.local_path(original))
            cutout = await self._processor.remove_background(context)
        name = new_cutout_name()
        preview = cutout.preview or await run_job_work(make_preview, cutout.png, PREVIEW_SIDE)
        return await self._keep(
            library_id,
            item,
            [(name, cutout.png, "image/png"), (cutout_preview_name(name), preview, "image/webp")],
            cutout.note,
        )

    async def _model(self, library_id: str, item: Item, claim: Claim) -> Outcome:
        if not item.cutout:
            raise BadInputError("The 3D model is made from the cutout: remove the background first.")

        async def load_cutout() -> bytes:
            png = await self._storage.get(file_key(library_id, item.id, item.cutout))
            return await run_job_work(no_larger_than, png, MODEL_INPUT_SIDE)

        model = await self._processor.generate_model(claim.context(load_cutout))
        name = new_model_name(relief=model.relief)
        return await self._keep(library_id, item, [(name, model.glb, "model/gltf-binary")], model.note)

    async def _keep(self, library_id: str, item: Item, files: list[tuple[str, bytes, str]], note: str) -> Outcome:
        """Store a result's files (name, bytes, content type; the first is the result) or none of them."""
        keys = [file_key(library_id, item.id, name) for name, _, _ in files]
        urls = {}
        try:
            for key, (name, data, content_type) in zip(keys, files, strict=True):
                urls[name] = await self._storage.put(key, data, content_type=content_type)
        except BaseException:
            await self.discard(keys)
            raise
        name = files[0][0]
        more = {other: url for other, url in urls.items() if other != name}
        return Outcome(name=name, url=urls[name], note=note, keys=keys, more_urls=more)

    async def _reuse_twin(self, library_id: str, item: Item) -> Cutout | None:
        """The same photo was dropped before and its cutout is done: copy it instead of processing."""
        twin = await self._store.finished_twin(library_id, item.id)
        if twin is None:
            return None
        png = await self._storage.get(file_key(library_id, twin.id, twin.cutout))
        return Cutout(png=png, note=twin.cutout_note or f"Same photo as “{twin.name}”: its cutout was reused.")
