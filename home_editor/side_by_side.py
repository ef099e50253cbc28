"""Running steps side by side, all or nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any


async def all_or_raise(*steps: Awaitable[Any]) -> list[Any]:
    """Run steps side by side and wait for every one of them (a failed step never leaves another running
    behind the caller's clean-up); then raise the first failure in the given order, if any."""
    outcomes = await asyncio.gather(*steps, return_exceptions=True)
    for outcome in outcomes:
        if isinstance(outcome, BaseException):
            raise outcome
    return outcomes
