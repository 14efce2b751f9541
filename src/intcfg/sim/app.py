"""The simulator as one ASGI app: the three admin APIs, the vendor endpoints, control.

``create_app`` is used by ``intcfg sim serve`` (uvicorn) and, for a live URL of
``sim://``, in process through ``httpx.ASGITransport``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from . import DEV_TOKEN
from .admin import AdminApi
from .contract import API, COLLECTIONS
from .control import ControlApi
from .faults import FaultMiddleware, Faults, FaultState
from .store import Store
from .vendors import VendorApi


def create_app(
    db: str | Path = ":memory:", admin_token: str = DEV_TOKEN, faults: Faults | None = None
) -> Starlette:
    """The simulator; state in the SQLite file ``db`` (``:memory:`` for none).

    The caller owns the store's lifetime: ``app.state.store.close()`` when done.
    """
    if not admin_token:
        raise ValueError("the simulator needs an admin token")
    store = Store(db)
    fault_state = FaultState(faults or Faults())
    routes: list[BaseRoute] = [
        *AdminApi(store, admin_token).routes(),
        *ControlApi(store, fault_state, admin_token).routes(),
        *VendorApi(store).routes(),
        *[
            Route(f"/{system}/{API}/openapi.json", _openapi(system), methods=["GET"])
            for system in COLLECTIONS
        ],
    ]
    app = Starlette(
        routes=routes,
        middleware=[Middleware(FaultMiddleware, state=fault_state, routes=routes)],
        exception_handlers={HTTPException: _http_error},  # type: ignore[dict-item]
    )
    app.state.store = store
    app.state.faults = fault_state
    return app


async def _http_error(request: Request, exc: HTTPException) -> Response:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return JSONResponse(
        {"error": {"code": code, "message": f"{request.method} {request.url.path}: {exc.detail}"}},
        status_code=exc.status_code,
        headers=exc.headers,
    )


def _openapi(system: str) -> Callable[[Request], Awaitable[Response]]:
    async def openapi(request: Request) -> Response:
        from .openapi import document

        return JSONResponse(document(system))

    return openapi
