"""PowerSchool plugin credentials: OAuth 2 client credentials, then /ws/v1/metadata.

POST {server}/oauth/access_token with Basic auth (client id:secret) and the form body
grant_type=client_credentials; the answer's ``expires_in`` is a string. The metadata
answers without a token too, so only a ``plugin_id`` proves the token is a plugin's.
"""

from __future__ import annotations

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

SYSTEM = "powerschool"


class Credentials(NamedTuple):
    server_url: str
    client_id: str
    client_secret: Secret


async def check(creds: Credentials, factory: ClientFactory = default_factory) -> VendorResult:
    async with factory(creds.server_url) as client:
        parts = await token_then(
            lambda: _token(client, creds), lambda token: _metadata(client, creds, token), "metadata"
        )
    return connected(parts)


async def _token(client: httpx.AsyncClient, creds: Credentials) -> tuple[Secret | None, Part]:
    url = http.join_url(creds.server_url, "/oauth/access_token")
    response = await http.send(
        client,
        "POST",
        url,
        system=SYSTEM,
        retry=True,
        auth=(creds.client_id, creds.client_secret.reveal()),
        data={"grant_type": "client_credentials"},
        headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
    )
    refused = "PowerSchool refused the Client ID/Client Secret"
    token, part = token_answer(response, url, "token", refused, "PowerSchool access token")
    if token is None:
        return None, part
    body = json_of(response) or {}
    return token, part._replace(message=f"token issued{_lifetime(body.get('expires_in'))}")


def _lifetime(expires_in: object) -> str:
    # PowerSchool sends expires_in as a string ("1814654"); others send a number.
    try:
        seconds = int(str(expires_in))
    except ValueError:
        return ""
    return (
        f", valid for {seconds // 86400} days" if seconds >= 86400 else f", valid for {seconds} s"
    )


async def _metadata(client: httpx.AsyncClient, creds: Credentials, token: Secret) -> Part:
    url = http.join_url(creds.server_url, "/ws/v1/metadata")
    response = await http.send(
        client, "GET", url, system=SYSTEM, headers={"Authorization": f"Bearer {token.reveal()}"}
    )
    if response.status_code == 401:
        expired = "expired" in response.headers.get("WWW-Authenticate", "")
        return Part(
            "metadata", False, "the token has expired" if expired else "the token was rejected"
        )
    body = json_of(response) or {}
    metadata = body.get("metadata")
    if not response.is_success or not isinstance(metadata, dict):
        return Part("metadata", False, f"no metadata at {url} ({status_text(response)})")
    if "plugin_id" not in metadata:
        return Part("metadata", False, "the metadata has no plugin_id: the token is not a plugin's")
    version = metadata.get("powerschool_version", "?")
    return Part("metadata", True, f"plugin {metadata['plugin_id']} on PowerSchool {version}")
