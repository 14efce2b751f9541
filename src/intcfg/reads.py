"""Listing the live systems: one list job per district and kind, a bounded number in
flight. The plan reads in process with these, and so does the read-ahead child
(prefetch.py), which imports no more than this to start its first request sooner."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, TypeVar

from . import log
from .desired import Address

T = TypeVar("T")

# List requests in flight while reading the live systems: apply's --parallelism default.
# The providers' pool of connections holds them to it (connect.open_providers).
READS_IN_FLIGHT = 8
# List jobs under way at once: more than the requests in flight, so that when an answer
# frees a connection, another job's request is built and waiting for it.
JOBS_UNDER_WAY = 2 * READS_IN_FLIGHT


def list_jobs(
    providers: Mapping[str, Any],
    districts: Iterable[str],
    under_way: int | asyncio.Semaphore,
    done: Callable[[], None] = log.advance,
) -> list[tuple[str, Awaitable[Any]]]:
    """One list job per district and kind of every provider, at most ``under_way`` at once
    (or as a shared semaphore allows); ``done`` is called as each job ends (the progress
    bar's step)."""
    gate = under_way if isinstance(under_way, asyncio.Semaphore) else asyncio.Semaphore(max(1, under_way))

    async def listed(provider: Any, district: str, kind: str) -> Any:
        async with gate:
            objects = await provider.list(district, kind)
        done()
        return objects

    wanted = list(districts)
    return [
        (district, listed(provider, district, kind))
        for provider in providers.values()
        for district in wanted
        for kind in provider.kinds
    ]


def by_address(answers: Iterable[Any]) -> dict[Address, Any]:
    return {Address(o.system, o.district, o.kind, o.name, o.site): o for objects in answers for o in objects}


async def read_live(
    providers: Mapping[str, Any], districts: Iterable[str], under_way: int = JOBS_UNDER_WAY
) -> dict[Address, Any]:
    """Every live object of the districts, from every provider, listed page by page, with
    at most ``under_way`` list jobs at once (the providers bound their requests in flight)."""
    jobs = list_jobs(providers, districts, under_way)
    log.expect(len(jobs), "Reading the live systems")
    return by_address(await all_or_none(job for _, job in jobs))


async def all_or_none(jobs: Iterable[Awaitable[T]]) -> list[T]:
    """Every job's result; on the first failure the others are cancelled and awaited
    before it is raised, so no request is left running (or never awaited) behind it."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        return await asyncio.gather(*tasks)
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
