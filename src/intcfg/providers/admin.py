"""The admin contract's client: one class serves all three systems (the contract is the
same shape for each); sis.py, portal.py and enroll.py add what only one system has."""

from __future__ import annotations

import builtins
import urllib.parse
from typing import Any

import httpx

from ..errors import ProviderError
from ..jsonout import compact
from ..secrets import scrub
from . import http
from .base import (
    COLLECTION,
    MANAGED_BY,
    MAX_BATCH,
    SITE_KINDS,
    SYSTEM_OF_KIND,
    BatchOp,
    BatchResult,
    LiveObject,
    TestOutcome,
    live_object,
    off_contract,
    test_outcome,
)

API = "admin/v1"
PAGE_SIZE = 500


def quote_part(part: str) -> str:
    return urllib.parse.quote(part, safe="")


class AdminProvider:
    """A provider of ``system`` over the admin contract, through one injected client."""

    system = ""
    kinds: tuple[str, ...] = ()

    def __init__(self, client: httpx.AsyncClient, managed_by: str = MANAGED_BY) -> None:
        self.client = client
        self.managed_by = managed_by

    # -- addressing -----------------------------------------------------------------------

    def _check(self, kind: str, site: str | None) -> None:
        if SYSTEM_OF_KIND.get(kind) != self.system:
            raise ValueError(f"{kind} does not live in {self.system}")
        if site is not None and kind not in SITE_KINDS:
            raise ValueError(f"{kind} has no per-site configuration")

    def base(self) -> str:
        return f"/{self.system}/{API}"

    def collection(self, district: str, kind: str) -> str:
        return f"{self.base()}/districts/{quote_part(district)}/{COLLECTION[kind]}"

    def path(self, district: str, kind: str, name: str) -> str:
        return f"{self.collection(district, kind)}/{quote_part(name)}"

    @staticmethod
    def _site(site: str | None) -> dict[str, str]:
        return {"site": site} if site is not None else {}

    async def _send(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return await http.send(self.client, method, url, system=self.system, **kw)

    def _fail(self, response: httpx.Response) -> None:
        http.raise_for_status(response, self.system)

    def _object(self, response: httpx.Response) -> dict[str, Any]:
        body = http.json_body(response, self.system)
        if not isinstance(body, dict):
            raise off_contract(self.system, f"{http.json_type(body)} where an object belongs")
        return body

    # -- the Protocol ------------------------------------------------------------------------

    async def list(self, district: str, kind: str) -> list[LiveObject]:
        self._check(kind, None)
        items = await http.paginate(
            self.client,
            self.collection(district, kind),
            system=self.system,
            params={"limit": str(PAGE_SIZE)},
        )
        return [live_object(self.system, item) for item in items]

    async def read(
        self, district: str, kind: str, name: str, site: str | None = None
    ) -> LiveObject | None:
        self._check(kind, site)
        response = await self._send("GET", self.path(district, kind, name), params=self._site(site))
        if response.status_code == 404 and _code(response) == "not_found":
            return None
        self._fail(response)
        return live_object(self.system, self._object(response))

    async def put(
        self,
        district: str,
        kind: str,
        name: str,
        site: str | None,
        spec: dict[str, Any],
        *,
        if_revision: int | None = None,
    ) -> LiveObject:
        self._check(kind, site)
        headers = {"If-Match": f'"{if_revision}"'} if if_revision is not None else {}
        response = await self._send(
            "PUT",
            self.path(district, kind, name),
            params=self._site(site),
            headers=headers,
            json={"spec": spec, "managedBy": self.managed_by},
        )
        self._fail(response)
        return live_object(self.system, self._object(response))

    async def delete(
        self,
        district: str,
        kind: str,
        name: str,
        site: str | None = None,
        *,
        if_revision: int | None = None,
    ) -> None:
        self._check(kind, site)
        headers = {"If-Match": f'"{if_revision}"'} if if_revision is not None else {}
        response = await self._send(
            "DELETE", self.path(district, kind, name), params=self._site(site), headers=headers
        )
        if response.status_code == 404 and _code(response) == "not_found":
            return
        self._fail(response)

    async def batch(self, ops: builtins.list[BatchOp]) -> builtins.list[BatchResult]:
        results: builtins.list[BatchResult] = []
        for start in range(0, len(ops), MAX_BATCH):
            results.extend(await self._batch(ops[start : start + MAX_BATCH]))
        return results

    async def _batch(self, ops: builtins.list[BatchOp]) -> builtins.list[BatchResult]:
        for op in ops:
            self._check(op.kind, op.site)
        body = compact({"operations": [_operation(op, self.managed_by) for op in ops]})
        # Each item is an upsert or a delete by natural key: the whole batch is safe to retry.
        response = await self._send(
            "POST", f"{self.base()}/batch", content=body, headers=_JSON, retry=True
        )
        self._fail(response)
        items = self._object(response).get("results", [])
        if not isinstance(items, builtins.list) or not all(isinstance(i, dict) for i in items):
            raise off_contract(self.system, "batch results that are not a list of objects")
        if len(items) != len(ops):
            raise ProviderError(
                f"{self.system}: the batch answered {len(items)} results for {len(ops)} operations",
                system=self.system,
                method="POST",
                url=f"{self.base()}/batch",
                status=response.status_code,
            )
        return [self._result(op, item) for op, item in zip(ops, items, strict=True)]

    def _result(self, op: BatchOp, item: dict[str, Any]) -> BatchResult:
        error = item.get("error") or {}
        obj = live_object(self.system, item["object"]) if item.get("object") else None
        try:
            message = http.printable(scrub(str(error["message"]))) if error.get("message") else None
            return BatchResult(op, int(item["status"]), obj, message, error.get("code"))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise off_contract(self.system, "a batch result without a valid status or error") from None

    async def test(
        self, district: str, kind: str, name: str, site: str | None = None
    ) -> TestOutcome:
        self._check(kind, site)
        response = await self._send(
            "POST", f"{self.path(district, kind, name)}/test", params=self._site(site), retry=True
        )
        self._fail(response)
        try:
            return test_outcome(self._object(response))
        except (AttributeError, KeyError, TypeError, ValueError):
            raise off_contract(self.system, "a test outcome without ok, message and checks") from None

    # -- beyond the Protocol -----------------------------------------------------------------------

    async def status(self) -> dict[str, Any]:
        """The live system's answer to the token: its name and the districts it knows."""
        response = await self._send("GET", f"{self.base()}/status")
        self._fail(response)
        return self._object(response)

    async def district(self, district: str) -> dict[str, Any]:
        response = await self._send("GET", f"{self.base()}/districts/{quote_part(district)}")
        self._fail(response)
        return self._object(response)


def _code(response: httpx.Response) -> str | None:
    try:
        body = response.json()
    except ValueError:
        return None
    error = body.get("error") if isinstance(body, dict) else None
    return error.get("code") if isinstance(error, dict) else None


_JSON = {"Content-Type": "application/json"}


def _operation(op: BatchOp, managed_by: str) -> dict[str, Any]:
    out: dict[str, Any] = {
        "op": op.op,
        "district": op.district,
        "kind": op.kind,
        "name": op.name,
        "site": op.site,
    }
    if op.op == "put":
        out["spec"] = op.spec or {}
        out["managedBy"] = managed_by
    if op.if_revision is not None:
        out["ifRevision"] = op.if_revision
    return out
