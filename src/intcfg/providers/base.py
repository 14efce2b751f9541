"""The provider interface: what plan and apply need of a live system, and the registry.

A provider adapts one live system ("sis", "portal", "enroll") that speaks the admin
contract in openapi/<system>.yaml. Implementations for a product's own API plug in
behind the same Protocol and register in ``PROVIDERS``.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from typing import Any, Literal, NamedTuple, Protocol

from ..errors import ProviderError

# Which live system holds each config kind; District and SiteOverride are config-only
# (sites reference schools the live systems know; overrides become per-site portal objects).
SYSTEM_OF_KIND: dict[str, str] = {
    "ETranscriptVendor": "sis",
    "StateAssessmentIntegration": "portal",
    "SyncConnection": "enroll",
    "FieldMapping": "enroll",
    "Schedule": "enroll",
}
# The contract's collection (URL segment) of each kind.
COLLECTION: dict[str, str] = {
    "ETranscriptVendor": "etranscript-vendors",
    "StateAssessmentIntegration": "ets-integrations",
    "SyncConnection": "sync-connections",
    "FieldMapping": "field-mappings",
    "Schedule": "schedules",
}
SITE_KINDS = frozenset({"StateAssessmentIntegration"})
MANAGED_BY = "intcfg"
MAX_BATCH = 100


class LiveObject(NamedTuple):
    """One object as a live system holds it. ``spec`` is spelled as in the config, without
    secret fields (write-only); ``secrets_set_at`` says when each was last set."""

    system: str
    district: str
    kind: str
    name: str
    site: str | None
    id: str
    revision: int
    managed_by: str | None
    spec: dict[str, Any]
    updated_at: str = ""
    secrets_set_at: Mapping[str, str] = {}  # noqa: RUF012 - never mutated


class BatchOp(NamedTuple):
    """An upsert (``spec`` with secrets as plain strings) or a delete, by natural key."""

    op: Literal["put", "delete"]
    district: str
    kind: str
    name: str
    site: str | None = None
    spec: dict[str, Any] | None = None
    if_revision: int | None = None


class BatchResult(NamedTuple):
    op: BatchOp
    status: int  # as the single call would answer: 200, 201, 204, 4xx
    object: LiveObject | None = None
    error: str | None = None  # the live system's message (scrubbed)
    code: str | None = None  # the live system's error code, e.g. unknown_school

    @property
    def ok(self) -> bool:
        # A delete of a missing object is done.
        return 200 <= self.status < 300 or (self.op.op == "delete" and self.code == "not_found")


class Check(NamedTuple):
    name: str
    ok: bool
    message: str


class TestOutcome(NamedTuple):
    """The admin screen's Test: ``message`` is the screen's text (ETS: with ``code``)."""

    ok: bool
    message: str
    code: str | None = None
    checks: tuple[Check, ...] = ()


TestOutcome.__test__ = False  # type: ignore[attr-defined]  # not a pytest test class


class Provider(Protocol):
    """The adapter to one live system, over the admin contract.

    Contract:
    - Objects are addressed by natural key (district, kind, name) plus ``site`` for
      kinds in SITE_KINDS (None: All Sites).
    - ``list`` returns every object of one district and kind (all pages), in name order.
    - ``read`` returns None when the object does not exist.
    - ``put`` upserts and is idempotent: calling it twice, or again after a crash, is
      safe. ``spec`` carries secret values as plain strings: this is the only boundary
      where they are revealed. The live system keeps ``revision`` unchanged when nothing
      changed. ``if_revision`` makes the write conditional (0: must not exist yet).
    - ``delete`` is idempotent: a missing object is not an error.
    - ``batch`` applies many upserts and deletes in few requests (chunks of MAX_BATCH);
      one item failing does not fail the others; results come back in ``ops`` order.
    - ``test`` runs the admin screen's Test on the stored object.
    All failures raise ``intcfg.errors.ProviderError`` (system, method, URL, status),
    whose message never holds a secret.
    """

    system: str
    kinds: tuple[str, ...]

    async def list(self, district: str, kind: str) -> list[LiveObject]: ...

    async def read(
        self, district: str, kind: str, name: str, site: str | None = None
    ) -> LiveObject | None: ...

    async def put(
        self,
        district: str,
        kind: str,
        name: str,
        site: str | None,
        spec: dict[str, Any],
        *,
        if_revision: int | None = None,
    ) -> LiveObject: ...

    async def delete(
        self,
        district: str,
        kind: str,
        name: str,
        site: str | None = None,
        *,
        if_revision: int | None = None,
    ) -> None: ...

    async def batch(self, ops: builtins.list[BatchOp]) -> builtins.list[BatchResult]: ...

    async def test(
        self, district: str, kind: str, name: str, site: str | None = None
    ) -> TestOutcome: ...


def off_contract(system: str, what: str) -> ProviderError:
    """An answer of a live system that does not follow the admin contract. It shows no
    value of the answer: a live system may echo what intcfg sent."""
    return ProviderError(
        f"{system}: the live system's answer does not follow the admin contract ({what}); "
        "check that the live URL names an intcfg admin API",
        system=system,
    )


def live_object(system: str, data: Mapping[str, Any]) -> LiveObject:
    """A LiveObject from the contract's JSON object; ProviderError when it is malformed."""
    try:
        spec, secrets_set_at = data.get("spec") or {}, data.get("secretsSetAt") or {}
        return LiveObject(
            system=system,
            district=str(data["district"]),
            kind=str(data["kind"]),
            name=str(data["name"]),
            site=data.get("site"),
            id=str(data["id"]),
            revision=int(data["revision"]),
            managed_by=data.get("managedBy"),
            spec=dict(spec),
            updated_at=str(data.get("updatedAt") or ""),
            secrets_set_at=dict(secrets_set_at),
        )
    except (AttributeError, KeyError, TypeError, ValueError) as e:
        what = f"an object without {e.args[0]!r}" if isinstance(e, KeyError) else "a malformed object"
        raise off_contract(system, what) from None


def test_outcome(data: Mapping[str, Any]) -> TestOutcome:
    from .http import printable

    checks = tuple(
        Check(printable(str(c["name"])), bool(c["ok"]), printable(str(c["message"])))
        for c in data.get("checks") or ()
    )
    return TestOutcome(bool(data["ok"]), printable(str(data["message"])), data.get("code"), checks)
