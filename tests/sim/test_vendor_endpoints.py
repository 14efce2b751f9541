"""The vendors' protocols as the simulator serves them (VENDOR-PROTOCOLS.md section 11)."""

from __future__ import annotations

import base64
import urllib.parse

from simkit import CANARY, SimClient, client_fixture, seeded_fixture  # noqa: F401 - fixtures

PS = "/vendors/powerschool/lakeside"
ROS = "/vendors/oneroster/riverside"
SKY = "/vendors/skyward/hillcrest"
FORM = {"grant_type": "client_credentials"}


def test_powerschool_token_then_metadata(seeded: SimClient) -> None:
    token = seeded.post(f"{PS}/oauth/access_token", auth=("ps-client", CANARY["ps"]), data=FORM)
    assert token.status_code == 200
    body = token.json()
    assert (
        body["token_type"] == "Bearer"
        and isinstance(body["expires_in"], str)
        and int(body["expires_in"]) > 2_000_000
    )
    again = seeded.post(f"{PS}/oauth/access_token/", auth=("ps-client", CANARY["ps"]), data=FORM)
    assert again.json()["access_token"] == body["access_token"]
    meta = seeded.get(
        f"{PS}/ws/v1/metadata", headers={"Authorization": f"Bearer {body['access_token']}"}
    ).json()
    assert meta["metadata"]["plugin_id"] == 4242
    assert "plugin_id" not in seeded.get(f"{PS}/ws/v1/metadata").json()["metadata"]
    bad = seeded.get(f"{PS}/ws/v1/metadata", headers={"Authorization": "Bearer nope"})
    assert (bad.status_code, bad.headers["WWW-Authenticate"]) == (
        401,
        'Bearer error="invalid_token"',
    )


def test_powerschool_rejects_bad_client_credentials(seeded: SimClient) -> None:
    wrong = seeded.post(f"{PS}/oauth/access_token", auth=("ps-client", "canary-wrong"), data=FORM)
    assert (wrong.status_code, wrong.json()) == (401, {"error": "invalid_client"})
    grant = seeded.post(
        f"{PS}/oauth/access_token",
        auth=("ps-client", CANARY["ps"]),
        data={"grant_type": "password"},
    )
    assert grant.status_code == 400
    assert (
        seeded.post("/vendors/powerschool/elsewhere/oauth/access_token", data=FORM).status_code
        == 404
    )


def test_powerschool_expired_token(seeded: SimClient) -> None:
    seeded.post(
        "/_sim/seed",
        headers={"Authorization": "Bearer intcfg-sim-dev-token"},
        json={
            "credentials": [
                {
                    "vendor": "powerschool",
                    "instance": "short",
                    "clientId": "c",
                    "secret": "canary-short-1",
                    "tokenTtl": 0,
                }
            ]
        },
    )
    token = seeded.post(
        "/vendors/powerschool/short/oauth/access_token", auth=("c", "canary-short-1"), data=FORM
    ).json()
    expired = seeded.get(
        "/vendors/powerschool/short/ws/v1/metadata",
        headers={"Authorization": f"Bearer {token['access_token']}"},
    )
    assert expired.status_code == 401
    assert "expired" in expired.headers["WWW-Authenticate"]


def test_aeries_certificate_is_case_sensitive(seeded: SimClient) -> None:
    ok = seeded.get(
        "/vendors/aeries/riverside/api/v5/systeminfo", headers={"AERIES-CERT": CANARY["cert"]}
    )
    assert ok.status_code == 200 and ok.json()["AeriesVersion"]
    wrong = seeded.get(
        "/vendors/aeries/riverside/api/v5/systeminfo",
        headers={"AERIES-CERT": CANARY["cert"].upper()},
    )
    assert (wrong.status_code, wrong.json()) == (401, {"Message": "Invalid or expired certificate"})
    schools = seeded.get(
        "/vendors/aeries/riverside/api/v5/schools", headers={"AERIES-CERT": CANARY["cert"]}
    ).json()
    assert [s["SchoolCode"] for s in schools] == [901, 101]


def _ros_token(
    client: SimClient,
    scope: str = "https://purl.imsglobal.org/spec/or/v1p1/scope/roster-core.readonly",
) -> str:
    response = client.post(
        f"{ROS}/token", auth=("ros-client", CANARY["ros"]), data={**FORM, "scope": scope}
    )
    assert response.status_code == 200, response.text
    assert response.json()["token_type"] == "bearer" and response.json()["expires_in"] == 21600
    assert "ARRAffinity=" in response.headers["set-cookie"]
    return str(response.json()["access_token"])


def _next_link(header: str) -> str:
    for part in header.split(", "):
        target, _, rel = part.partition("; ")
        if rel == 'rel="next"':
            parts = urllib.parse.urlsplit(target.strip("<>"))
            return f"{parts.path}?{parts.query}"
    return ""


def test_oneroster_needs_a_scope_and_pages_students(seeded: SimClient) -> None:
    no_scope = seeded.post(f"{ROS}/token", auth=("ros-client", CANARY["ros"]), data=FORM)
    assert (no_scope.status_code, no_scope.json()["error"]) == (400, "invalid_scope")
    auth = {"Authorization": f"Bearer {_ros_token(seeded)}"}
    orgs = seeded.get(f"{ROS}/ims/oneroster/v1p1/orgs", headers=auth, params={"limit": "1"})
    assert orgs.json()["orgs"][0]["type"] == "district" and orgs.headers["X-Total-Count"] == "3"
    assert orgs.json()["orgs"][0]["children"][0]["href"].startswith("~/ims/oneroster/v1p1/orgs/")
    seen, url, pages = [], f"{ROS}/ims/oneroster/v1p1/students?limit=7", 0
    while url and pages < 10:
        page = seeded.get(url, headers=auth)
        seen += [u["sourcedId"] for u in page.json()["users"]]
        url = _next_link(page.headers["Link"])
        pages += 1
    assert len(seen) == len(set(seen)) == 30 and pages == 5
    assert seen[:2] == ["100234", "100871"]
    one = seeded.get(f"{ROS}/ims/oneroster/v1p1/students/100234", headers=auth).json()["user"]
    assert one["role"] == "student"
    missing = seeded.get(f"{ROS}/ims/oneroster/v1p1/students/nope", headers=auth)
    assert missing.status_code == 404 and missing.json()["imsx_codeMajor"] == "failure"
    assert (
        seeded.get(
            f"{ROS}/ims/oneroster/v1p1/students", headers=auth, params={"limit": "x"}
        ).status_code
        == 400
    )
    assert seeded.get(f"{ROS}/ims/oneroster/v1p1/orgs").status_code == 401


def test_skyward_token_is_a_get_with_urlencoded_basic_auth(seeded: SimClient) -> None:
    pair = f"{urllib.parse.quote('sky key')}:{urllib.parse.quote(CANARY['sky'])}"
    basic = {"Authorization": "Basic " + base64.b64encode(pair.encode()).decode()}
    token = seeded.get(f"{SKY}/oauth/token", params=FORM, headers=basic)
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    years = seeded.get(f"{SKY}/Generic/2/District/SchoolYear/1/1", headers=auth).json()
    assert (
        len(years["Objects"]) == 1
        and years["Paging"]["Next"] == "/Generic/2/District/SchoolYear/2/1"
    )
    assert seeded.get(f"{SKY}/Generic/1/District/SchoolYear/1/1", headers=auth).status_code == 403
    assert (
        seeded.get(
            f"{SKY}/Generic/2/District/SchoolYear/1/1", headers={"Authorization": "Bearer x"}
        ).status_code
        == 401
    )
    plain = {"Authorization": "Basic " + base64.b64encode(b"sky key:wrong").decode()}
    assert seeded.get(f"{SKY}/oauth/token", params=FORM, headers=plain).status_code == 401


def test_ets_token_contract(seeded: SimClient) -> None:
    url = "/vendors/ets/caaspp/api/v1/token"
    ok = seeded.post(url, json={"username": "riverside-toms", "secretKey": CANARY["ets"]})
    assert ok.status_code == 200 and set(ok.json()) == {"token", "expiresIn"}
    expired = seeded.post(url, json={"username": "charter-toms", "secretKey": CANARY["charter"]})
    assert (expired.status_code, expired.json()["error"]) == (401, "credentials_expired")
    wrong = seeded.post(url, json={"username": "riverside-toms", "secretKey": "canary-nope"})
    assert (wrong.status_code, wrong.json()["error"]) == (401, "invalid_credentials")
    assert seeded.post(url, json={"username": "x"}).status_code == 400


def test_etranscript_password_grant_and_upload(seeded: SimClient) -> None:
    base = "/vendors/etranscript/parchment"
    form = {
        "grant_type": "password",
        "username": "registrar@riverside.example.org",
        "password": CANARY["etr_password"],
    }
    token = seeded.post(
        f"{base}/oauth/token", auth=("riverside-parchment", CANARY["etr_secret"]), data=form
    )
    assert token.status_code == 200, token.text
    auth = {"Authorization": f"Bearer {token.json()['access_token']}"}
    assert seeded.request("HEAD", f"{base}/api/v4/transcripts", headers=auth).status_code == 200
    assert seeded.request("HEAD", f"{base}/api/v4/transcripts").status_code == 401
    bad_user = seeded.post(
        f"{base}/oauth/token",
        auth=("riverside-parchment", CANARY["etr_secret"]),
        data={**form, "password": "x"},
    )
    assert (bad_user.status_code, bad_user.json()["error"]) == (400, "invalid_grant")
    bad_client = seeded.post(f"{base}/oauth/token", auth=("riverside-parchment", "x"), data=form)
    assert (bad_client.status_code, bad_client.json()["error"]) == (401, "invalid_client")
