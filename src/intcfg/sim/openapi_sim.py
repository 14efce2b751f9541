"""openapi/simulator.yaml: the simulator's own surface, beside the admin contract.

The vendors' protocols as the simulator serves them under /vendors/VENDOR/INSTANCE, and
the /_sim control API. Vendor behaviour follows the vendors' public protocols; every choice the
vendors do not document is marked [U] (an assumption) in the descriptions.
"""

from __future__ import annotations

from typing import Any

from .openapi_schemas import COMMON_SCHEMAS, ref

ANY_OBJECT = {"type": "object"}
OAUTH_ERROR = {"type": "object", "required": ["error"], "properties": {"error": {"type": "string"}}}
AERIES_ERROR = {
    "type": "object",
    "required": ["Message"],
    "properties": {"Message": {"type": "string"}},
}
IMSX = {
    "type": "object",
    "required": ["imsx_codeMajor", "imsx_severity"],
    "properties": {
        "imsx_codeMajor": {"enum": ["success", "processing", "failure", "unsupported"]},
        "imsx_severity": {"enum": ["status", "warning", "error"]},
        "imsx_description": {"type": "string"},
    },
}
FORM = "application/x-www-form-urlencoded"


def _json(
    description: str, schema: dict[str, Any], headers: dict[str, Any] | None = None
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "description": description,
        "content": {"application/json": {"schema": schema}},
    }
    if headers:
        out["headers"] = headers
    return out


def _p(
    name: str,
    where: str = "path",
    schema: dict[str, Any] | None = None,
    required: bool | None = None,
    example: Any = None,
) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": name,
        "in": where,
        "required": where == "path" if required is None else required,
        "schema": schema or {"type": "string"},
    }
    if example is not None:
        out["example"] = example
    return out


INSTANCE = _p("instance", example="riverside")
NOT_FOUND = _json("No such instance (or path)", ref("Error"))


def _op(
    summary: str,
    responses: dict[str, Any],
    description: str = "",
    params: list[dict[str, Any]] | None = None,
    body: dict[str, Any] | None = None,
    security: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    op: dict[str, Any] = {
        "summary": summary,
        "responses": {**responses, "404": NOT_FOUND},
        "parameters": [INSTANCE, *(params or [])],
    }
    if description:
        op["description"] = description
    if body is not None:
        op["requestBody"] = body
    op["security"] = security if security is not None else []
    return op


def _form(required: list[str], props: list[str]) -> dict[str, Any]:
    return {
        "required": True,
        "content": {
            FORM: {
                "schema": {
                    "type": "object",
                    "required": required,
                    "properties": {p: {"type": "string"} for p in props},
                }
            }
        },
    }


TOKEN_OK = {
    "type": "object",
    "required": ["access_token", "token_type", "expires_in"],
    "properties": {
        "access_token": {"type": "string"},
        "token_type": {"type": "string"},
        "expires_in": {},
        "scope": {"type": "string"},
    },
}


def vendor_paths() -> dict[str, Any]:
    ps, ros = "/vendors/powerschool/{instance}", "/vendors/oneroster/{instance}"
    paging = [_p("limit", "query", {"type": "string"}), _p("offset", "query", {"type": "string"})]
    return {
        f"{ps}/oauth/access_token": {
            "post": _op(
                "PowerSchool plugin token (OAuth 2 client credentials)",
                {
                    "200": _json(
                        "A token; expires_in is a string, and the same token comes back until it "
                        "expires",
                        TOKEN_OK,
                    ),
                    "400": _json("grant_type is not client_credentials", OAUTH_ERROR),
                    "401": _json(
                        "[U] bad client id/secret: RFC 6749 invalid_client (PowerSchool documents "
                        "no body)",
                        OAUTH_ERROR,
                    ),
                },
                body=_form(["grant_type"], ["grant_type"]),
                security=[{"basic": []}],
            )
        },
        f"{ps}/ws/v1/metadata": {
            "get": _op(
                "PowerSchool metadata; plugin_id only with a valid plugin token",
                {
                    "200": _json(
                        "metadata (plugin_id only with a token)",
                        {"type": "object", "required": ["metadata"]},
                    ),
                    "401": _json(
                        '[P] bad or expired token: WWW-Authenticate Bearer error="invalid_token" '
                        '("expired" when expired)',
                        ANY_OBJECT,
                    ),
                },
            )
        },
        "/vendors/aeries/{instance}/api/v5/systeminfo": {
            "get": _op(
                "Aeries system info: the certificate check",
                {
                    "200": _json(
                        "AeriesVersion, DatabaseYear, ...",
                        {"type": "object", "required": ["AeriesVersion"]},
                    ),
                    "401": _json(
                        "[U] a missing or wrong AERIES-CERT (the status is undocumented; the body "
                        "shape is Aeries')",
                        AERIES_ERROR,
                    ),
                },
                security=[{"aeriesCert": []}],
            )
        },
        "/vendors/aeries/{instance}/api/v5/schools": {
            "get": _op(
                "Aeries schools",
                {
                    "200": _json("schools", {"type": "array"}),
                    "401": _json("[U] bad certificate", AERIES_ERROR),
                },
                security=[{"aeriesCert": []}],
            )
        },
        f"{ros}/token": {
            "post": _op(
                "OneRoster 1.1 token (Aeries' current endpoint)",
                {
                    "200": _json(
                        "token_type bearer, expires_in 21600 (an integer); sets ARRAffinity",
                        TOKEN_OK,
                    ),
                    "400": _json("no scope, or not client_credentials", OAUTH_ERROR),
                    "401": _json(
                        "[U] bad consumer id/secret (body and status undocumented)", OAUTH_ERROR
                    ),
                },
                body=_form(["grant_type", "scope"], ["grant_type", "scope"]),
                security=[{"basic": []}],
            )
        },
        f"{ros}/ims/oneroster/v1p1/orgs": {
            "get": _op(
                "OneRoster orgs (hrefs start with ~/, missing fields are null)",
                {
                    "200": _json(
                        "orgs; X-Total-Count and a Link header",
                        {"type": "object", "required": ["orgs"]},
                    ),
                    "400": _json("invalid limit/offset (imsx invalid_data)", IMSX),
                    "401": _json("unauthorisedrequest", IMSX),
                },
                params=paging,
                security=[{"bearer": []}],
            )
        },
        f"{ros}/ims/oneroster/v1p1/students": {
            "get": _op(
                "OneRoster students, paged with limit/offset",
                {
                    "200": _json("users", {"type": "object", "required": ["users"]}),
                    "400": _json("invalid limit/offset", IMSX),
                    "401": _json("unauthorisedrequest", IMSX),
                },
                params=paging,
                security=[{"bearer": []}],
            )
        },
        f"{ros}/ims/oneroster/v1p1/students/{{sourcedId}}": {
            "get": _op(
                "One OneRoster student",
                {
                    "200": _json("user", {"type": "object", "required": ["user"]}),
                    "401": _json("unauthorisedrequest", IMSX),
                },
                params=[_p("sourcedId")],
                security=[{"bearer": []}],
            )
        },
        "/vendors/skyward/{instance}/oauth/token": {
            "get": _op(
                "Qmlativ token: a GET with Basic auth of the URL-encoded key and secret",
                {
                    "200": _json("[U] token fields beyond access_token are assumed", TOKEN_OK),
                    "400": _json("grant_type is not client_credentials", OAUTH_ERROR),
                    "401": _json("[U] bad or expired key/secret", OAUTH_ERROR),
                },
                params=[_p("grant_type", "query", required=True, example="client_credentials")],
                security=[{"basic": []}],
            )
        },
        "/vendors/skyward/{instance}/Generic/{entity}/District/SchoolYear/{page}/{size}": {
            "get": _op(
                "Qmlativ Generic API: school years, paged",
                {
                    "200": _json(
                        "{Objects, Paging: {Next}}",
                        {"type": "object", "required": ["Objects", "Paging"]},
                    ),
                    "400": _json("bad page or size", AERIES_ERROR),
                    "401": _json('"Token has expired" or denied', AERIES_ERROR),
                    "403": _json("[U] an entity the key may not read", AERIES_ERROR),
                },
                params=[_p("entity"), _p("page"), _p("size")],
                security=[{"bearer": []}],
            )
        },
        "/vendors/ets/{instance}/api/v1/token": {
            "post": _op(
                "[U] ETS token: the whole contract is invented (ETS publishes none) and kept to "
                "these two paths",
                {
                    "200": _json("[U]", {"type": "object", "required": ["token", "expiresIn"]}),
                    "400": _json("[U] username and secretKey are required", ANY_OBJECT),
                    "401": _json("[U] invalid_credentials, or credentials_expired", ANY_OBJECT),
                },
                body={
                    "required": False,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "properties": {
                                    "username": {"type": "string"},
                                    "secretKey": {"type": "string"},
                                },
                            }
                        }
                    },
                },
            )
        },
        "/vendors/ets/{instance}/api/v1/ssr": {
            "get": _op(
                "[U] ETS score reports of one SSID",
                {"200": _json("[U]", {"type": "array"}), "401": _json("[U]", ANY_OBJECT)},
                description="404 also means an unknown SSID (ETS003 in the portal).",
                params=[_p("ssid", "query", required=False)],
                security=[{"bearer": []}],
            )
        },
        "/vendors/etranscript/{instance}/{path}": {
            "post": _op(
                "[U] eTranscript: a password grant at the auth path (client Basic auth = consumer "
                "key/secret); "
                "elsewhere, an upload",
                {
                    "200": _json("a token", TOKEN_OK),
                    "202": _json("upload accepted", ANY_OBJECT),
                    "400": _json(
                        "[U] invalid_grant (user name/password), unsupported_grant_type",
                        OAUTH_ERROR,
                    ),
                    "401": _json("[U] invalid_client, or a bad upload token", OAUTH_ERROR),
                },
                params=[_p("path")],
                body=_form([], ["grant_type", "username", "password"]),
                security=[{"basic": []}],
            ),
            "get": _op(
                "[U] eTranscript upload endpoint (reachability)",
                {"200": _json("ready", ANY_OBJECT), "401": _json("no or bad token", OAUTH_ERROR)},
                params=[_p("path")],
                security=[{"bearer": []}],
            ),
        },
    }


def control_paths() -> dict[str, Any]:
    admin: list[dict[str, list[str]]] = [{"adminToken": []}]
    unauthorized = _json("No or wrong admin token", ref("Error"))

    def op(
        summary: str, ok: dict[str, Any], body: bool = False, extra: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        out: dict[str, Any] = {
            "summary": summary,
            "security": admin,
            "responses": {"200": _json("OK", ok), "401": unauthorized, **(extra or {})},
        }
        if body:
            out["requestBody"] = {
                "required": False,
                "content": {"application/json": {"schema": ANY_OBJECT}},
            }
        return out

    bad = {"400": _json("Malformed body", ref("Error"))}
    return {
        "/_sim/state": {
            "get": op("Everything the simulator holds; secrets as fingerprints only", ANY_OBJECT)
        },
        "/_sim/stats": {
            "get": op(
                "Responses by route and by path, and the faults injected",
                {"type": "object", "required": ["requests", "byRoute", "byPath", "injected"]},
            )
        },
        "/_sim/reset": {
            "post": op(
                "Forget all state and counters (keepStats: true keeps the counters)",
                ANY_OBJECT,
                True,
                bad,
            )
        },
        "/_sim/faults": {
            "get": op("The fault settings", ANY_OBJECT),
            "post": op(
                "Change latencyMs, errorRate, rateLimitRate, timeoutRate, timeoutSeconds, "
                "retryAfter, seed",
                ANY_OBJECT,
                True,
                {**bad, "422": _json("Invalid settings", ref("Error"))},
            ),
        },
        "/_sim/seed": {
            "post": op(
                "Seed districts (schools with hasYearsAndTerms, importsEnabled, students) and "
                "vendor "
                "credentials (expired: true for expired ones)",
                ANY_OBJECT,
                True,
                bad,
            )
        },
        "/_sim/run-schedules": {
            "post": op(
                "Run the enabled schedules (of a district, at a time HH:MM)", ANY_OBJECT, True, bad
            )
        },
    }


def document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "intcfg simulator — vendor endpoints and control",
            "version": "1",
            "description": __doc__.strip(),
        },
        "servers": [{"url": "http://127.0.0.1:8787"}],
        "paths": {**vendor_paths(), **control_paths()},
        "components": {
            "securitySchemes": {
                "adminToken": {"type": "http", "scheme": "bearer"},
                "bearer": {"type": "http", "scheme": "bearer"},
                "basic": {"type": "http", "scheme": "basic"},
                "aeriesCert": {"type": "apiKey", "in": "header", "name": "AERIES-CERT"},
            },
            "schemas": {"Error": COMMON_SCHEMAS["Error"]},
        },
    }
