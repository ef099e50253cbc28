"""Every read and write of libraries, items and jobs. Each change is one transaction whose WHERE clause
re-checks the state it was decided on (compare-and-set), so two tabs, two workers or a restarted server
can never both claim a job or both settle it.

The store is one class made of two halves on a shared base (`store_base`: the engine, the write transaction,
the library lock, compare-and-set): `QueueTransitions`, what the runner does to jobs (claim, lease, progress,
settle, recover, clean up), and `ItemOperations`, a library's items and what its user asks of them (add,
queue, cancel, retry, delete, backgrounds, the mirror's records).
"""

from __future__ import annotations

from home_editor.database.item_operations import ItemOperations
from home_editor.database.queue_transitions import ClaimRequest, QueueTransitions

__all__ = ["ClaimRequest", "LibraryStore"]


class LibraryStore(QueueTransitions, ItemOperations):
    """Synchronous store on a SQLAlchemy engine; `AsyncLibraryStore` runs it off the event loop."""
