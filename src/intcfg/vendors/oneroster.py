"""OneRoster 1.1 with OAuth 2 client credentials (as Aeries serves it).

POST {url}/token with Basic auth (consumer id:secret), grant_type=client_credentials and
at least one scope; then GET {url}/ims/oneroster/v1p1/orgs?limit=1 with the bearer token.
"""

from __future__ import annotations

from typing import NamedTuple

import httpx

from ..errors import ProviderError
from ..providers import http
from ..secrets import Secret
from .base import Part, json_of, status_text, token_answer, unreachable

SYSTEM = "oneroster"
SCOPE = "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly"
ROOT = "/ims/oneroster/v1p1"


class Credentials(NamedTuple):
    url: str
    consumer_id: str
    consumer_secret: Secret


async def check(client: httpx.AsyncClient, creds: Credentials) -> list[Part]:
    try:
        token, part = await _token(client, creds)
        if token is None:
            return [part]
        return [part, await _orgs(client, creds, token)]
    except ProviderError as e:
        return [Part("oneRoster", False, unreachable(e))]


async def _token(client: httpx.AsyncClient, creds: Credentials) -> tuple[Secret | None, Part]:
    url = http.join_url(creds.url, "/token")
    response = await http.send(
        client,
        "POST",
        url,
        system=SYSTEM,
        retry=True,
        auth=(creds.consumer_id, creds.consumer_secret.reveal()),
        data={"grant_type": "client_credentials", "scope": SCOPE},
    )
    refused = "OneRoster refused the Consumer ID/Secret"
    return token_answer(response, url, "oneRoster", refused, "OneRoster access token")


async def _orgs(client: httpx.AsyncClient, creds: Credentials, token: Secret) -> Part:
    url = http.join_url(creds.url, f"{ROOT}/orgs")
    response = await http.send(
        client,
        "GET",
        url,
        system=SYSTEM,
        params={"limit": "1"},
        headers={"Authorization": f"Bearer {token.reveal()}"},
    )
    body = json_of(response)
    orgs = body.get("orgs") if body is not None else None
    if response.is_success and isinstance(orgs, list):
        count = response.headers.get("X-Total-Count", str(len(orgs)))
        return Part("oneRosterOrgs", True, f"{count} orgs readable")
    return Part("oneRosterOrgs", False, f"cannot read {ROOT}/orgs ({status_text(response)})")
