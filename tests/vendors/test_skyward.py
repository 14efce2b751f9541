"""Skyward Qmlativ: GET token with URL-encoded Basic auth, then a Generic call."""

from __future__ import annotations

import base64

import httpx
import respx
from vendkit import (
    factory,
    failure,
    mocked_fixture,  # noqa: F401 - fixtures
    run,
)

from intcfg.secrets import Secret
from intcfg.vendors import skyward

API = "https://skyward.example.org/hillcrestisd"
CANARY = "canary q:secret&/1"
CREDS = skyward.Credentials(API, "hillcrest enroll", Secret(CANARY), 2)


def test_valid(mocked: respx.MockRouter) -> None:
    token = mocked.get(f"{API}/oauth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "tok-abcdef-123456"})
    )
    generic = mocked.get(f"{API}/Generic/2/District/SchoolYear/1/1").mock(
        return_value=httpx.Response(200, json={"Objects": [], "Paging": {"Next": None}})
    )
    result = run(skyward.check(CREDS, factory))
    assert result.ok, result
    request = token.calls.last.request
    assert request.url.params["grant_type"] == "client_credentials"
    expected = base64.b64encode(b"hillcrest%20enroll:canary%20q%3Asecret%26%2F1").decode()
    assert request.headers["Authorization"] == f"Basic {expected}"
    assert generic.calls.last.request.headers["Authorization"] == "Bearer tok-abcdef-123456"


def test_refused_and_expired(mocked: respx.MockRouter) -> None:
    token = mocked.get(f"{API}/oauth/token").mock(
        return_value=httpx.Response(401, json={"error": "invalid_client"})
    )
    assert (
        failure(run(skyward.check(CREDS, factory)))
        == "Connection failed (token); token: Qmlativ refused the consumer key/secret (HTTP 401 "
        "invalid_client)"
    )
    assert token.call_count == 1
    token.mock(return_value=httpx.Response(200, json={"access_token": "tok-abcdef-123456"}))
    mocked.get(f"{API}/Generic/2/District/SchoolYear/1/1").mock(
        return_value=httpx.Response(401, json={"Message": "Token has expired"})
    )
    assert (
        failure(run(skyward.check(CREDS, factory)))
        == "Connection failed (entity); entity: the token has expired"
    )


def test_entity_not_readable(mocked: respx.MockRouter) -> None:
    mocked.get(f"{API}/oauth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "tok-abcdef-123456"})
    )
    mocked.get(f"{API}/Generic/2/District/SchoolYear/1/1").mock(
        return_value=httpx.Response(403, json={"Message": "Entity 2 is not accessible"})
    )
    assert failure(run(skyward.check(CREDS, factory))) == (
        "Connection failed (entity); entity: entity 2 not readable (HTTP 403 Entity 2 is not "
        "accessible)"
    )
