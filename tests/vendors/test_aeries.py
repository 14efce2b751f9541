"""Aeries: the AERIES-CERT certificate, then OneRoster 1.1 token and orgs."""

from __future__ import annotations

import urllib.parse

import httpx
import respx
from vendkit import (
    factory,
    failure,
    mocked_fixture,  # noqa: F401 - fixtures
    run,
)

from intcfg.secrets import Secret
from intcfg.vendors import aeries, oneroster

API = "https://riverside.aeries.example.org/admin"
ROS = "https://riversideapi.aeries.example.org/admin"
CERT = "CANARY-aeries-cert-5e3f"
ROS_SECRET = "canary-oneroster-secret-77c0"
CREDS = aeries.Credentials(
    API, Secret(CERT), oneroster.Credentials(ROS, "consumer", Secret(ROS_SECRET))
)
SYSTEMINFO = {"AeriesVersion": "10.24.3.14", "DatabaseYear": "2026-2027"}


def _ros(mocked: respx.MockRouter, token_status: int = 200) -> respx.Route:
    token = mocked.post(f"{ROS}/token").mock(
        return_value=httpx.Response(
            token_status,
            json={"access_token": "tok-abcdef-123456", "token_type": "bearer", "expires_in": 21600}
            if token_status == 200
            else {"error": "invalid_client"},
        )
    )
    mocked.get(f"{ROS}/ims/oneroster/v1p1/orgs").mock(
        return_value=httpx.Response(200, json={"orgs": [{}]}, headers={"X-Total-Count": "3"})
    )
    return token


def test_valid(mocked: respx.MockRouter) -> None:
    info = mocked.get(f"{API}/api/v5/systeminfo").mock(
        return_value=httpx.Response(200, json=SYSTEMINFO)
    )
    token = _ros(mocked)
    result = run(aeries.check(CREDS, factory))
    assert result.ok, result
    assert [(p.name, p.message) for p in result.parts] == [
        ("certificate", "Aeries 10.24.3.14"),
        ("oneRoster", "token issued"),
        ("oneRosterOrgs", "3 orgs readable"),
    ]
    assert info.calls.last.request.headers["AERIES-CERT"] == CERT
    form = urllib.parse.parse_qs(token.calls.last.request.content.decode())
    assert form == {"grant_type": ["client_credentials"], "scope": [oneroster.SCOPE]}


def test_certificate_refused(mocked: respx.MockRouter) -> None:
    mocked.get(f"{API}/api/v5/systeminfo").mock(
        return_value=httpx.Response(401, json={"Message": "Invalid certificate"})
    )
    _ros(mocked)
    result = run(aeries.check(CREDS, factory))
    assert (
        failure(result)
        == "Connection failed (certificate); certificate: Aeries refused the certificate (HTTP "
        "401 Invalid certificate)"
    )
    assert [p.ok for p in result.parts] == [False, True, True]


def test_oneroster_refused(mocked: respx.MockRouter) -> None:
    mocked.get(f"{API}/api/v5/systeminfo").mock(return_value=httpx.Response(200, json=SYSTEMINFO))
    token = _ros(mocked, 401)
    result = run(aeries.check(CREDS, factory))
    assert token.call_count == 1
    assert (
        failure(result)
        == "Connection failed (oneRoster); oneRoster: OneRoster refused the Consumer ID/Secret "
        "(HTTP 401 invalid_client)"
    )
    assert ROS_SECRET not in repr(result) and CERT not in repr(result)


def test_empty_version_is_not_a_certificate_proof(mocked: respx.MockRouter) -> None:
    mocked.get(f"{API}/api/v5/systeminfo").mock(
        return_value=httpx.Response(200, json={"AeriesVersion": ""})
    )
    _ros(mocked)
    assert run(aeries.check(CREDS, factory)).parts[0].ok is False
