"""OneRoster 1.1 (as Aeries serves it): a token with Basic auth and a scope, paged resources."""

from __future__ import annotations

import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import students as sample
from . import world
from .contract import ApiError
from .store import Store, now
from .vendor_common import known, vjson
from .web import basic_credentials, form_body, json_response

ONEROSTER_ROOT = "/ims/oneroster/v1p1"


class OneRosterVendor:
    store: Store

    async def oneroster_token(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        known(self.store, "oneroster", inst)
        form = await form_body(request)
        given = basic_credentials(request)
        status, cred = (
            world.verify(self.store, "oneroster", inst, *given) if given else ("invalid", None)
        )
        if cred is None or status != "ok":
            return vjson({"error": "invalid_client"}, 401)  # [U] body and status
        if form.get("grant_type") != "client_credentials":
            return vjson({"error": "unsupported_grant_type"}, 400)
        if not form.get("scope", "").strip():
            return vjson(
                {
                    "error": "invalid_scope",
                    "error_description": "Scopes MUST be included in the request",
                },
                400,
            )
        token, ttl = world.issue_token(self.store, cred)
        cookie = secrets.token_hex(8)
        return vjson(
            {
                "access_token": token,
                "token_type": "bearer",
                "expires_in": ttl,
                "scope": form["scope"],
            },
            headers={"Set-Cookie": f"ARRAffinity={cookie}; Path=/; HttpOnly"},
        )

    def _oneroster_auth(self, request: Request) -> tuple[str, str | None] | Response:
        inst = request.path_params["instance"]
        known(self.store, "oneroster", inst)
        status, _ = world.check_token(
            self.store, "oneroster", inst, request.headers.get("authorization")
        )
        if status != "ok":
            return _imsx(401, "unauthorisedrequest", "Invalid or expired access token")
        return inst, world.instance_district(self.store, "oneroster", inst)

    async def oneroster_orgs(self, request: Request) -> Response:
        auth = self._oneroster_auth(request)
        if isinstance(auth, Response):
            return auth
        _, district = auth
        orgs = _orgs(self.store, district)
        return _paged(request, "orgs", orgs)

    async def oneroster_students(self, request: Request) -> Response:
        auth = self._oneroster_auth(request)
        if isinstance(auth, Response):
            return auth
        _, district = auth
        org_ids = (
            {s["id"]: s["sisSchoolNumber"] for s in world.schools(self.store, district)}
            if district
            else {}
        )
        users = (
            [sample.oneroster_user(s, org_ids, now()) for s in world.students(self.store, district)]
            if district
            else []
        )
        return _paged(request, "users", users)

    async def oneroster_student(self, request: Request) -> Response:
        auth = self._oneroster_auth(request)
        if isinstance(auth, Response):
            return auth
        _, district = auth
        try:
            student = world.student(self.store, district or "", request.path_params["sourced_id"])
        except ApiError:
            return _imsx(404, "unknownobject", "No student with this sourcedId")
        org_ids = {s["id"]: s["sisSchoolNumber"] for s in world.schools(self.store, district or "")}
        return vjson({"user": sample.oneroster_user(student, org_ids, now())})

    async def oneroster_demographics(self, request: Request) -> Response:
        auth = self._oneroster_auth(request)
        if isinstance(auth, Response):
            return auth
        _, district = auth
        try:
            student = world.student(self.store, district or "", request.path_params["sourced_id"])
        except ApiError:
            return _imsx(404, "unknownobject", "No demographics with this sourcedId")
        return vjson({"demographics": sample.oneroster_demographics(student, now())})


def _imsx(status: int, minor: str, description: str) -> JSONResponse:
    return vjson(
        {
            "imsx_codeMajor": "failure",
            "imsx_severity": "error",
            "imsx_description": description,
            "imsx_CodeMinor": {
                "imsx_codeMinorField": [
                    {
                        "imsx_codeMinorFieldName": "TargetEndSystem",
                        "imsx_codeMinorFieldValue": minor,
                    }
                ]
            },
        },
        status,
    )


def _orgs(store: Store, district: str | None) -> list[dict[str, Any]]:
    if district is None:
        return []
    d = world.district(store, district)
    schools = world.schools(store, district)
    children = [
        {
            "href": f"~/ims/oneroster/v1p1/orgs/{s['sisSchoolNumber']}",
            "sourcedId": s["sisSchoolNumber"],
            "type": "org",
        }
        for s in schools
    ]
    top = {
        "sourcedId": "0",
        "status": "active",
        "dateLastModified": now(),
        "metadata": None,
        "name": d["name"],
        "type": "district",
        "identifier": None,
        "parent": None,
        "children": children,
    }
    return [top] + [
        {
            "sourcedId": s["sisSchoolNumber"],
            "status": "active",
            "dateLastModified": now(),
            "metadata": None,
            "name": s["name"],
            "type": "school",
            "identifier": s["stateSchoolCode"] or None,
            "parent": {"href": "~/ims/oneroster/v1p1/orgs/0", "sourcedId": "0", "type": "org"},
            "children": None,
        }
        for s in schools
    ]


def _paged(request: Request, key: str, items: list[dict[str, Any]]) -> Response:
    raw_limit, raw_offset = (
        request.query_params.get("limit", "100"),
        request.query_params.get("offset", "0"),
    )
    if not raw_limit.isdigit() or not raw_offset.isdigit() or int(raw_limit) < 1:
        return _imsx(
            400, "invalid_data", "limit and offset are non-negative integers; limit at least 1"
        )
    limit, offset = min(int(raw_limit), 500), int(raw_offset)
    links = []
    base = str(request.url.remove_query_params(["limit", "offset"]))
    sep = "&" if "?" in base else "?"
    if offset + limit < len(items):
        links.append(f'<{base}{sep}limit={limit}&offset={offset + limit}>; rel="next"')
    links.append(
        f'<{base}{sep}limit={limit}&offset={max(0, (len(items) - 1) // limit * limit)}>; rel="last"'
    )
    headers = {"X-Total-Count": str(len(items)), "Link": ", ".join(links)}
    return json_response({key: items[offset : offset + limit]}, headers=headers)
