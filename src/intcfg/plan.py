"""The Plan: a frozen, serialisable value. Computed without side effects, rendered
elsewhere (render/plan.py), saved to a file, reviewed, and applied later only if the
inputs it records are still current.

The JSON form (``to_json``/``from_json``) is a documented, versioned format:

    {"format": "intcfg-plan", "version": 1,
     "inputs": {"config": "sha256:...", "live": "sha256:...", "state": "sha256:...",
                "sourceCommit": "..." | null, "districts": [...], "shard": "K/N" | null},
     "summary": {"create": n, "update": n, "delete": n, "noop": n, "conflict": n},
     "changes": [{"address": "...", "system", "district", "kind", "name", "site",
                  "action", "reason", "liveId", "note",
                  "fields": [{"path", "before", "after", "sensitive"}],
                  "effects": [{"student", "field", "before", "after", "note"}]}],
     "digest": "sha256:..."}

``effects`` is optional (only on an updated FieldMapping whose sample students could be
read, see effects.py): each sample student's target fields whose mapped value the change
alters, or a note (field null) saying why they could not be shown. It is review
material computed from live records, so ``digest`` leaves it out.
``digest`` covers inputs and changes; ``version`` changes only with an incompatible
change. Secret values never appear: sensitive fields are "(sensitive)".
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

from .desired import Address
from .diff import Change, FieldChange
from .errors import ConfigError, UnsafePlanError
from .jsonout import canonical, canonical_chunks, pretty

FORMAT = "intcfg-plan"
VERSION = 1
ACTIONS = ("create", "update", "delete", "noop", "conflict")


class Inputs(NamedTuple):
    config: str
    live: str
    state: str
    source_commit: str | None = None
    districts: tuple[str, ...] = ()
    shard: str | None = None


class Plan(NamedTuple):
    changes: tuple[Change, ...]
    inputs: Inputs
    # address -> effects as their JSON objects (effects.py); outside the digest
    effects: tuple[tuple[str, tuple[dict[str, Any], ...]], ...] = ()

    def effects_of(self, change: Change) -> tuple[dict[str, Any], ...]:
        return _by_address(self.effects).get(str(change.address), ())

    @classmethod
    def create(cls, changes: list[Change], inputs: Inputs) -> Plan:
        ordered = sorted(changes, key=lambda c: c.address.sort_key())
        return cls(tuple(ordered), inputs)

    def counts(self) -> dict[str, int]:
        counts = dict.fromkeys(ACTIONS, 0)
        for c in self.changes:
            counts[c.action] += 1
        return counts

    def has_changes(self) -> bool:
        return any(c.is_change for c in self.changes)

    def digest(self) -> str:
        return self.to_dict()["digest"]  # type: ignore[no-any-return]

    def to_dict(self) -> dict[str, Any]:
        """The plan as its JSON format's object (computed once per plan: at state scale
        the digest, the journal, the record and the plan file all ask for it)."""
        global _last
        if _last is not None and _last[0] is self:
            return _last[1]
        body = _body(self)
        body["digest"] = _HASHED.digest(self, body) or digest_of(body)
        _HASHED.forget()
        effects = dict(self.effects)
        body["changes"] = [  # a prepared object is not changed: effects go on a copy
            {**change, "effects": list(found)} if (found := effects.get(change["address"])) else change
            for change in body["changes"]
        ]
        _last = (self, body)
        return body

    def to_json(self) -> str:
        return pretty(self.to_dict()) + "\n"


# The last plan to_dict was asked for, and its object: one plan per run, asked many times.
_last: tuple[Plan, dict[str, Any]] | None = None
# The last effects looked up, by address: a plan's output asks once per change.
_effects: tuple[Any, dict[str, tuple[dict[str, Any], ...]]] | None = None


def _by_address(effects: tuple[tuple[str, tuple[dict[str, Any], ...]], ...]) -> dict[str, tuple[dict[str, Any], ...]]:
    global _effects
    if _effects is None or _effects[0] is not effects:
        _effects = (effects, dict(effects))
    return _effects[1]


def digest_of(value: Any) -> str:
    digest = hashlib.sha256()
    for chunk in canonical_chunks(value):
        digest.update(chunk)
    return "sha256:" + digest.hexdigest()


class Prepared:
    """Values made for changes ahead of their use (a plan's output, while the reads go on),
    by the change's id with the change itself: an id is good only while its object lives.
    The output that takes them forgets them all (one plan's worth at a time)."""

    def __init__(self) -> None:
        self._made: dict[int, tuple[Change, Any]] = {}

    def put(self, change: Change, value: Any) -> None:
        self._made[id(change)] = (change, value)

    def take(self, change: Change, make: Callable[[Change], Any]) -> Any:
        """The value made ahead for ``change``, or ``make(change)`` now."""
        found = self._made.get(id(change))
        return found[1] if found is not None and found[0] is change else make(change)

    def forget(self) -> None:
        self._made.clear()


# Changes' JSON objects made ahead of to_dict; the next to_dict takes them.
_PREPARED = Prepared()


def prepare(changes: Iterable[Change]) -> list[dict[str, Any]]:
    """Make the JSON objects of ``changes`` before the plan is whole (and return them): an
    apply calls this for each district as it is compared, while the read-ahead child
    reads the others (its journal and record need the plan's JSON as soon as the reads
    end)."""
    changes = list(changes)
    made = []
    for c in changes:
        made.append(_change_json(c))
        _PREPARED.put(c, made[-1])
    _HASHED.add(changes, made)
    return made


class _Hashed:
    """The digest's text of the changes prepared so far, hashed as they come: a plan's
    districts are prepared in plan order (loop.make_plan), and the text of a plan's JSON
    object with sorted keys begins with its changes. The digest of a plan whose changes
    are those, in that order, needs only the rest of its text hashed after them."""

    def __init__(self) -> None:
        self.forget()

    def forget(self) -> None:
        self.changes: list[Change] = []
        self.sha = hashlib.sha256(b'{"changes":[')

    def add(self, changes: list[Change], made: list[dict[str, Any]]) -> None:
        if made:
            self.sha.update((b"," if self.changes else b"") + canonical(made)[1:-1])
            self.changes += changes

    def digest(self, plan: Plan, body: dict[str, Any]) -> str | None:
        """``digest_of(body)`` (``body``: the JSON object of ``plan`` without its digest),
        if the changes hashed are ``plan``'s; else None."""
        if len(plan.changes) != len(self.changes) or any(a is not b for a, b in zip(plan.changes, self.changes)):
            return None
        if min(body) != "changes" or len(body) < 2:  # the changes first, then other keys
            return None
        rest = canonical({key: value for key, value in body.items() if key != "changes"})
        sha = self.sha.copy()
        sha.update(b"]," + rest[1:])
        return "sha256:" + sha.hexdigest()


# The digest's text of the changes prepared so far; the next to_dict takes it.
_HASHED = _Hashed()


def _changes_json(changes: Iterable[Change]) -> list[dict[str, Any]]:
    """The changes' JSON objects, those prepared taken; every prepared one is forgotten."""
    out = [_PREPARED.take(c, _change_json) for c in changes]
    _PREPARED.forget()
    return out


def _change_json(c: Change) -> dict[str, Any]:
    a = c.address
    return {
        "address": str(a),
        "system": a.system,
        "district": a.district,
        "kind": a.kind,
        "name": a.name,
        "site": a.site,
        "action": c.action,
        "reason": c.reason,
        "liveId": c.live_id,
        "note": c.note,
        "fields": [
            {"path": f.path, "before": f.before, "after": f.after, "sensitive": f.secret} for f in c.fields
        ],
    }


def _body(plan: Plan) -> dict[str, Any]:
    i = plan.inputs
    return {
        "format": FORMAT,
        "version": VERSION,
        "inputs": {
            "config": i.config,
            "live": i.live,
            "state": i.state,
            "sourceCommit": i.source_commit,
            "districts": list(i.districts),
            "shard": i.shard,
        },
        "summary": plan.counts(),
        "changes": _changes_json(plan.changes),
    }


def from_json(text: str, source: str = "plan file") -> Plan:
    """Read a saved plan; refuses another format, version or a tampered digest."""
    try:
        body = json.loads(text)
        if body.get("format") != FORMAT:
            raise ConfigError(f"{source} is not an intcfg plan (format {body.get('format')!r})")
        if body.get("version") != VERSION:
            raise ConfigError(f"{source} has plan format version {body.get('version')!r}; this intcfg reads {VERSION}")
        effects = tuple(
            (c["address"], tuple(c.pop("effects"))) for c in body.get("changes", []) if "effects" in c
        )
        claimed = body.pop("digest", None)
        if claimed != digest_of(body):
            raise ConfigError(f"{source} was modified after it was written (digest mismatch); plan again")
        i = body["inputs"]
        inputs = Inputs(i["config"], i["live"], i["state"], i["sourceCommit"], tuple(i["districts"]), i["shard"])
        changes = [_change_from(c) for c in body["changes"]]
    except (ValueError, KeyError, TypeError, AttributeError) as e:
        raise ConfigError(f"{source} is not a readable intcfg plan ({type(e).__name__}: {e})") from e
    return Plan(tuple(changes), inputs, effects)


def _change_from(c: dict[str, Any]) -> Change:
    address = Address(c["system"], c["district"], c["kind"], c["name"], c["site"])
    fields = tuple(FieldChange(f["path"], f["before"], f["after"], f["sensitive"]) for f in c["fields"])
    return Change(address, c["action"], c["reason"], fields, c["liveId"], c["note"])


class Safety(NamedTuple):
    """Thresholds above which a plan needs --force (settings: safety)."""

    max_deletes: int = 10
    max_delete_ratio: float = 0.3
    max_changes: int = 1000


def check_safety(plan: Plan, managed_counts: dict[str, int], safety: Safety, force: bool, prune: bool = True) -> None:
    """Raise UnsafePlanError when the plan exceeds a threshold and --force was not given.

    ``managed_counts`` is the number of live objects intcfg manages, per district.
    Without ``prune`` no delete happens, so deletes do not count.
    """
    if force:
        return
    problems = []
    deletes: dict[str, int] = {}
    for c in plan.changes:
        if c.action == "delete" and prune:
            deletes[c.address.district] = deletes.get(c.address.district, 0) + 1
    total_deletes = sum(deletes.values())
    if total_deletes > safety.max_deletes:
        problems.append(f"{total_deletes} deletes exceed the budget of {safety.max_deletes}")
    for district, n in sorted(deletes.items()):
        base = managed_counts.get(district, 0)
        if base and n / base > safety.max_delete_ratio:
            problems.append(
                f"district {district!r}: {n} of {base} managed objects deleted "
                f"({n / base:.0%}) exceeds {safety.max_delete_ratio:.0%}"
            )
    changes = sum(1 for c in plan.changes if c.is_change and (prune or c.action != "delete"))
    if changes > safety.max_changes:
        problems.append(f"{changes} changes exceed the limit of {safety.max_changes}")
    if problems:
        raise UnsafePlanError("unsafe plan: " + "; ".join(problems) + "; review it, then rerun with --force")
