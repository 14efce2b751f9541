"""The admin providers over the contract, with respx: requests sent, answers mapped."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
import respx
from provkit import (
    mocked_fixture,  # noqa: F401 - fixtures
    run,
)

from intcfg.errors import ProviderError
from intcfg.providers import http
from intcfg.providers.base import BatchOp, Check, LiveObject, TestOutcome
from intcfg.providers.registry import PROVIDERS
from intcfg.secrets import Secret

BASE = "https://admin.example.org"
TOKEN = "canary-admin-token-93f1"
CANARY = "canary-provider-secret-2c7d"
ETS = f"{BASE}/portal/admin/v1/districts/riverside-usd/ets-integrations"


def obj(name: str, site: str | None = None, revision: int = 1, **spec: Any) -> dict[str, Any]:
    return {
        "id": f"ets_{name}",
        "revision": revision,
        "managedBy": "intcfg",
        "createdAt": "2026-01-01T00:00:00Z",
        "updatedAt": "2026-01-02T00:00:00Z",
        "district": "riverside-usd",
        "kind": "StateAssessmentIntegration",
        "name": name,
        "site": site,
        "spec": spec or {"username": "u"},
        "secretsSetAt": {"secretKey": "2026-01-02T00:00:00Z"},
    }


def provider(system: str = "portal", policy: http.RetryPolicy | None = None) -> Any:
    client = http.build_client(
        BASE, token=Secret(TOKEN), policy=policy or http.RetryPolicy(base_delay=0.0)
    )
    return PROVIDERS[system](client)


async def _with(p: Any, call: Any) -> Any:
    async with p.client:
        return await call(p)


def test_list_reads_every_page(mocked: respx.MockRouter) -> None:
    route = mocked.get(ETS).mock(
        side_effect=[
            httpx.Response(200, json={"items": [obj("a")], "next": "c1"}),
            httpx.Response(200, json={"items": [obj("a", "river-charter", 3)], "next": None}),
        ]
    )
    live = run(_with(provider(), lambda p: p.list("riverside-usd", "StateAssessmentIntegration")))
    assert live == [
        LiveObject(
            "portal",
            "riverside-usd",
            "StateAssessmentIntegration",
            "a",
            None,
            "ets_a",
            1,
            "intcfg",
            {"username": "u"},
            "2026-01-02T00:00:00Z",
            {"secretKey": "2026-01-02T00:00:00Z"},
        ),
        LiveObject(
            "portal",
            "riverside-usd",
            "StateAssessmentIntegration",
            "a",
            "river-charter",
            "ets_a",
            3,
            "intcfg",
            {"username": "u"},
            "2026-01-02T00:00:00Z",
            {"secretKey": "2026-01-02T00:00:00Z"},
        ),
    ]
    first = route.calls[0].request
    assert first.headers["Authorization"] == f"Bearer {TOKEN}"
    assert (
        first.url.params["limit"] == "500" and route.calls[1].request.url.params["cursor"] == "c1"
    )


def test_read_missing_is_none_but_an_unknown_district_is_an_error(mocked: respx.MockRouter) -> None:
    mocked.get(f"{ETS}/ets").mock(
        return_value=httpx.Response(404, json={"error": {"code": "not_found", "message": "no"}})
    )
    assert (
        run(
            _with(
                provider(), lambda p: p.read("riverside-usd", "StateAssessmentIntegration", "ets")
            )
        )
        is None
    )
    mocked.get(f"{BASE}/portal/admin/v1/districts/nowhere/ets-integrations/ets").mock(
        return_value=httpx.Response(
            404,
            json={
                "error": {
                    "code": "unknown_district",
                    "message": "district 'nowhere' is not known to this system",
                }
            },
        )
    )
    with pytest.raises(ProviderError) as e:
        run(_with(provider(), lambda p: p.read("nowhere", "StateAssessmentIntegration", "ets")))
    assert str(e.value) == (
        f"portal: GET {BASE}/portal/admin/v1/districts/nowhere/ets-integrations/ets: 404 "
        "district 'nowhere' is not known to this system"
    )
    assert (e.value.system, e.value.method, e.value.status) == ("portal", "GET", 404)


def test_put_sends_the_spec_with_its_secret_and_the_site(mocked: respx.MockRouter) -> None:
    route = mocked.put(f"{ETS}/ets").mock(
        return_value=httpx.Response(201, json=obj("ets", "river-charter"))
    )
    spec = {
        "apiUrl": "https://x.example.org/api/v1/token",
        "username": "u",
        "secretKey": CANARY,
        "credentialsRotated": "2026-10-01",
    }
    live = run(
        _with(
            provider(),
            lambda p: p.put(
                "riverside-usd",
                "StateAssessmentIntegration",
                "ets",
                "river-charter",
                spec,
                if_revision=0,
            ),
        )
    )
    request = route.calls.last.request
    assert json.loads(request.content) == {"spec": spec, "managedBy": "intcfg"}
    assert request.url.params["site"] == "river-charter" and request.headers["If-Match"] == '"0"'
    assert (live.site, live.revision) == ("river-charter", 1)


def test_put_errors_never_echo_the_secret(mocked: respx.MockRouter) -> None:
    echo = {
        "error": {"code": "invalid_spec", "message": f"$.spec.secretKey: {CANARY!r} is too short"}
    }
    mocked.put(f"{ETS}/ets").mock(return_value=httpx.Response(422, json=echo))
    Secret(CANARY)  # resolved secrets are what the scrubber knows
    with pytest.raises(ProviderError) as e:
        run(
            _with(
                provider(),
                lambda p: p.put(
                    "riverside-usd",
                    "StateAssessmentIntegration",
                    "ets",
                    None,
                    {"secretKey": CANARY},
                ),
            )
        )
    assert CANARY not in str(e.value)
    assert str(e.value) == f"portal: PUT {ETS}/ets: 422 $.spec.secretKey: '***' is too short"


def test_put_is_retried_after_a_503_and_a_429(mocked: respx.MockRouter) -> None:
    route = mocked.put(f"{ETS}/ets").mock(
        side_effect=[
            httpx.Response(503),
            httpx.Response(429, headers={"Retry-After": "0"}),
            httpx.Response(200, json=obj("ets")),
        ]
    )
    run(
        _with(
            provider(),
            lambda p: p.put("riverside-usd", "StateAssessmentIntegration", "ets", None, {}),
        )
    )
    assert route.call_count == 3


def test_delete_is_idempotent_and_conditional(mocked: respx.MockRouter) -> None:
    route = mocked.delete(f"{ETS}/ets").mock(
        side_effect=[
            httpx.Response(204),
            httpx.Response(404, json={"error": {"code": "not_found", "message": "gone"}}),
            httpx.Response(
                412,
                json={
                    "error": {
                        "code": "revision_mismatch",
                        "message": "the object is at revision 3, not 2",
                    }
                },
            ),
        ]
    )
    delete = lambda p: p.delete("riverside-usd", "StateAssessmentIntegration", "ets", if_revision=2)  # noqa: E731
    assert run(_with(provider(), delete)) is None
    assert run(_with(provider(), delete)) is None
    with pytest.raises(ProviderError, match="412 the object is at revision 3, not 2") as e:
        run(_with(provider(), delete))
    assert e.value.status == 412
    assert route.calls[0].request.headers["If-Match"] == '"2"'


def test_batch_is_chunked_by_100_and_maps_each_result(mocked: respx.MockRouter) -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        ops = json.loads(request.content)["operations"]
        results = [
            {
                "index": i,
                "status": 201,
                "object": {**obj(op["name"]), "kind": "StateAssessmentIntegration"},
            }
            if op["name"] != "bad"
            else {
                "index": i,
                "status": 422,
                "error": {"code": "invalid_spec", "message": "bad spec"},
            }
            for i, op in enumerate(ops)
        ]
        return httpx.Response(200, json={"results": results})

    route = mocked.post(f"{BASE}/portal/admin/v1/batch").mock(side_effect=answer)
    ops = [
        BatchOp(
            "put", "riverside-usd", "StateAssessmentIntegration", f"n{i}", None, {"username": "u"}
        )
        for i in range(150)
    ]
    ops.append(BatchOp("put", "riverside-usd", "StateAssessmentIntegration", "bad", None, {}))
    ops.append(
        BatchOp("delete", "riverside-usd", "StateAssessmentIntegration", "gone", if_revision=4)
    )
    results = run(_with(provider(), lambda p: p.batch(ops)))
    assert route.call_count == 2
    assert [len(json.loads(c.request.content)["operations"]) for c in route.calls] == [100, 52]
    assert [r.status for r in results[:150]] == [201] * 150 and results[0].object.name == "n0"
    assert (results[150].ok, results[150].error, results[150].code) == (
        False,
        "bad spec",
        "invalid_spec",
    )
    last = json.loads(route.calls[1].request.content)["operations"][-1]
    assert last == {
        "op": "delete",
        "district": "riverside-usd",
        "kind": "StateAssessmentIntegration",
        "name": "gone",
        "site": None,
        "ifRevision": 4,
    }
    assert json.loads(route.calls[0].request.content)["operations"][0]["managedBy"] == "intcfg"


def test_batch_is_retried_as_a_whole(mocked: respx.MockRouter) -> None:
    route = mocked.post(f"{BASE}/sis/admin/v1/batch").mock(
        side_effect=[
            httpx.Response(502),
            httpx.Response(
                200,
                json={
                    "results": [
                        {"index": 0, "status": 404, "error": {"code": "not_found", "message": "x"}}
                    ]
                },
            ),
        ]
    )
    results = run(
        _with(
            provider("sis"), lambda p: p.batch([BatchOp("delete", "d", "ETranscriptVendor", "n")])
        )
    )
    assert route.call_count == 2
    assert results[0].ok  # a delete of a missing object is done


def test_test_maps_the_outcome(mocked: respx.MockRouter) -> None:
    body = {
        "ok": False,
        "message": "Provided Username/Secret Key is either incorrect or has expired.",
        "code": "ETS002",
        "checks": [{"name": "credentials", "ok": False, "message": "m"}],
    }
    route = mocked.post(f"{ETS}/ets/test").mock(return_value=httpx.Response(200, json=body))
    outcome = run(
        _with(
            provider(),
            lambda p: p.test("riverside-usd", "StateAssessmentIntegration", "ets", "river-charter"),
        )
    )
    assert outcome == TestOutcome(
        False, body["message"], "ETS002", (Check("credentials", False, "m"),)
    )
    assert route.calls.last.request.url.params["site"] == "river-charter"


def test_kinds_belong_to_their_system() -> None:
    p = provider("sis")
    with pytest.raises(ValueError, match="Schedule does not live in sis"):
        run(p.read("d", "Schedule", "n"))
    with pytest.raises(ValueError, match="has no per-site configuration"):
        run(p.read("d", "ETranscriptVendor", "n", "site"))
    run(p.client.aclose())


def test_enroll_operations(mocked: respx.MockRouter) -> None:
    base = f"{BASE}/enroll/admin/v1/districts/lakeside-sd"
    conn = {**obj("powerschool"), "kind": "SyncConnection", "site": None}
    assign = mocked.post(f"{base}/sync-connections/powerschool/assign-schools").mock(
        return_value=httpx.Response(200, json=conn)
    )
    record = mocked.post(f"{base}/field-mappings/m/test-record").mock(
        return_value=httpx.Response(
            409,
            json={
                "error": {
                    "code": "imports_disabled",
                    "message": "Organization does not accept Imports at this time",
                }
            },
        )
    )
    preview = mocked.post(f"{base}/field-mappings/m/preview").mock(
        return_value=httpx.Response(200, json={"rows": []})
    )
    p = provider("enroll")

    async def go() -> None:
        async with p.client:
            assert (
                await p.assign_schools("lakeside-sd", "powerschool", ["a", "b"])
            ).kind == "SyncConnection"
            assert (await p.preview("lakeside-sd", "m")) == {"rows": []}
            with pytest.raises(
                ProviderError, match="409 Organization does not accept Imports at this time"
            ):
                await p.test_record("lakeside-sd", "m", "20451")

    run(go())
    assert json.loads(assign.calls.last.request.content) == {"schools": ["a", "b"]}
    assert json.loads(record.calls.last.request.content) == {"studentId": "20451"}
    assert json.loads(preview.calls.last.request.content) == {}


def test_portal_integration_log(mocked: respx.MockRouter) -> None:
    mocked.get(f"{BASE}/portal/admin/v1/districts/riverside-usd/integration-log").mock(
        return_value=httpx.Response(
            200, json={"items": [{"seq": 1, "action": "added"}], "next": None}
        )
    )
    assert run(_with(provider(), lambda p: p.integration_log("riverside-usd"))) == [
        {"seq": 1, "action": "added"}
    ]


def test_the_client_contract_matches_the_simulators() -> None:
    from intcfg.providers.base import COLLECTION, SYSTEM_OF_KIND
    from intcfg.sim.contract import COLLECTIONS

    assert SYSTEM_OF_KIND == {k: s for s, kinds in COLLECTIONS.items() for k in kinds}
    assert COLLECTION == {k: c for kinds in COLLECTIONS.values() for k, c in kinds.items()}
    assert {s: cls.kinds for s, cls in PROVIDERS.items()} == {
        s: tuple(k) for s, k in COLLECTIONS.items()
    }
