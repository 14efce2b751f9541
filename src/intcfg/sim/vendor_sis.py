"""PowerSchool, Aeries (certificate) and Skyward Qmlativ, as the simulator serves them.

[U] marks what the vendors do not document (see vendors.py)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from . import students as sample
from . import world
from .contract import ApiError
from .store import Store, now
from .vendor_common import known, vjson
from .web import basic_credentials, form_body


class SisVendors:
    store: Store

    # -- PowerSchool: OAuth 2 client credentials, then /ws/v1/metadata ---------------------------

    async def ps_token(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        known(self.store, "powerschool", inst)
        given = basic_credentials(request)
        form = await form_body(request)
        status, cred = (
            world.verify(self.store, "powerschool", inst, *given) if given else ("invalid", None)
        )
        if cred is None or status != "ok":
            # [U] PowerSchool documents no body for bad client credentials; RFC 6749 invalid_client.
            return vjson(
                {"error": "invalid_client"}, 401, {"WWW-Authenticate": 'Basic realm="PowerSchool"'}
            )
        if form.get("grant_type") != "client_credentials":
            return vjson({"error": "unsupported_grant_type"}, 400)
        token, ttl = world.issue_token(self.store, cred, reuse=True)
        # expires_in is a string in PowerSchool's responses [C].
        return vjson({"access_token": token, "token_type": "Bearer", "expires_in": str(ttl)})

    async def ps_metadata(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        known(self.store, "powerschool", inst)
        status, client_id = world.check_token(
            self.store, "powerschool", inst, request.headers.get("authorization")
        )
        if status in ("invalid", "expired"):
            detail = ', error_description="The access token expired"' if status == "expired" else ""
            return vjson(
                {"message": "Invalid token"},
                401,
                {"WWW-Authenticate": f'Bearer error="invalid_token"{detail}'},
            )
        metadata: dict[str, Any] = {
            "powerschool_version": "24.7.0.0",
            "state": "IL",
            "district_timezone": "America/Chicago",
            "student_max_page_size": 100,
            "school_max_page_size": 100,
            "sso_enabled_admin": "false",
        }
        if status == "ok":
            cred = world.credential(self.store, "powerschool", inst, client_id or "")
            metadata["plugin_id"] = (cred or {}).get("pluginId", 0)
        return vjson({"metadata": metadata})

    # -- Aeries: the AERIES-CERT header; OneRoster 1.1 with a token --------------------------------

    def _aeries_cert(self, request: Request) -> str:
        inst = request.path_params["instance"]
        known(self.store, "aeries", inst)
        status, _ = world.verify(
            self.store, "aeries", inst, "certificate", request.headers.get("aeries-cert", "")
        )
        if status != "ok":
            # [U] Aeries documents {"Message": ...} bodies but not the status for a bad certificate.
            raise ApiError(401, "invalid_certificate", "Invalid or expired certificate")
        return str(inst)

    async def aeries_systeminfo(self, request: Request) -> Response:
        try:
            self._aeries_cert(request)
        except ApiError as e:
            return (
                vjson({"Message": e.message}, e.status)
                if e.status == 401
                else vjson(e.body(), e.status)
            )
        return vjson(
            {
                "AeriesVersion": "10.24.3.14",
                "DatabaseYear": "2026-2027",
                "AvailableDatabaseYears": ["2026-2027", "2025-2026"],
                "LocalTimeZoneName": "(UTC-08:00) Pacific Time (US & Canada)",
                "CurrentDateTime": now(),
            }
        )

    async def aeries_schools(self, request: Request) -> Response:
        try:
            inst = self._aeries_cert(request)
        except ApiError as e:
            return (
                vjson({"Message": e.message}, e.status)
                if e.status == 401
                else vjson(e.body(), e.status)
            )
        district = world.instance_district(self.store, "aeries", inst)
        schools = world.schools(self.store, district) if district else []
        return vjson(
            [
                {
                    "SchoolCode": int(s["sisSchoolNumber"] or 0),
                    "Name": s["name"],
                    "InactiveStatusCode": "",
                }
                for s in schools
            ]
        )

    # -- Skyward Qmlativ: GET /oauth/token with Basic auth; the Generic API ------------------------

    async def skyward_token(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        known(self.store, "skyward", inst)
        given = basic_credentials(request, urlencoded=True)
        status, cred = (
            world.verify(self.store, "skyward", inst, *given) if given else ("invalid", None)
        )
        if status == "expired":
            return vjson(
                {"error": "invalid_client", "error_description": "Credentials have expired"}, 401
            )  # [U]
        if cred is None:
            return vjson({"error": "invalid_client"}, 401)  # [U]
        if request.query_params.get("grant_type") != "client_credentials":
            return vjson({"error": "unsupported_grant_type"}, 400)
        token, ttl = world.issue_token(self.store, cred)
        return vjson(
            {"access_token": token, "token_type": "bearer", "expires_in": ttl}
        )  # [U] field set

    async def skyward_school_years(self, request: Request) -> Response:
        inst = request.path_params["instance"]
        known(self.store, "skyward", inst)
        status, client_id = world.check_token(
            self.store, "skyward", inst, request.headers.get("authorization")
        )
        if status == "expired":
            return vjson({"Message": "Token has expired"}, 401)
        if status != "ok":
            return vjson({"Message": "Authorization has been denied for this request."}, 401)
        cred = world.credential(self.store, "skyward", inst, client_id or "") or {}
        entity = request.path_params["entity"]
        if not entity.isdigit() or int(entity) not in cred.get("entityIds", []):
            return vjson(
                {"Message": f"Entity {entity} is not accessible with this key."}, 403
            )  # [U]
        return self._school_year_page(
            entity, request.path_params["page"], request.path_params["size"]
        )

    def _school_year_page(self, entity: str, page: str, size: str) -> Response:
        if not (page.isdigit() and size.isdigit() and int(page) >= 1 and 1 <= int(size) <= 500):
            return vjson({"Message": "page and page size are positive integers"}, 400)
        years = [
            {"SchoolYearID": y - 2000, "Description": f"{y - 1}-{y}", "NumericYear": y}
            for y in range(2027, 2020, -1)
        ]
        p, n = int(page), int(size)
        chunk = years[(p - 1) * n : p * n]
        nxt = f"/Generic/{entity}/District/SchoolYear/{p + 1}/{n}" if p * n < len(years) else None
        return vjson({"Objects": chunk, "Paging": {"Next": nxt}})


class SisStudents:
    """One student as each SIS serves it, read with the connection's own token (preview)."""

    store: Store

    def _bearer(self, request: Request, vendor: str) -> str | None:
        inst = request.path_params["instance"]
        known(self.store, vendor, inst)
        status, _ = world.check_token(self.store, vendor, inst, request.headers.get("authorization"))
        return world.instance_district(self.store, vendor, inst) if status == "ok" else None

    async def ps_student(self, request: Request) -> Response:
        # [U] the simulator's equivalent of /ws/v1/student/{id}: keyed by student_number,
        # the fields flat under "student" with PowerSchool's column names.
        district = self._bearer(request, "powerschool")
        if district is None:
            return vjson({"message": "Invalid token"}, 401, {"WWW-Authenticate": 'Bearer error="invalid_token"'})
        try:
            student = world.student(self.store, district, request.path_params["student_id"])
        except ApiError:
            return vjson({"message": "Student not found"}, 404)
        return vjson({"student": sample.powerschool(student)})

    async def skyward_student(self, request: Request) -> Response:
        # [U] one Generic Student/Student object, keyed by StudentNumber.
        district = self._bearer(request, "skyward")
        if district is None:
            return vjson({"Message": "Authorization has been denied for this request."}, 401)
        try:
            student = world.student(self.store, district, request.path_params["student_id"])
        except ApiError:
            return vjson({"Message": "No Student with this key."}, 404)
        return vjson(sample.skyward(student))
