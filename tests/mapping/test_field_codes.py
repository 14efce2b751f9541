"""`intcfg field-codes`: the enrollment system's code sets cached in the repository, and
previews that check mapped values against them."""

from __future__ import annotations

import json
from pathlib import Path

from mapkit import Sim, assert_no_canary, intcfg, live_repo, shared_sim_fixture, sim_fixture  # noqa: F401 - fixtures

GENDERS = "code,description\nFemale,Female\nMale,Male\nNon-binary,Non-binary\nUnknown,Unknown\n"


def test_code_sets_are_cached_per_district(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    proc = intcfg(repo, "field-codes", "--kind", "genders", "--kind", "states")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.splitlines() == [
        f"wrote {repo.root}/field-codes/{d}/{k}.csv"
        for d in ("hillcrest-isd", "lakeside-sd", "riverside-usd")
        for k in ("genders", "states")
    ]
    assert (repo.root / "field-codes/riverside-usd/genders.csv").read_text() == GENDERS
    states = (repo.root / "field-codes/lakeside-sd/states.csv").read_text().splitlines()
    assert "CA,CA" in states and len(states) == 1 + 56  # 50 states, DC and 5 territories
    out = tmp_path / "codes"
    proc = intcfg(repo, "field-codes", "--kind", "ethnicities", "--format", "json", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert json.loads((out / "lakeside-sd/ethnicities.json").read_text()) == [
        {"code": "Hispanic or Latino", "description": "Hispanic or Latino"},
        {"code": "Not Hispanic or Latino", "description": "Not Hispanic or Latino"},
    ]
    assert_no_canary(repo, proc.stdout, proc.stderr)


def test_a_preview_checks_mapped_codes_against_the_cache(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    sync = repo.root / "districts/riverside-usd/sync.yaml"
    sync.write_text(sync.read_text().replace("{M: Male, F: Female, X: Non-binary}", "{M: Male, F: Woman, X: Non-binary}"))
    before = intcfg(repo, "preview", "aeries-import-student", "--student", "100234", "--format", "json")
    assert before.returncode == 0  # without the cache, any code goes
    assert intcfg(repo, "field-codes", "--kind", "genders").returncode == 0
    # With the cache in the repository, validate catches the code offline (INTCFG-E223),
    # so neither a preview nor a plan runs on the mistake.
    checked = intcfg(repo, "validate", "--quiet")
    assert checked.returncode == 1
    assert (
        "districts/riverside-usd/sync.yaml:58:29: error INTCFG-E223 students.gender: 'Woman' is not a code "
        "of the enrollment system's genders (field-codes/riverside-usd/genders.csv)"
    ) in checked.stdout
    after = intcfg(repo, "preview", "aeries-import-student", "--student", "100234", "--format", "json")
    assert after.returncode == 1
    assert "INTCFG-E223" in after.stderr and after.stdout == ""
