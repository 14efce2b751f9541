"""Aeries: the Standard API certificate, and the OneRoster credentials beside it.

GET {apiUrl}/api/v5/systeminfo with the AERIES-CERT header (case-sensitive); a non-empty
``AeriesVersion`` proves the certificate (Aeries' own Test-AeriesApiConnection does this).
"""

from __future__ import annotations

from typing import NamedTuple

import httpx

from ..errors import ProviderError
from ..providers import http
from ..secrets import Secret
from . import oneroster
from .base import (
    ClientFactory,
    Part,
    VendorResult,
    connected,
    default_factory,
    json_of,
    status_text,
    unreachable,
)

SYSTEM = "aeries"


class Credentials(NamedTuple):
    api_url: str
    certificate: Secret
    one_roster: oneroster.Credentials


async def check(creds: Credentials, factory: ClientFactory = default_factory) -> VendorResult:
    async with factory(creds.api_url) as client:
        parts = [await _certificate(client, creds)]
    async with factory(creds.one_roster.url) as client:
        parts += await oneroster.check(client, creds.one_roster)
    return connected(parts)


async def _certificate(client: httpx.AsyncClient, creds: Credentials) -> Part:
    url = http.join_url(creds.api_url, "/api/v5/systeminfo")
    try:
        response = await http.send(
            client, "GET", url, system=SYSTEM, headers={"AERIES-CERT": creds.certificate.reveal()}
        )
    except ProviderError as e:
        return Part("certificate", False, unreachable(e))
    if response.status_code in (401, 403):
        return Part(
            "certificate", False, f"Aeries refused the certificate ({status_text(response)})"
        )
    version = (json_of(response) or {}).get("AeriesVersion")
    if not response.is_success or not version:
        return Part(
            "certificate", False, f"no Aeries system info at {url} ({status_text(response)})"
        )
    return Part("certificate", True, f"Aeries {version}")
