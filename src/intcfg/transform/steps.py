"""The transformation steps by name, as a FieldMapping spec writes them, and the
pipeline that runs a field's steps in order.

A step is a one-key object, ``{date: {from: MM/DD/YYYY, to: YYYY-MM-DD}}``; its
arguments are the plain data the validator has checked. They are checked again here
(shape only) so that a spec that skipped validation gives a field error, not a crash.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from . import text
from .base import ISO_FORMAT, Context, Failed, Result, is_empty, show
from .codes import match_codes
from .dates import format_date, parse_date, school_year


@dataclass(frozen=True, slots=True)
class Carry:
    """The value between steps; ``day`` is the date a Date or Today step produced, and
    ``given`` is False only before the first step of a field without a source."""

    value: str | None
    day: dt.date | None = None
    given: bool = True


class Env(NamedTuple):
    record: Mapping[str, str | None]
    context: Context


Step = Callable[[Carry, Mapping[str, Any], Env], "Carry | Failed"]


def _is_str(v: Any) -> bool:
    return isinstance(v, str)


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_strings(v: Any) -> bool:
    return isinstance(v, list) and all(map(_is_str, v))


def _is_table(v: Any) -> bool:
    return isinstance(v, Mapping) and all(map(_is_str, (*v.keys(), *v.values())))


def _is_condition(v: Any) -> bool:
    return (
        isinstance(v, Mapping) and _is_str(v.get("operator")) and _optional(_is_str)(v.get("value"))
    )


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda v: v is None or check(v)


# Per step: argument name -> (required, check). The shapes of models/mapping.py.
ARGUMENTS: dict[str, dict[str, tuple[bool, Callable[[Any], bool]]]] = {
    "date": {"from": (True, _is_str), "to": (False, _is_str)},
    "today": {"format": (False, _is_str)},
    "lower": {},
    "upper": {},
    "direct": {},
    "valueInput": {"value": (True, _is_str)},
    "join": {"sources": (True, _is_strings), "separator": (False, _is_str)},
    "pick": {"start": (True, _is_int), "length": (False, _optional(_is_int))},
    "split": {"separator": (True, _is_str), "part": (True, _is_int)},
    "substitute": {"find": (True, _is_str), "replace": (False, _is_str)},
    "ifThenElse": {
        "condition": (True, _is_condition),
        "then": (True, _is_str),
        "else": (False, _optional(_is_str)),
    },
    "phoneNumber": {"format": (False, _is_str)},
    "enrollSchoolYear": {"output": (False, _is_str)},
    "matchCodes": {"table": (True, _is_table), "default": (False, _optional(_is_str))},
    "transliterate": {},
}


def arguments_problem(name: str, args: Any) -> str | None:
    """Why ``args`` are not arguments of the step ``name``, or None."""
    if not isinstance(args, Mapping):
        return f"the arguments of {name} must be a mapping, e.g. {name}: {{}}"
    for key, (required, check) in ARGUMENTS[name].items():
        if key not in args:
            if required:
                return f"{name} needs the argument {key!r}"
        elif not check(args[key]):
            return f"the argument {key!r} of {name} has the wrong type"
    return None


def _done(result: Result, day: dt.date | None = None) -> Carry | Failed:
    return result if isinstance(result, Failed) else Carry(result, day)


def _date(carry: Carry, args: Mapping[str, Any], env: Env) -> Carry | Failed:
    if carry.value is None or is_empty(carry.value):
        return Carry(carry.value)
    day = parse_date(carry.value, args["from"], env.context.today)
    if isinstance(day, Failed):
        return day
    return _done(format_date(day, args.get("to", ISO_FORMAT)), day)


def _today(carry: Carry, args: Mapping[str, Any], env: Env) -> Carry | Failed:
    today = env.context.today
    return _done(format_date(today, args.get("format", ISO_FORMAT)), today)


def _school_day(carry: Carry, env: Env) -> dt.date | Failed:
    if carry.day is not None:
        return carry.day
    if not carry.given:
        return env.context.today
    if carry.value is None or is_empty(carry.value):
        return Failed("the value is empty: there is no date to take the school year from")
    day = parse_date(carry.value, ISO_FORMAT, env.context.today)
    if isinstance(day, Failed):
        return Failed(day.message + "; read other formats with a date step first")
    return day


def _enroll_school_year(carry: Carry, args: Mapping[str, Any], env: Env) -> Carry | Failed:
    day = _school_day(carry, env)
    if isinstance(day, Failed):
        return day
    return _done(school_year(day, env.context.school_year_start, args.get("output", "start")))


def _if_then_else(carry: Carry, args: Mapping[str, Any], env: Env) -> Carry | Failed:
    cond = args["condition"]
    return _done(
        text.if_then_else(
            carry.value, cond["operator"], cond.get("value"), args["then"], args.get("else")
        )
    )


def _on_value(fn: Callable[[str | None], Result]) -> Step:
    return lambda carry, args, env: _done(fn(carry.value))


STEPS: dict[str, Step] = {
    "date": _date,
    "today": _today,
    "lower": _on_value(text.lower),
    "upper": _on_value(text.upper),
    "direct": _on_value(text.direct),
    "valueInput": lambda c, a, e: _done(text.value_input(a["value"])),
    "join": lambda c, a, e: _done(text.join(e.record, a["sources"], a.get("separator", " "))),
    "pick": lambda c, a, e: _done(text.pick(c.value, a["start"], a.get("length"))),
    "split": lambda c, a, e: _done(text.split(c.value, a["separator"], a["part"])),
    "substitute": lambda c, a, e: _done(text.substitute(c.value, a["find"], a.get("replace", ""))),
    "ifThenElse": _if_then_else,
    "phoneNumber": lambda c, a, e: _done(
        text.phone_number(c.value, a.get("format", text.PHONE_FORMAT))
    ),
    "enrollSchoolYear": _enroll_school_year,
    "matchCodes": lambda c, a, e: _done(match_codes(c.value, a["table"], a.get("default"))),
    "transliterate": _on_value(text.transliterate),
}
assert STEPS.keys() == ARGUMENTS.keys()


class Compiled(NamedTuple):
    """A step whose name and arguments have been checked, ready to run on many values."""

    label: str  # how an error names it: "date (step 2)"; "" for a Match Codes field
    run: Step
    args: Mapping[str, Any]


def compile_step(step: Any, label: str) -> Compiled | Failed:
    """Check one step (a one-key mapping) once, before it runs on every record."""
    if not isinstance(step, Mapping) or len(step) != 1:
        return Failed("a transformation step is an object with one key, the transformation's name")
    ((name, args),) = step.items()
    if name not in STEPS:
        return Failed(
            f"unknown transformation {show(str(name))}; expected one of {', '.join(STEPS)}"
        )
    args = {} if args is None else args
    problem = arguments_problem(name, args)
    return Failed(problem) if problem else Compiled(label, STEPS[name], args)


def compile_steps(steps: Sequence[Any]) -> tuple[Compiled, ...] | Failed:
    """Check a field's steps; the first bad one names itself: ``pick (step 2): ...``."""
    compiled = []
    for number, step in enumerate(steps, 1):
        label = f"{_name(step)} (step {number})"
        result = compile_step(step, label)
        if isinstance(result, Failed):
            return Failed(f"{label}: {result.message}")
        compiled.append(result)
    return tuple(compiled)


def run_steps(steps: Sequence[Compiled], start: Carry, env: Env) -> Carry | Failed:
    """Run ``steps`` in order from ``start``; the first failure stops the field and
    names its step: ``date (step 2): ...``."""
    carry = start
    for step in steps:
        result = step.run(carry, step.args, env)
        if isinstance(result, Failed):
            return Failed(f"{step.label}: {result.message}" if step.label else result.message)
        carry = result
    return carry


def _name(step: Any) -> str:
    if isinstance(step, Mapping) and len(step) == 1:
        return str(next(iter(step)))
    return "transformation"
