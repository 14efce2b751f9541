"""The vendors' own protocols, under /vendors/VENDOR/INSTANCE, so a config URL such as
``serverUrl: http://127.0.0.1:PORT/vendors/powerschool/lakeside`` points at them.

Facts follow /work/shared/VENDOR-PROTOCOLS.md. Where the vendor documents nothing the
behaviour is an assumption, marked [U] here and in the OpenAPI description: error bodies
and statuses for bad credentials, Qmlativ's token JSON, the whole ETS contract, and how
an eTranscript vendor combines consumer key/secret with user name/password.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import students as sample
from . import world
from .contract import ApiError
from .store import Store, now
from .web import basic_credentials, form_body, guarded, json_body, json_response

ONEROSTER_ROOT = "/ims/oneroster/v1p1"


def _json(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(data, status_code=status, headers=headers)


def _known(store: Store, vendor: str, instance: str) -> None:
    if not world.instance_known(store, vendor, instance):
        raise ApiError(404, "not_found", f"no {vendor} instance {instance!r} here")


class VendorApi:
    def __init__(self, store: Store) -> None:
        self.store = store

    def routes(self) -> list[Route]:
        ps, ae, ros, sky = "/vendors/powerschool/{instance}", "/vendors/aeries/{instance}", "/vendors/oneroster/{instance}", "/vendors/skyward/{instance}"
        ets, etr = "/vendors/ets/{instance}", "/vendors/etranscript/{instance}"
        table = [
            (f"{ps}/oauth/access_token", self.ps_token, ["POST"]),
            (f"{ps}/oauth/access_token/", self.ps_token, ["POST"]),
            (f"{ps}/ws/v1/metadata", self.ps_metadata, ["GET"]),
            (f"{ae}/api/v5/systeminfo", self.aeries_systeminfo, ["GET"]),
            (f"{ae}/api/v5/schools", self.aeries_schools, ["GET"]),
            (f"{ros}/token", self.oneroster_token, ["POST"]),
            (f"{ros}{ONEROSTER_ROOT}/orgs", self.oneroster_orgs, ["GET"]),
            (f"{ros}{ONEROSTER_ROOT}/students", self.oneroster_students, ["GET"]),
            (f"{ros}{ONEROSTER_ROOT}/students/{{sourced_id}}", self.oneroster_student, ["GET"]),
            (f"{sky}/oauth/token", self.skyward_token, ["GET"]),
            (f"{sky}/Generic/{{entity}}/District/SchoolYear/{{page}}/{{size}}", self.skyward_school_years, ["GET"]),
            (f"{ets}/api/v1/token", self.ets_token, ["POST"]),
            (f"{ets}/api/v1/ssr", self.ets_ssr, ["GET"]),
            (f"{etr}/{{path:path}}", self.etranscript, ["GET", "HEAD", "POST"]),
        ]
        return [Route(path, guarded(endpoint), methods=methods) for path, endpoint, methods in table]

    # -- PowerSchool: OAuth 2 client credentials, then /ws/v1/metadata ---------------------------

    async def ps_token(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        _known(self.store, "powerschool", inst)
        given = basic_credentials(request)
        form = await form_body(request)
        status, cred = world.verify(self.store, "powerschool", inst, *given) if given else ("invalid", None)
        if cred is None or status != "ok":
            # [U] PowerSchool documents no body for bad client credentials; RFC 6749 invalid_client.
            return _json({"error": "invalid_client"}, 401, {"WWW-Authenticate": 'Basic realm="PowerSchool"'})
        if form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        token, ttl = world.issue_token(self.store, cred, reuse=True)
        # expires_in is a string in PowerSchool's responses [C].
        return _json({"access_token": token, "token_type": "Bearer", "expires_in": str(ttl)})

    async def ps_metadata(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        _known(self.store, "powerschool", inst)
        status, client_id = world.check_token(self.store, "powerschool", inst, request.headers.get("authorization"))
        if status in ("invalid", "expired"):
            detail = ', error_description="The access token expired"' if status == "expired" else ""
            return _json({"message": "Invalid token"}, 401, {"WWW-Authenticate": f'Bearer error="invalid_token"{detail}'})
        metadata: dict[str, Any] = {
            "powerschool_version": "24.7.0.0", "state": "IL", "district_timezone": "America/Chicago",
            "student_max_page_size": 100, "school_max_page_size": 100, "sso_enabled_admin": "false",
        }
        if status == "ok":
            cred = world.credential(self.store, "powerschool", inst, client_id or "")
            metadata["plugin_id"] = (cred or {}).get("pluginId", 0)
        return _json({"metadata": metadata})

    # -- Aeries: the AERIES-CERT header; OneRoster 1.1 with a token ---------------------------------

    def _aeries_cert(self, request: Request) -> str:
        inst = request.path_params["instance"]
        _known(self.store, "aeries", inst)
        status, _ = world.verify(self.store, "aeries", inst, "certificate", request.headers.get("aeries-cert", ""))
        if status != "ok":
            # [U] Aeries documents {"Message": ...} bodies but not the status for a bad certificate.
            raise ApiError(401, "invalid_certificate", "Invalid or expired certificate")
        return inst

    async def aeries_systeminfo(self, request: Request) -> Response:
        try:
            self._aeries_cert(request)
        except ApiError as e:
            return _json({"Message": e.message}, e.status) if e.status == 401 else _json(e.body(), e.status)
        return _json({
            "AeriesVersion": "10.24.3.14", "DatabaseYear": "2026-2027",
            "AvailableDatabaseYears": ["2026-2027", "2025-2026"],
            "LocalTimeZoneName": "(UTC-08:00) Pacific Time (US & Canada)", "CurrentDateTime": now(),
        })

    async def aeries_schools(self, request: Request) -> Response:
        try:
            inst = self._aeries_cert(request)
        except ApiError as e:
            return _json({"Message": e.message}, e.status) if e.status == 401 else _json(e.body(), e.status)
        district = world.instance_district(self.store, "aeries", inst)
        schools = world.schools(self.store, district) if district else []
        return _json([{"SchoolCode": int(s["sisSchoolNumber"] or 0), "Name": s["name"], "InactiveStatusCode": ""} for s in schools])

    async def oneroster_token(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        _known(self.store, "oneroster", inst)
        form = await form_body(request)
        given = basic_credentials(request)
        status, cred = world.verify(self.store, "oneroster", inst, *given) if given else ("invalid", None)
        if cred is None or status != "ok":
            return _json({"error": "invalid_client"}, 401)  # [U] body and status
        if form.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        if not form.get("scope", "").strip():
            return _json({"error": "invalid_scope", "error_description": "Scopes MUST be included in the request"}, 400)
        token, ttl = world.issue_token(self.store, cred)
        cookie = secrets.token_hex(8)
        return _json({"access_token": token, "token_type": "bearer", "expires_in": ttl, "scope": form["scope"]},
                     headers={"Set-Cookie": f"ARRAffinity={cookie}; Path=/; HttpOnly"})

    def _oneroster_auth(self, request: Request) -> tuple[str, str | None] | Response:
        inst = request.path_params["instance"]
        _known(self.store, "oneroster", inst)
        status, _ = world.check_token(self.store, "oneroster", inst, request.headers.get("authorization"))
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
        org_ids = {s["id"]: s["sisSchoolNumber"] for s in world.schools(self.store, district)} if district else {}
        users = [sample.oneroster_user(s, org_ids, now()) for s in world.students(self.store, district)] if district else []
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
        return _json({"user": sample.oneroster_user(student, org_ids, now())})

    # -- Skyward Qmlativ: GET /oauth/token with Basic auth; the Generic API --------------------------

    async def skyward_token(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        _known(self.store, "skyward", inst)
        given = basic_credentials(request, urlencoded=True)
        status, cred = world.verify(self.store, "skyward", inst, *given) if given else ("invalid", None)
        if status == "expired":
            return _json({"error": "invalid_client", "error_description": "Credentials have expired"}, 401)  # [U]
        if cred is None:
            return _json({"error": "invalid_client"}, 401)  # [U]
        if request.query_params.get("grant_type") != "client_credentials":
            return _json({"error": "unsupported_grant_type"}, 400)
        token, ttl = world.issue_token(self.store, cred)
        return _json({"access_token": token, "token_type": "bearer", "expires_in": ttl})  # [U] field set

    async def skyward_school_years(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        _known(self.store, "skyward", inst)
        status, client_id = world.check_token(self.store, "skyward", inst, request.headers.get("authorization"))
        if status == "expired":
            return _json({"Message": "Token has expired"}, 401)
        if status != "ok":
            return _json({"Message": "Authorization has been denied for this request."}, 401)
        cred = world.credential(self.store, "skyward", inst, client_id or "") or {}
        entity = request.path_params["entity"]
        if not entity.isdigit() or int(entity) not in cred.get("entityIds", []):
            return _json({"Message": f"Entity {entity} is not accessible with this key."}, 403)  # [U]
        return self._school_year_page(entity, request.path_params["page"], request.path_params["size"])

    def _school_year_page(self, entity: str, page: str, size: str) -> Response:
        if not (page.isdigit() and size.isdigit() and int(page) >= 1 and 1 <= int(size) <= 500):
            return _json({"Message": "page and page size are positive integers"}, 400)
        years = [{"SchoolYearID": y - 2000, "Description": f"{y - 1}-{y}", "NumericYear": y} for y in range(2027, 2020, -1)]
        p, n = int(page), int(size)
        chunk = years[(p - 1) * n: p * n]
        nxt = f"/Generic/{entity}/District/SchoolYear/{p + 1}/{n}" if p * n < len(years) else None
        return _json({"Objects": chunk, "Paging": {"Next": nxt}})

    # -- ETS: an invented contract [U], kept in these two routes -------------------------------------

    async def ets_token(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        _known(self.store, "ets", inst)
        body = await json_body(request, required=False)
        user = body.get("username") if isinstance(body, dict) else None
        key = body.get("secretKey") if isinstance(body, dict) else None
        if not isinstance(user, str) or not isinstance(key, str):
            return _json({"error": "invalid_request", "message": "username and secretKey are required"}, 400)
        status, cred = world.verify(self.store, "ets", inst, user, key)
        if status == "expired":
            return _json({"error": "credentials_expired", "message": "The secret key has expired"}, 401)
        if cred is None:
            return _json({"error": "invalid_credentials", "message": "Unknown username or secret key"}, 401)
        token, ttl = world.issue_token(self.store, cred)
        return _json({"token": token, "expiresIn": ttl})

    async def ets_ssr(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        _known(self.store, "ets", inst)
        status, _ = world.check_token(self.store, "ets", inst, request.headers.get("authorization"))
        if status != "ok":
            return _json({"error": "invalid_token"}, 401)
        ssid = request.query_params.get("ssid", "")
        if not ssid.isdigit() or len(ssid) != 10:
            return _json({"error": "unknown_ssid", "message": "ETS003: the state student id is unrecognized"}, 404)
        digest = hashlib.sha256(ssid.encode()).hexdigest()[:12]
        return _json([{"reportType": "CAASPP", "year": "2026", "language": "en", "pdf": f"/reports/{digest}.pdf"}])

    # -- eTranscript vendor: OAuth at authServer+authPath; the upload endpoint -----------------------

    async def etranscript(self, request: Request) -> Response:
        inst, path = request.path_params["instance"], "/" + request.path_params["path"]
        _known(self.store, "etranscript", inst)
        creds = self.store.docs("SELECT data FROM credentials WHERE vendor='etranscript' AND instance=?", (inst,))
        if request.method == "POST" and any(c["authPath"] == path for c in creds):
            return await self._etranscript_token(request, inst)
        status, _ = world.check_token(self.store, "etranscript", inst, request.headers.get("authorization"))
        if status != "ok":
            return _json({"error": "invalid_token"}, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        return _json({"status": "accepted"}, 202) if request.method == "POST" else _json({"status": "ready"})

    async def _etranscript_token(self, request: Request, inst: str) -> Response:
        # [U] How the SIS combines consumer key/secret with user name/password is not public;
        # assumed: an OAuth 2 password grant with the consumer key/secret as client Basic auth.
        form = await form_body(request)
        given = basic_credentials(request)
        status, cred = world.verify(self.store, "etranscript", inst, *given) if given else ("invalid", None)
        if cred is None:
            return _json({"error": "invalid_client"}, 401)
        if form.get("grant_type") != "password":
            return _json({"error": "unsupported_grant_type"}, 400)
        if form.get("username") != cred["username"] or not self.store.matches(form.get("password", ""), cred["password"]):
            return _json({"error": "invalid_grant", "error_description": "Bad user name or password"}, 400)
        if status == "expired":
            return _json({"error": "invalid_grant", "error_description": "The credentials have expired"}, 400)
        token, ttl = world.issue_token(self.store, cred)
        return _json({"access_token": token, "token_type": "Bearer", "expires_in": ttl})


def _imsx(status: int, minor: str, description: str) -> JSONResponse:
    return _json({"imsx_codeMajor": "failure", "imsx_severity": "error", "imsx_description": description,
                  "imsx_CodeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem",
                                                              "imsx_codeMinorFieldValue": minor}]}}, status)


def _orgs(store: Store, district: str | None) -> list[dict[str, Any]]:
    if district is None:
        return []
    d = world.district(store, district)
    schools = world.schools(store, district)
    children = [{"href": f"~/ims/oneroster/v1p1/orgs/{s['sisSchoolNumber']}", "sourcedId": s["sisSchoolNumber"], "type": "org"} for s in schools]
    top = {"sourcedId": "0", "status": "active", "dateLastModified": now(), "metadata": None, "name": d["name"],
           "type": "district", "identifier": None, "parent": None, "children": children}
    return [top] + [{"sourcedId": s["sisSchoolNumber"], "status": "active", "dateLastModified": now(), "metadata": None,
                     "name": s["name"], "type": "school", "identifier": s["stateSchoolCode"] or None,
                     "parent": {"href": "~/ims/oneroster/v1p1/orgs/0", "sourcedId": "0", "type": "org"}, "children": None}
                    for s in schools]


def _paged(request: Request, key: str, items: list[dict[str, Any]]) -> Response:
    raw_limit, raw_offset = request.query_params.get("limit", "100"), request.query_params.get("offset", "0")
    if not raw_limit.isdigit() or not raw_offset.isdigit() or int(raw_limit) < 1:
        return _imsx(400, "invalid_data", "limit and offset are non-negative integers; limit at least 1")
    limit, offset = min(int(raw_limit), 500), int(raw_offset)
    links = []
    base = str(request.url.remove_query_params(["limit", "offset"]))
    sep = "&" if "?" in base else "?"
    if offset + limit < len(items):
        links.append(f'<{base}{sep}limit={limit}&offset={offset + limit}>; rel="next"')
    links.append(f'<{base}{sep}limit={limit}&offset={max(0, (len(items) - 1) // limit * limit)}>; rel="last"')
    headers = {"X-Total-Count": str(len(items)), "Link": ", ".join(links)}
    return json_response({key: items[offset:offset + limit]}, headers=headers)
