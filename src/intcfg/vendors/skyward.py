"""Skyward Qmlativ: a GET token request, then one Generic API call for the entity.

GET {apiUrl}/oauth/token?grant_type=client_credentials with Basic auth of the URL-encoded
key and secret; then GET {apiUrl}/Generic/{entityId}/District/SchoolYear/1/1.
"""

from __future__ import annotations

import base64
import urllib.parse
from typing import NamedTuple

import httpx

from ..providers import http
from ..secrets import Secret
from .base import (
    ClientFactory,
    Part,
    VendorResult,
    connected,
    default_factory,
    json_of,
    status_text,
    token_answer,
    token_then,
)

SYSTEM = "skyward"


class Credentials(NamedTuple):
    api_url: str
    consumer_key: str
    consumer_secret: Secret
    entity_id: int = 1


def _basic(creds: Credentials) -> str:
    key = urllib.parse.quote(creds.consumer_key, safe="")
    secret = urllib.parse.quote(creds.consumer_secret.reveal(), safe="")
    pair = f"{key}:{secret}"
    return "Basic " + base64.b64encode(pair.encode("utf-8")).decode("ascii")


async def check(creds: Credentials, factory: ClientFactory = default_factory) -> VendorResult:
    async with factory(creds.api_url) as client:
        parts = await token_then(
            lambda: _token(client, creds), lambda token: _entity(client, creds, token), "entity"
        )
    return connected(parts)


async def _token(client: httpx.AsyncClient, creds: Credentials) -> tuple[Secret | None, Part]:
    url = http.join_url(creds.api_url, "/oauth/token")
    # A GET is idempotent, so the transport retries it on 429/5xx, never on 400/401.
    response = await http.send(
        client,
        "GET",
        url,
        system=SYSTEM,
        params={"grant_type": "client_credentials"},
        headers={"Authorization": _basic(creds)},
    )
    refused = "Qmlativ refused the consumer key/secret"
    return token_answer(response, url, "token", refused, "Qmlativ access token")


async def _entity(client: httpx.AsyncClient, creds: Credentials, token: Secret) -> Part:
    url = http.join_url(creds.api_url, f"/Generic/{creds.entity_id}/District/SchoolYear/1/1")
    response = await http.send(
        client, "GET", url, system=SYSTEM, headers={"Authorization": f"Bearer {token.reveal()}"}
    )
    body = json_of(response)
    if response.is_success and body is not None and isinstance(body.get("Objects"), list):
        return Part("entity", True, f"entity {creds.entity_id} readable")
    if response.status_code == 401 and "Token has expired" in response.text:
        return Part("entity", False, "the token has expired")
    return Part("entity", False, f"entity {creds.entity_id} not readable ({status_text(response)})")
