"""The one place intcfg builds HTTP clients, and the HTTP rules every caller gets.

``build_client`` returns an ``httpx.AsyncClient`` for one base URL with:

- timeouts, and a small connection pool (httpx's pool bookkeeping grows with the number
  of connections in one pool, see PERF-NOTES: several small pools beat one big one);
- retries inside the transport (``RetryTransport``): idempotent requests (GET, HEAD, PUT,
  DELETE, OPTIONS, or any request marked ``extensions={RETRY: True}``) are retried on 429,
  500, 502, 503, 504, timeouts and connection errors, with exponential backoff and full
  jitter, honouring ``Retry-After``, bounded in attempts and in total time. A request
  that never reached the server (connection refused) is retried whatever its method;
- a limit on response size;
- TLS verification, always, except for loopback hosts;
- no automatic redirects: ``send`` follows only same-origin redirects, so credentials
  never travel to another host.

``send`` translates httpx's exceptions into ``ProviderError`` (system, method, URL and
status; never a secret, never an unscrubbed response body). This module is the only one
that catches httpx exceptions for the providers and vendor clients.
"""

from __future__ import annotations

import email.utils
import ipaddress
import logging
import random
import socket
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Generator
from dataclasses import dataclass
from typing import Any

import anyio
import httpx

from ..errors import ProviderError
from ..secrets import Secret, scrub

log = logging.getLogger(__name__)

RETRY = "intcfg.retry"  # request extension: True marks a non-idempotent request as safe to retry
ATTEMPTS = "intcfg.attempts"  # response extension: how many attempts the response took
IDEMPOTENT = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
MAX_RESPONSE_BYTES = 8 * 1_048_576
MAX_REDIRECTS = 5
USER_AGENT = "intcfg"


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 0.05
    max_delay: float = 2.0
    max_total: float = 30.0  # seconds from the first attempt; no retry starts after it
    attempt_timeout: float = 15.0
    retry_after_cap: float = 10.0  # a longer Retry-After ends the retries instead


DEFAULT_POLICY = RetryPolicy()
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=8, max_keepalive_connections=8)


class ResponseTooLarge(httpx.TransportError):
    pass


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer`` from a Secret, revealed only as the request is sent."""

    def __init__(self, token: Secret) -> None:
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


# -- the retrying transport -----------------------------------------------------------------


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
            try:
                response = await self._attempt(request)
            except (httpx.TimeoutException, httpx.NetworkError) as e:
                unsent = isinstance(e, (httpx.ConnectError, httpx.ConnectTimeout))
                transient = (retryable or unsent) and not _unknown_host(e)
                delay = self._next_delay(attempt, started, None) if transient else None
                if delay is None:
                    raise
                log.debug("%s %s: %s; retry %d in %.2fs", request.method, request.url.path, type(e).__name__, attempt, delay)
            else:
                delay = None
                if retryable and response.status_code in RETRY_STATUSES:
                    delay = self._next_delay(attempt, started, retry_after(response))
                if delay is None:
                    response.extensions = {**response.extensions, ATTEMPTS: attempt}
                    return response
                log.debug("%s %s: %d; retry %d in %.2fs", request.method, request.url.path, response.status_code, attempt, delay)
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
        return delay

    async def _attempt(self, request: httpx.Request) -> httpx.Response:
        try:
            with anyio.fail_after(self.policy.attempt_timeout):
                response = await self.inner.handle_async_request(request)
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
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await response.aclose()
            raise ResponseTooLarge(f"response larger than {self.max_bytes} bytes")
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


# -- the factory ------------------------------------------------------------------------------


def build_client(
    base_url: str,
    *,
    token: Secret | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    policy: RetryPolicy = DEFAULT_POLICY,
    timeout: httpx.Timeout = DEFAULT_TIMEOUT,
    limits: httpx.Limits = DEFAULT_LIMITS,
    headers: dict[str, str] | None = None,
    max_bytes: int = MAX_RESPONSE_BYTES,
) -> httpx.AsyncClient:
    """An AsyncClient for ``base_url``; ``transport`` replaces the network (ASGI, tests)."""
    host = httpx.URL(base_url).host
    inner = transport or httpx.AsyncHTTPTransport(
        verify=not is_loopback(host), limits=limits, trust_env=False
    )
    return httpx.AsyncClient(
        base_url=base_url,
        auth=BearerAuth(token) if token is not None else None,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        transport=RetryTransport(inner, policy, max_bytes),
    )


# -- sending, with errors translated -----------------------------------------------------------


def _shown_url(url: httpx.URL) -> str:
    """The URL without query or user info, scrubbed: safe to print."""
    port = f":{url.port}" if url.port else ""
    return scrub(f"{url.scheme}://{url.host}{port}{url.raw_path.split(b'?')[0].decode('ascii', 'replace')}")


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    *,
    system: str,
    retry: bool | None = None,
    **kw: Any,
) -> httpx.Response:
    """Send one request; follows only same-origin redirects; errors become ProviderError.

    ``retry=True`` marks a non-idempotent request as safe to retry (a token request, a
    batch of upserts); ``retry=False`` turns retries on 5xx off for an idempotent one.
    """
    auth = kw.pop("auth", httpx.USE_CLIENT_DEFAULT)
    if retry is not None:
        kw["extensions"] = {**kw.get("extensions", {}), RETRY: retry}
    request = client.build_request(method, url, **kw)
    for _ in range(MAX_REDIRECTS + 1):
        response = await _send_once(client, request, system, auth)
        if not response.is_redirect:
            return response
        request = _redirected(request, response, system)
    raise ProviderError(
        f"{system}: {method} {_shown_url(request.url)}: more than {MAX_REDIRECTS} redirects",
        system=system, method=method, url=_shown_url(request.url),
    )


def _redirected(request: httpx.Request, response: httpx.Response, system: str) -> httpx.Request:
    target = request.url.join(response.headers.get("Location", ""))
    if not _same_origin(request.url, target):
        raise ProviderError(
            f"{system}: {request.method} {_shown_url(request.url)} redirected to another host "
            f"({target.host}); intcfg does not send credentials there: fix the URL in the config",
            system=system, method=request.method, url=_shown_url(request.url), status=response.status_code,
        )
    method = request.method if response.status_code in (307, 308) else ("HEAD" if request.method == "HEAD" else "GET")
    content = request.content if method == request.method else None
    headers = {k: v for k, v in request.headers.items() if content is not None or k.lower() not in ("content-length", "content-type")}
    return httpx.Request(method, target, headers=headers, content=content, extensions=request.extensions)


async def _send_once(client: httpx.AsyncClient, request: httpx.Request, system: str, auth: Any) -> httpx.Response:
    shown = _shown_url(request.url)
    try:
        return await client.send(request, auth=auth)
    except ResponseTooLarge as e:
        message = f"{system}: {request.method} {shown}: {e}"
    except httpx.TimeoutException:
        message = f"{system}: {request.method} {shown}: timed out"
    except httpx.ConnectError as e:
        message = f"{system}: {request.method} {shown}: cannot connect ({_reason(e)})"
    except httpx.HTTPError as e:
        message = f"{system}: {request.method} {shown}: {type(e).__name__} ({_reason(e)})"
    raise ProviderError(scrub(message), system=system, method=request.method, url=shown)


def _reason(e: Exception) -> str:
    text = str(e) or type(e).__name__
    return scrub(text.splitlines()[0][:200])


def error_message(response: httpx.Response, limit: int = 300) -> str:
    """What a live system said about an error: a JSON message, scrubbed and cut short."""
    try:
        body = response.json()
    except ValueError:
        return response.reason_phrase or str(response.status_code)
    message: Any = None
    if isinstance(body, dict):
        error = body.get("error")
        message = error.get("message") if isinstance(error, dict) else error
        message = message or body.get("message") or body.get("Message") or body.get("error_description")
    if not isinstance(message, str) or not message:
        return response.reason_phrase or str(response.status_code)
    message = scrub(message)
    return message if len(message) <= limit else message[: limit - 1] + "…"


def raise_for_status(response: httpx.Response, system: str) -> httpx.Response:
    """The response if 2xx; else ProviderError with the live system's (scrubbed) message."""
    if response.is_success:
        return response
    request = response.request
    shown = _shown_url(request.url)
    raise ProviderError(
        f"{system}: {request.method} {shown}: {response.status_code} {error_message(response)}",
        system=system, method=request.method, url=shown, status=response.status_code,
    )


def json_body(response: httpx.Response, system: str) -> Any:
    try:
        return response.json()
    except ValueError as e:
        request = response.request
        shown = _shown_url(request.url)
        raise ProviderError(
            f"{system}: {request.method} {shown}: the response is not JSON",
            system=system, method=request.method, url=shown, status=response.status_code,
        ) from e


async def paginate(
    client: httpx.AsyncClient,
    url: str,
    *,
    system: str,
    params: dict[str, str] | None = None,
    max_pages: int = 10_000,
) -> list[dict[str, Any]]:
    """Every item of a paginated list: ``{"items": [...], "next": cursor | null}``."""
    items: list[dict[str, Any]] = []
    query = dict(params or {})
    for _ in range(max_pages):
        response = raise_for_status(await send(client, "GET", url, system=system, params=query), system)
        page = json_body(response, system)
        items.extend(page.get("items", []))
        cursor = page.get("next")
        if not cursor:
            return items
        query = {**query, "cursor": cursor}
    raise ProviderError(f"{system}: GET {url}: more than {max_pages} pages", system=system, method="GET", url=url)


def join_url(base: str, path: str) -> str:
    """``base`` + ``path`` keeping base's own path (https://h/admin + /api/v5 -> https://h/admin/api/v5)."""
    parts = urllib.parse.urlsplit(base)
    joined = parts.path.rstrip("/") + "/" + path.lstrip("/")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, joined, parts.query, ""))
