"""Helpers and fixtures of the vendor client tests; test modules import them.

Not a conftest.py: conftest modules outside a package are all named ``conftest``, and
another folder's would shadow the suite's root conftest for ``from conftest import``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import pytest
import respx

from intcfg.providers import http

T = TypeVar("T")
# No waiting between retries in unit tests.
FAST = http.RetryPolicy(base_delay=0.0, max_attempts=3)


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def failure(result: Any) -> str:
    """The result's message, then each failed part: "Connection failed (token): token: ..."."""
    return "; ".join(
        [result.message, *(f"{p.name}: {p.message}" for p in result.parts if not p.ok)]
    )


def factory(base_url: str) -> Any:
    return http.build_client(base_url, policy=FAST)


@pytest.fixture(autouse=True, name="mocked")
def mocked_fixture() -> Iterator[respx.MockRouter]:
    """Every HTTP request must be mocked: an unmocked one fails the test."""
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        yield router
