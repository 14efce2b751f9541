"""A mapping preview as text, markdown or JSON (the seed's Mapped Value column)."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..preview import Preview, StudentPreview, TestRecord
from ..transform import FieldResult

NONE = "-"  # no source field, or no value
HEADERS = ("Target field", "Type", "Source value", "Mapped value")


def _mapped(result: FieldResult) -> str:
    if result.error is not None:
        return f"ERROR: {result.error}"
    return NONE if result.value is None else repr(result.value)


def _source(result: FieldResult) -> str:
    return NONE if result.source_value is None else repr(result.source_value)


def _rows(student: StudentPreview) -> list[tuple[str, str, str, str]]:
    return [(t, r.type, _source(r), _mapped(r)) for t, r in student.fields.items()]


def _summary(p: Preview) -> str:
    failed = sum(1 for s in p.students if not s.ok)
    return (
        f"{len(p.students)} students, all fields mapped"
        if not failed
        else f"{len(p.students)} students, {failed} with errors"
    )


def text(p: Preview, colour: bool = False) -> str:
    lines = [f"Preview of {p.mapping} (students from {p.source})", ""]
    for student in p.students:
        lines.append(f"Student {student.student_id}")
        if student.error is not None:
            lines += [f"  ERROR: {student.error}", ""]
            continue
        rows = _rows(student)
        widths = [max(len(r[i]) for r in [HEADERS, *rows]) for i in range(3)]
        for row in [HEADERS, *rows]:
            cells = [c.ljust(w) for c, w in zip(row[:3], widths, strict=True)]
            lines.append("  " + "  ".join([*cells, row[3]]).rstrip())
        lines.append("")
    lines.append(_summary(p))
    return "\n".join(lines) + "\n"


def _md_cell(value: str) -> str:
    return value.replace("|", "\\|")


def markdown(p: Preview, colour: bool = False) -> str:
    lines = [f"### Preview of `{p.mapping}`", "", f"Students from {p.source}.", ""]
    for student in p.students:
        lines.append(f"#### Student {student.student_id}")
        lines.append("")
        if student.error is not None:
            lines += [f"**Error:** {student.error}", ""]
            continue
        lines += ["| " + " | ".join(HEADERS) + " |", "|---|---|---|---|"]
        lines += ["| " + " | ".join(_md_cell(c) for c in row) + " |" for row in _rows(student)]
        lines.append("")
    lines.append(_summary(p))
    return "\n".join(lines) + "\n"


def _field_json(result: FieldResult) -> dict[str, Any]:
    return {
        "type": result.type,
        "sourceValue": result.source_value,
        "mappedValue": result.value,
        "error": result.error,
    }


def as_json(p: Preview, colour: bool = False) -> str:
    data = {
        "mapping": p.mapping,
        "source": p.source,
        "ok": p.ok,
        "students": [
            {
                "studentId": s.student_id,
                "ok": s.ok,
                "error": s.error,
                "fields": {t: _field_json(r) for t, r in s.fields.items()},
            }
            for s in p.students
        ],
    }
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def test_record_text(result: TestRecord) -> str:
    if not result.ok:
        remedy = f"\n  {result.remedy[0].upper()}{result.remedy[1:]}." if result.remedy else ""
        return f"Test record refused: {result.message}{remedy}\n"
    lines = [f"Test record accepted: {result.message}"]
    for target, value in (result.record or {}).items():
        lines.append(f"  {target}: {NONE if value is None else repr(value)}")
    return "\n".join(lines) + "\n"


RENDERERS: dict[str, Callable[..., str]] = {"text": text, "markdown": markdown, "json": as_json}
