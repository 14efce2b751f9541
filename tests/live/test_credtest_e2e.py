"""`intcfg test` end to end: the CLI against `intcfg sim serve` on a free loopback port."""

from __future__ import annotations

import json
import re
from pathlib import Path

from livekit import Sim, assert_no_canary, intcfg, live_repo, shared_sim_fixture, sim_fixture  # noqa: F401 - fixtures

ALL_VALID = """\
ok      hillcrest-isd: eTranscript vendor 'clearinghouse': Your connection is valid
ok      hillcrest-isd: ETS integration 'ets' (All Sites): Test Integration succeeded.
ok      hillcrest-isd: sync connection 'qmlativ': Connected
ok      lakeside-sd: sync connection 'powerschool': Connected
ok      lakeside-sd: sync connection 'powerschool-sandbox': Connected
ok      riverside-usd: eTranscript vendor 'parchment': Your connection is valid
ok      riverside-usd: ETS integration 'ets' (All Sites): Test Integration succeeded.
ok      riverside-usd: ETS integration 'ets' (river-charter): Test Integration succeeded.
ok      riverside-usd: sync connection 'aeries': Connected
ok      live sis admin API ({url}): token accepted
ok      live portal admin API ({url}): token accepted
ok      live enroll admin API ({url}): token accepted
9 credentials tested: 9 valid, 0 failed
"""


def test_every_credential_valid(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    proc = intcfg(repo, "test", "--live", sim.url)
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout == ALL_VALID.format(url=sim.url)
    assert_no_canary(repo, proc.stdout, proc.stderr, sim.call("GET", "/_sim/state").__repr__())


def test_the_seeds_failures(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(
        tmp_path / "repo", sim.url, expired=frozenset({"RIVER_CHARTER_ETS_SECRET_KEY"})
    )
    sim.call("POST", "/_sim/seed", json=repo.seed)
    wrong = {
        "RIVERSIDE_ETS_SECRET_KEY": "canary-wrong-ets-key-00",
        "LAKESIDE_PS_CLIENT_SECRET": "canary-wrong-ps-secret-00",
        "RIVERSIDE_AERIES_CERT": repo.secrets["RIVERSIDE_AERIES_CERT"].upper(),
        "HILLCREST_NSC_PASSWORD": "canary-wrong-password-00",
    }
    proc = intcfg(
        repo,
        "test",
        "--live",
        sim.url,
        "--district",
        "riverside-usd",
        "--district",
        "lakeside-sd",
        "--district",
        "hillcrest-isd",
        **wrong,
    )
    assert proc.returncode == 1, proc.stderr
    lines = proc.stdout.splitlines()
    assert (
        "FAILED  riverside-usd: ETS integration 'ets' (All Sites): ETS002 Provided "
        "Username/Secret Key is either incorrect or has expired." in lines
    )
    assert (
        "FAILED  riverside-usd: ETS integration 'ets' (river-charter): ETS002 Provided "
        "Username/Secret Key is either incorrect or has expired." in lines
    )
    assert "FAILED  lakeside-sd: sync connection 'powerschool': Connection failed (token)" in lines
    assert (
        "        token: PowerSchool refused the Client ID/Client Secret (HTTP 401 invalid_client)"
        in lines
    )
    assert (
        "FAILED  riverside-usd: sync connection 'aeries': Connection failed (certificate)" in lines
    )
    assert "        at districts/riverside-usd/sync.yaml:16:18" in lines
    assert "FAILED  hillcrest-isd: eTranscript vendor 'clearinghouse': Connection failed" in lines
    assert (
        "ok      riverside-usd: eTranscript vendor 'parchment': Your connection is valid" in lines
    )
    assert lines[-1] == "9 credentials tested: 4 valid, 5 failed"
    assert_no_canary(repo, proc.stdout, proc.stderr)
    for value in wrong.values():
        assert value not in proc.stdout + proc.stderr


def test_a_wrong_url_is_ets001(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    ets = repo.root / "districts" / "hillcrest-isd" / "ets.yaml"
    ets.write_text(ets.read_text().replace("/vendors/ets/caaspp/", "/vendors/ets/nowhere/"))
    proc = intcfg(
        repo, "test", "--live", sim.url, "--district", "hillcrest-isd", "--format", "json"
    )
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    result = next(r for r in report["results"] if r["kind"] == "StateAssessmentIntegration")
    assert (result["ok"], result["code"], result["message"]) == (
        False,
        "ETS001",
        "Provided API URL is either invalid or currently unavailable.",
    )
    assert result["parts"] == [
        {"name": "token", "ok": False, "message": "HTTP 404 no ets instance 'nowhere' here"}
    ]
    assert result["location"] == "districts/hillcrest-isd/ets.yaml:10:14"
    assert report["ok"] is False and report["version"] == 1
    assert [c["ok"] for c in report["live"]] == [True, True, True]


def test_expiring_soon_is_a_warning_not_a_failure(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    ets = repo.root / "districts" / "riverside-usd" / "ets.yaml"
    ets.write_text(
        ets.read_text().replace("credentialsRotated: 2026-10-01", "credentialsRotated: 2026-09-01")
    )
    proc = intcfg(repo, "test", "--live", sim.url, "--district", "riverside-usd")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (
        "warning riverside-usd: ETS integration 'ets' (All Sites): credentials rotated 2026-09-01 "
        "expire on 2026-11-30 "
        "(8 days left, policy 90 days): generate new ones in TOMS and update credentialsRotated"
    ) in proc.stdout.splitlines()
    assert (
        proc.stdout.splitlines()[-1] == "4 credentials tested: 4 valid, 0 failed; 1 expiring soon"
    )


def test_a_missing_variable_is_an_error_naming_it_and_nothing_is_sent(
    sim: Sim, tmp_path: Path
) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    del repo.secrets["RIVER_CHARTER_ETS_SECRET_KEY"]
    before = sim.call("GET", "/_sim/stats")["requests"]
    proc = intcfg(repo, "test", "--live", sim.url)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert proc.stderr == (
        "Error: districts/riverside-usd/ets.yaml:28:16: environment variable "
        "'RIVER_CHARTER_ETS_SECRET_KEY' is not set; "
        "export it with the secret's value before running intcfg\n"
    )
    assert sim.call("GET", "/_sim/stats")["requests"] == before + 1  # only this stats call


def test_a_missing_admin_token_names_intcfg_yaml(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    proc = intcfg(repo, "test", INTCFG_ADMIN_TOKEN="")
    assert proc.returncode == 1
    assert (
        proc.stderr
        == "Error: intcfg.yaml:11:10: environment variable 'INTCFG_ADMIN_TOKEN' is empty\n"
    )


def test_a_wrong_admin_token_fails_the_live_checks(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    proc = intcfg(
        repo, "test", "--district", "hillcrest-isd", INTCFG_ADMIN_TOKEN="canary-not-the-token-1"
    )
    assert proc.returncode == 1
    assert (
        f"FAILED  live sis admin API ({sim.url}): sis: GET {sim.url}/sis/admin/v1/status: 401 the "
        "admin API "
        "needs Authorization: Bearer <admin token>"
    ) in proc.stdout.splitlines()
    assert "canary-not-the-token-1" not in proc.stdout + proc.stderr


def test_an_invalid_repository_is_refused(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    district = repo.root / "districts" / "lakeside-sd" / "powerschool.yaml"
    district.write_text(
        district.read_text().replace("instance: production", "instance: staging", 1)
    )
    before = sim.call("GET", "/_sim/stats")["requests"]
    proc = intcfg(repo, "test", "--live", sim.url)
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert re.search(
        r"^districts/lakeside-sd/powerschool\.yaml:12:13: error INTCFG-E105 ", proc.stderr, re.M
    ), proc.stderr
    assert proc.stderr.endswith(
        "Error: the configuration is invalid (1 error); run `intcfg validate` for details\n"
    )
    assert sim.call("GET", "/_sim/stats")["requests"] == before + 1


def test_unknown_district_option(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    proc = intcfg(repo, "test", "--district", "atlantis")
    assert proc.returncode == 1
    assert (
        proc.stderr
        == "Error: district 'atlantis' is not defined (defined districts: 'hillcrest-isd', "
        "'lakeside-sd', 'riverside-usd')\n"
    )
