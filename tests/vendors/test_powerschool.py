"""PowerSchool plugin credentials: client credentials, then a metadata proof."""

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
from intcfg.vendors import powerschool
from intcfg.vendors.base import Part

SERVER = "https://lakeside.powerschool.example.org"
CANARY = "canary-ps-client-secret-1f0e"
TOKEN = "ce8815eb-b28f-40aa-bd9b-5f0a8dfa1813"
CREDS = powerschool.Credentials(SERVER, "client-id", Secret(CANARY))
METADATA = {"metadata": {"plugin_id": 4242, "powerschool_version": "24.7.0.0"}}


def test_valid_credentials(mocked: respx.MockRouter) -> None:
    token = mocked.post(f"{SERVER}/oauth/access_token").mock(
        return_value=httpx.Response(
            200, json={"access_token": TOKEN, "token_type": "Bearer", "expires_in": "2592000"}
        )
    )
    meta = mocked.get(f"{SERVER}/ws/v1/metadata").mock(
        return_value=httpx.Response(200, json=METADATA)
    )
    result = run(powerschool.check(CREDS, factory))
    assert result.ok and result.message == "Connected"
    assert result.parts == (
        Part("token", True, "token issued, valid for 30 days"),
        Part("metadata", True, "plugin 4242 on PowerSchool 24.7.0.0"),
    )
    request = token.calls.last.request
    assert (
        request.headers["Authorization"]
        == "Basic " + base64.b64encode(f"client-id:{CANARY}".encode()).decode()
    )
    assert request.headers["Content-Type"] == "application/x-www-form-urlencoded;charset=UTF-8"
    assert request.content == b"grant_type=client_credentials"
    assert meta.calls.last.request.headers["Authorization"] == f"Bearer {TOKEN}"


def test_refused_credentials_are_not_retried(mocked: respx.MockRouter) -> None:
    token = mocked.post(f"{SERVER}/oauth/access_token").mock(
        return_value=httpx.Response(401, json={"error": "invalid_client"})
    )
    result = run(powerschool.check(CREDS, factory))
    assert token.call_count == 1
    assert (
        failure(result)
        == "Connection failed (token); token: PowerSchool refused the Client ID/Client Secret "
        "(HTTP 401 invalid_client)"
    )
    assert CANARY not in repr(result)


def test_a_token_without_plugin_id_is_not_a_plugins(mocked: respx.MockRouter) -> None:
    mocked.post(f"{SERVER}/oauth/access_token").mock(
        return_value=httpx.Response(200, json={"access_token": TOKEN, "expires_in": "60"})
    )
    mocked.get(f"{SERVER}/ws/v1/metadata").mock(
        return_value=httpx.Response(200, json={"metadata": {"powerschool_version": "x"}})
    )
    result = run(powerschool.check(CREDS, factory))
    assert (
        failure(result)
        == "Connection failed (metadata); metadata: the metadata has no plugin_id: the token is "
        "not a plugin's"
    )


def test_expired_token(mocked: respx.MockRouter) -> None:
    mocked.post(f"{SERVER}/oauth/access_token").mock(
        return_value=httpx.Response(200, json={"access_token": TOKEN, "expires_in": "0"})
    )
    mocked.get(f"{SERVER}/ws/v1/metadata").mock(
        return_value=httpx.Response(
            401,
            headers={
                "WWW-Authenticate": 'Bearer error="invalid_token", '
                'error_description="The access token expired"'
            },
        )
    )
    assert (
        failure(run(powerschool.check(CREDS, factory)))
        == "Connection failed (metadata); metadata: the token has expired"
    )


def test_token_call_is_retried_on_503_then_unreachable_host(mocked: respx.MockRouter) -> None:
    token = mocked.post(f"{SERVER}/oauth/access_token").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(200, json={"access_token": TOKEN, "expires_in": "60"}),
        ]
    )
    mocked.get(f"{SERVER}/ws/v1/metadata").mock(return_value=httpx.Response(200, json=METADATA))
    assert run(powerschool.check(CREDS, factory)).ok and token.call_count == 2
    mocked.post(f"{SERVER}/oauth/access_token").mock(
        side_effect=httpx.ConnectError("[Errno -2] Name or service not known")
    )
    result = run(powerschool.check(CREDS, factory))
    assert (
        failure(result)
        == "Connection failed (token); token: cannot connect ([Errno -2] Name or service not known)"
    )


def test_server_url_with_a_path(mocked: respx.MockRouter) -> None:
    creds = CREDS._replace(server_url="http://127.0.0.1:8787/vendors/powerschool/lakeside")
    mocked.post("http://127.0.0.1:8787/vendors/powerschool/lakeside/oauth/access_token").mock(
        return_value=httpx.Response(200, json={"access_token": TOKEN, "expires_in": "60"})
    )
    mocked.get("http://127.0.0.1:8787/vendors/powerschool/lakeside/ws/v1/metadata").mock(
        return_value=httpx.Response(200, json=METADATA)
    )
    assert run(powerschool.check(creds, factory)).ok


def test_a_host_lost_after_the_token_fails_the_metadata_step(mocked: respx.MockRouter) -> None:
    mocked.post(f"{SERVER}/oauth/access_token").mock(
        return_value=httpx.Response(200, json={"access_token": TOKEN, "expires_in": "2592000"})
    )
    mocked.get(f"{SERVER}/ws/v1/metadata").mock(side_effect=httpx.ConnectError("connection refused"))
    result = run(powerschool.check(CREDS, factory))
    assert not result.ok and result.message == "Connection failed (metadata)"
    assert [(p.name, p.ok) for p in result.parts] == [("token", True), ("metadata", False)]
