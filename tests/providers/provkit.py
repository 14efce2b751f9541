"""Helpers and fixtures of the provider tests; test modules import them.

Not a conftest.py: conftest modules outside a package are all named ``conftest``, and
another folder's would shadow the suite's root conftest for ``from conftest import``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import respx

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture(autouse=True, name="mocked")
def mocked_fixture() -> Iterator[respx.MockRouter]:
    """Every HTTP request must be mocked: an unmocked one fails the test."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router
