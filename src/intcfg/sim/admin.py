"""The admin API of the three live systems: /sis, /portal and /enroll, under admin/v1.

Every route needs the admin bearer token. Objects are addressed by natural key; PUT
upserts and DELETE removes, both idempotent; lists are paginated with limit/cursor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from . import actions, objects, operations, world
from .contract import API, COLLECTIONS, MAX_BATCH, SITE_KINDS, SYSTEM_OF_KIND, ApiError, render
from .openapi_parts import check_body
from .store import Store
from .web import (
    Endpoint,
    check_name,
    etag,
    guarded,
    if_match,
    json_body,
    json_response,
    limit_param,
    require_admin,
)


class AdminApi:
    def __init__(self, store: Store, token: str) -> None:
        self.store = store
        self.token = token

    def routes(self) -> list[Route]:
        out: list[Route] = []
        for system, kinds in COLLECTIONS.items():
            base = f"/{system}/{API}"
            out += [
                Route(f"{base}/status", self._auth(self.status(system)), methods=["GET"]),
                Route(f"{base}/batch", self._auth(self.batch(system)), methods=["POST"]),
                Route(f"{base}/districts/{{district}}", self._auth(self.district), methods=["GET"]),
            ]
            for kind, collection in kinds.items():
                out += self._kind_routes(f"{base}/districts/{{district}}/{collection}", kind)
        return out + self._extra_routes()

    def _kind_routes(self, path: str, kind: str) -> list[Route]:
        return [
            Route(path, self._auth(self.list(kind)), methods=["GET"]),
            Route(
                f"{path}/{{name}}",
                self._auth(
                    _by_method(GET=self.read(kind), PUT=self.put(kind), DELETE=self.delete(kind))
                ),
                methods=["GET", "PUT", "DELETE"],
            ),
            Route(f"{path}/{{name}}/test", self._auth(self.test(kind)), methods=["POST"]),
        ]

    def _extra_routes(self) -> list[Route]:
        enroll = f"/enroll/{API}/districts/{{district}}"
        return [
            Route(
                f"/portal/{API}/districts/{{district}}/integration-log",
                self._auth(self.integration_log),
                methods=["GET"],
            ),
            Route(
                f"{enroll}/sync-connections/{{name}}/assign-schools",
                self._auth(self.assign_schools),
                methods=["POST"],
            ),
            Route(
                f"{enroll}/field-mappings/{{name}}/test-record",
                self._auth(self.test_record),
                methods=["POST"],
            ),
            Route(
                f"{enroll}/field-mappings/{{name}}/preview",
                self._auth(self.preview),
                methods=["POST"],
            ),
            Route(f"{enroll}/schedules/{{name}}/run", self._auth(self.run), methods=["POST"]),
            Route(
                f"{enroll}/field-codes/{{kind}}", self._auth(self.field_codes), methods=["GET"]
            ),
        ]

    async def field_codes(self, request: Request) -> Response:
        from .codes import KINDS, code_set

        world.district(self.store, request.path_params["district"])
        kind = request.path_params["kind"]
        if kind not in KINDS:
            raise ApiError(404, "not_found", f"no field-code set {kind!r}; one of {', '.join(KINDS)}")
        return json_response({"kind": kind, "codes": code_set(kind)})

    def _auth(self, endpoint: Endpoint) -> Endpoint:
        async def authorised(request: Request) -> Response:
            require_admin(request, self.token)
            return await endpoint(request)

        authorised.__name__ = endpoint.__name__
        return guarded(authorised)

    # -- generic per kind -------------------------------------------------------------------------

    def list(self, kind: str) -> Endpoint:
        async def list_objects(request: Request) -> Response:
            items, cursor = objects.page(
                self.store,
                request.path_params["district"],
                kind,
                limit_param(request),
                request.query_params.get("cursor"),
            )
            return json_response({"items": [render(o) for o in items], "next": cursor})

        return list_objects

    def read(self, kind: str) -> Endpoint:
        async def read_object(request: Request) -> Response:
            district, name, site = _key(request, kind)
            obj = objects.require(self.store, district, kind, name, site)
            return json_response(render(obj), headers=etag(obj))

        return read_object

    def put(self, kind: str) -> Endpoint:
        async def put_object(request: Request) -> Response:
            district, name, site = _key(request, kind)
            check_name(name, "name")
            body = await json_body(request)
            status, obj = objects.put(
                self.store, district, kind, name, site, body, if_match(request)
            )
            return json_response(render(obj), status, etag(obj))

        return put_object

    def delete(self, kind: str) -> Endpoint:
        async def delete_object(request: Request) -> Response:
            district, name, site = _key(request, kind)
            objects.delete(self.store, district, kind, name, site, if_match(request))
            return Response(status_code=204)

        return delete_object

    def test(self, kind: str) -> Endpoint:
        async def test_object(request: Request) -> Response:
            district, name, site = _key(request, kind)
            return json_response(
                operations.test(self.store, objects.require(self.store, district, kind, name, site))
            )

        return test_object

    # -- per system --------------------------------------------------------------------------------

    def status(self, system: str) -> Endpoint:
        async def status(request: Request) -> Response:
            districts = [row[0] for row in self.store.query("SELECT id FROM districts ORDER BY id")]
            return json_response(
                {
                    "system": system,
                    "api": API,
                    "kinds": list(COLLECTIONS[system]),
                    "districts": districts,
                }
            )

        return status

    async def district(self, request: Request) -> Response:
        did = request.path_params["district"]
        return json_response(
            {**world.district(self.store, did), "schools": world.schools(self.store, did)}
        )

    def batch(self, system: str) -> Endpoint:
        async def batch(request: Request) -> Response:
            body = await json_body(request)
            ops = body.get("operations") if isinstance(body, dict) else None
            if isinstance(ops, list) and len(ops) > MAX_BATCH:
                raise ApiError(
                    400,
                    "batch_too_large",
                    f"a batch holds at most {MAX_BATCH} operations, not {len(ops)}",
                )
            check_body("BatchRequest", body, system)
            return self.apply_batch(system, body["operations"])

        return batch

    def apply_batch(self, system: str, ops: Sequence[Any]) -> Response:
        """The answer to a batch of operations that fits the BatchRequest schema.

        One transaction, one commit: each operation sees the ones before it, and one that
        fails changes nothing (objects.Session)."""
        with objects.session(self.store) as s:
            _read_ahead(s, system, ops)
            results = [_encoded(self._one(s, system, i, op)) for i, op in enumerate(ops)]
        return _results(results)

    def _one(self, s: objects.Session, system: str, index: int, op: Any) -> dict[str, Any]:
        try:
            status, obj = self._apply(s, system, op)
        except ApiError as e:
            return {"index": index, "status": e.status, **e.body()}
        result: dict[str, Any] = {"index": index, "status": status}
        if obj is not None:
            result["object"] = render(obj)
        return result

    def _apply(
        self, s: objects.Session, system: str, op: Any
    ) -> tuple[int, dict[str, Any] | None]:
        if not isinstance(op, dict) or op.get("op") not in ("put", "delete"):
            raise ApiError(
                400,
                "invalid_operation",
                "an operation is {op: put|delete, district, kind, name, site?, spec?}",
            )
        kind = op.get("kind")
        if not isinstance(kind, str) or SYSTEM_OF_KIND.get(kind) != system:
            raise ApiError(
                422,
                "invalid_kind",
                f"kind {kind!r} does not live in {system} (its kinds: "
                f"{', '.join(COLLECTIONS[system])})",
            )
        district, name, site = op.get("district"), op.get("name"), op.get("site")
        if (
            not isinstance(district, str)
            or not isinstance(name, str)
            or not (site is None or isinstance(site, str))
        ):
            raise ApiError(
                400, "invalid_operation", "district and name are strings; site is a string or null"
            )
        expected = op.get("ifRevision")
        if expected is not None and (
            not isinstance(expected, int) or isinstance(expected, bool) or expected < 0
        ):
            raise ApiError(
                400, "invalid_operation", "ifRevision is a revision number (0: must not exist yet)"
            )
        if op["op"] == "delete":
            s.delete(district, kind, name, site or None, expected)
            return 204, None
        check_name(name, "name")
        body = {k: op[k] for k in ("spec", "managedBy") if k in op}
        return s.put(district, kind, name, site or None, body, expected)

    # -- the seed's operations ---------------------------------------------------------------------

    async def integration_log(self, request: Request) -> Response:
        items, cursor = objects.log_page(
            self.store,
            request.path_params["district"],
            limit_param(request),
            request.query_params.get("cursor"),
        )
        return json_response({"items": items, "next": cursor})

    async def assign_schools(self, request: Request) -> Response:
        district, name = request.path_params["district"], request.path_params["name"]
        body = await json_body(request)
        check_body("AssignSchools", body)
        obj = actions.assign_schools(self.store, district, name, body)
        return json_response(render(obj), headers=etag(obj))

    async def test_record(self, request: Request) -> Response:
        district, name = request.path_params["district"], request.path_params["name"]
        body = await json_body(request)
        check_body("TestRecordRequest", body)
        return json_response(actions.test_record(self.store, district, name, body))

    async def preview(self, request: Request) -> Response:
        district, name = request.path_params["district"], request.path_params["name"]
        body = await json_body(request, required=False)
        check_body("PreviewRequest", body)
        return json_response(actions.preview(self.store, district, name, body))

    async def run(self, request: Request) -> Response:
        district, name = request.path_params["district"], request.path_params["name"]
        obj = actions.run_schedule(
            self.store, objects.require(self.store, district, "Schedule", name)
        )
        return json_response(render(obj), headers=etag(obj))


def _read_ahead(s: objects.Session, system: str, ops: Sequence[Any]) -> None:
    """What the operations will read, in a few queries for all of them (a shortcut only)."""
    ops = [op for op in ops if isinstance(op, dict) and isinstance(op.get("district"), str)]
    s.read_ahead(
        system,
        [op["district"] for op in ops],
        [op["district"] for op in ops if op.get("site") or op.get("kind") == "SyncConnection"],
    )


def _encoded(result: dict[str, Any]) -> bytes | dict[str, Any]:
    """A result as the answer's JSON will hold it, written at once so that what it holds
    need not live until the batch ends (the dict itself if orjson cannot write it)."""
    try:
        return orjson.dumps(result)
    except TypeError:
        return result


def _results(encoded: list[bytes | dict[str, Any]]) -> Response:
    """The answer json_response({"results": ...}) gives, from the results written one by
    one (orjson writes a list as its items' JSON joined by commas)."""
    written = [e for e in encoded if isinstance(e, bytes)]
    if len(written) == len(encoded):
        return Response(b'{"results":[' + b",".join(written) + b"]}", media_type="application/json")
    return json_response(
        {"results": [orjson.loads(e) if isinstance(e, bytes) else e for e in encoded]}
    )


def _by_method(**endpoints: Endpoint) -> Endpoint:
    async def dispatch(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        return await endpoints[method](request)

    return dispatch


def _key(request: Request, kind: str) -> tuple[str, str, str | None]:
    site = request.query_params.get("site") or None
    if site is not None and kind not in SITE_KINDS:
        raise ApiError(
            400, "site_not_supported", f"{kind} has no per-site configuration; leave site out"
        )
    return request.path_params["district"], request.path_params["name"], site
