"""The admin API: upsert/delete by natural key, revisions, pagination, batch, rules."""

from __future__ import annotations

from typing import Any

from simkit import (  # noqa: F401 - fixtures
    ADMIN,
    CANARY,
    SimClient,
    client_fixture,
    etr_spec,
    ets_spec,
    ps_connection,
    put,
    seeded_fixture,
)

SIS = "/sis/admin/v1/districts/riverside-usd/etranscript-vendors"
ETS = "/portal/admin/v1/districts/riverside-usd/ets-integrations"
CONN = "/enroll/admin/v1/districts/lakeside-sd/sync-connections"


def test_every_admin_call_needs_the_token(seeded: SimClient) -> None:
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Basic eDp5"}):
        response = seeded.get(SIS, headers=headers)
        assert response.status_code == 401
        assert response.headers["WWW-Authenticate"] == "Bearer"
        assert response.json()["error"]["code"] == "unauthorized"


def test_put_creates_then_is_idempotent(seeded: SimClient) -> None:
    first = put(seeded, f"{SIS}/parchment", etr_spec())
    assert first.status_code == 201
    obj = first.json()
    assert obj["revision"] == 1 and obj["managedBy"] == "intcfg" and obj["site"] is None
    assert obj["id"].startswith("etv_") and first.headers["ETag"] == '"1"'
    assert (obj["district"], obj["kind"], obj["name"]) == (
        "riverside-usd",
        "ETranscriptVendor",
        "parchment",
    )
    assert "consumerSecret" not in obj["spec"] and "password" not in obj["spec"]
    assert sorted(obj["secretsSetAt"]) == ["consumerSecret", "password"]
    assert obj["spec"] == {
        k: v for k, v in etr_spec().items() if k not in ("consumerSecret", "password")
    }
    again = put(seeded, f"{SIS}/parchment", etr_spec())
    assert again.status_code == 200
    assert again.json() == obj


def test_revision_grows_on_spec_managed_by_and_secret_changes(seeded: SimClient) -> None:
    put(seeded, f"{SIS}/parchment", etr_spec())
    changed = put(seeded, f"{SIS}/parchment", etr_spec(uploadPort=443)).json()
    assert changed["revision"] == 2
    secret = put(
        seeded, f"{SIS}/parchment", etr_spec(uploadPort=443, password="canary-rotated-pw-1")
    ).json()
    assert secret["revision"] == 3
    assert secret["secretsSetAt"]["password"] > changed["secretsSetAt"]["password"]
    assert secret["secretsSetAt"]["consumerSecret"] == changed["secretsSetAt"]["consumerSecret"]
    by_hand = put(
        seeded,
        f"{SIS}/parchment",
        etr_spec(uploadPort=443, password="canary-rotated-pw-1"),
        managed_by=None,
    ).json()
    assert (by_hand["revision"], by_hand["managedBy"], by_hand["id"]) == (4, None, changed["id"])


def test_read_list_and_delete(seeded: SimClient) -> None:
    put(seeded, f"{SIS}/parchment", etr_spec())
    assert seeded.get(f"{SIS}/parchment", headers=ADMIN).json()["revision"] == 1
    assert seeded.delete(f"{SIS}/parchment", headers=ADMIN).status_code == 204
    missing = seeded.delete(f"{SIS}/parchment", headers=ADMIN)
    assert missing.status_code == 404
    assert (
        missing.json()["error"]["message"]
        == "ETranscriptVendor 'parchment' does not exist in district 'riverside-usd'"
    )
    assert seeded.get(f"{SIS}/parchment", headers=ADMIN).status_code == 404


def test_lists_are_paginated_with_cursors(seeded: SimClient) -> None:
    names = [f"vendor-{i:02d}" for i in range(7)]
    for name in reversed(names):
        put(seeded, f"{SIS}/{name}", etr_spec())
    seen, cursor, pages = [], None, 0
    while pages < 10:
        params = {"limit": "3", **({"cursor": cursor} if cursor else {})}
        page = seeded.get(SIS, headers=ADMIN, params=params).json()
        seen += [o["name"] for o in page["items"]]
        pages += 1
        cursor = page["next"]
        if cursor is None:
            break
    assert (seen, pages) == (names, 3)
    assert seeded.get(SIS, headers=ADMIN, params={"limit": "0"}).status_code == 400
    assert (
        seeded.get(SIS, headers=ADMIN, params={"cursor": "!!"}).json()["error"]["code"]
        == "invalid_cursor"
    )


def test_if_match_makes_writes_conditional(seeded: SimClient) -> None:
    assert (
        put(seeded, f"{SIS}/parchment", etr_spec(), headers={"If-Match": '"1"'}).status_code == 412
    )
    assert (
        put(seeded, f"{SIS}/parchment", etr_spec(), headers={"If-Match": '"0"'}).status_code == 201
    )
    stale = put(seeded, f"{SIS}/parchment", etr_spec(uploadPort=1), headers={"If-Match": '"0"'})
    assert stale.status_code == 412
    assert (
        stale.json()["error"]["message"]
        == "the object is at revision 1, not 0: it changed since it was read; read it again"
    )
    assert (
        seeded.delete(f"{SIS}/parchment", headers={**ADMIN, "If-Match": '"2"'}).status_code == 412
    )
    assert (
        seeded.delete(f"{SIS}/parchment", headers={**ADMIN, "If-Match": '"1"'}).status_code == 204
    )


def test_unknown_district_is_404(seeded: SimClient) -> None:
    response = put(seeded, "/sis/admin/v1/districts/nowhere/etranscript-vendors/x", etr_spec())
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "unknown_district"
    assert (
        seeded.get("/sis/admin/v1/districts/nowhere/etranscript-vendors", headers=ADMIN).status_code
        == 404
    )


def test_invalid_specs_list_every_problem_and_never_echo_secrets(seeded: SimClient) -> None:
    bad = etr_spec(uploadPort=70000, userName="u" * 101, password=12345, authServer="ftp://x")
    del bad["consumerKey"]
    response = put(seeded, f"{SIS}/parchment", bad)
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_spec"
    assert {d["path"] for d in error["details"]} == {
        "$.spec",
        "$.spec.uploadPort",
        "$.spec.userName",
        "$.spec.password",
        "$.spec.authServer",
    }
    wrong_place = ps_connection(["lakeside-high"])
    wrong_place["aeries"] = {
        "apiUrl": "https://x",
        "certificate": CANARY["cert"],
        "oneRoster": {"url": "https://y", "consumerId": "c", "consumerSecret": CANARY["ros"]},
    }
    response = put(seeded, f"{CONN}/powerschool", wrong_place)
    assert response.status_code == 422
    assert CANARY["cert"] not in response.text and CANARY["ros"] not in response.text
    assert put(seeded, f"{SIS}/Bad_Name", etr_spec()).status_code == 422
    extra = seeded.put(f"{SIS}/parchment", headers=ADMIN, json={"spec": etr_spec(), "owner": "x"})
    assert extra.json()["error"]["message"] == "unknown field 'owner' (allowed: managedBy, spec)"


def test_portal_sites_and_the_integration_log(seeded: SimClient) -> None:
    assert put(seeded, f"{ETS}/ets", ets_spec()).status_code == 201
    site = put(
        seeded,
        f"{ETS}/ets",
        ets_spec(CANARY["charter"], "charter-toms"),
        params={"site": "river-charter"},
    )
    assert site.status_code == 201 and site.json()["site"] == "river-charter"
    assert (
        put(seeded, f"{ETS}/ets", ets_spec(), params={"site": "atlantis"}).json()["error"]["code"]
        == "unknown_site"
    )
    listed = seeded.get(ETS, headers=ADMIN).json()["items"]
    assert [(o["name"], o["site"]) for o in listed] == [("ets", None), ("ets", "river-charter")]
    assert (
        seeded.get(f"{ETS}/ets", headers=ADMIN, params={"site": "river-charter"}).json()["spec"][
            "username"
        ]
        == "charter-toms"
    )
    assert (
        seeded.delete(f"{ETS}/ets", headers=ADMIN, params={"site": "river-charter"}).status_code
        == 204
    )
    log = seeded.get(
        "/portal/admin/v1/districts/riverside-usd/integration-log", headers=ADMIN
    ).json()["items"]
    assert [(e["action"], e["site"], e["by"]) for e in log] == [
        ("added", None, "intcfg"),
        ("added", "river-charter", "intcfg"),
        ("removed", "river-charter", "intcfg"),
    ]
    assert (
        seeded.get(f"{SIS}/x", headers=ADMIN, params={"site": "river-charter"}).json()["error"][
            "code"
        ]
        == "site_not_supported"
    )


def test_enroll_knows_its_schools_and_moves_them_between_connections(seeded: SimClient) -> None:
    unknown = put(seeded, f"{CONN}/powerschool", ps_connection(["lakeside-high", "atlantis-high"]))
    assert unknown.status_code == 422
    assert unknown.json()["error"]["message"] == (
        "school 'atlantis-high' is not a school of district 'lakeside-sd' (its schools: "
        "lakeside-elementary, lakeside-high)"
    )
    put(seeded, f"{CONN}/powerschool", ps_connection(["lakeside-high", "lakeside-elementary"]))
    put(seeded, f"{CONN}/sandbox", ps_connection(["lakeside-high"], "sandbox"))
    moved = put(seeded, f"{CONN}/second", ps_connection(["lakeside-high"])).json()
    assert moved["spec"]["schools"] == ["lakeside-high"]
    first = seeded.get(f"{CONN}/powerschool", headers=ADMIN).json()
    assert (first["spec"]["schools"], first["revision"]) == (["lakeside-elementary"], 2)
    assert seeded.get(f"{CONN}/sandbox", headers=ADMIN).json()["spec"]["schools"] == [
        "lakeside-high"
    ]


def test_mappings_and_schedules_need_their_connection(seeded: SimClient) -> None:
    base = "/enroll/admin/v1/districts/lakeside-sd"
    mapping = {
        "connection": "powerschool",
        "type": "import-school",
        "fields": {"schools.name": {"type": "direct", "source": "name"}},
    }
    orphan = put(seeded, f"{base}/field-mappings/m1", mapping)
    assert (orphan.status_code, orphan.json()["error"]["code"]) == (422, "unknown_connection")
    put(seeded, f"{CONN}/powerschool", ps_connection([]))
    assert put(seeded, f"{base}/field-mappings/m1", mapping).status_code == 201
    duplicate = put(seeded, f"{base}/field-mappings/m2", mapping)
    assert duplicate.status_code == 409
    assert (
        duplicate.json()["error"]["message"]
        == "connection 'powerschool' already has a FieldMapping for 'import-school': 'm1'"
    )
    in_use = seeded.delete(f"{CONN}/powerschool", headers=ADMIN)
    assert in_use.status_code == 409
    assert (
        in_use.json()["error"]["message"]
        == "connection 'powerschool' is still used by FieldMapping 'm1'; delete those first"
    )


def test_batch_applies_each_item_on_its_own(seeded: SimClient) -> None:
    ops = [
        {
            "op": "put",
            "district": "riverside-usd",
            "kind": "ETranscriptVendor",
            "name": "a",
            "spec": etr_spec(),
            "managedBy": "intcfg",
        },
        {
            "op": "put",
            "district": "riverside-usd",
            "kind": "ETranscriptVendor",
            "name": "b",
            "spec": {"displayName": "x"},
        },
        {
            "op": "delete",
            "district": "riverside-usd",
            "kind": "ETranscriptVendor",
            "name": "missing",
        },
        {
            "op": "put",
            "district": "nowhere",
            "kind": "ETranscriptVendor",
            "name": "c",
            "spec": etr_spec(),
        },
        {
            "op": "put",
            "district": "riverside-usd",
            "kind": "ETranscriptVendor",
            "name": "a",
            "spec": etr_spec(),
            "ifRevision": 0,
        },
        {
            "op": "delete",
            "district": "riverside-usd",
            "kind": "ETranscriptVendor",
            "name": "a",
            "ifRevision": 1,
        },
    ]
    response = seeded.post("/sis/admin/v1/batch", headers=ADMIN, json={"operations": ops})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 404, 404, 412, 204]
    assert results[0]["object"]["name"] == "a"
    assert results[3]["error"]["code"] == "unknown_district"
    too_many = seeded.post(
        "/sis/admin/v1/batch", headers=ADMIN, json={"operations": [ops[2]] * 101}
    )
    assert (too_many.status_code, too_many.json()["error"]["code"]) == (400, "batch_too_large")
    for malformed in ([{"op": "upsert"}], [{**ops[0], "kind": "Schedule"}]):
        assert (
            seeded.post(
                "/sis/admin/v1/batch", headers=ADMIN, json={"operations": malformed}
            ).status_code
            == 400
        )


def test_a_batch_checks_each_site_and_district_of_its_own(seeded: SimClient) -> None:
    """The batch reads a district and its schools once; every operation is still checked."""

    def op(site: str | None, district: str = "riverside-usd") -> dict[str, Any]:
        return {
            "op": "put",
            "district": district,
            "kind": "StateAssessmentIntegration",
            "name": "ets",
            "site": site,
            "spec": ets_spec(),
        }

    ops = [op("riverside-high"), op("atlantis"), op("lakeside-high"), op(None, "nowhere"), op(None)]
    response = seeded.post("/portal/admin/v1/batch", headers=ADMIN, json={"operations": ops})
    results = response.json()["results"]
    assert [r["status"] for r in results] == [201, 422, 422, 404, 201]
    assert [r.get("error", {}).get("code") for r in results] == [
        None,
        "unknown_site",
        "unknown_site",
        "unknown_district",
        None,
    ]


def test_status_and_district(seeded: SimClient) -> None:
    status = seeded.get("/enroll/admin/v1/status", headers=ADMIN).json()
    assert status == {
        "system": "enroll",
        "api": "admin/v1",
        "kinds": ["SyncConnection", "FieldMapping", "Schedule"],
        "districts": ["hillcrest-isd", "lakeside-sd", "riverside-usd"],
    }
    district = seeded.get("/enroll/admin/v1/districts/lakeside-sd", headers=ADMIN).json()
    assert district["importsEnabled"] is False
    assert [(s["id"], s["hasYearsAndTerms"]) for s in district["schools"]] == [
        ("lakeside-elementary", True),
        ("lakeside-high", False),
    ]


def test_a_body_json_cannot_carry_is_refused_before_anything_is_stored(seeded: SimClient) -> None:
    refused = {
        '{"spec": {"uploadPort": NaN}}': "the body is not valid JSON",
        '{"spec": {"uploadPort": Infinity}}': "the body is not valid JSON",
        '{"spec": {"uploadPort": 9223372036854775808}}': (
            "a number in the body is an integer beyond the 64-bit range"
        ),
        # orjson, which reads most bodies, takes this one for a float
        '{"spec": {"uploadPort": 18446744073709551616}}': (
            "a number in the body is an integer beyond the 64-bit range"
        ),
        '{"spec": {"uploadPort": -9223372036854775809}}': (
            "a number in the body is an integer beyond the 64-bit range"
        ),
    }
    for body, message in refused.items():
        response = seeded.put(
            f"{SIS}/parchment",
            headers={**ADMIN, "Content-Type": "application/json"},
            content=body,
        )
        assert response.status_code == 400, body
        assert response.json()["error"] == {"code": "invalid_json", "message": message}
    assert seeded.get(SIS, headers=ADMIN).json()["items"] == []
    largest = put(seeded, f"{SIS}/parchment", etr_spec(uploadPort=9223372036854775807))
    assert largest.status_code == 422  # in range for JSON, out of range for a port
