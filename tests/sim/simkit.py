"""Constants, helpers and fixtures of the simulator tests; test modules import them.

Not a conftest.py: conftest modules outside a package are all named ``conftest``, and
another folder's would shadow the suite's root conftest for ``from conftest import``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from intcfg.sim import DEV_TOKEN
from intcfg.sim.app import create_app

REPO_ROOT = Path(__file__).resolve().parents[2]


class SimClient:
    """A synchronous client of the app in process (httpx over ASGITransport, one event loop)."""

    def __init__(self, app: Starlette, base_url: str) -> None:
        self.app = app
        self._runner = asyncio.Runner()
        self._client = httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url=base_url)

    def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        return self._runner.run(self._client.request(method, url, **kw))

    def get(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("GET", url, **kw)

    def put(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("PUT", url, **kw)

    def post(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("POST", url, **kw)

    def delete(self, url: str, **kw: Any) -> httpx.Response:
        return self.request("DELETE", url, **kw)

    def close(self) -> None:
        self._runner.run(self._client.aclose())
        self._runner.close()


ADMIN = {"Authorization": f"Bearer {DEV_TOKEN}"}
CANARY = {
    "ps": "canary-ps-secret-51d2",
    "cert": "CANARY-Aeries-Cert-77aa",
    "ros": "canary-oneroster-9e0f",
    "sky": "canary qmlativ:secret&1",
    "ets": "canary-ets-key-4411",
    "charter": "canary-charter-key-6a1c",
    "etr_secret": "canary-etr-secret-0c3d",
    "etr_password": "canary-etr-password-5b8e",
}
SEED: dict[str, Any] = {
    "districts": [
        {
            "id": "riverside-usd",
            "name": "Riverside Unified",
            "schoolYearStart": "07-01",
            "schools": [
                {"id": "riverside-high", "name": "Riverside High School", "sisSchoolNumber": "101"},
                {"id": "river-charter", "name": "River Valley Charter", "sisSchoolNumber": "901"},
            ],
            "students": {"ids": ["100234", "100871"], "count": 30},
        },
        {
            "id": "lakeside-sd",
            "name": "Lakeside",
            "importsEnabled": False,
            "schools": [
                {
                    "id": "lakeside-high",
                    "name": "Lakeside High School",
                    "sisSchoolNumber": "20",
                    "hasYearsAndTerms": False,
                },
                {
                    "id": "lakeside-elementary",
                    "name": "Lakeside Elementary",
                    "sisSchoolNumber": "10",
                },
            ],
            "students": {"ids": ["20451"], "count": 12},
        },
        {
            "id": "hillcrest-isd",
            "schoolYearStart": "08-01",
            "schools": [{"id": "hillcrest-high", "name": "Hillcrest High", "sisSchoolNumber": "1"}],
            "students": {"ids": ["S-000123"], "count": 5},
        },
    ],
    "credentials": [
        {
            "vendor": "powerschool",
            "instance": "lakeside",
            "clientId": "ps-client",
            "secret": CANARY["ps"],
            "district": "lakeside-sd",
        },
        {
            "vendor": "aeries",
            "instance": "riverside",
            "secret": CANARY["cert"],
            "district": "riverside-usd",
        },
        {
            "vendor": "oneroster",
            "instance": "riverside",
            "clientId": "ros-client",
            "secret": CANARY["ros"],
            "district": "riverside-usd",
        },
        {
            "vendor": "skyward",
            "instance": "hillcrest",
            "clientId": "sky key",
            "secret": CANARY["sky"],
            "entityIds": [2],
            "district": "hillcrest-isd",
        },
        {
            "vendor": "ets",
            "instance": "caaspp",
            "clientId": "riverside-toms",
            "secret": CANARY["ets"],
        },
        {
            "vendor": "ets",
            "instance": "caaspp",
            "clientId": "charter-toms",
            "secret": CANARY["charter"],
            "expired": True,
        },
        {
            "vendor": "etranscript",
            "instance": "parchment",
            "clientId": "riverside-parchment",
            "secret": CANARY["etr_secret"],
            "username": "registrar@riverside.example.org",
            "password": CANARY["etr_password"],
            "authPath": "/oauth/token",
        },
    ],
}
SIM = "http://127.0.0.1:8787"


def ets_spec(
    key: str = CANARY["ets"],
    user: str = "riverside-toms",
    url: str = f"{SIM}/vendors/ets/caaspp/api/v1/token",
) -> dict[str, Any]:
    return {"apiUrl": url, "username": user, "secretKey": key, "credentialsRotated": "2026-10-01"}


def etr_spec(**changes: Any) -> dict[str, Any]:
    spec = {
        "displayName": "Parchment",
        "authServer": f"{SIM}/vendors/etranscript/parchment",
        "authPath": "/oauth/token",
        "uploadServer": f"{SIM}/vendors/etranscript/parchment",
        "uploadPort": 8787,
        "uploadPath": "/upload",
        "consumerKey": "riverside-parchment",
        "consumerSecret": CANARY["etr_secret"],
        "userName": "registrar@riverside.example.org",
        "password": CANARY["etr_password"],
    }
    return {**spec, **changes}


def ps_connection(
    schools: list[str], instance: str = "production", secret: str = CANARY["ps"]
) -> dict[str, Any]:
    return {
        "displayName": "PowerSchool",
        "vendor": "powerschool",
        "instance": instance,
        "powerschool": {
            "serverUrl": f"{SIM}/vendors/powerschool/lakeside",
            "clientId": "ps-client",
            "clientSecret": secret,
        },
        "schools": schools,
    }


def put(client: SimClient, path: str, spec: dict[str, Any], **kw: Any) -> Any:
    body = {"spec": spec, "managedBy": kw.pop("managed_by", "intcfg")}
    return client.put(path, headers={**ADMIN, **kw.pop("headers", {})}, json=body, **kw)


@pytest.fixture(name="client")
def client_fixture() -> Iterator[SimClient]:
    app = create_app()
    c = SimClient(app, SIM)
    yield c
    c.close()
    app.state.store.close()


@pytest.fixture(name="seeded")
def seeded_fixture(client: SimClient) -> SimClient:
    response = client.post("/_sim/seed", headers=ADMIN, json=SEED)
    assert response.status_code == 200, response.text
    return client
