"""Provider tests: every HTTP request must be mocked (respx), or the test fails."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import respx

T = TypeVar("T")


@pytest.fixture(autouse=True)
def mocked() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)
