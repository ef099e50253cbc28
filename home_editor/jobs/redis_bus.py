"""Redis pub/sub between the app's processes: a change made anywhere (a job finished in a worker process)
wakes the open tabs of every web process at once, and new work wakes the job workers without waiting for
their poll. Without Redis (one process) neither is needed and nothing here runs; the poll stays as the
safety net either way, so a lost message or a Redis restart only delays an update to the next poll.

Messages carry no library id (a library's id is its key): a change names its library by `change_key`,
new work names nothing (a worker looks for libraries with work in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Callable

import redis.asyncio as redis

from home_editor.jobs.changes import ChangeHub

logger = logging.getLogger(__name__)

CHANGES = "home_editor:changes"
WORK = "home_editor:work"
RECONNECT_SECONDS = 1.0


class RedisBus:
    """One per process: publishes this process's changes and work notices, and hears the others'."""

    def __init__(self, url: str, hub: ChangeHub, *, on_work: Callable[[], None] | None = None) -> None:
        """Args:
        url: The Redis URL (`redis://host:port/db`).
        hub: This process's change hub: its changes are published, and changes heard are put into it.
        on_work: Called when another process queued work (job workers look at the queue then).
        """
        self._client = redis.Redis.from_url(url)
        self._hub = hub
        self._on_work = on_work
        self._sender = secrets.token_hex(6)  # a process ignores its own messages (its hub already knows)
        self._outbox: asyncio.Queue[tuple[str, str]] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.listening = asyncio.Event()  # set once subscribed (tests wait on it instead of sleeping)
        hub.set_publisher(self.publish_change)

    @property
    def client(self) -> redis.Redis:
        """The shared connection pool (the Trellis budget uses it too)."""
        return self._client

    def publish_change(self, key: str) -> None:
        """Send a library's change key to the other processes (returns at once; sent in order)."""
        self._send(CHANGES, key)

    def announce_work(self) -> None:
        """Tell the job workers that work was queued (returns at once)."""
        self._send(WORK, "")

    def _send(self, channel: str, body: str) -> None:
        self.start()
        assert self._outbox is not None
        self._outbox.put_nowait((channel, f"{self._sender} {body}"))

    def start(self) -> None:
        """Start publishing and listening (idempotent; needs a running event loop)."""
        if self._tasks:
            return
        self._outbox = asyncio.Queue()
        self._tasks = [
            asyncio.create_task(self._publish_forever(), name="home-editor-redis-publish"),
            asyncio.create_task(self._listen_forever(), name="home-editor-redis-listen"),
        ]

    async def close(self) -> None:
        """Stop both tasks and close the connections."""
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        await self._client.aclose()

    async def _publish_forever(self) -> None:
        assert self._outbox is not None
        while True:
            channel, message = await self._outbox.get()
            try:
                await self._client.publish(channel, message)
            except (redis.RedisError, OSError) as error:  # the poll is the safety net: log, drop, go on
                logger.warning("Could not publish a change notice to Redis: %s", type(error).__name__)

    async def _listen_forever(self) -> None:
        while True:
            try:
                await self._listen()
            except asyncio.CancelledError:
                raise
            except (redis.RedisError, OSError) as error:
                self.listening.clear()
                logger.warning("Lost the Redis subscription (%s); subscribing again", type(error).__name__)
                await asyncio.sleep(RECONNECT_SECONDS)

    async def _listen(self) -> None:
        async with self._client.pubsub() as pubsub:
            await pubsub.subscribe(CHANGES, WORK)
            confirmed = 0
            async for message in pubsub.listen():
                if message["type"] == "subscribe":
                    confirmed += 1
                    if confirmed == 2:  # both subscriptions are active on the server
                        self.listening.set()
                elif message["type"] == "message":
                    self._heard(message)

    def _heard(self, message: dict) -> None:
        with contextlib.suppress(ValueError, AttributeError):
            channel = message["channel"].decode()
            sender, _, body = message["data"].decode().partition(" ")
            if sender == self._sender:
                return
            if channel == CHANGES:
                self._hub.notify_key(body)
            elif channel == WORK and self._on_work is not None:
                self._on_work()
