"""Fault injection and request counters: an ASGI middleware around the whole simulator.

Every request outside ``/_sim/`` may be delayed (latency: its answer leaves no sooner than
that long after it arrived, the simulator's own work included, as a system that answers
in that time), answered with an injected
500/502/503, a 429 with Retry-After, held until the client gives up (timeout), or
dropped (the connection closes after the response's headers, before its body), at the
configured rates. An injected fault happens before the request reaches its route,
so the simulated system never half-applies a faulted request. With a seed the sequence
of faults is reproducible. ``/_sim/stats`` reports every response by route and status.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any

import anyio
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CONTROL_PREFIX = "/_sim/"
ERROR_STATUSES = (500, 502, 503)


@dataclass
class Faults:
    latency_ms: int = 0
    error_rate: float = 0.0
    rate_limit_rate: float = 0.0
    timeout_rate: float = 0.0
    timeout_s: float = 30.0
    retry_after: int = 1
    seed: int | None = None
    drop_rate: float = 0.0

    def validate(self) -> None:
        rates = (self.error_rate, self.rate_limit_rate, self.timeout_rate, self.drop_rate)
        if any(not 0.0 <= r <= 1.0 for r in rates) or sum(rates) > 1.0:
            raise ValueError(
                "error, rate-limit, timeout and drop rates are between 0 and 1, and add up to at most 1"
            )
        if self.latency_ms < 0 or self.timeout_s < 0 or self.retry_after < 0:
            raise ValueError("latency, timeout and Retry-After are not negative")

    def as_json(self) -> dict[str, Any]:
        return {name: getattr(self, attr) for name, (attr, _) in JSON_NAMES.items()}

    def updated(self, body: dict[str, Any]) -> Faults:
        """A copy with the JSON settings in ``body`` applied; ValueError when one is wrong."""
        changes: dict[str, Any] = {}
        for key, value in body.items():
            if key not in JSON_NAMES:
                raise ValueError(f"unknown fault setting {key!r} (known: {', '.join(JSON_NAMES)})")
            attr, kind = JSON_NAMES[key]
            if value is None and attr == "seed":
                changes[attr] = None
                continue
            if (
                isinstance(value, bool)
                or not isinstance(value, (int, float))
                or (kind is int and value != int(value))
            ):
                raise ValueError(f"{key} must be a{'n integer' if kind is int else ' number'}")
            changes[attr] = kind(value)
        new = replace(self, **changes)
        new.validate()
        return new


JSON_NAMES: dict[str, tuple[str, type]] = {
    "latencyMs": ("latency_ms", int),
    "errorRate": ("error_rate", float),
    "rateLimitRate": ("rate_limit_rate", float),
    "timeoutRate": ("timeout_rate", float),
    "timeoutSeconds": ("timeout_s", float),
    "retryAfter": ("retry_after", int),
    "seed": ("seed", int),
    "dropRate": ("drop_rate", float),
}


class FaultState:
    """The current fault settings, their random sequence, and the counters."""

    def __init__(self, faults: Faults) -> None:
        self._lock = threading.Lock()
        self.counts: Counter[tuple[str, str, str]] = Counter()
        self.paths: Counter[tuple[str, str, str]] = Counter()
        self.injected: Counter[str] = Counter()
        self.configure(faults)

    def configure(self, faults: Faults) -> None:
        faults.validate()
        with self._lock:
            self.faults = faults
            self.rng = random.Random(faults.seed)

    def draw(self) -> tuple[str | None, int]:
        f = self.faults
        with self._lock:
            r = self.rng.random()
            status = ERROR_STATUSES[self.rng.randrange(len(ERROR_STATUSES))]
        if r < f.error_rate:
            return "error", status
        if r < f.error_rate + f.rate_limit_rate:
            return "rateLimit", 429
        if r < f.error_rate + f.rate_limit_rate + f.timeout_rate:
            return "timeout", 504
        if r < f.error_rate + f.rate_limit_rate + f.timeout_rate + f.drop_rate:
            return "drop", 200
        return None, 0

    def record(self, method: str, route: str, path: str, status: int, fault: str | None) -> None:
        with self._lock:
            self.counts[(method, route, str(status))] += 1
            self.paths[(method, path, str(status))] += 1
            if fault:
                self.injected[fault] += 1

    def reset_counters(self) -> None:
        with self._lock:
            self.counts.clear()
            self.paths.clear()
            self.injected.clear()

    def stats(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": sum(self.counts.values()),
                "byRoute": _nest(self.counts),
                "byPath": _nest(self.paths),
                "injected": dict(self.injected),
            }


def _nest(counts: Counter[tuple[str, str, str]]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for (method, where, status), n in sorted(counts.items()):
        out.setdefault(f"{method} {where}", {})[status] = n
    return out


_UNFINISHED = "ASGI callable returned without completing response."


def _quiet_drops() -> None:
    logger = logging.getLogger("uvicorn.error")
    if not any(getattr(f, "intcfg_drops", False) for f in logger.filters):
        quiet = logging.Filter()
        quiet.filter = lambda record: record.msg != _UNFINISHED  # type: ignore[method-assign]
        quiet.intcfg_drops = True  # type: ignore[attr-defined]
        logger.addFilter(quiet)


class FaultMiddleware:
    def __init__(self, app: ASGIApp, state: FaultState, routes: list[BaseRoute]) -> None:
        self.app = app
        self.state = state
        self.routes = routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        arrived = time.monotonic()
        control = scope["path"].startswith(CONTROL_PREFIX)
        if not control and await self._inject(scope, send, arrived):
            return
        status = {"code": 500}

        async def tracking(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                if not control:
                    await self._latency(arrived)
            await send(message)

        await self.app(scope, receive, tracking)
        self.state.record(scope["method"], self._route(scope), scope["path"], status["code"], None)

    async def _latency(self, arrived: float) -> None:
        left = self.state.faults.latency_ms / 1000 - (time.monotonic() - arrived)
        if left > 0:
            await anyio.sleep(left)

    async def _inject(self, scope: Scope, send: Send, arrived: float) -> bool:
        faults = self.state.faults
        fault, status = self.state.draw()
        if fault is None:
            return False
        await self._latency(arrived)
        # Counted before answering: a client that gives up on a timeout cancels this call.
        self.state.record(scope["method"], self._route(scope), scope["path"], status, fault)
        headers = [(b"content-type", b"application/json")]
        if fault == "rateLimit":
            headers.append((b"retry-after", str(faults.retry_after).encode()))
        if fault == "timeout":
            await anyio.sleep(faults.timeout_s)
        if fault == "drop":
            # Headers that promise a body which never comes: the server returns without
            # completing the response, and uvicorn closes the connection (and would log it).
            _quiet_drops()
            start = [*headers, (b"content-length", b"64")]
            await send({"type": "http.response.start", "status": status, "headers": start})
            return True
        body = json.dumps(
            {"error": {"code": f"injected_{fault}", "message": f"simulated fault ({fault})"}}
        ).encode()
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True

    def _route(self, scope: Scope) -> str:
        route = scope.get("route")
        if route is None:
            for candidate in self.routes:
                match, _ = candidate.matches(scope)
                if match is not Match.NONE:
                    route = candidate
                    break
        return getattr(route, "path", "(no route)")
