"""Request and response helpers shared by the simulator's routes."""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import re
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from .. import jsonin
from .contract import DEFAULT_LIMIT, MAX_LIMIT, ApiError

MAX_BODY = 1_048_576
Endpoint = Callable[[Request], Awaitable[Response]]


class _Json(JSONResponse):
    """Starlette's JSON answer, encoded by orjson: the lists a plan reads at scale are most
    of the simulator's work. Everything it answers came through ``json_body`` or from the
    simulator itself; anything orjson cannot encode goes to the standard library's encoder."""

    def render(self, content: Any) -> bytes:
        try:
            return orjson.dumps(content)
        except TypeError:
            return super().render(content)


def json_response(
    data: Any, status: int = 200, headers: dict[str, str] | None = None
) -> JSONResponse:
    return _Json(data, status_code=status, headers=headers)


def error_response(e: ApiError, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(e.body(), status_code=e.status, headers=headers)


def guarded(endpoint: Endpoint) -> Endpoint:
    """Turns ApiError into its JSON error response."""

    async def wrapper(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ApiError as e:
            headers = {"WWW-Authenticate": "Bearer"} if e.status == 401 else None
            return error_response(e, headers)

    wrapper.__name__ = endpoint.__name__
    return wrapper


async def body_bytes(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY:
        raise ApiError(413, "too_large", f"request bodies are limited to {MAX_BODY} bytes")
    data = b""
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY:
            raise ApiError(413, "too_large", f"request bodies are limited to {MAX_BODY} bytes")
    return data


async def json_body(request: Request, required: bool = True) -> Any:
    raw = await body_bytes(request)
    if not raw.strip():
        if required:
            raise ApiError(400, "invalid_json", "the request needs a JSON body")
        return {}
    return parse_json(raw)


def parse_json(raw: bytes) -> Any:
    """A request body as JSON; ApiError 400 for anything else, for NaN or Infinity, and
    for an integer beyond the 64-bit range (which no JSON parser elsewhere can read)."""
    try:
        # orjson where it reads the body as the standard library would (a batch of a
        # hundred upserts is about 100 KB): jsonin.py.
        return jsonin.loads(raw, lambda text: json.loads(text, parse_constant=_not_json, parse_int=_int64))
    except _OutOfRange:
        raise ApiError(
            400, "invalid_json", "a number in the body is an integer beyond the 64-bit range"
        ) from None
    except (ValueError, UnicodeDecodeError):
        raise ApiError(400, "invalid_json", "the body is not valid JSON") from None


class _OutOfRange(ValueError):
    pass


def _not_json(constant: str) -> Any:
    raise ValueError(f"{constant} is not a JSON number")


def _int64(text: str) -> int:
    value = int(text)
    if not -(2**63) <= value < 2**63:
        raise _OutOfRange(text)
    return value


async def form_body(request: Request) -> dict[str, str]:
    raw = await body_bytes(request)
    try:
        pairs = urllib.parse.parse_qsl(raw.decode("utf-8"), keep_blank_values=True)
    except (UnicodeDecodeError, ValueError):
        return {}
    return dict(pairs)


def basic_credentials(request: Request, urlencoded: bool = False) -> tuple[str, str] | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    user, sep, password = decoded.partition(":")
    if not sep:
        return None
    if urlencoded:
        user, password = urllib.parse.unquote(user), urllib.parse.unquote(password)
    return user, password


def require_admin(request: Request, token: str) -> None:
    scheme, _, given = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not hmac.compare_digest(
        given.strip().encode(), token.encode()
    ):
        raise ApiError(
            401, "unauthorized", "the admin API needs Authorization: Bearer <admin token>"
        )


def limit_param(request: Request) -> int:
    raw = request.query_params.get("limit")
    if raw is None:
        return DEFAULT_LIMIT
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
        raise ApiError(400, "invalid_limit", f"limit is an integer from 1 to {MAX_LIMIT}")
    return int(raw)


def if_match(request: Request) -> int | None:
    raw = request.headers.get("if-match")
    if raw is None:
        return None
    text = raw.strip().strip('"')
    if not text.isdigit():
        raise ApiError(
            400, "invalid_if_match", 'If-Match holds a revision, e.g. "3" ("0": must not exist yet)'
        )
    return int(text)


def etag(obj: dict[str, Any]) -> dict[str, str]:
    return {"ETag": f'"{obj["revision"]}"'}


NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def check_name(value: str, what: str) -> str:
    if not NAME.match(value):
        raise ApiError(
            422, f"invalid_{what}", f"{what} {value!r} is not a lowercase DNS label (a-z, 0-9, '-')"
        )
    return value
