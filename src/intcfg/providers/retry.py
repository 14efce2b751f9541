"""Bounded retries inside the transport, a per-attempt deadline and a response size limit.

Idempotent requests (GET, HEAD, PUT, DELETE, OPTIONS, or any marked with the RETRY
extension) are retried on 429, 500, 502, 503, 504, timeouts and connection errors, with
exponential backoff and full jitter, honouring ``Retry-After``, bounded in attempts and in
total time. A request that never reached the server (connection refused) is retried
whatever its method; a host name that does not resolve is not retried.
"""

from __future__ import annotations

import asyncio
import email.utils
import logging
import random
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import anyio
import httpx

from ..log import count, ev

log = logging.getLogger(__name__)

RETRY = "intcfg.retry"  # request extension: True marks a non-idempotent request as safe to retry
ATTEMPTS = "intcfg.attempts"  # response extension: how many attempts the response took
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RESPONSE_BYTES = 8 * 1_048_576


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.05
    max_delay: float = 2.0
    max_total: float = 30.0  # seconds from the first attempt; no retry starts after it
    attempt_timeout: float = 15.0
    retry_after_cap: float = 10.0  # a longer Retry-After ends the retries instead


DEFAULT_POLICY = RetryPolicy()


class ResponseTooLarge(httpx.TransportError):
    pass


def retry_after(response: httpx.Response, now: float | None = None) -> float | None:
    """Seconds a 429/503 asks to wait (delay-seconds or an HTTP date), or None."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _unknown_host(error: BaseException) -> bool:
    """A name that does not resolve: retrying will not help."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, socket.gaierror):
            return True
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return False


def _log_attempt(
    request: httpx.Request, outcome: int | str, attempt: int, sent: float, delay: float | None, transient: bool
) -> None:
    """Each attempt at DEBUG, each retry (and giving up after retries) at INFO. Only the
    method, host and path: never the query string (it may carry credentials), never a body."""
    if delay is None and not (transient and attempt > 1) and not log.isEnabledFor(logging.DEBUG):
        return
    fields = {
        "method": request.method,
        "host": request.url.host,
        "path": request.url.path,
        "status" if isinstance(outcome, int) else "error": outcome,
        "attempt": attempt,
        "duration_s": round(time.perf_counter() - sent, 3),
    }
    where = f"{request.method} {request.url.host}{request.url.path}"
    if delay is not None:
        log.info("%s: %s; retry %d in %.2fs", where, outcome, attempt, delay,
                 extra=ev("http.retry", **fields, delay_s=round(delay, 3)))
    elif transient and attempt > 1:
        log.info("%s: %s; giving up after %d attempts", where, outcome, attempt, extra=ev("http.gave_up", **fields))
    else:
        log.debug("%s: %s", where, outcome, extra=ev("http.request", **fields))


class RetryTransport(httpx.AsyncBaseTransport):
    """Wraps a transport with bounded retries, a per-attempt deadline and a size limit."""

    def __init__(
        self,
        inner: httpx.AsyncBaseTransport,
        policy: RetryPolicy = DEFAULT_POLICY,
        max_bytes: int = MAX_RESPONSE_BYTES,
        sleep: Callable[[float], Awaitable[None]] = anyio.sleep,
        jitter: Callable[[], float] = random.random,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.policy = policy
        self.max_bytes = max_bytes
        self.sleep = sleep
        self.jitter = jitter
        self.clock = clock

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        retryable = request.method in IDEMPOTENT or request.extensions.get(RETRY) is True
        started = self.clock()
        attempt = 1
        while True:
            count("requests")
            sent = time.perf_counter()
            try:
                response = await self._attempt(request)
            # A connection closed before any response (dropped, or a stale keep-alive one the
            # server had closed) raises RemoteProtocolError, not a NetworkError.
            except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as e:
                unsent = isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout))
                transient = (retryable or unsent) and not _unknown_host(e)
                delay = self._next_delay(attempt, started, None) if transient else None
                _log_attempt(request, type(e).__name__, attempt, sent, delay, transient)
                if delay is None:
                    raise
            else:
                delay = None
                if retryable and response.status_code in RETRY_STATUSES:
                    delay = self._next_delay(attempt, started, retry_after(response))
                _log_attempt(request, response.status_code, attempt, sent, delay, response.status_code in RETRY_STATUSES)
                if delay is None:
                    response.extensions = {**response.extensions, ATTEMPTS: attempt}
                    return response
            count("retries")
            await self.sleep(delay)
            attempt += 1

    def _next_delay(self, attempt: int, started: float, asked: float | None) -> float | None:
        policy = self.policy
        if attempt >= policy.max_attempts:
            return None
        if asked is not None and asked > policy.retry_after_cap:
            return None
        backoff = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1)) * self.jitter()
        delay = max(asked, backoff) if asked is not None else backoff
        if self.clock() - started + delay > policy.max_total:
            return None
        return float(delay)

    async def _attempt(self, request: httpx.Request) -> httpx.Response:
        try:
            async with asyncio.timeout(self.policy.attempt_timeout):
                response = await self.inner.handle_async_request(request)
                declared = response.headers.get("Content-Length", "")
                if declared.isdigit():  # the transport reads no more than that
                    if int(declared) > self.max_bytes:
                        await response.aclose()
                        raise ResponseTooLarge(f"response larger than {self.max_bytes} bytes")
                    try:
                        await response.aread()
                    finally:  # closed already when read to the end; at once when not
                        await response.aclose()
                    return response
                content = await self._read(response)
        except TimeoutError as e:
            raise httpx.ReadTimeout("no response in time", request=request) from e
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            extensions=response.extensions,
            request=request,
        )

    async def _read(self, response: httpx.Response) -> bytes:
        chunks: list[bytes] = []
        total = 0
        try:
            async for chunk in response.aiter_raw():
                total += len(chunk)
                if total > self.max_bytes:
                    raise ResponseTooLarge(f"response larger than {self.max_bytes} bytes")
                chunks.append(chunk)
        finally:
            await response.aclose()
        return b"".join(chunks)

    async def aclose(self) -> None:
        await self.inner.aclose()
