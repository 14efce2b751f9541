"""Simulator control for tests, benchmarks and demos, under /_sim (admin token required):
state, stats, reset, faults, seed and running due schedules."""

from __future__ import annotations


from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import actions, world
from .contract import ApiError, render
from .faults import FaultState
from .store import Store, loads
from .web import Endpoint, guarded, json_body, json_response, require_admin


class ControlApi:
    def __init__(self, store: Store, faults: FaultState, token: str) -> None:
        self.store = store
        self.faults = faults
        self.token = token

    def routes(self) -> list[Route]:
        table: list[tuple[str, Endpoint, str]] = [
            ("/_sim/state", self.state, "GET"),
            ("/_sim/stats", self.stats, "GET"),
            ("/_sim/reset", self.reset, "POST"),
            ("/_sim/faults", self.faults_settings, "GET,POST"),
            ("/_sim/seed", self.seed, "POST"),
            ("/_sim/run-schedules", self.run_schedules, "POST"),
        ]
        return [
            Route(path, self._auth(endpoint), methods=method.split(","))
            for path, endpoint, method in table
        ]

    def _auth(self, endpoint: Endpoint) -> Endpoint:
        async def authorised(request: Request) -> Response:
            require_admin(request, self.token)
            return await endpoint(request)

        authorised.__name__ = endpoint.__name__
        return guarded(authorised)

    async def state(self, request: Request) -> Response:
        held = world.state(self.store)
        held["objects"] = [
            {
                **{k: v for k, v in o.items() if k != "secrets"},
                "secrets": {
                    path: {"fingerprint": m["digest"], "setAt": m["setAt"]}
                    for path, m in sorted(o.get("secrets", {}).items())
                },
            }
            for o in self.store.docs(
                "SELECT data FROM objects ORDER BY system, district, kind, name, site"
            )
        ]
        held["integrationLog"] = [
            {"seq": seq, "district": d, **loads(data)}
            for seq, d, data in self.store.query(
                "SELECT seq, district, data FROM integration_log ORDER BY seq"
            )
        ]
        held["faults"] = self.faults.faults.as_json()
        return json_response(held)

    async def stats(self, request: Request) -> Response:
        return json_response(self.faults.stats())

    async def reset(self, request: Request) -> Response:
        body = _object(await json_body(request, required=False))
        self.store.reset()
        if not (isinstance(body, dict) and body.get("keepStats")):
            self.faults.reset_counters()
        return json_response({"reset": True})

    async def faults_settings(self, request: Request) -> Response:
        if request.method in ("GET", "HEAD"):
            return json_response(self.faults.faults.as_json())
        body = await json_body(request)
        if not isinstance(body, dict):
            raise ApiError(
                400, "invalid_body", "send the fault settings to change as a JSON object"
            )
        try:
            self.faults.configure(self.faults.faults.updated(body))
        except ValueError as e:
            raise ApiError(422, "invalid_faults", str(e)) from None
        return json_response(self.faults.faults.as_json())

    async def seed(self, request: Request) -> Response:
        return json_response(world.seed(self.store, _object(await json_body(request))))

    async def run_schedules(self, request: Request) -> Response:
        body = _object(await json_body(request, required=False))
        district, at = body.get("district"), body.get("time")
        if not (district is None or isinstance(district, str)) or not (
            at is None or isinstance(at, str)
        ):
            raise ApiError(400, "invalid_body", "district and time (HH:MM) are optional strings")
        ran = [
            render(actions.run_schedule(self.store, s))
            for s in actions.due_schedules(self.store, district, at)
        ]
        return json_response({"ran": ran})


def _object(body: object) -> dict[str, object]:
    if not isinstance(body, dict):
        raise ApiError(400, "invalid_body", "the body is a JSON object")
    return body
