from __future__ import annotations

import json
import subprocess
from pathlib import Path

from conftest import INTCFG, cli_env


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INTCFG, *args], cwd=repo, env=cli_env(), capture_output=True, text=True)


def test_site_view_merges_the_override_with_provenance(example_repo: Path) -> None:
    proc = run(example_repo, "render", "--district", "riverside-usd", "--site", "river-charter", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    objects = {o["address"]: o for d in body["districts"] for o in d["objects"]}
    site = objects["portal/riverside-usd/StateAssessmentIntegration/ets/river-charter"]
    assert site["spec"] == {
        "provider": "ets",
        "apiUrl": "https://caaspp-aws.ets.org/api/v1/token",
        "username": "river-charter-toms",
        "secretKey": {"env": "RIVER_CHARTER_ETS_SECRET_KEY"},
        "credentialsRotated": "2026-09-15",
    }
    # The URL comes from the district's base, the username from the override.
    assert site["provenance"]["apiUrl"] == "districts/riverside-usd/ets.yaml:10:11"
    assert site["provenance"]["username"] == "districts/riverside-usd/ets.yaml:27:15"
    # The district-wide object is replaced by the site's own in the site view.
    assert "portal/riverside-usd/StateAssessmentIntegration/ets" not in objects
    assert "enroll/riverside-usd/SyncConnection/aeries" in objects


def test_district_view_lists_base_and_site_objects(example_repo: Path) -> None:
    proc = run(example_repo, "render", "--district", "riverside-usd", "--format", "json")
    addresses = [o["address"] for d in json.loads(proc.stdout)["districts"] for o in d["objects"]]
    assert addresses == [
        "sis/riverside-usd/ETranscriptVendor/parchment",
        "portal/riverside-usd/StateAssessmentIntegration/ets",
        "portal/riverside-usd/StateAssessmentIntegration/ets/river-charter",
        "enroll/riverside-usd/SyncConnection/aeries",
        "enroll/riverside-usd/FieldMapping/aeries-import-student",
        "enroll/riverside-usd/Schedule/aeries-nightly-students",
    ]


def test_yaml_carries_provenance_comments_and_secret_references(example_repo: Path) -> None:
    proc = run(example_repo, "render", "--district", "hillcrest-isd")
    assert proc.returncode == 0
    assert "  password: {env: HILLCREST_NSC_PASSWORD} # districts/hillcrest-isd/etranscript.yaml:17:13\n" in proc.stdout


def test_render_from_a_subdirectory_names_files_from_the_root(example_repo: Path) -> None:
    proc = run(example_repo / "districts", "render", "--district", "lakeside-sd", "--format", "json")
    assert '"districts/lakeside-sd/powerschool.yaml:' in proc.stdout


def test_unknown_district_is_a_usage_error(example_repo: Path) -> None:
    proc = run(example_repo, "render", "--district", "nowhere")
    assert proc.returncode == 2
    assert "'nowhere'" in proc.stderr and "riverside-usd" in proc.stderr


def test_an_invalid_repository_is_not_rendered(example_repo: Path) -> None:
    ets = example_repo / "districts/riverside-usd/ets.yaml"
    ets.write_text(ets.read_text().replace("username: riverside-usd-toms", "username: 7"))
    proc = run(example_repo, "render")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert (
        "districts/riverside-usd/ets.yaml:11:13: error INTCFG-E010 username: the unquoted value '7' "
        "was read as the integer 7 (YAML 1.1), but a string is expected here: quote it, e.g. \"7\"\n"
    ) in proc.stderr
    assert "Error: the configuration is invalid (1 error); run `intcfg validate` for details" in proc.stderr
