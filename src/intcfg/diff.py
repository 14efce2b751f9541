"""Three-way diff: desired (git) vs live (the systems) vs last-applied (the audit state).

Pure. Objects are paired by address first; ``None`` on one side means create or
delete, and only pairs with both sides are diffed field by field. The last-applied
side tells a change made in git from drift made by hand in a live system.

Secrets are never compared by value: a desired secret is its keyed fingerprint
(``hmac-sha256:...``) when the secret could be resolved, else its reference; the
live systems never return secrets, so a secret is "changed in git" when its
fingerprint differs from the last-applied one, and "maybe changed live" when the
live object's revision moved while no visible field did.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, Literal, NamedTuple, Protocol

from .desired import Address, DesiredObject, dotted

Action = Literal["create", "update", "delete", "noop", "conflict"]
Reason = Literal["config", "drift", "both", "prune", "unmanaged", "none"]
MANAGER = "intcfg"
MASK = "(sensitive)"


class LiveLike(Protocol):
    """What the diff needs of a live object (intcfg.providers.base.LiveObject)."""

    @property
    def id(self) -> str: ...
    @property
    def revision(self) -> int: ...
    @property
    def managed_by(self) -> str | None: ...
    @property
    def spec(self) -> dict[str, Any]: ...


class Applied(NamedTuple):
    """The last-applied state of one object: what intcfg wrote and what it got back."""

    id: str
    revision: int
    spec: dict[str, Any]  # leaf path -> value; secrets as fingerprints or references
    prune: bool = True  # lifecycle.prune when it was applied: false protects it after removal


class FieldChange(NamedTuple):
    path: str
    before: Any
    after: Any
    secret: bool = False


class Change(NamedTuple):
    address: Address
    action: Action
    reason: Reason
    fields: tuple[FieldChange, ...] = ()
    live_id: str | None = None
    note: str = ""

    @property
    def is_change(self) -> bool:
        return self.action in ("create", "update", "delete")


def is_secret_ref(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in ("env", "file")


def flatten(spec: Any, prefix: tuple[str | int, ...] = ()) -> dict[str, Any]:
    """Leaf path -> value. Secret references and lists of scalars are leaves."""
    out: dict[str, Any] = {}
    _flatten_into(spec, dotted(prefix), out)
    return out


def _flatten_into(value: Any, path: str, out: dict[str, Any]) -> None:
    # One dict for the whole walk: the diff flattens every object of a state two or three
    # times, and merging a dict per level cost most of it.
    if isinstance(value, dict) and value and not is_secret_ref(value):
        for key, item in value.items():
            _flatten_into(item, f"{path}.{key}" if path else str(key), out)
    elif isinstance(value, list) and any(isinstance(v, dict) for v in value):
        for i, item in enumerate(value):
            _flatten_into(item, f"{path}.{i}" if path else str(i), out)
    elif path:
        out[path] = value


def secret_paths(spec: dict[str, Any]) -> set[str]:
    return {path for path, value in flatten(spec).items() if is_secret_ref(value)}


Fingerprint = Callable[[Address, str, dict[str, str]], str]


def comparable(obj: DesiredObject, fingerprint: Fingerprint | None) -> dict[str, Any]:
    """The desired leaves with each secret replaced by its fingerprint (or reference)."""
    out = {}
    for path, value in flatten(obj.spec).items():
        if is_secret_ref(value):
            out[path] = secret_key(value, fingerprint(obj.address, path, value) if fingerprint else None)
        else:
            out[path] = value
    return out


def _ref_text(ref: dict[str, str]) -> str:
    (kind, name), = ref.items()
    return f"ref:{kind}:{name}"


def secret_key(ref: dict[str, str], fingerprint_text: str | None) -> str:
    """How a secret is compared: its reference, and its fingerprint when it was resolved."""
    return _ref_text(ref) + (f"|{fingerprint_text}" if fingerprint_text else "")


def same_secret(a: Any, b: Any) -> bool:
    """Equal secrets; without a fingerprint on either side, equal references."""
    if not isinstance(a, str) or not isinstance(b, str):
        return a == b
    if "|" in a and "|" in b:
        return a == b
    return a.split("|", 1)[0] == b.split("|", 1)[0]


def _observed(obj: DesiredObject) -> tuple[str, ...]:
    fields = obj.lifecycle.get("observedFields") or ()
    return tuple(fields)


def _is_observed(path: str, observed: tuple[str, ...]) -> bool:
    return any(path == o or path.startswith(o + ".") for o in observed)


def managed(live: LiveLike | None, applied: Applied | None) -> bool:
    return applied is not None or (live is not None and live.managed_by == MANAGER)


def diff_object(
    desired: DesiredObject | None,
    live: LiveLike | None,
    applied: Applied | None,
    fingerprint: Fingerprint | None,
    address: Address,
    want: dict[str, Any] | None = None,
) -> Change:
    """``want``: ``comparable(desired, fingerprint)`` when the caller has it already."""
    if desired is None:
        if live is None:
            return Change(address, "noop", "none", note="deleted outside git; already gone")
        return Change(address, "delete", "prune", live_id=live.id)
    if want is None:
        want = comparable(desired, fingerprint)
    secrets = secret_paths(desired.spec)
    if live is None:
        reason: Reason = "drift" if applied is not None else "config"
        note = "deleted in the live system outside git" if applied is not None else ""
        return Change(address, "create", reason, _created(want, secrets), note=note)
    if not managed(live, applied):
        return Change(
            address,
            "conflict",
            "unmanaged",
            live_id=live.id,
            note="exists in the live system but intcfg does not manage it; adopt it with "
            f"`intcfg import --district {address.district}` or rename the resource",
        )
    return _update(desired, live, applied, want, secrets, address)


def _update(
    desired: DesiredObject,
    live: LiveLike,
    applied: Applied | None,
    want: dict[str, Any],
    secrets: set[str],
    address: Address,
) -> Change:
    observed = _observed(desired)
    live_leaves = flatten(live.spec)
    have = {p: v for p, v in live_leaves.items() if not _is_observed(p, observed)}
    want = {p: v for p, v in want.items() if not _is_observed(p, observed)}
    last = flatten(applied.spec) if applied else None
    visible = {p for p in set(want) | set(have) if p not in secrets}
    changed = sorted(p for p in visible if want.get(p) != have.get(p))
    secret_changed = sorted(p for p in secrets if last is None or not same_secret(want.get(p), last.get(p)))
    if last is not None and applied is not None and live.revision != applied.revision and not changed:
        # A write we did not make that left every visible field alone (observed ones
        # aside): a secret was probably re-entered by hand. Reassert the declared secrets.
        explained = any(live_leaves.get(p) != last.get(p) for p in set(live_leaves) | set(last) if _is_observed(p, observed))
        if secrets and not explained:
            return Change(
                address,
                "update",
                "drift",
                tuple(FieldChange(p, MASK, MASK, secret=True) for p in sorted(secrets)),
                live.id,
                f"changed in the live system outside git (revision {applied.revision} -> {live.revision})",
            )
    if not changed and not secret_changed:
        return Change(address, "noop", "none", live_id=live.id)
    git_side = last is None or bool(secret_changed) or any(want.get(p) != last.get(p) for p in changed)
    live_side = last is not None and any(have.get(p) != last.get(p) for p in changed)
    reason: Reason = "both" if git_side and live_side else "drift" if live_side else "config"
    fields = tuple(
        FieldChange(p, have.get(p), want.get(p)) for p in changed
    ) + tuple(FieldChange(p, MASK, MASK, secret=True) for p in secret_changed)
    return Change(address, "update", reason, fields, live.id)


def _created(want: dict[str, Any], secrets: set[str]) -> tuple[FieldChange, ...]:
    return tuple(
        FieldChange(path, None, MASK, secret=True) if path in secrets else FieldChange(path, None, want[path])
        for path in sorted(want)
    )


def pair(
    desired: list[DesiredObject],
    live: dict[Address, LiveLike],
    applied: dict[Address, Applied],
) -> Iterator[tuple[Address, DesiredObject | None, LiveLike | None, Applied | None]]:
    """Every address on any side, with what each side holds (STYLE principle 2)."""
    wanted = {o.address: o for o in desired}
    for address in sorted(set(wanted) | set(live) | set(applied), key=Address.sort_key):
        yield address, wanted.get(address), live.get(address), applied.get(address)


def diff(
    desired: list[DesiredObject],
    live: dict[Address, LiveLike],
    applied: dict[Address, Applied],
    fingerprint: Fingerprint | None = None,
    wants: Mapping[Address, dict[str, Any]] | None = None,
) -> list[Change]:
    """Changes for every managed or desired address; unmanaged live objects are left out.
    ``wants``: the desired objects' comparables, when the caller has them already."""
    out = []
    for address, want, have, last in pair(desired, live, applied):
        if want is None and not managed(have, last):
            continue  # never managed by intcfg: never touched
        out.append(diff_object(want, have, last, fingerprint, address, wants.get(address) if wants else None))
    return out
