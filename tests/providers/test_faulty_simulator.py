"""Providers against the in-process simulator with injected faults: timeouts, 5xx and 429
are retried within bounds, and the true answer comes back."""

from __future__ import annotations

import httpx
from provkit import (
    mocked_fixture,  # noqa: F401 - fixtures
    run,
)

from intcfg.providers import http
from intcfg.providers.registry import PROVIDERS
from intcfg.secrets import Secret
from intcfg.sim import DEV_TOKEN
from intcfg.sim.app import create_app
from intcfg.sim.faults import Faults


def test_timeouts_and_errors_are_retried_until_the_true_answer() -> None:
    app = create_app(
        faults=Faults(
            error_rate=0.2,
            rate_limit_rate=0.1,
            timeout_rate=0.2,
            timeout_s=30.0,
            retry_after=0,
            seed=3,
        )
    )
    transport = httpx.ASGITransport(app)
    policy = http.RetryPolicy(base_delay=0.0, attempt_timeout=0.2, max_attempts=10)
    client = http.build_client(
        "http://sim.invalid", token=Secret(DEV_TOKEN), transport=transport, policy=policy
    )
    sis = PROVIDERS["sis"](client)

    async def go() -> list[object]:
        async with client:
            return [await sis.status() for _ in range(15)]

    answers = run(go())
    assert all(
        a == {"system": "sis", "api": "admin/v1", "kinds": ["ETranscriptVendor"], "districts": []}
        for a in answers
    )
    stats = app.state.faults.stats()
    assert stats["injected"]["timeout"] > 0 and stats["injected"]["error"] > 0
    assert stats["requests"] - sum(stats["injected"].values()) == 15
    app.state.store.close()
