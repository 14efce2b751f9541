"""What a changed FieldMapping does to real records: for each sample student, each target
field whose mapped value differs between the live mapping and the desired one.

``effects`` is pure (the students and the context are given); ``enrich`` fetches each
changed import-student mapping's sample students once, through its connection's own
credentials, and attaches the effects to the plan. A failure to read them becomes a
note, never a failed plan. Only ``intcfg plan`` with secrets resolved enriches.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from .diff import Change
from .errors import IntcfgError
from .transform import Context, FieldMapper, FieldResult
from .vendors.base import ClientFactory, default_factory
from .vendors.students import Fetched


class Effect(NamedTuple):
    """One target field of one student before and after the change (or a note)."""

    student: str
    field: str | None  # None: a note about the student or the mapping
    before: str | None = None
    after: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "student": self.student,
            "field": self.field,
            "before": self.before,
            "after": self.after,
            "note": self.note,
        }


def _shown(result: FieldResult | None) -> str | None:
    if result is None:
        return "(not mapped)"
    if result.error is not None:
        return f"(error: {result.error})"
    return result.value


def effects(
    change: Change,
    live_spec: Mapping[str, Any],
    desired_spec: Mapping[str, Any],
    students: list[Fetched],
    context: Context,
) -> list[Effect]:
    """Each student's fields whose mapped value the change alters, in target order."""
    if change.action != "update":
        return []
    before_map = FieldMapper(live_spec.get("fields") or {})
    after_map = FieldMapper(desired_spec.get("fields") or {})
    out: list[Effect] = []
    for student in students:
        if student.record is None:
            out.append(Effect(student.student_id, None, note=student.error))
            continue
        before = before_map(student.record, context).fields
        after = after_map(student.record, context).fields
        for target in dict.fromkeys([*before, *after]):
            old, new = _shown(before.get(target)), _shown(after.get(target))
            if old != new:
                out.append(Effect(student.student_id, target, old, new))
    return out


def enrich(repository: Any, ctx: Any, factory: ClientFactory = default_factory) -> dict[str, tuple[Effect, ...]]:
    """Address -> effects, for each updated import-student mapping with sample students."""
    from .preview import Selected, codes_folder, context_of, fetch

    state = None  # built only for a plan that updates such a mapping (seconds at state scale)
    found: dict[str, tuple[Effect, ...]] = {}
    for change in ctx.plan.changes:
        desired = ctx.desired.get(change.address)
        live = ctx.live.get(change.address)
        if change.address.kind != "FieldMapping" or change.action != "update" or desired is None or live is None:
            continue
        ids = list(desired.spec.get("sampleStudents") or [])
        if desired.spec.get("type") != "import-student" or not ids:
            continue
        state = state or repository.desired()
        district = state.districts[change.address.district]
        connection = ctx.desired[change.address._replace(kind="SyncConnection", name=desired.spec["connection"])]
        selected = Selected(repository, desired, connection, district)
        try:
            students = fetch(selected, ids, factory)
        except IntcfgError as e:
            found[str(change.address)] = (Effect("*", None, note=f"sample students not read: {e}"),)
            continue
        changed = effects(change, live.spec, desired.spec, students, context_of(district, codes_folder(selected)))
        found[str(change.address)] = tuple(changed) or (
            Effect("*", None, note=f"no mapped value of the {len(students)} sample students changes"),
        )
    return found
