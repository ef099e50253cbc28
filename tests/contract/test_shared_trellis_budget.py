"""The Trellis key's status budget and its 429 pauses live in a real Redis, so every process using the
key shares them: the state is in Redis only, so two limiters (and two clients) on separate Redis
connections stand for two processes. Redis holds the key's hash, never the key."""

from __future__ import annotations

import asyncio

import httpx
import redis.asyncio as redis

from home_editor.processing.shared_budget import RedisPause, RedisRateLimiter, key_name
from home_editor.processing.trellis_client import TrellisClient
from tests.stubs.server import Fault
from tests.stubs.trellis_stub import TrellisStub

KEY = "test-trellis-key"
JOB = "11111111-1111-1111-1111-111111111111"


class RecordedSleeps(list):
    """An injected `sleep` that records each wait, then waits it for real (`real=False`: only records)."""

    def __init__(self, *, real: bool = True) -> None:
        super().__init__()
        self._real = real

    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        if self._real:
            await asyncio.sleep(seconds)


async def test_processes_using_one_key_share_one_status_budget(clean_redis: str) -> None:
    first, second = redis.Redis.from_url(clean_redis), redis.Redis.from_url(clean_redis)
    first_sleeps, second_sleeps, other_sleeps = RecordedSleeps(), RecordedSleeps(), RecordedSleeps()
    rate = {"per_minute": 600, "burst": 4}  # 10 calls a second after a burst of 4
    mine = RedisRateLimiter(first, key_name(KEY), sleep=first_sleeps, **rate)
    theirs = RedisRateLimiter(second, key_name(KEY), sleep=second_sleeps, **rate)
    other_key = RedisRateLimiter(second, key_name("another-key"), sleep=other_sleeps, **rate)
    for _ in range(4):
        await mine.acquire()  # the whole burst, in one process
    await theirs.acquire()  # the other process must wait for the next token
    await other_key.acquire()  # another key has a budget of its own
    assert first_sleeps == [] and other_sleeps == []
    assert second_sleeps and all(0 < wait <= 0.1 for wait in second_sleeps)
    assert not any(KEY in name.decode() for name in await first.keys("*"))
    await first.aclose()
    await second.aclose()


async def test_a_429_seen_by_one_process_pauses_the_others(clean_redis: str) -> None:
    trellis = TrellisStub(step_seconds=0.05).start()
    first, second = redis.Redis.from_url(clean_redis), redis.Redis.from_url(clean_redis)
    try:
        trellis.inject(Fault("GET", r"/api/v1/jobs/.*", status=429, retry_after="5", times=1))
        trellis.queue_seconds = 600
        async with httpx.AsyncClient() as http:
            told, paused = RecordedSleeps(real=False), RecordedSleeps(real=False)
            mine = TrellisClient(
                http, base_url=trellis.url, key=KEY, sleep=told, shared_pause=RedisPause(first, key_name(KEY))
            )
            theirs = TrellisClient(
                http, base_url=trellis.url, key=KEY, sleep=paused, shared_pause=RedisPause(second, key_name(KEY))
            )
            job_id = await mine.submit_rembg(b"\x89PNG", "photo")
            await mine.status(job_id)  # answered 429 (Retry-After: 5), waited out, then answered
            assert told[0] == 5
            calls_before = len(trellis.status_calls())
            await theirs.status(job_id)  # never told to slow down itself, it still waits out the pause
            [wait] = paused
            assert 4 < wait <= 5 and len(trellis.status_calls()) == calls_before + 1
            budget = RedisRateLimiter(second, key_name(KEY), per_minute=30)
            assert 4 < await budget.try_take() <= 5  # the status budget waits the pause out too
    finally:
        trellis.stop()
        await first.aclose()
        await second.aclose()
