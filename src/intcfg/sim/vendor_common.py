"""Helpers shared by the simulated vendor endpoints."""

from __future__ import annotations

from typing import Any

from starlette.responses import JSONResponse

from . import world
from .contract import ApiError
from .store import Store


def vjson(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


def known(store: Store, vendor: str, instance: str) -> None:
    if not world.instance_known(store, vendor, instance):
        raise ApiError(404, "not_found", f"no {vendor} instance {instance!r} here")
