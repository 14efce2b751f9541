"""The OpenAPI documents: checked in, current, and describing every admin route."""

from __future__ import annotations

import functools
import re

import pytest
import yaml
from simkit import ADMIN, REPO_ROOT, SimClient, client_fixture, seeded_fixture  # noqa: F401 - fixtures

from intcfg.sim import openapi
from intcfg.sim.app import create_app
from intcfg.sim.contract import COLLECTIONS

DOCS = REPO_ROOT / "openapi"


def test_documents_are_current() -> None:
    stale = openapi.stale(DOCS)
    assert stale == [], f"regenerate with: .venv/bin/python -m intcfg.sim.openapi openapi ({stale})"


@pytest.mark.parametrize("system", list(COLLECTIONS))
def test_every_admin_route_is_documented_and_every_documented_path_exists(system: str) -> None:
    app = create_app()
    served = {
        (m, r.path)
        for r in app.routes
        for m in (r.methods or ())
        if r.path.startswith(f"/{system}/admin/") and m != "HEAD"
    }
    served -= {("GET", f"/{system}/admin/v1/openapi.json")}
    doc = _document(system)
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented
    app.state.store.close()


def test_documents_carry_the_seeds_texts() -> None:
    text = "".join((DOCS / f"{s}.yaml").read_text() for s in COLLECTIONS)
    for phrase in (
        "Organization does not accept Imports at this time",
        "Provided API URL is either invalid or currently unavailable.",
        "Provided Username/Secret Key is either incorrect or has expired.",
        "The API URL needs to be a valid URL string.",
        "Your connection is valid",
        "Connection failed",
        "Years and Terms > Term Setup",
    ):
        assert re.sub(r"\s+", " ", phrase) in re.sub(r"\s+", " ", text), phrase


def test_secret_fields_are_write_only_strings_and_never_returned() -> None:
    doc = openapi.document("enroll")
    schemas = doc["components"]["schemas"]
    write = schemas["PowerSchoolCredentialsWrite"]["properties"]["clientSecret"]
    assert write["type"] == "string" and write["writeOnly"] is True
    assert "clientSecret" not in schemas["PowerSchoolCredentials"]["properties"]
    assert "clientSecret" not in schemas["PowerSchoolCredentials"]["required"]
    assert "SecretRef" not in schemas


@functools.cache
def _document(system: str) -> dict[str, object]:
    return yaml.load((DOCS / f"{system}.yaml").read_text(), Loader=yaml.CSafeLoader)  # type: ignore[no-any-return]


def _validator(system: str, name: str) -> object:
    import jsonschema_rs

    doc = _document(system)
    return jsonschema_rs.validator_for(
        {"$ref": f"#/components/schemas/{name}", "components": doc["components"]},
        validate_formats=True,
    )


def test_every_kinds_answers_conform_to_its_schemas(seeded: SimClient) -> None:
    from intcfg.sim.contract import COLLECTIONS as SYSTEMS
    from intcfg.sim.openapi_schemas import EXAMPLE_SPECS

    order = [
        "ETranscriptVendor",
        "StateAssessmentIntegration",
        "SyncConnection",
        "FieldMapping",
        "Schedule",
    ]
    checked = 0
    for kind in order:
        system = next(s for s, kinds in SYSTEMS.items() if kind in kinds)
        path = f"/{system}/admin/v1/districts/riverside-usd/{SYSTEMS[system][kind]}"
        created = seeded.put(
            f"{path}/primary",
            headers=ADMIN,
            json={"spec": EXAMPLE_SPECS[kind], "managedBy": "intcfg"},
        )
        assert created.status_code == 201, created.text
        answers = [
            (f"{kind}Object", created.json()),
            (f"{kind}Page", seeded.get(path, headers=ADMIN).json()),
            ("TestOutcome", seeded.post(f"{path}/primary/test", headers=ADMIN).json()),
        ]
        if kind == "Schedule":
            answers.append(
                ("ScheduleObject", seeded.post(f"{path}/primary/run", headers=ADMIN).json())
            )
        if kind == "FieldMapping":
            answers.append(
                ("Preview", seeded.post(f"{path}/primary/preview", headers=ADMIN).json())
            )
            answers.append(
                (
                    "TestRecord",
                    seeded.post(
                        f"{path}/primary/test-record", headers=ADMIN, json={"studentId": "100234"}
                    ).json(),
                )
            )
        for schema, body in answers:
            errors = [e.message for e in _validator(system, schema).iter_errors(body)]  # type: ignore[attr-defined]
            assert errors == [], (schema, body)
            checked += 1
    log = seeded.get(
        "/portal/admin/v1/districts/riverside-usd/integration-log", headers=ADMIN
    ).json()
    assert list(_validator("portal", "IntegrationLogPage").iter_errors(log)) == []  # type: ignore[attr-defined]
    assert checked == 18
