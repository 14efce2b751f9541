"""The one place intcfg builds HTTP clients, and the HTTP rules every caller gets.

``build_client`` returns an ``httpx.AsyncClient`` for one base URL with:

- timeouts, and a small connection pool (httpx's pool bookkeeping grows with the number
  of connections in one pool, see PERF-NOTES: several small pools beat one big one);
- bounded retries inside the transport (retry.py) of idempotent requests and of those
  marked safe to retry, with backoff, jitter and Retry-After;
- a limit on response size;
- TLS verification, always, except for loopback hosts;
- no automatic redirects: ``send`` follows only same-origin redirects, so credentials
  never travel to another host.

``send`` translates httpx's exceptions into ``ProviderError`` (system, method, URL and
status; never a secret, never an unscrubbed response body). This module is the only one
that catches httpx exceptions for the providers and vendor clients.
"""

from __future__ import annotations

import base64
import ipaddress
import re
import urllib.parse
from collections.abc import AsyncGenerator, Generator
from typing import Any

import httpx

from .. import jsonin
from ..errors import ProviderError
from ..secrets import Secret, register, scrub
from .retry import (
    ATTEMPTS,
    DEFAULT_POLICY,
    IDEMPOTENT,
    MAX_RESPONSE_BYTES,
    RETRY,
    RETRY_STATUSES,
    ResponseTooLarge,
    RetryPolicy,
    RetryTransport,
    retry_after,
)

MAX_REDIRECTS = 5
USER_AGENT = "intcfg"
DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
DEFAULT_LIMITS = httpx.Limits(max_connections=8, max_keepalive_connections=8)


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

    async def async_auth_flow(
        self, request: httpx.Request
    ) -> AsyncGenerator[httpx.Request, httpx.Response]:
        # The same flow without httpx's wrapper around the sync one (a generator a request).
        request.headers["Authorization"] = f"Bearer {self._token.reveal()}"
        yield request


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
    cookies: bool = True,
) -> httpx.AsyncClient:
    """An AsyncClient for ``base_url``; ``transport`` replaces the network (ASGI, tests).
    Without ``cookies`` it keeps none (an API whose every request carries its token)."""
    host = httpx.URL(base_url).host
    inner = transport or httpx.AsyncHTTPTransport(
        verify=not is_loopback(host), limits=limits, trust_env=False
    )
    return (httpx.AsyncClient if cookies else _CookielessClient)(
        base_url=base_url,
        auth=BearerAuth(token) if token is not None else None,
        headers={"User-Agent": USER_AGENT, "Accept": "application/json", **(headers or {})},
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
        transport=RetryTransport(inner, policy, max_bytes),
    )


class _NoCookies(httpx.Cookies):
    """A jar that stays empty: nothing is taken from a response, nothing added to a request."""

    def extract_cookies(self, response: httpx.Response) -> None:
        pass


class _CookielessClient(httpx.AsyncClient):
    """An AsyncClient that keeps no cookies. The admin APIs authenticate every request
    with its bearer token; httpx's cookie handling builds a urllib request for each
    response to look for cookies, about a third of a list request's CPU in the client."""

    @property
    def cookies(self) -> httpx.Cookies:
        return _NO_COOKIES

    @cookies.setter
    def cookies(self, cookies: Any) -> None:
        if cookies:
            raise ValueError("this client keeps no cookies")


_NO_COOKIES = _NoCookies()


# -- sending, with errors translated -----------------------------------------------------------


def _shown_url(url: httpx.URL) -> str:
    """The URL without query or user info, scrubbed: safe to print."""
    port = f":{url.port}" if url.port else ""
    return scrub(
        f"{url.scheme}://{url.host}{port}{url.raw_path.split(b'?')[0].decode('ascii', 'replace')}"
    )


def _same_origin(a: httpx.URL, b: httpx.URL) -> bool:
    return (a.scheme, a.host, a.port) == (b.scheme, b.host, b.port)


async def send(
    client: httpx.AsyncClient,
    method: str,
    url: str | httpx.URL,
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
    if isinstance(auth, tuple) and len(auth) == 2:
        # Basic auth sends base64("id:secret"); a live system may echo the header back.
        user, password = (str(part).encode("utf-8") for part in auth)
        register(base64.b64encode(user + b":" + password).decode("ascii"))
    if retry is not None:
        kw["extensions"] = {**kw.get("extensions", {}), RETRY: retry}
    try:
        request = client.build_request(method, url, **kw)
    except UnicodeEncodeError:
        shown = scrub(str(url))
        raise ProviderError(
            f"{system}: {method} {shown}: a header would hold characters outside ASCII, which "
            "HTTP does not carry (a credential sent in a header, such as a certificate or a token, "
            "must be ASCII): check the value (it is not shown)",
            system=system,
            method=method,
            url=shown,
        ) from None
    for _ in range(MAX_REDIRECTS + 1):
        response = await _send_once(client, request, system, auth)
        if not response.is_redirect:
            return response
        request = _redirected(request, response, system)
    raise ProviderError(
        f"{system}: {method} {_shown_url(request.url)}: more than {MAX_REDIRECTS} redirects",
        system=system,
        method=method,
        url=_shown_url(request.url),
    )


def _redirected(request: httpx.Request, response: httpx.Response, system: str) -> httpx.Request:
    target = request.url.join(response.headers.get("Location", ""))
    if not _same_origin(request.url, target):
        raise ProviderError(
            f"{system}: {request.method} {_shown_url(request.url)} redirected to another host "
            f"({target.host}); intcfg does not send credentials there: fix the URL in the config",
            system=system,
            method=request.method,
            url=_shown_url(request.url),
            status=response.status_code,
        )
    method = (
        request.method
        if response.status_code in (307, 308)
        else ("HEAD" if request.method == "HEAD" else "GET")
    )
    content = request.content if method == request.method else None
    headers = {
        k: v
        for k, v in request.headers.items()
        if content is not None or k.lower() not in ("content-length", "content-type")
    }
    return httpx.Request(
        method, target, headers=headers, content=content, extensions=request.extensions
    )


async def _send_once(
    client: httpx.AsyncClient, request: httpx.Request, system: str, auth: Any
) -> httpx.Response:
    try:
        return await client.send(request, auth=auth)
    except ResponseTooLarge as e:
        failure = str(e)
    except httpx.TimeoutException:
        failure = "timed out"
    except httpx.ConnectError as e:
        failure = f"cannot connect ({_reason(e)})"
    except httpx.HTTPError as e:
        failure = f"{type(e).__name__} ({_reason(e)})"
    # Only now: scrubbing looks for every secret resolved (an apply's: thousands).
    shown = _shown_url(request.url)
    message = f"{system}: {request.method} {shown}: {failure}"
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
        message = (
            message or body.get("message") or body.get("Message") or body.get("error_description")
        )
    if not isinstance(message, str) or not message:
        return response.reason_phrase or str(response.status_code)
    text = printable(scrub(message))
    return text if len(text) <= limit else text[: limit - 1] + "…"


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]+")


def printable(text: str) -> str:
    """Text from a live system as one plain line: its line breaks and control characters
    become spaces, so it cannot forge lines of intcfg's output (a CI log reads
    ``::error ...`` at the start of a line as a workflow command) or move the cursor."""
    return _CONTROL.sub(" ", text)


def raise_for_status(response: httpx.Response, system: str) -> httpx.Response:
    """The response if 2xx; else ProviderError with the live system's (scrubbed) message."""
    if response.is_success:
        return response
    request = response.request
    shown = _shown_url(request.url)
    raise ProviderError(
        f"{system}: {request.method} {shown}: {response.status_code} {error_message(response)}",
        system=system,
        method=request.method,
        url=shown,
        status=response.status_code,
    )


def json_body(response: httpx.Response, system: str) -> Any:
    try:
        return jsonin.loads(response.content)  # response.json(), faster where it can be
    except ValueError as e:
        request = response.request
        shown = _shown_url(request.url)
        raise ProviderError(
            f"{system}: {request.method} {shown}: the response is not JSON",
            system=system,
            method=request.method,
            url=shown,
            status=response.status_code,
        ) from e


def json_type(value: Any) -> str:
    """The JSON name of a value's type, for messages that must not show the value."""
    names = {dict: "an object", list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


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
    cursors: set[str] = set()
    for _ in range(max_pages):
        response = raise_for_status(
            await send(client, "GET", _page_url(client, url, query), system=system), system
        )
        page = json_body(response, system)
        problem = _page_problem(page, cursors)
        if problem:
            raise ProviderError(
                f"{system}: GET {_shown_url(response.request.url)}: the list does not follow the "
                f"admin contract ({problem})",
                system=system, method="GET", url=_shown_url(response.request.url),
            )
        items.extend(page.get("items", []))
        cursor = page.get("next")
        if not cursor:
            return items
        cursors.add(cursor)
        query = {**query, "cursor": cursor}
    raise ProviderError(
        f"{system}: GET {url}: more than {max_pages} pages", system=system, method="GET", url=url
    )


# What httpx's parser leaves as it is in a path and in a query (its quote() keeps these
# and every %XX); anything else, and a "." or ".." segment it would remove, goes to httpx.
_PLAIN_PATH = re.compile(r"/[A-Za-z0-9\-._~!$&'()*+,;=:@/%]*")
_PLAIN_QUERY = re.compile(r"[A-Za-z0-9\-._~!$&'()*+,;=:@/%?]*")
_URL_FIELDS = ("scheme", "userinfo", "host", "port", "path", "query", "fragment")


def _page_url(client: httpx.AsyncClient, url: str, query: dict[str, str]) -> httpx.URL | str:
    """The URL of a list page: ``_absolute``'s, as the httpx.URL httpx would parse it to.

    httpx parses a URL string character by character (checks, quoting, the host's IP
    address again): a fifth to a quarter of the CPU httpx and intcfg spend on a list
    request (measured with the network left out). A page's URL is the
    client's base URL, parsed already, with another path and query; when both are spelled
    as httpx keeps them, the URL is the base URL's parsed form with those two replaced.
    Otherwise (or should httpx keep its parsed form elsewhere one day) the string, parsed
    by httpx as before."""
    base = client.base_url
    ref: Any = getattr(base, "_uri_reference", None)
    if "://" in url or getattr(ref, "_fields", None) != _URL_FIELDS:
        return _absolute(client, url, query)
    if ref.userinfo or ref.query is not None or ref.fragment is not None:
        return _absolute(client, url, query)
    path, mark, spelt = url.partition("?")
    given: str | None = spelt
    path = (ref.path or "/") + path.lstrip("/")  # an empty path is "/" in httpx's raw_path
    if query:
        encoded = urllib.parse.urlencode(query, quote_via=urllib.parse.quote)
        given = f"{given}&{encoded}" if mark else encoded
    elif not mark:
        given = None
    plain = _PLAIN_PATH.fullmatch(path) and (given is None or _PLAIN_QUERY.fullmatch(given))
    if not plain or ("." in path and any(part in (".", "..") for part in path.split("/"))):
        return _absolute(client, url, query)
    parsed = httpx.URL(base)  # a copy of the parsed base, not parsed again
    parsed._uri_reference = ref._replace(path=path, query=given)
    return parsed


def _absolute(client: httpx.AsyncClient, url: str, query: dict[str, str]) -> str:
    """``url`` with ``query``, joined to the client's base as httpx joins them, spelled in
    full: httpx parses a relative URL with params three times (0.2 ms of CPU a request,
    a sixth of a list request's cost in the client at state scale)."""
    base = client.base_url  # httpx keeps its path ending in "/"
    prefix = f"{base.scheme}://{base.netloc.decode('ascii')}{base.raw_path.decode('ascii')}"
    joined = url if "://" in url else prefix + url.lstrip("/")
    if not query:
        return joined
    return joined + ("&" if "?" in joined else "?") + urllib.parse.urlencode(query, quote_via=urllib.parse.quote)


def _page_problem(page: Any, cursors: set[str]) -> str:
    if not isinstance(page, dict):
        return f"{json_type(page)} where a page object belongs"
    found = page.get("items", [])
    if not isinstance(found, list) or not all(isinstance(i, dict) for i in found):
        return "items is not an array of objects"
    cursor = page.get("next")
    if cursor is not None and not isinstance(cursor, str):
        return f"next is {json_type(cursor)}, not a cursor string"
    if cursor in cursors:
        # A live system that hands out a cursor again would keep intcfg reading forever.
        return "a cursor came back a second time"
    return ""


def join_url(base: str, path: str) -> str:
    """``base`` + ``path`` keeping base's own path (https://h/admin + /api/v5 -> https://h/admin/api/v5)."""
    parts = urllib.parse.urlsplit(base)
    joined = parts.path.rstrip("/") + "/" + path.lstrip("/")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, joined, parts.query, ""))


__all__ = [
    "ATTEMPTS",
    "DEFAULT_LIMITS",
    "DEFAULT_POLICY",
    "DEFAULT_TIMEOUT",
    "IDEMPOTENT",
    "MAX_RESPONSE_BYTES",
    "RETRY",
    "RETRY_STATUSES",
    "BearerAuth",
    "ResponseTooLarge",
    "RetryPolicy",
    "RetryTransport",
    "build_client",
    "error_message",
    "is_loopback",
    "join_url",
    "json_body",
    "json_type",
    "paginate",
    "printable",
    "raise_for_status",
    "retry_after",
    "send",
]
