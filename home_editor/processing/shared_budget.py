"""The Trellis key's status budget and its 429 pauses, shared in Redis by every process using the key
(web and job workers on any machine), so N processes together stay inside the provider's 30 calls per
minute, and a 429 seen by one makes all of them wait. Redis's own clock is the only clock used, so the
processes' clocks need not agree. The key is named by a hash, never in clear text.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable

import redis.asyncio as redis

# Token bucket (tokens and the time they were counted, in a hash) plus a pause key whose time to live is
# the pause: returns 0 when a call may go now, else the milliseconds to wait before asking again.
_TAKE = """
local now_parts = redis.call('TIME')
local now = tonumber(now_parts[1]) * 1000 + math.floor(tonumber(now_parts[2]) / 1000)
local rate, capacity = tonumber(ARGV[1]), tonumber(ARGV[2])
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
local state = redis.call('HMGET', KEYS[1], 'tokens', 'stamp')
local tokens = tonumber(state[1]) or capacity
local stamp = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - stamp) * rate)
local wait = 0
if tokens >= 1 then tokens = tokens - 1 else wait = math.ceil((1 - tokens) / rate) end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'stamp', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 60000)
return wait
"""

# Pause every caller of the key for ARGV[1] ms, unless a longer pause is already running.
_HOLD = """
local want = tonumber(ARGV[1])
if redis.call('PTTL', KEYS[1]) < want then redis.call('SET', KEYS[1], '1', 'PX', want) end
return 1
"""


def key_name(api_key: str) -> str:
    """The Redis name for an API key's budget: a hash of the key, never the key."""
    return "home_editor:trellis:" + hashlib.blake2b(api_key.encode(), digest_size=12, person=b"he-budget").hexdigest()


class RedisRateLimiter:
    """At most `per_minute` calls per minute on average over all processes, bursts of up to `burst`;
    no call goes while the key is paused after a 429 (see RedisPause)."""

    def __init__(
        self,
        client: redis.Redis,
        name: str,
        *,
        per_minute: float,
        burst: int = 4,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._keys = [f"{name}:budget", f"{name}:pause"]
        self._rate_per_ms = per_minute / 60_000
        self._burst = burst
        self._take = client.register_script(_TAKE)
        self._sleep = sleep

    async def try_take(self) -> float:
        """Take a call's token if one is free now and return 0; else the seconds to wait before trying again."""
        return int(await self._take(keys=self._keys, args=[self._rate_per_ms, self._burst])) / 1000

    async def acquire(self) -> None:
        """Wait until a call is allowed."""
        while wait := await self.try_take():
            await self._sleep(wait)


class RedisPause:
    """A 429 pause shared by every process using one key: `hold` starts one, `remaining` says how long
    the current one still lasts (the client waits that long before any call)."""

    def __init__(self, client: redis.Redis, name: str) -> None:
        self._client = client
        self._key = f"{name}:pause"
        self._hold = client.register_script(_HOLD)

    async def hold(self, seconds: float) -> None:
        """Pause every process's calls for `seconds` (a longer pause already running is kept)."""
        if seconds > 0:
            await self._hold(keys=[self._key], args=[max(1, int(seconds * 1000))])

    async def remaining(self) -> float:
        """Seconds the current pause still lasts (0 when there is none)."""
        return max(0, int(await self._client.pttl(self._key))) / 1000
