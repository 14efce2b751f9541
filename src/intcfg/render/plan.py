"""Plans as text (a terminal), markdown (a pull-request comment) and JSON."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from ..diff import Change
from ..plan import Plan, Prepared

SYMBOLS = {"create": "+", "update": "~", "delete": "-", "noop": " ", "conflict": "!"}
COLOURS = {"create": "\033[32m", "update": "\033[33m", "delete": "\033[31m", "conflict": "\033[35m", "noop": ""}
RESET = "\033[0m"
REASONS = {
    "config": "changed in git",
    "drift": "drift: changed in the live system outside git",
    "both": "changed in git and in the live system",
    "prune": "no longer in the repository; deleted only with --prune",
    "unmanaged": "",
    "none": "",
}


def headline(plan: Plan) -> str:
    n = plan.counts()
    text = f"{n['create']} to create, {n['update']} to update, {n['delete']} to delete, {n['noop']} unchanged"
    if n["conflict"]:
        text += f", {n['conflict']} in conflict"
    return text


# One encoder for every value: json.dumps with any non-default option builds a new one per
# call (a plan of 10,000 creates shows 160,000 values).
_encode = json.JSONEncoder(ensure_ascii=False).encode


_PLAIN: dict[bool | None, str] = {True: "true", False: "false", None: "null"}


def _value(v: Any) -> str:
    """``v`` as JSON; a string that needs no escape, an integer, a boolean and null without
    the encoder (most of a plan's values: a tenth of a microsecond instead of two)."""
    kind = type(v)
    if kind is str:
        if v == "(sensitive)":
            return "(sensitive)"
        if v.isprintable() and '"' not in v and "\\" not in v:
            return f'"{v}"'
    elif kind is int:
        return str(v)
    elif kind is bool or v is None:
        return _PLAIN[v]
    return _encode(v)


TEXT_INDENT = "      "  # a change's fields under its line in the text

# Changes' lines (text without colour) made ahead of the plan's text, each change's as one
# string; the next text takes them.
_PREPARED = Prepared()


def prepare(changes: Iterable[Change]) -> None:
    """Write the lines of ``changes`` before the plan is whole: a plan or apply calls this
    for each district as it is compared, while the read-ahead child reads the others (the
    text of 10,000 creates is 190,000 lines)."""
    for c in changes:
        if c.action != "noop":
            # One string of its lines a change: a tenth of the objects to hold meanwhile.
            _PREPARED.put(c, _text_lines(c, False))


def _text_lines(change: Change, colour: bool) -> str:
    """A change's line, then its fields' lines under it."""
    on, off = (COLOURS[change.action], RESET) if colour and COLOURS[change.action] else ("", "")
    extra = "; ".join(x for x in (REASONS[change.reason], change.note) if x)
    line = f"  {on}{SYMBOLS[change.action]} {change.action:<8}{off} {change.address}" + (f"  ({extra})" if extra else "")
    return "\n".join([line, *_field_lines(change, TEXT_INDENT)])


def _field_lines(change: Change, indent: str) -> list[str]:
    if change.action == "create":  # a state's first plan: every field of every object
        return [f"{indent}{f.path}: {_value(f.after)}" for f in change.fields]
    return [
        f"{indent}{f.path}: (sensitive value changed)" if f.secret
        else f"{indent}{f.path}: {_value(f.before)} -> {_value(f.after)}"
        for f in change.fields
    ]


def _effect_lines(plan: Plan, change: Change, indent: str) -> list[str]:
    """Mapped values of the sample students before and after a FieldMapping change."""
    found = plan.effects_of(change)
    if not found:
        return []
    lines = [f"{indent}effect on sample students:"]
    for e in found:
        if e["field"] is None:
            lines.append(f"{indent}  {e['student']}: {e['note']}")
        else:
            lines.append(f"{indent}  {e['student']} {e['field']}: {_value(e['before'])} -> {_value(e['after'])}")
    return lines


def by_district(plan: Plan) -> dict[str, list[Change]]:
    out: dict[str, list[Change]] = {}
    for c in plan.changes:
        out.setdefault(c.address.district, []).append(c)
    return out


def text(plan: Plan, colour: bool = False, verbose: bool = False, quiet: bool = False) -> str:
    """The plan for a terminal: a headline, then each district's changes. ``quiet``: the
    changes alone (nothing at all when there are none)."""
    lines = [] if quiet else [f"Plan: {headline(plan)}"]
    lines += change_lines(plan, colour, verbose)
    if not plan.has_changes() and not quiet:
        lines += ["", "No changes. The live systems match the configuration."]
    if quiet and lines:
        lines = lines[1:]  # the blank line that would separate them from the headline
    return "".join(line + "\n" for line in lines)


def change_lines(plan: Plan, colour: bool = False, verbose: bool = False) -> list[str]:
    """Each district's changes (with unchanged objects when ``verbose``), each district
    after a blank line: lines to end with a newline each (a change's lines come as one
    string of lines)."""
    lines: list[str] = []
    for district, changes in by_district(plan).items():
        shown = [c for c in changes if c.action != "noop" or verbose]
        if not shown:
            continue
        lines += ["", district]
        for c in shown:
            lines.append(_text_lines(c, True) if colour else _PREPARED.take(c, lambda c: _text_lines(c, False)))
            if plan.effects:
                lines += _effect_lines(plan, c, TEXT_INDENT)
    _PREPARED.forget()
    return lines


def markdown(plan: Plan, colour: bool = False, verbose: bool = False, quiet: bool = False) -> str:
    counts = plan.counts()
    lines = [
        f"### intcfg plan: {headline(plan)}",
        "",
        "| district | create | update | delete | unchanged | conflict |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    groups = by_district(plan)
    for district, changes in groups.items():
        n = {a: sum(1 for c in changes if c.action == a) for a in counts}
        lines.append(
            f"| {district} | {n['create']} | {n['update']} | {n['delete']} | {n['noop']} | {n['conflict']} |"
        )
    for district, changes in groups.items():
        shown = [c for c in changes if c.action != "noop"]
        if not shown:
            continue
        lines += ["", f"<details><summary><b>{district}</b>: {len(shown)} change(s)</summary>", "", "```diff"]
        for c in shown:
            reason = "; ".join(x for x in (REASONS[c.reason], c.note) if x)
            lines.append(f"{SYMBOLS[c.action]} {c.action} {c.address}" + (f"  # {reason}" if reason else ""))
            lines += _field_lines(c, SYMBOLS[c.action] + "     ")
            lines += _effect_lines(plan, c, "#     ")
        lines += ["```", "", "</details>"]
    digest = plan.digest()
    lines += ["", f"<sub>plan {digest[:19]} · config {plan.inputs.config[:19]} · live {plan.inputs.live[:19]}</sub>"]
    return "\n".join(lines) + "\n"


def as_json(plan: Plan, colour: bool = False, verbose: bool = False, quiet: bool = False) -> str:
    return plan.to_json()


RENDERERS: dict[str, Callable[..., str]] = {"text": text, "markdown": markdown, "json": as_json}
