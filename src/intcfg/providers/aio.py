"""The network transport of the admin providers at scale: aiohttp under httpx's API.

httpx's own pool spends milliseconds of CPU per request once more than about 8-16
requests share it, and intcfg plans a state with thousands of list requests; aiohttp's
stays near the latency bound (bench/RESULTS-loop.md has the measurements). The client,
its retries, redirects and error messages stay httpx's (http.build_client wraps this
transport like any other).

httpx-aiohttp maps a connection the server dropped after the request was sent to
``ConnectTimeout``, which would make a sent, non-idempotent request look unsent and be
retried; here each aiohttp failure becomes the httpx error httpx's own transport raises
for it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import httpx
from httpx_aiohttp import AiohttpTransport

# Most specific first: ConnectionTimeoutError is also a ServerTimeoutError, and every
# aiohttp connection error is a ClientOSError or a ServerConnectionError.
_MAPPING: tuple[tuple[type[BaseException], type[httpx.TransportError]], ...] = (
    (aiohttp.ConnectionTimeoutError, httpx.ConnectTimeout),
    (aiohttp.ClientConnectorError, httpx.ConnectError),
    (aiohttp.ServerTimeoutError, httpx.ReadTimeout),
    (aiohttp.ServerDisconnectedError, httpx.RemoteProtocolError),
    (aiohttp.ClientPayloadError, httpx.ReadError),
    (aiohttp.ClientOSError, httpx.ReadError),
    (aiohttp.ClientConnectionError, httpx.ReadError),
)


def _mapped(error: Exception, request: httpx.Request) -> httpx.TransportError:
    """The httpx error for ``error`` (an aiohttp error, or httpx-aiohttp's mapping of one)."""
    cause = error.__cause__ if isinstance(error, httpx.TransportError) else error
    for source, target in _MAPPING:
        if isinstance(cause, source):
            mapped = target(str(cause) or type(cause).__name__, request=request)
            mapped.__cause__ = cause
            return mapped
    if isinstance(error, httpx.TransportError):
        return error
    mapped = httpx.TransportError(str(error) or type(error).__name__, request=request)
    mapped.__cause__ = error
    return mapped


class _Stream(httpx.AsyncByteStream):
    def __init__(self, inner: httpx.AsyncByteStream, request: httpx.Request) -> None:
        self.inner = inner
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.inner:
                yield chunk
        except (httpx.TransportError, aiohttp.ClientError) as e:
            raise _mapped(e, self.request)  # noqa: B904 - _mapped sets the cause

    async def aclose(self) -> None:
        await self.inner.aclose()


class AioTransport(httpx.AsyncBaseTransport):
    """One aiohttp session of at most ``connections`` connections."""

    def __init__(self, *, verify: bool, connections: int) -> None:
        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        self.inner = AiohttpTransport(verify=verify, trust_env=False, limits=limits)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        try:
            response = await self.inner.handle_async_request(request)
        except (httpx.TransportError, aiohttp.ClientError) as e:
            raise _mapped(e, request)  # noqa: B904 - _mapped sets the cause
        assert isinstance(response.stream, httpx.AsyncByteStream)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            stream=_Stream(response.stream, request),
            extensions=response.extensions,
            request=request,
        )

    async def aclose(self) -> None:
        await self.inner.aclose()
