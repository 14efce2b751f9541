"""An eTranscript release vendor: OAuth at authServer + authPath, and the upload server.

[U] How the SIS combines Consumer Key/Secret with User Name/Password is not public.
Assumed: an OAuth 2 password grant at authServer + authPath, the consumer key and secret
as the client's Basic auth, user name and password in the form body. The upload check
asks uploadServer at uploadPort + uploadPath (HEAD, with the token): any answer but 404,
401/403 or a server error means reachable. The outcome uses the screen's texts.
"""

from __future__ import annotations

import urllib.parse
from typing import NamedTuple

import httpx

from ..errors import ProviderError
from ..providers import http
from ..secrets import Secret
from .base import (
    ClientFactory,
    Part,
    VendorResult,
    connected,
    default_factory,
    token_answer,
    unreachable,
)

SYSTEM = "etranscript"
VALID = "Your connection is valid"
FAILED = "Connection failed"


class Credentials(NamedTuple):
    auth_server: str
    auth_path: str
    upload_server: str
    upload_port: int
    upload_path: str
    consumer_key: str
    consumer_secret: Secret
    user_name: str
    password: Secret


def upload_url(creds: Credentials) -> str:
    """uploadServer with its port replaced by uploadPort, joined with uploadPath."""
    parts = urllib.parse.urlsplit(creds.upload_server)
    netloc = (
        f"{parts.hostname}:{creds.upload_port}"
        if ":" not in (parts.hostname or "")
        else f"[{parts.hostname}]:{creds.upload_port}"
    )
    base = urllib.parse.urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    return http.join_url(base, creds.upload_path)


async def check(creds: Credentials, factory: ClientFactory = default_factory) -> VendorResult:
    async with factory(creds.auth_server) as client:
        token, auth = await _token(client, creds)
    parts = [auth]
    if token is not None:
        target = upload_url(creds)
        async with factory(target) as client:
            parts.append(await _upload(client, target, token))
    result = connected(parts, VALID, FAILED)
    # The screen says exactly this; the parts say what failed.
    return result if result.ok else result._replace(message=FAILED)


async def _token(client: httpx.AsyncClient, creds: Credentials) -> tuple[Secret | None, Part]:
    url = http.join_url(creds.auth_server, creds.auth_path)
    form = {
        "grant_type": "password",
        "username": creds.user_name,
        "password": creds.password.reveal(),
    }
    try:
        response = await http.send(
            client,
            "POST",
            url,
            system=SYSTEM,
            retry=True,
            data=form,
            auth=(creds.consumer_key, creds.consumer_secret.reveal()),
        )
    except ProviderError as e:
        return None, Part("auth", False, unreachable(e))
    return token_answer(
        response, url, "auth", "the auth server refused the credentials", "eTranscript access token"
    )


async def _upload(client: httpx.AsyncClient, url: str, token: Secret) -> Part:
    try:
        response = await http.send(
            client,
            "HEAD",
            url,
            system=SYSTEM,
            headers={"Authorization": f"Bearer {token.reveal()}"},
        )
    except ProviderError as e:
        return Part("upload", False, unreachable(e))
    if response.status_code in (401, 403):
        return Part(
            "upload", False, f"the upload server refused the token (HTTP {response.status_code})"
        )
    if response.status_code == 404 or response.status_code >= 500:
        return Part(
            "upload", False, f"the upload path does not answer (HTTP {response.status_code})"
        )
    return Part("upload", True, "upload server reachable")
