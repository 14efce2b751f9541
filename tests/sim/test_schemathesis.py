"""Contract tests: schemathesis generates requests from openapi/*.yaml against the
simulator in process. No 5xx, every status, content type, header and body conforms to
the contract, and requests that violate it are refused.

Not checked: positive_data_acceptance. A request that fits the schema can still be
refused by the live system's state (a school it does not know, a connection that does
not exist: 422/409, as the contract documents), which that check counts as a failure.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance
from simkit import ADMIN, REPO_ROOT, SEED, SIM, SimClient

from intcfg.sim.app import create_app

EXAMPLES_PER_OPERATION = 5


def _schema(system: str) -> schemathesis.BaseSchema:
    schema = schemathesis.openapi.from_path(REPO_ROOT / "openapi" / f"{system}.yaml")
    app = create_app()
    client = SimClient(app, SIM)
    assert client.post("/_sim/seed", headers=ADMIN, json=SEED).status_code == 200
    client.close()
    schema.app = app
    return schema


SIS, PORTAL, ENROLL = _schema("sis"), _schema("portal"), _schema("enroll")


@pytest.fixture(scope="module", autouse=True)
def _close_stores() -> Iterator[None]:
    yield
    for schema in (SIS, PORTAL, ENROLL, SIMULATOR):
        schema.app.state.store.close()


def _check(case: schemathesis.Case) -> None:
    case.call_and_validate(headers=ADMIN, excluded_checks=[positive_data_acceptance])


CONTRACT = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)


@SIS.parametrize()
@CONTRACT
def test_sis_contract(case: schemathesis.Case) -> None:
    _check(case)


@PORTAL.parametrize()
@CONTRACT
def test_portal_contract(case: schemathesis.Case) -> None:
    _check(case)


@ENROLL.parametrize()
@CONTRACT
def test_enroll_contract(case: schemathesis.Case) -> None:
    _check(case)


SIMULATOR = _schema("simulator")


@SIMULATOR.parametrize()
@settings(
    max_examples=3,
    deadline=None,
    derandomize=True,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_simulator_surface(case: schemathesis.Case) -> None:
    _check(case)
