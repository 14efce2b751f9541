"""ETS CAASPP/ELPAC score reports: the token request at the configured API URL.

[U] ETS publishes no wire contract. Assumed here, and only here: POST {apiUrl} with a
JSON body {"username", "secretKey"}; 200 with {"token", "expiresIn"}; 401 for a wrong or
expired username/secret key. The outcomes use the portal's texts: ETS001 when the URL
does not answer as a token endpoint, ETS002 when the credentials are refused.
"""

from __future__ import annotations

import urllib.parse
from typing import NamedTuple

from ..errors import ProviderError
from ..providers import http
from ..secrets import Secret
from .base import (
    ClientFactory,
    Part,
    VendorResult,
    default_factory,
    json_of,
    status_text,
    unreachable,
)

SYSTEM = "ets"
ETS001 = "Provided API URL is either invalid or currently unavailable."
ETS002 = "Provided Username/Secret Key is either incorrect or has expired."
BAD_URL = "The API URL needs to be a valid URL string."
VALID = "Test Integration succeeded."


class Credentials(NamedTuple):
    api_url: str
    username: str
    secret_key: Secret


def valid_url(url: str) -> bool:
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    return (
        parts.scheme in ("http", "https")
        and bool(parts.hostname)
        and (port is None or 0 < port < 65536)
    )


async def check(creds: Credentials, factory: ClientFactory = default_factory) -> VendorResult:
    if not valid_url(creds.api_url):
        return VendorResult(False, BAD_URL, (Part("apiUrl", False, BAD_URL),))
    async with factory(creds.api_url) as client:
        try:
            response = await http.send(
                client,
                "POST",
                creds.api_url,
                system=SYSTEM,
                retry=True,
                json={"username": creds.username, "secretKey": creds.secret_key.reveal()},
            )
        except ProviderError as e:
            return _failed("ETS001", ETS001, unreachable(e))
    if response.status_code in (401, 403):
        return _failed("ETS002", ETS002, status_text(response))
    body = json_of(response)
    if not response.is_success or body is None or not isinstance(body.get("token"), str):
        return _failed("ETS001", ETS001, status_text(response))
    return VendorResult(True, VALID, (Part("token", True, "token issued"),))


def _failed(code: str, text: str, detail: str) -> VendorResult:
    return VendorResult(False, text, (Part("token", False, detail),), code)
