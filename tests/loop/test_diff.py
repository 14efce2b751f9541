from __future__ import annotations

from typing import Any, NamedTuple

import pytest

from intcfg.desired import Address, DesiredObject
from intcfg.diff import MASK, Applied, FieldChange, diff, flatten
from intcfg.plan import Inputs, Plan, Safety, check_safety, from_json
from intcfg.errors import ConfigError, UnsafePlanError

ETS = Address("portal", "riverside-usd", "StateAssessmentIntegration", "ets")
SPEC = {
    "apiUrl": "https://caaspp-aws.ets.org/api/v1/token",
    "username": "riverside",
    "secretKey": {"env": "ETS_KEY"},
    "credentialsRotated": "2026-10-01",
}
VISIBLE = {k: v for k, v in SPEC.items() if k != "secretKey"}


class Live(NamedTuple):
    id: str
    revision: int
    managed_by: str | None
    spec: dict[str, Any]


def fp(address: Address, path: str, ref: dict[str, str]) -> str:
    return f"hmac-sha256:{ref['env'].lower()}"


def want(spec: dict[str, Any] = SPEC, lifecycle: dict[str, Any] | None = None) -> DesiredObject:
    return DesiredObject(ETS, spec, {}, lifecycle or {})


def applied(spec: dict[str, Any] | None = None, revision: int = 1) -> Applied:
    return Applied("7", revision, {**(spec or VISIBLE), "secretKey": "ref:env:ETS_KEY|hmac-sha256:ets_key"})


def one(changes: list) -> Any:
    assert len(changes) == 1
    return changes[0]


def test_create_masks_secrets() -> None:
    c = one(diff([want()], {}, {}, fp))
    assert (c.action, c.reason) == ("create", "config")
    assert FieldChange("secretKey", None, MASK, True) in c.fields
    assert FieldChange("username", None, "riverside") in c.fields


def test_in_sync_is_noop() -> None:
    live = Live("7", 1, "intcfg", VISIBLE)
    assert one(diff([want()], {ETS: live}, {ETS: applied()}, fp)).action == "noop"


def test_change_in_git() -> None:
    live = Live("7", 1, "intcfg", VISIBLE)
    c = one(diff([want({**SPEC, "username": "new"})], {ETS: live}, {ETS: applied()}, fp))
    assert (c.action, c.reason, c.fields) == ("update", "config", (FieldChange("username", "riverside", "new"),))


def test_drift_made_by_hand_is_reverted_and_named() -> None:
    live = Live("7", 2, "intcfg", {**VISIBLE, "username": "typo"})
    c = one(diff([want()], {ETS: live}, {ETS: applied()}, fp))
    assert (c.action, c.reason) == ("update", "drift")
    assert c.fields == (FieldChange("username", "typo", "riverside"),)


def test_both_sides_changed() -> None:
    live = Live("7", 2, "intcfg", {**VISIBLE, "username": "typo"})
    c = one(diff([want({**SPEC, "username": "new"})], {ETS: live}, {ETS: applied()}, fp))
    assert c.reason == "both"


def test_secret_rotated_in_git_is_an_update_without_values() -> None:
    live = Live("7", 1, "intcfg", VISIBLE)
    c = one(diff([want({**SPEC, "secretKey": {"env": "NEW_KEY"}})], {ETS: live}, {ETS: applied()}, fp))
    assert (c.action, c.fields) == ("update", (FieldChange("secretKey", MASK, MASK, True),))


def test_revision_moved_without_visible_change_reasserts_secrets() -> None:
    live = Live("7", 5, "intcfg", VISIBLE)
    c = one(diff([want()], {ETS: live}, {ETS: applied(revision=1)}, fp))
    assert (c.action, c.reason) == ("update", "drift")
    assert "revision 1 -> 5" in c.note


def test_observed_fields_are_neither_reverted_nor_drift() -> None:
    live = Live("7", 2, "intcfg", {**VISIBLE, "username": "set-in-screen"})
    obj = want(lifecycle={"observedFields": ["username"]})
    assert one(diff([obj], {ETS: live}, {ETS: applied()}, fp)).action == "noop"


def test_deleted_by_hand_is_recreated_as_drift() -> None:
    c = one(diff([want()], {}, {ETS: applied()}, fp))
    assert (c.action, c.reason) == ("create", "drift")


def test_managed_object_removed_from_git_is_a_prune_candidate() -> None:
    live = Live("7", 1, "intcfg", VISIBLE)
    c = one(diff([], {ETS: live}, {ETS: applied()}, fp))
    assert (c.action, c.reason, c.live_id) == ("delete", "prune", "7")


def test_unmanaged_objects_are_never_touched() -> None:
    live = Live("9", 1, None, VISIBLE)
    assert diff([], {ETS: live}, {}, fp) == []
    c = one(diff([want()], {ETS: live}, {}, fp))
    assert c.action == "conflict" and "intcfg import --district riverside-usd" in c.note


def test_without_secrets_references_are_compared() -> None:
    live = Live("7", 1, "intcfg", VISIBLE)
    last = Applied("7", 1, {**VISIBLE, "secretKey": "ref:env:ETS_KEY"})
    assert one(diff([want()], {ETS: live}, {ETS: last}, None)).action == "noop"


def test_flatten_keeps_secret_references_and_scalar_lists_whole() -> None:
    spec = {"a": {"b": 1}, "s": {"env": "X"}, "l": ["x", "y"], "m": [{"k": 1}]}
    assert flatten(spec) == {"a.b": 1, "s": {"env": "X"}, "l": ["x", "y"], "m.0.k": 1}


def inputs() -> Inputs:
    return Inputs("sha256:c", "sha256:l", "sha256:s", "abc123", ("riverside-usd",), None)


def test_plan_round_trips_through_json_and_is_deterministic() -> None:
    changes = diff([want()], {}, {}, fp)
    plan = Plan.create(changes, inputs())
    text = plan.to_json()
    assert from_json(text) == plan
    assert Plan.create(list(reversed(changes)), inputs()).to_json() == text
    assert "hmac-sha256" not in text and "ETS_KEY" not in text


def test_a_tampered_plan_is_refused() -> None:
    text = Plan.create(diff([want()], {}, {}, fp), inputs()).to_json().replace("riverside", "evil", 1)
    with pytest.raises(ConfigError, match="modified after it was written"):
        from_json(text)


def test_delete_budget_needs_force() -> None:
    live = {Address("sis", "d", "ETranscriptVendor", f"v{i}"): Live(str(i), 1, "intcfg", {}) for i in range(4)}
    plan = Plan.create(diff([], live, {}, fp), inputs())
    with pytest.raises(UnsafePlanError, match=r"district 'd': 4 of 5 managed objects deleted \(80%\) exceeds 30%; .*--force"):
        check_safety(plan, {"d": 5}, Safety(), force=False)
    check_safety(plan, {"d": 5}, Safety(), force=True)


def test_a_plan_without_secrets_agrees_with_state_written_with_them() -> None:
    live = Live("7", 1, "intcfg", VISIBLE)
    assert one(diff([want()], {ETS: live}, {ETS: applied()}, None)).action == "noop"
    moved = want({**SPEC, "secretKey": {"env": "OTHER"}})
    assert one(diff([moved], {ETS: live}, {ETS: applied()}, None)).action == "update"


def test_comparing_district_by_district_as_lists_arrive_gives_the_whole_diff_and_live_digest() -> None:
    from intcfg.diff import comparable
    from intcfg.loop import _ByDistrict, _live_digest

    def at(district: str, name: str) -> Address:
        return ETS._replace(district=district, name=name)

    desired = {a: DesiredObject(a, SPEC, {}, {}) for a in (at("b", "ets"), at("b", "new"), at("a", "ets"))}
    live = {
        at("a", "ets"): Live("1", 1, "intcfg", {**VISIBLE, "username": "by-hand"}),  # drift
        at("b", "ets"): Live("2", 1, "intcfg", VISIBLE),  # in sync
        at("b", "gone"): Live("3", 1, "intcfg", VISIBLE),  # removed from git: prune
        at("c", "old"): Live("4", 1, "intcfg", VISIBLE),  # a district the config no longer names
        at("c", "theirs"): Live("5", 1, None, VISIBLE),  # never managed: left out
    }
    last = {a: applied() for a in (at("a", "ets"), at("b", "ets"), at("b", "gone"))}
    wants = {a: comparable(o, fp) for a, o in desired.items()}
    whole = diff(list(desired.values()), live, last, fp, wants)
    assert [(str(c.address), c.action) for c in whole if c.is_change] == [
        ("portal/a/StateAssessmentIntegration/ets", "update"),
        ("portal/b/StateAssessmentIntegration/gone", "delete"),
        ("portal/b/StateAssessmentIntegration/new", "create"),
        ("portal/c/StateAssessmentIntegration/old", "delete"),
    ]
    for arrived in ([], ["b"], ["c", "a"], ["b", "a", "c"]):
        by_district = _ByDistrict(desired, last, fp, wants)
        for district in arrived:
            by_district.compare(district, {a: o for a, o in live.items() if a.district == district})
        assert by_district.changes(["c", "b", "a"], live) == whole, arrived
        assert by_district.live_digest() == _live_digest(live), arrived
