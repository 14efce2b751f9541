"""What a vendor credential test answers, and the helpers the vendor modules share."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import NamedTuple

import httpx

from ..errors import ProviderError
from ..providers import http
from ..secrets import Secret

ClientFactory = Callable[[str], httpx.AsyncClient]


class Part(NamedTuple):
    """One step of a test: a token, a certificate, a reachability check."""

    name: str
    ok: bool
    message: str


class VendorResult(NamedTuple):
    ok: bool
    message: str
    parts: tuple[Part, ...] = ()
    code: str | None = None  # ETS001/ETS002 for ETS


def default_factory(base_url: str) -> httpx.AsyncClient:
    return http.build_client(base_url)


def connected(
    parts: list[Part], ok_text: str = "Connected", failed_text: str = "Connection failed"
) -> VendorResult:
    failed = [p.name for p in parts if not p.ok]
    if not failed:
        return VendorResult(True, ok_text, tuple(parts))
    return VendorResult(False, f"{failed_text} ({', '.join(failed)})", tuple(parts))


async def token_then(
    token: Callable[[], Awaitable[tuple[Secret | None, Part]]],
    then: Callable[[Secret], Awaitable[Part]],
    then_name: str,
) -> list[Part]:
    """A token-based test's two steps: the token, then one request made with it (only
    when one was issued). A host that cannot be reached fails the step it stopped at."""
    parts: list[Part] = []
    try:
        issued, part = await token()
        parts.append(part)
        if issued is not None:
            parts.append(await then(issued))
    except ProviderError as e:
        parts.append(Part("token" if not parts else then_name, False, unreachable(e)))
    return parts


def token_answer(
    response: httpx.Response, url: str, step: str, refused: str, label: str
) -> tuple[Secret | None, Part]:
    """A token endpoint's answer as the step ``step`` of a test: refused (400 or 401: the
    credentials, ``refused`` says whose), no token (any other answer without an
    ``access_token``), or the token (a Secret named ``label``)."""
    body = json_of(response)
    if response.status_code in (400, 401):
        return None, Part(step, False, f"{refused} ({status_text(response)})")
    if not response.is_success or body is None or not isinstance(body.get("access_token"), str):
        return None, Part(step, False, f"no token from {url} ({status_text(response)})")
    return Secret(str(body["access_token"]), label), Part(step, True, "token issued")


def unreachable(error: ProviderError) -> str:
    """A transport failure as a test outcome: the part of the message after the URL."""
    text = str(error)
    return text.split(": ", 2)[-1] if text.count(": ") >= 2 else text


def status_text(response: httpx.Response) -> str:
    return f"HTTP {response.status_code} {http.error_message(response)}"


def json_of(response: httpx.Response) -> dict[str, object] | None:
    try:
        body = response.json()
    except ValueError:
        return None
    return body if isinstance(body, dict) else None
