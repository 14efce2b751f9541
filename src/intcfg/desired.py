"""The desired state: what the live systems should hold, computed from valid documents.

Pure: no I/O. Each live object is addressed by its natural key from the config
(system/district/kind/name[/site]). A SiteOverride is not a live object of its own:
it turns into the site's full effective configuration (base spec merged with the
patch, RFC 7386), which is what the portal stores per site. Every leaf value keeps
its provenance, the file and line that set it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any, NamedTuple

from .loader import Document
from .location import Location
from .overlay import merge_patch, set_by_patch

SYSTEM_OF_KIND = {
    "ETranscriptVendor": "sis",
    "StateAssessmentIntegration": "portal",
    "SyncConnection": "enroll",
    "FieldMapping": "enroll",
    "Schedule": "enroll",
}
CONFIG_ONLY_KINDS = ("District", "SiteOverride")
# Apply order within a district: a connection before its mappings and schedules.
KIND_ORDER = ("ETranscriptVendor", "StateAssessmentIntegration", "SyncConnection", "FieldMapping", "Schedule")


class Address(NamedTuple):
    system: str
    district: str
    kind: str
    name: str
    site: str | None = None

    def __str__(self) -> str:
        tail = f"/{self.site}" if self.site else ""
        return f"{self.system}/{self.district}/{self.kind}/{self.name}{tail}"

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.district, KIND_ORDER.index(self.kind), self.name, self.site or "")


class DesiredObject(NamedTuple):
    address: Address
    spec: dict[str, Any]
    provenance: Mapping[str, Location]  # dotted leaf path -> where it was set
    lifecycle: dict[str, Any]

    def where(self, path: str) -> str:
        """Where ``path`` was set, for an error about it: the file and line."""
        found = self.provenance.get(path)
        return str(found) if found else str(self.address)


class DesiredState(NamedTuple):
    districts: dict[str, dict[str, Any]]  # district id -> District spec
    objects: tuple[DesiredObject, ...]

    def for_district(self, district: str) -> tuple[DesiredObject, ...]:
        return tuple(o for o in self.objects if o.address.district == district)


def _leaves(value: Any, prefix: tuple[str | int, ...] = ()) -> list[tuple[str | int, ...]]:
    if isinstance(value, dict) and value and not _is_secret_ref(value):
        return [leaf for k, v in value.items() for leaf in _leaves(v, (*prefix, k))]
    if isinstance(value, list) and value and any(isinstance(v, dict) for v in value):
        return [leaf for i, v in enumerate(value) for leaf in _leaves(v, (*prefix, i))]
    return [prefix]


def _is_secret_ref(value: dict[str, Any]) -> bool:
    return len(value) == 1 and next(iter(value)) in ("env", "file")


def dotted(path: tuple[str | int, ...]) -> str:
    return ".".join(str(p) for p in path)


class Provenance(Mapping[str, Location]):
    """Where each leaf of a spec was set, found when first asked for.

    Locating a value composes its file's node tree again; a plan of a state's 10,000
    objects asks for none (only `render`, `expiries` and error messages do), so computing
    every location up front cost most of building the desired state, and keeping the trees
    most of its memory.
    """

    __slots__ = ("_spec", "_locate", "_found")

    def __init__(self, spec: dict[str, Any], locate: Callable[[tuple[str | int, ...]], Location]) -> None:
        self._spec: dict[str, Any] | None = spec
        self._locate: Callable[[tuple[str | int, ...]], Location] | None = locate
        self._found: dict[str, Location] | None = None

    def _all(self) -> dict[str, Location]:
        if self._found is None:
            assert self._spec is not None and self._locate is not None
            locate = self._locate
            self._found = {dotted(leaf): locate(leaf) for leaf in _leaves(self._spec) if leaf}
            self._spec = self._locate = None
        return self._found

    def __getitem__(self, path: str) -> Location:
        return self._all()[path]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

    def __repr__(self) -> str:
        return f"Provenance({self._all()!r})"


def normalize(kind: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with every default filled in, as the live systems will hold it.

    Without this a field left to its default (a schedule's ``enabled``) would differ
    from the live object's explicit value on every plan.
    """
    from .models import KIND_MODELS

    model = KIND_MODELS[kind].model_fields["spec"].annotation
    value = model.model_validate(spec)  # type: ignore[union-attr]
    return value.model_dump(by_alias=True, exclude_none=True, mode="json")  # type: ignore[no-any-return]


def build(documents: list[Document]) -> DesiredState:
    """The desired state of schema-valid, rule-valid documents."""
    districts: dict[str, dict[str, Any]] = {}
    objects: list[DesiredObject] = []
    bases: dict[tuple[str, str, str], Document] = {}
    overrides: list[Document] = []
    for doc in documents:
        data = doc.data
        kind, meta = data["kind"], data["metadata"]
        if kind == "District":
            districts[meta["name"]] = data["spec"]
        elif kind == "SiteOverride":
            overrides.append(doc)
        else:
            bases[(kind, meta["district"], meta["name"])] = doc
            objects.append(_object(doc))
    for doc in overrides:
        objects.append(_site_object(doc, bases))
    objects.sort(key=lambda o: o.address.sort_key())
    return DesiredState(districts, tuple(objects))


def _object(doc: Document) -> DesiredObject:
    data = doc.data
    kind, meta = data["kind"], data["metadata"]
    address = Address(SYSTEM_OF_KIND[kind], meta["district"], kind, meta["name"])
    spec = normalize(kind, data["spec"])
    return DesiredObject(
        address, spec, Provenance(spec, lambda p: doc.locate(("spec", *p))), data.get("lifecycle") or {}
    )


def _site_object(doc: Document, bases: dict[tuple[str, str, str], Document]) -> DesiredObject:
    spec = doc.data["spec"]
    district = doc.data["metadata"]["district"]
    target = spec["target"]
    base = bases[(target["kind"], district, target["name"])]
    patch = spec["patch"]
    merged = normalize(target["kind"], merge_patch(base.data["spec"], patch))

    def locate(path: tuple[str | int, ...]) -> Location:
        if set_by_patch(patch, path):
            return doc.locate(("spec", "patch", *path))
        return base.locate(("spec", *path))

    address = Address(SYSTEM_OF_KIND[target["kind"]], district, target["kind"], target["name"], spec["site"])
    lifecycle = doc.data.get("lifecycle") or base.data.get("lifecycle") or {}
    return DesiredObject(address, merged, Provenance(merged, locate), lifecycle)
