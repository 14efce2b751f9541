"""ETS (an assumed contract) and an eTranscript vendor (an assumed password grant)."""

from __future__ import annotations

import json
import urllib.parse

import httpx
import pytest
import respx
from vendkit import (
    factory,
    mocked_fixture,  # noqa: F401 - fixtures
    run,
)

from intcfg.secrets import Secret
from intcfg.vendors import etranscript, ets

ETS_URL = "https://caaspp.example.org/api/v1/token"
ETS_KEY = "canary-ets-secret-key-0d1e"
ETS_CREDS = ets.Credentials(ETS_URL, "riverside-toms", Secret(ETS_KEY))


def test_ets_valid(mocked: respx.MockRouter) -> None:
    route = mocked.post(ETS_URL).mock(
        return_value=httpx.Response(200, json={"token": "tok-abcdef-123456", "expiresIn": 1800})
    )
    result = run(ets.check(ETS_CREDS, factory))
    assert (result.ok, result.code) == (True, None)
    assert json.loads(route.calls.last.request.content) == {
        "username": "riverside-toms",
        "secretKey": ETS_KEY,
    }


@pytest.mark.parametrize(
    "response, code, message",
    [
        (
            httpx.Response(401, json={"error": "invalid_credentials"}),
            "ETS002",
            "Provided Username/Secret Key is either incorrect or has expired.",
        ),
        (
            httpx.Response(401, json={"error": "credentials_expired"}),
            "ETS002",
            "Provided Username/Secret Key is either incorrect or has expired.",
        ),
        (
            httpx.Response(404, text="Not Found"),
            "ETS001",
            "Provided API URL is either invalid or currently unavailable.",
        ),
        (
            httpx.Response(200, text="<html>portal</html>"),
            "ETS001",
            "Provided API URL is either invalid or currently unavailable.",
        ),
    ],
)
def test_ets_failures(
    mocked: respx.MockRouter, response: httpx.Response, code: str, message: str
) -> None:
    mocked.post(ETS_URL).mock(return_value=response)
    result = run(ets.check(ETS_CREDS, factory))
    assert (result.ok, result.code, result.message) == (False, code, message)


def test_ets_unreachable_and_malformed(mocked: respx.MockRouter) -> None:
    mocked.post(ETS_URL).mock(side_effect=httpx.ConnectError("refused"))
    assert run(ets.check(ETS_CREDS, factory)).code == "ETS001"
    result = run(
        ets.check(ETS_CREDS._replace(api_url="https://caaspp.example.org:99999/api"), factory)
    )
    assert (result.ok, result.message) == (False, "The API URL needs to be a valid URL string.")


ETR = etranscript.Credentials(
    "https://exchange.example.org",
    "/oauth/token",
    "https://upload.example.org",
    8443,
    "/api/v4/transcripts",
    "riverside-parchment",
    Secret("canary-etr-consumer-secret-3a"),
    "registrar@riverside.example.org",
    Secret("canary-etr-password-9b"),
)


def test_etranscript_valid(mocked: respx.MockRouter) -> None:
    token = mocked.post("https://exchange.example.org/oauth/token").mock(
        return_value=httpx.Response(200, json={"access_token": "tok-abcdef-123456"})
    )
    upload = mocked.head("https://upload.example.org:8443/api/v4/transcripts").mock(
        return_value=httpx.Response(405)
    )
    result = run(etranscript.check(ETR, factory))
    assert (result.ok, result.message) == (True, "Your connection is valid")
    request = token.calls.last.request
    assert urllib.parse.parse_qs(request.content.decode()) == {
        "grant_type": ["password"],
        "username": ["registrar@riverside.example.org"],
        "password": ["canary-etr-password-9b"],
    }
    assert request.headers["Authorization"].startswith("Basic ")
    assert upload.calls.last.request.headers["Authorization"] == "Bearer tok-abcdef-123456"


@pytest.mark.parametrize(
    "auth, upload, failed_part",
    [
        (httpx.Response(400, json={"error": "invalid_grant"}), None, "auth"),
        (
            httpx.Response(200, json={"access_token": "tok-abcdef-123456"}),
            httpx.Response(404),
            "upload",
        ),
        (
            httpx.Response(200, json={"access_token": "tok-abcdef-123456"}),
            httpx.Response(401),
            "upload",
        ),
    ],
)
def test_etranscript_failed(
    mocked: respx.MockRouter, auth: httpx.Response, upload: httpx.Response | None, failed_part: str
) -> None:
    mocked.post("https://exchange.example.org/oauth/token").mock(return_value=auth)
    if upload is not None:
        mocked.head("https://upload.example.org:8443/api/v4/transcripts").mock(return_value=upload)
    result = run(etranscript.check(ETR, factory))
    assert (result.ok, result.message) == (False, "Connection failed")
    assert [p.name for p in result.parts if not p.ok] == [failed_part]


def test_upload_url_takes_the_port_from_upload_port() -> None:
    creds = ETR._replace(
        upload_server="http://127.0.0.1:1/vendors/etranscript/parchment",
        upload_port=8787,
        upload_path="/upload",
    )
    assert (
        etranscript.upload_url(creds)
        == "http://127.0.0.1:8787/vendors/etranscript/parchment/upload"
    )
