"""The admin contract the simulator implements (openapi/*.yaml documents it).

The simulator is the server side of the contract; ``intcfg.providers`` is the client
side, kept apart on purpose (a test checks that both agree with the OpenAPI files).
Specs are checked with JSON Schemas derived from the resource models (sim/schemas.py),
so the live system accepts exactly the fields the config spells; secret fields arrive as
plain strings and are kept only as keyed digests.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ..secrets import secret_paths
from .schemas import write_validator

API = "admin/v1"
COLLECTIONS: dict[str, dict[str, str]] = {
    "sis": {"ETranscriptVendor": "etranscript-vendors"},
    "portal": {"StateAssessmentIntegration": "ets-integrations"},
    "enroll": {
        "SyncConnection": "sync-connections",
        "FieldMapping": "field-mappings",
        "Schedule": "schedules",
    },
}
SYSTEM_OF_KIND = {kind: system for system, kinds in COLLECTIONS.items() for kind in kinds}
KIND_OF_COLLECTION = {c: k for kinds in COLLECTIONS.values() for k, c in kinds.items()}
ID_PREFIX = {
    "ETranscriptVendor": "etv",
    "StateAssessmentIntegration": "ets",
    "SyncConnection": "conn",
    "FieldMapping": "map",
    "Schedule": "sched",
}
SITE_KINDS = frozenset({"StateAssessmentIntegration"})
MAX_BATCH = 100
DEFAULT_LIMIT = 100
MAX_LIMIT = 500


class ApiError(Exception):
    """An error response: status, a stable code, a message for people, optional details."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details
        self.hint = hint

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.details:
            error["details"] = self.details
        if self.hint:
            error["hint"] = self.hint
        return {"error": error}


def _json_path(parts: Any) -> str:
    out = "$.spec"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def check_spec(kind: str, spec: Any) -> tuple[dict[str, Any], dict[str, str]]:
    """(spec without its secrets, {path: secret}); ApiError 422 listing every problem.

    Error messages never show a value (the validator masks them), so a secret sent in
    the wrong place is not echoed either.
    """
    if not isinstance(spec, dict):
        raise ApiError(422, "invalid_spec", "spec must be an object")
    validator = write_validator(kind)
    # is_valid stops at the first problem and builds no errors: most specs have none.
    errors = [] if validator.is_valid(spec) else list(validator.iter_errors(spec))
    if errors:
        details = [{"path": _json_path(e.instance_path), "message": e.message} for e in errors[:20]]
        first = details[0]
        raise ApiError(422, "invalid_spec", f"{first['path']}: {first['message']}", details)
    return _split(spec, secret_paths(kind))


def _split(
    spec: dict[str, Any], paths: Iterable[tuple[str, ...]]
) -> tuple[dict[str, Any], dict[str, str]]:
    """(``spec`` without the values at ``paths``, {dotted path: value} of those that are
    strings), in one walk down each path.

    Only the dicts on the way to a path are copied, the rest is shared (nothing changes a
    stored object in place: a change is a new dict), which spares a deep copy of every
    spec written. A secret is a leaf, so no path runs through another one, and each value
    is read from a copy that holds what the request sent."""
    clean = dict(spec)
    found = {}
    for path in paths:
        node = clean
        for part in path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                break
            child = node[part] = dict(child)
            node = child
        else:
            value = node.pop(path[-1], None)
            if isinstance(value, str):
                found[".".join(path)] = value
    return clean, found


def render(obj: dict[str, Any]) -> dict[str, Any]:
    """An object as the API returns it: no secret digests, only when they were set."""
    out = dict(obj)  # a copy in C, then one key out: the keys keep their order
    secrets = out.pop("secrets", None) or {}
    out["secretsSetAt"] = {path: meta["setAt"] for path, meta in sorted(secrets.items())}
    return out
