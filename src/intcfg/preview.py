"""`intcfg preview`: the seed's Mapped Value column for up to five sample students.

The students come from the SIS through the mapping's connection and its own
credentials (vendors.students), or from a CSV file whose header row names the source
fields; the mapping is applied with intcfg.transform, today being the district's date
in its time zone (INTCFG_TODAY fixes it). Pure of click: returns a Preview.
"""

from __future__ import annotations

import asyncio
import csv
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from .defaults import MAX_SAMPLE_STUDENTS
from .desired import DesiredObject
from .errors import ConfigError
from .transform import Context, FieldMapper, FieldResult, today_in
from .vendors.base import ClientFactory, default_factory
from .vendors.students import Fetched, fetch_students

MAX_STUDENTS = MAX_SAMPLE_STUDENTS
ID_COLUMNS = ("Student Unique ID", "id")


class Selected(NamedTuple):
    """A FieldMapping with what previewing it needs."""

    repository: Any
    mapping: DesiredObject
    connection: DesiredObject
    district: dict[str, Any]


class StudentPreview(NamedTuple):
    student_id: str
    fields: dict[str, FieldResult]  # target field -> source value, type, mapped value, error
    error: str | None = None  # the student could not be read

    @property
    def ok(self) -> bool:
        return self.error is None and all(r.error is None for r in self.fields.values())


class Preview(NamedTuple):
    mapping: str  # the mapping's address
    source: str  # where the students came from
    students: tuple[StudentPreview, ...]

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.students)


def select_mapping(start: Path | None, name: str, district: str | None) -> Selected:
    """The FieldMapping ``name`` (of ``district`` when given); ConfigError when there is
    no such mapping, or several and no --district."""
    from .engine import load_repository

    repository = load_repository(start)
    state = repository.desired()
    found = [
        o
        for o in state.objects
        if o.address.kind == "FieldMapping"
        and o.address.name == name
        and district in (None, o.address.district)
    ]
    if not found:
        raise ConfigError(_no_mapping(name, district, state.objects))
    if len(found) > 1:
        districts = ", ".join(sorted(repr(o.address.district) for o in found))
        raise ConfigError(f"mapping {name!r} exists in several districts ({districts}); add --district")
    mapping = found[0]
    connection = _connection_of(mapping, state.objects)
    return Selected(repository, mapping, connection, state.districts[mapping.address.district])


def _no_mapping(name: str, district: str | None, objects: tuple[DesiredObject, ...]) -> str:
    names = sorted(
        {
            o.address.name
            for o in objects
            if o.address.kind == "FieldMapping" and district in (None, o.address.district)
        }
    )
    where = f" in district {district!r}" if district else ""
    return f"no FieldMapping {name!r}{where} (defined mappings: {', '.join(map(repr, names))})"


def _connection_of(mapping: DesiredObject, objects: tuple[DesiredObject, ...]) -> DesiredObject:
    wanted = (mapping.address.district, mapping.spec["connection"])
    for o in objects:
        if o.address.kind == "SyncConnection" and (o.address.district, o.address.name) == wanted:
            return o
    raise ConfigError(f"the connection {wanted[1]!r} of mapping {mapping.address.name!r} is not defined")


def context_of(district: Mapping[str, Any], codes: Path | None = None) -> Context:
    """Today in the district's time zone (or INTCFG_TODAY), its school year start, and the
    code sets cached by `intcfg field-codes` in ``codes`` (field-codes/DISTRICT/), if any."""
    import datetime as dt

    fixed = os.environ.get("INTCFG_TODAY")
    today = dt.date.fromisoformat(fixed) if fixed else today_in(str(district["timezone"]))
    sets = code_sets(codes) if codes is not None else {}
    return Context(today, str(district.get("schoolYearStart", "07-01")), sets)


def code_sets(folder: Path) -> dict[str, frozenset[str]]:
    """KIND -> codes from folder/KIND.csv (the Field Codes cache); {} without a cache."""
    out: dict[str, frozenset[str]] = {}
    for path in sorted(folder.glob("*.csv")) if folder.is_dir() else []:
        try:
            with path.open(newline="", encoding="utf-8") as f:
                out[path.stem] = frozenset(row["code"] for row in csv.DictReader(f) if row.get("code"))
        except (OSError, UnicodeDecodeError, csv.Error, KeyError) as e:
            raise ConfigError(f"{path}: not a Field Codes file with a 'code' column ({e}); run `intcfg field-codes`") from e
    return out


def codes_folder(selected: Selected) -> Path:
    return Path(selected.repository.root) / "field-codes" / selected.mapping.address.district


def student_ids(selected: Selected, given: tuple[str, ...]) -> list[str]:
    ids = list(dict.fromkeys(given)) or list(selected.mapping.spec.get("sampleStudents") or [])
    if len(ids) > MAX_STUDENTS:
        raise ConfigError(f"a preview shows at most {MAX_STUDENTS} students; {len(ids)} given")
    return ids


def _check_kind(selected: Selected, from_csv: bool) -> None:
    kind = selected.mapping.spec["type"]
    if kind == "import-school":
        raise ConfigError(
            f"mapping {selected.mapping.address.name!r} is an import-school mapping; "
            "a preview shows students"
        )
    if kind == "export-student" and not from_csv:
        raise ConfigError(
            f"mapping {selected.mapping.address.name!r} exports students from the enrollment "
            "system; preview it with --from-csv FILE holding the enrollment records"
        )


def fetch(selected: Selected, ids: list[str], factory: ClientFactory = default_factory) -> list[Fetched]:
    """The students from the connection's SIS; resolves its secrets (SecretError)."""
    from .credtest import resolve_all

    connection = selected.connection
    secrets = resolve_all(selected.repository.root, [connection])[connection.address]
    return asyncio.run(fetch_students(connection.spec, secrets, ids, factory))


def from_csv(path: Path, ids: list[str], explicit: bool) -> list[Fetched]:
    """Rows of a CSV file (header = source field names), picked by the id column."""
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise ConfigError(f"{path}: cannot read the CSV file ({e})") from e
    column = next((c for c in ID_COLUMNS if rows and c in rows[0]), None)
    if column is None or not ids:
        if explicit:
            raise ConfigError(
                f"{path}: --student needs a {' or '.join(map(repr, ID_COLUMNS))} column to pick rows"
            )
        return [Fetched(str(i + 1), dict(r)) for i, r in enumerate(rows[:MAX_STUDENTS])]
    by_id = {r[column]: r for r in rows}
    return [
        Fetched(sid, dict(by_id[sid])) if sid in by_id else Fetched(sid, None, f"no row with {column} {sid!r} in {path}")
        for sid in ids
    ]


def map_students(spec: Mapping[str, Any], students: list[Fetched], context: Context) -> tuple[StudentPreview, ...]:
    mapper = FieldMapper(spec["fields"])
    return tuple(
        StudentPreview(s.student_id, {}, s.error)
        if s.record is None
        else StudentPreview(s.student_id, dict(mapper(s.record, context).fields))
        for s in students
    )


def preview(
    start: Path | None,
    name: str,
    district: str | None = None,
    students: tuple[str, ...] = (),
    csv_path: Path | None = None,
    factory: ClientFactory = default_factory,
) -> Preview:
    """Map the students with the mapping. Raises ConfigError, SecretError, InvalidConfig."""
    selected = select_mapping(start, name, district)
    _check_kind(selected, csv_path is not None)
    ids = student_ids(selected, students)
    if csv_path is not None:
        fetched, source = from_csv(csv_path, ids, bool(students)), str(csv_path)
    else:
        if not ids:
            raise ConfigError(
                f"mapping {name!r} has no sampleStudents; name students with --student ID"
            )
        return from_sis(selected, ids, factory)
    rows = map_students(selected.mapping.spec, fetched, context_of(selected.district, codes_folder(selected)))
    return Preview(str(selected.mapping.address), source, rows)


def from_sis(selected: Selected, ids: list[str], factory: ClientFactory = default_factory) -> Preview:
    """The preview of students ``ids`` read from the mapping's SIS."""
    fetched = fetch(selected, ids, factory)
    source = f"{selected.connection.spec['vendor']} connection {selected.connection.address.name!r}"
    rows = map_students(selected.mapping.spec, fetched, context_of(selected.district, codes_folder(selected)))
    return Preview(str(selected.mapping.address), source, rows)


# -- Send a Test Record -----------------------------------------------------------------------------

IMPORTS_DISABLED = "Organization does not accept Imports at this time"
IMPORTS_REMEDY = (
    "confirm in Enroll (Settings > General) that you have enabled importing of data "
    "for this school year"
)


class TestRecord(NamedTuple):
    ok: bool
    record: dict[str, Any] | None  # the live system's record as it would be imported/exported
    message: str  # the live system's answer, or why it refused
    remedy: str | None = None


def send_test_record(selected: Selected, student_id: str, live: str | None = None) -> TestRecord:
    """One record through the live contract. ConfigError when the mapping is not live yet."""
    return asyncio.run(_send(selected, student_id, live))


async def _send(selected: Selected, student_id: str, live: str | None) -> TestRecord:
    from .errors import ProviderError
    from .providers.connect import open_providers

    address = selected.mapping.address
    async with open_providers(selected.repository, live) as providers:
        enroll: Any = providers["enroll"]
        if await enroll.read(address.district, "FieldMapping", address.name) is None:
            raise ConfigError(
                f"mapping {address.name!r} does not exist in the enrollment system yet; "
                "run `intcfg plan` and `intcfg apply` first"
            )
        try:
            answer = await enroll.test_record(address.district, address.name, student_id)
        except ProviderError as e:
            if e.status is None or e.status >= 500:
                raise
            return _refused(str(e))
    record = answer.get("record")
    return TestRecord(True, record if isinstance(record, dict) else None, "the test record was accepted")


def _refused(message: str) -> TestRecord:
    said = message.split(": ", 2)[-1]  # after "enroll: POST URL: "
    if IMPORTS_DISABLED in message:
        return TestRecord(False, None, IMPORTS_DISABLED, IMPORTS_REMEDY)
    return TestRecord(False, None, said)
