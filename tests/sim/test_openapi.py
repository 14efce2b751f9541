"""The OpenAPI documents: checked in, current, and describing every admin route."""

from __future__ import annotations

import re

import pytest
import yaml

from simkit import REPO_ROOT

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
    served = {(m, r.path) for r in app.routes for m in (r.methods or ()) if r.path.startswith(f"/{system}/admin/") and m != "HEAD"}
    served -= {("GET", f"/{system}/admin/v1/openapi.json")}
    doc = yaml.safe_load((DOCS / f"{system}.yaml").read_text())
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert served == documented
    app.state.store.close()


def test_documents_carry_the_seeds_texts() -> None:
    text = "".join((DOCS / f"{s}.yaml").read_text() for s in COLLECTIONS)
    for phrase in ("Organization does not accept Imports at this time", "Provided API URL is either invalid or currently unavailable.",
                   "Provided Username/Secret Key is either incorrect or has expired.", "The API URL needs to be a valid URL string.",
                   "Your connection is valid", "Connection failed", "Years and Terms > Term Setup"):
        assert re.sub(r"\s+", " ", phrase) in re.sub(r"\s+", " ", text), phrase


def test_secret_fields_are_write_only_strings_and_never_returned() -> None:
    doc = openapi.document("enroll")
    schemas = doc["components"]["schemas"]
    write = schemas["PowerSchoolCredentialsWrite"]["properties"]["clientSecret"]
    assert write["type"] == "string" and write["writeOnly"] is True
    assert "clientSecret" not in schemas["PowerSchoolCredentials"]["properties"]
    assert "clientSecret" not in schemas["PowerSchoolCredentials"]["required"]
    assert "SecretRef" not in schemas
