"""The HTTP client factory: retries, Retry-After, bounds, redirects, limits, errors."""

from __future__ import annotations

import email.utils
import urllib.parse
from typing import Any

import httpx
import pytest
import respx
from hypothesis import given, settings
from hypothesis import strategies as st
from provkit import (
    mocked_fixture,  # noqa: F401 - fixtures
    run,
)

from intcfg.errors import ProviderError
from intcfg.providers import http
from intcfg.secrets import Secret

BASE = "https://live.example.org"
CANARY = "canary-http-4b9a1c"


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def client(
    policy: http.RetryPolicy = http.DEFAULT_POLICY, clock: FakeClock | None = None, **kw: Any
) -> httpx.AsyncClient:
    c = http.build_client(BASE, policy=policy, **kw)
    if clock is not None:
        transport = c._transport
        assert isinstance(transport, http.RetryTransport)
        transport.sleep = clock.sleep
        transport.clock = clock
        transport.jitter = lambda: 1.0
    return c


async def get(
    c: httpx.AsyncClient, path: str = "/x", method: str = "GET", **kw: Any
) -> httpx.Response:
    async with c:
        return await http.send(c, method, path, system="sis", **kw)


def test_get_retries_5xx_and_429_with_exponential_backoff(mocked: respx.MockRouter) -> None:
    route = mocked.get(f"{BASE}/x").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(429),
            httpx.Response(502),
            httpx.Response(200, json={"ok": 1}),
        ]
    )
    clock = FakeClock()
    response = run(get(client(clock=clock)))
    assert response.status_code == 200
    assert route.call_count == 4
    assert clock.sleeps == [0.05, 0.1, 0.2]
    assert response.extensions[http.ATTEMPTS] == 4


def test_retry_after_is_honoured_in_seconds_and_as_a_date(mocked: respx.MockRouter) -> None:
    date = email.utils.formatdate(1_000_000_007.0, usegmt=True)
    mocked.get(f"{BASE}/x").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(503, headers={"Retry-After": date}),
            httpx.Response(200),
        ]
    )
    clock = FakeClock()
    c = client(clock=clock)
    import time as _time

    real = _time.time
    _time.time = lambda: 1_000_000_000.0  # type: ignore[assignment]
    try:
        run(get(c))
    finally:
        _time.time = real  # type: ignore[assignment]
    assert clock.sleeps == [3.0, 7.0]


def test_attempts_are_bounded(mocked: respx.MockRouter) -> None:
    route = mocked.get(f"{BASE}/x").mock(return_value=httpx.Response(500))
    clock = FakeClock()
    response = run(get(client(http.RetryPolicy(max_attempts=3), clock=clock)))
    assert response.status_code == 500
    assert route.call_count == 3


def test_total_time_is_bounded(mocked: respx.MockRouter) -> None:
    route = mocked.get(f"{BASE}/x").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "4"})
    )
    clock = FakeClock()
    run(get(client(http.RetryPolicy(max_attempts=100, max_total=10.0), clock=clock)))
    assert clock.sleeps == [4.0, 4.0]
    assert route.call_count == 3


def test_a_long_retry_after_ends_the_retries(mocked: respx.MockRouter) -> None:
    route = mocked.get(f"{BASE}/x").mock(
        return_value=httpx.Response(429, headers={"Retry-After": "3600"})
    )
    response = run(get(client(clock=FakeClock())))
    assert response.status_code == 429
    assert route.call_count == 1


def test_post_is_not_retried_on_5xx_unless_marked(mocked: respx.MockRouter) -> None:
    route = mocked.post(f"{BASE}/x").mock(side_effect=[httpx.Response(503), httpx.Response(200)])
    assert run(get(client(clock=FakeClock()), method="POST")).status_code == 503
    assert route.call_count == 1
    route.side_effect = [httpx.Response(503), httpx.Response(200)]
    assert run(get(client(clock=FakeClock()), method="POST", retry=True)).status_code == 200


def test_400_and_401_are_never_retried(mocked: respx.MockRouter) -> None:
    for status in (400, 401, 403, 404):
        route = mocked.post(f"{BASE}/token").mock(return_value=httpx.Response(status))
        assert (
            run(get(client(clock=FakeClock()), "/token", method="POST", retry=True)).status_code
            == status
        )
        assert route.call_count == 1
        mocked.routes.clear()


def test_connect_errors_are_retried_even_for_post(mocked: respx.MockRouter) -> None:
    route = mocked.post(f"{BASE}/x").mock(
        side_effect=[httpx.ConnectError("refused"), httpx.Response(201)]
    )
    assert run(get(client(clock=FakeClock()), method="POST")).status_code == 201
    assert route.call_count == 2


def test_read_timeouts_retried_for_idempotent_then_reported(mocked: respx.MockRouter) -> None:
    route = mocked.get(f"{BASE}/x").mock(side_effect=httpx.ReadTimeout("slow"))
    with pytest.raises(ProviderError) as e:
        run(get(client(http.RetryPolicy(max_attempts=2), clock=FakeClock())))
    assert route.call_count == 2
    assert str(e.value) == f"sis: GET {BASE}/x: timed out"
    assert (e.value.system, e.value.method, e.value.url, e.value.status) == (
        "sis",
        "GET",
        f"{BASE}/x",
        None,
    )


def test_connection_refused_message(mocked: respx.MockRouter) -> None:
    mocked.get(f"{BASE}/x").mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(ProviderError) as e:
        run(get(client(http.RetryPolicy(max_attempts=1))))
    assert str(e.value) == f"sis: GET {BASE}/x: cannot connect ([Errno 111] Connection refused)"


def test_response_size_is_limited(mocked: respx.MockRouter) -> None:
    mocked.get(f"{BASE}/x").mock(return_value=httpx.Response(200, content=b"x" * 2000))
    with pytest.raises(ProviderError, match="response larger than 1000 bytes"):
        run(get(client(max_bytes=1000)))
    mocked.get(f"{BASE}/y").mock(return_value=httpx.Response(200, content=b"x" * 1000))
    assert len(run(get(client(max_bytes=1000), "/y")).content) == 1000


def test_same_origin_redirects_are_followed(mocked: respx.MockRouter) -> None:
    mocked.get(f"{BASE}/old").mock(return_value=httpx.Response(301, headers={"Location": "/new"}))
    new = mocked.get(f"{BASE}/new").mock(return_value=httpx.Response(200, json={}))
    response = run(get(client(token=Secret(CANARY)), "/old"))
    assert response.status_code == 200
    assert new.calls.last.request.headers["Authorization"] == f"Bearer {CANARY}"


def test_redirects_to_another_host_never_carry_credentials(mocked: respx.MockRouter) -> None:
    mocked.get(f"{BASE}/x").mock(
        return_value=httpx.Response(302, headers={"Location": "https://evil.example.com/steal"})
    )
    evil = mocked.get("https://evil.example.com/steal").mock(return_value=httpx.Response(200))
    with pytest.raises(ProviderError) as e:
        run(get(client(token=Secret(CANARY))))
    assert evil.call_count == 0
    assert str(e.value) == (
        f"sis: GET {BASE}/x redirected to another host (evil.example.com); intcfg does not send "
        "credentials there: fix the URL in the config"
    )


def test_bearer_token_is_sent_but_never_shown(mocked: respx.MockRouter) -> None:
    route = mocked.get(f"{BASE}/x").mock(
        return_value=httpx.Response(500, json={"error": {"message": f"bad token {CANARY}"}})
    )
    c = client(http.RetryPolicy(max_attempts=1), token=Secret(CANARY))
    response = run(get(c))
    assert route.calls.last.request.headers["Authorization"] == f"Bearer {CANARY}"
    with pytest.raises(ProviderError) as e:
        http.raise_for_status(response, "sis")
    assert str(e.value) == f"sis: GET {BASE}/x: 500 bad token ***"
    assert e.value.status == 500
    assert CANARY not in repr(c.auth.__dict__)


def test_error_message_is_cut_short_and_plain_bodies_are_not_echoed(
    mocked: respx.MockRouter,
) -> None:
    assert http.error_message(httpx.Response(502, text="<html>secret dump</html>")) == "Bad Gateway"
    long = httpx.Response(400, json={"error": {"code": "x", "message": "y" * 500}})
    assert http.error_message(long, limit=20) == "y" * 19 + "…"
    assert (
        http.error_message(httpx.Response(401, json={"Message": "Invalid certificate"}))
        == "Invalid certificate"
    )


def test_tls_verification_is_off_only_for_loopback() -> None:
    for url, verify in (
        ("https://live.example.org", True),
        ("https://127.0.0.1:8443", False),
        ("https://localhost", False),
        ("https://[::1]:1", False),
    ):
        c = http.build_client(url)
        inner = c._transport.inner  # type: ignore[attr-defined]
        ssl_context = inner._pool._ssl_context
        assert (ssl_context.verify_mode != 0) is verify, url
        run(c.aclose())


def test_paginate_follows_cursors(mocked: respx.MockRouter) -> None:
    route = mocked.get(f"{BASE}/items").mock(
        side_effect=[
            httpx.Response(200, json={"items": [{"n": 1}], "next": "c1"}),
            httpx.Response(200, json={"items": [{"n": 2}], "next": None}),
        ]
    )

    async def go() -> list[dict[str, Any]]:
        async with http.build_client(BASE) as c:
            return await http.paginate(c, "/items", system="enroll", params={"limit": "1"})

    assert run(go()) == [{"n": 1}, {"n": 2}]
    assert route.calls[1].request.url.params["cursor"] == "c1"
    assert route.calls[1].request.url.params["limit"] == "1"


def test_join_url_keeps_the_base_path() -> None:
    assert (
        http.join_url("https://h.example/admin", "/api/v5/systeminfo")
        == "https://h.example/admin/api/v5/systeminfo"
    )
    assert http.join_url("https://h.example/admin/", "token") == "https://h.example/admin/token"
    assert (
        http.join_url("https://h.example", "/oauth/access_token")
        == "https://h.example/oauth/access_token"
    )


def test_an_unknown_host_is_not_retried() -> None:
    import socket

    class Unresolvable(httpx.AsyncBaseTransport):
        calls = 0

        async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
            Unresolvable.calls += 1
            try:
                raise socket.gaierror(-2, "Name or service not known")
            except socket.gaierror as e:
                raise httpx.ConnectError(
                    "[Errno -2] Name or service not known", request=request
                ) from e

    c = http.build_client(BASE, transport=Unresolvable())
    with pytest.raises(
        ProviderError, match=r"cannot connect \(\[Errno -2\] Name or service not known\)"
    ):
        run(get(c))
    assert Unresolvable.calls == 1


@pytest.mark.parametrize("keeps", [True, False])
def test_only_a_client_built_with_cookies_sends_back_what_a_response_set(mocked: respx.MockRouter, keeps: bool) -> None:
    # Vendors' token endpoints set session cookies the next requests must carry; the admin
    # APIs authenticate every request with the bearer token and keep none.
    route = mocked.get(f"{BASE}/x").mock(
        return_value=httpx.Response(200, json={}, headers={"Set-Cookie": "ARRAffinity=abc; Path=/"})
    )

    async def twice() -> None:
        async with client(cookies=keeps) as c:
            for _ in range(2):
                await http.send(c, "GET", "/x", system="sis")

    run(twice())
    sent = [call.request.headers.get("cookie") for call in route.calls]
    assert sent == [None, "ARRAffinity=abc" if keeps else None]


_clients: dict[str, httpx.AsyncClient] = {}
_URL_TEXT = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=400, deadline=None)
@given(
    base=st.sampled_from(
        [BASE, "http://127.0.0.1:8123/", "https://live.example.org:8443/admin", "http://[::1]:9/a%20b/",
         "https://user:pw@live.example.org/", "https://live.example.org/?q=1"]
    ),
    parts=st.lists(st.one_of(_URL_TEXT, st.sampled_from([".", "..", "%41", "%zz", "a b", "~x"])), max_size=4),
    raw_query=st.one_of(st.none(), _URL_TEXT),
    query=st.dictionaries(st.sampled_from(["limit", "cursor", "site", "a b"]), _URL_TEXT, max_size=3),
    quoted=st.booleans(),
)
def test_a_list_page_goes_to_the_url_the_spelled_out_address_names(
    base: str, parts: list[str], raw_query: str | None, query: dict[str, str], quoted: bool
) -> None:
    """paginate hands httpx the page's URL already parsed where it can: the same URL,
    byte for byte, as httpx makes of the address spelled in full (or the same error)."""
    c = _clients.get(base) or _clients.setdefault(base, http.build_client(base))  # TLS set-up once
    path = "/" + "/".join(urllib.parse.quote(p, safe="") if quoted else p for p in parts)
    url = path if raw_query is None else f"{path}?{raw_query}"

    def parsed(made: Any) -> tuple[Any, ...]:
        try:
            u = made() if callable(made) else made
            u = httpx.URL(u) if isinstance(u, str) else u
            return (str(u), u.scheme, u.userinfo, u.host, u.port, u.raw_path, u.query, u.fragment)
        except httpx.InvalidURL as e:
            return ("invalid", str(e))

    assert parsed(lambda: http._page_url(c, url, query)) == parsed(lambda: http._absolute(c, url, query))


def test_paginate_sends_names_and_cursors_quoted_as_before(mocked: respx.MockRouter) -> None:
    cursor = "c/1 +%é?&="
    pages = mocked.get(url__regex=r".*").mock(
        side_effect=[
            httpx.Response(200, json={"items": [{"n": 1}], "next": cursor}),
            httpx.Response(200, json={"items": [], "next": None}),
        ]
    )

    async def go() -> list[dict[str, Any]]:
        async with http.build_client(BASE + "/prefix") as c:
            name = urllib.parse.quote("Saint Mary's É", safe="")
            return await http.paginate(c, f"/sis/admin/v1/districts/{name}/x", system="sis", params={"limit": "500"})

    assert run(go()) == [{"n": 1}]
    sent = [str(call.request.url) for call in pages.calls]
    assert sent == [
        f"{BASE}/prefix/sis/admin/v1/districts/Saint%20Mary%27s%20%C3%89/x?limit=500",
        f"{BASE}/prefix/sis/admin/v1/districts/Saint%20Mary%27s%20%C3%89/x?limit=500&cursor=c%2F1%20%2B%25%C3%A9%3F%26%3D",
    ]
