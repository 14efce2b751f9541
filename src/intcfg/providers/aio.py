"""The network transport of the admin providers at scale: aiohttp under httpx's API.

httpx's own pool spends milliseconds of CPU per request once more than about 8-16
requests share it, and intcfg plans a state with thousands of list requests; aiohttp's
stays near the latency bound (bench/RESULTS-loop.md has the measurements). The client,
its retries, redirects and error messages stay httpx's (http.build_client wraps this
transport like any other).

Each aiohttp failure becomes the httpx error httpx's own transport raises for it: a
connection the server dropped after the request was sent is a RemoteProtocolError, so a
sent, non-idempotent request is not mistaken for an unsent one and retried. The request
goes out as httpx built it (its headers, its body, no compression or decompression added:
the answer's body is handed on as it came), and its answer comes back to httpx, one
response object per request (an adapter package wrapped each twice): read here, whole,
when it declares a length of at most ``READ_WHOLE`` (a list page: read through httpx's
stream of aiohttp's stream it went through four async iterators), else streamed as it
arrives (the retry transport limits its size).
"""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import AsyncIterator

import aiohttp
import httpx

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
    (aiohttp.InvalidURL, httpx.UnsupportedProtocol),
)
_CHUNK = 1 << 16
READ_WHOLE = 1 << 16  # bytes: an answer declaring at most this length is read at once
_HTTP11 = b"HTTP/1.1"
# TLS contexts by whether they verify: building one reads the CA bundle (tens of ms), and
# a plan opens a transport per live system.
_CONTEXTS: dict[bool, ssl.SSLContext] = {}


def _mapped(error: BaseException, request: httpx.Request) -> httpx.TransportError:
    """The httpx error for an aiohttp ``error``."""
    for source, target in _MAPPING:
        if isinstance(error, source):
            mapped = target(str(error) or type(error).__name__, request=request)
            mapped.__cause__ = error
            return mapped
    mapped = httpx.TransportError(str(error) or type(error).__name__, request=request)
    mapped.__cause__ = error
    return mapped


class _Stream(httpx.AsyncByteStream):
    """An aiohttp answer's body, as httpx reads a body."""

    def __init__(self, response: aiohttp.ClientResponse, request: httpx.Request) -> None:
        self.response = response
        self.request = request

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self.response.content.iter_chunked(_CHUNK):
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as e:
            raise _mapped(e, self.request)  # noqa: B904 - _mapped sets the cause

    async def aclose(self) -> None:
        self.response.release()


class AioTransport(httpx.AsyncBaseTransport):
    """One aiohttp session of at most ``connections`` connections."""

    def __init__(self, *, verify: bool, connections: int) -> None:
        context = _CONTEXTS.get(verify)
        if context is None:
            context = _CONTEXTS[verify] = httpx.create_ssl_context(verify=verify, trust_env=False)
        self.ssl_context = context
        self.connections = connections
        self.session: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections, ssl=self.ssl_context),
                trust_env=False,
                auto_decompress=False,  # httpx decodes the body, as with its own transport
                cookie_jar=aiohttp.DummyCookieJar(),  # httpx keeps the cookies
            )
        return self.session

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        timeout = request.extensions.get("timeout", {})
        try:
            response = await self._session().request(
                request.method,
                str(request.url),
                headers=request.headers.multi_items(),
                data=request.content or None,
                allow_redirects=False,
                compress=False,
                timeout=aiohttp.ClientTimeout(
                    sock_connect=timeout.get("connect"), sock_read=timeout.get("read"), connect=timeout.get("pool")
                ),
                server_hostname=request.extensions.get("sni_hostname"),
            )
        except (aiohttp.ClientError, TimeoutError) as e:
            raise _mapped(e, request)  # noqa: B904 - _mapped sets the cause
        extensions = {"http_version": _HTTP11}
        if response.reason:
            extensions["reason_phrase"] = response.reason.encode("latin-1", "replace")
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) <= READ_WHOLE:
            try:
                body = await response.read()
            except (aiohttp.ClientError, TimeoutError) as e:
                raise _mapped(e, request)  # noqa: B904 - _mapped sets the cause
            finally:
                response.release()
            # The connection is back in the pool, and a request waiting for it (built
            # already, see connect.open_providers) goes out now, before this answer is
            # parsed: one pass of the event loop, which runs the waiter first.
            await asyncio.sleep(0)
            # httpx decodes a Content-Encoding as it does for a streamed body.
            return httpx.Response(
                response.status,
                headers=response.raw_headers,
                content=body,
                request=request,
                extensions=extensions,
            )
        return httpx.Response(
            response.status,
            headers=response.raw_headers,
            stream=_Stream(response, request),
            request=request,
            extensions=extensions,
        )

    async def aclose(self) -> None:
        """Close the pool; a second call (another client sharing it) does nothing."""
        session, self.session = self.session, None
        if session is not None:
            await session.close()
