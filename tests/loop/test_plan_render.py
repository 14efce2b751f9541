"""Plans as people and tools read them: golden files (exact text, markdown and JSON).

Regenerate after an intended change with: INTCFG_UPDATE_GOLDEN=1 pytest tests/loop/test_plan_render.py
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from intcfg.desired import Address
from intcfg.diff import MASK, Change, FieldChange
from intcfg.plan import Inputs, Plan
from intcfg.render.plan import RENDERERS

GOLDEN = Path(__file__).parent / "golden"
R = "riverside-usd"
L = "lakeside-sd"


def sample_plan() -> Plan:
    changes = [
        Change(
            Address("sis", R, "ETranscriptVendor", "parchment"),
            "create",
            "config",
            (
                FieldChange("authPath", None, "/oauth/token"),
                FieldChange("consumerSecret", None, MASK, True),
                FieldChange("uploadPort", None, 443),
            ),
        ),
        Change(
            Address("portal", R, "StateAssessmentIntegration", "ets", "river-charter"),
            "update",
            "drift",
            (FieldChange("username", "typo-in-screen", "river-charter-toms"),),
            "ets-2",
        ),
        Change(
            Address("portal", R, "StateAssessmentIntegration", "ets"),
            "update",
            "config",
            (FieldChange("credentialsRotated", "2026-07-01", "2026-10-01"), FieldChange("secretKey", MASK, MASK, True)),
            "ets-1",
        ),
        Change(Address("enroll", L, "Schedule", "ps-nightly-export"), "delete", "prune", (), "sched-9"),
        Change(Address("enroll", L, "SyncConnection", "powerschool"), "noop", "none", (), "conn-1"),
        Change(
            Address("enroll", L, "FieldMapping", "ps-import-student"),
            "conflict",
            "unmanaged",
            (),
            "map-4",
            "exists in the live system but intcfg does not manage it; adopt it with `intcfg import --district lakeside-sd` or rename the resource",
        ),
    ]
    inputs = Inputs("sha256:" + "c" * 64, "sha256:" + "1" * 64, "0123456789abcdef0123456789abcdef01234567", "feedface", (L, R), None)
    return Plan.create(changes, inputs)


@pytest.mark.parametrize(("fmt", "name"), [("text", "plan.txt"), ("markdown", "plan.md"), ("json", "plan.json")])
def test_plan_golden(fmt: str, name: str) -> None:
    rendered = RENDERERS[fmt](sample_plan())
    path = GOLDEN / name
    if os.environ.get("INTCFG_UPDATE_GOLDEN"):
        path.write_text(rendered, encoding="utf-8")
    assert rendered == path.read_text(encoding="utf-8")


def test_no_changes_says_so() -> None:
    plan = Plan.create([Change(Address("sis", R, "ETranscriptVendor", "p"), "noop", "none", (), "1")], sample_plan().inputs)
    assert RENDERERS["text"](plan) == (
        "Plan: 0 to create, 0 to update, 0 to delete, 1 unchanged\n\nNo changes. The live systems match the configuration.\n"
    )


def test_colour_only_when_asked() -> None:
    assert "\033[" not in RENDERERS["text"](sample_plan())
    assert "\033[32m+ create" in RENDERERS["text"](sample_plan(), colour=True)


@pytest.mark.parametrize(("fmt", "name"), [("text", "plan.txt"), ("json", "plan.json")])
def test_output_made_ahead_district_by_district_is_the_golden_one(fmt: str, name: str) -> None:
    from intcfg.engine import preparing

    plan = sample_plan()
    prepare = preparing(text=True, json=True)
    for district in (L, R):  # as a plan's districts are compared, while the reads go on
        prepare([c for c in plan.changes if c.address.district == district], [])
    assert RENDERERS[fmt](plan) == (GOLDEN / name).read_text(encoding="utf-8")


def test_a_digest_hashed_district_by_district_is_the_digest_of_the_whole(monkeypatch: pytest.MonkeyPatch) -> None:
    from intcfg import plan as module
    from intcfg.engine import preparing

    expected = sample_plan().to_dict()["digest"]
    plan = sample_plan()
    prepare = preparing(json=True)
    for district in sorted({c.address.district for c in plan.changes}):  # in plan order, as make_plan does
        prepare([c for c in plan.changes if c.address.district == district], [])
    monkeypatch.setattr(module, "digest_of", lambda body: pytest.fail("the whole plan was hashed again"))
    assert plan.to_dict()["digest"] == expected
    monkeypatch.undo()
    # Districts out of order, or another plan's changes: the digest is taken of the whole.
    plan = sample_plan()
    for district in sorted({c.address.district for c in plan.changes}, reverse=True):
        prepare([c for c in plan.changes if c.address.district == district], [])
    assert plan.to_dict()["digest"] == expected
    prepare(list(sample_plan().changes), [])
    assert sample_plan().to_dict()["digest"] == expected


def test_output_made_ahead_for_another_plan_is_not_taken_and_effects_still_come() -> None:
    from intcfg.engine import preparing
    from intcfg.plan import Plan as P

    other = sample_plan()
    preparing(text=True, json=True)(list(other.changes), [])  # then never rendered
    plan = sample_plan()  # equal changes, other objects
    assert RENDERERS["text"](plan) == (GOLDEN / "plan.txt").read_text(encoding="utf-8")

    first = str(plan.changes[0].address)
    with_effects = P(plan.changes, plan.inputs, ((first, ({"student": "s1"},)),))
    preparing(json=True)(list(with_effects.changes), [])
    changes = with_effects.to_dict()["changes"]
    assert [c.get("effects") for c in changes] == [[{"student": "s1"}]] + [None] * (len(changes) - 1)
