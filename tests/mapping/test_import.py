"""`intcfg import` round trip: apply the example to `intcfg sim serve`, import each
district into a fresh config repository pointed at the same live URL, and plan nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from mapkit import EXAMPLE, LiveRepo, Sim, applied_repo, assert_no_canary, git, intcfg, shared_sim_fixture  # noqa: F401 - fixtures

from intcfg.diff import flatten, is_secret_ref
from intcfg.engine import load_repository


def _secret_refs(root: Path) -> dict[tuple[str, str], str]:
    """(address, spec path) -> environment variable, for every secret reference."""
    state = load_repository(root).desired()
    return {
        (str(o.address), path): value["env"]
        for o in state.objects
        for path, value in flatten(o.spec).items()
        if is_secret_ref(value)
    }


@pytest.fixture(scope="module")
def repo(shared_sim: Sim, tmp_path_factory: pytest.TempPathFactory) -> LiveRepo:
    """The example applied to the module's simulator, once: the tests import from it into
    fresh repositories and change nothing live (their plans find nothing to do)."""
    shared_sim.call("POST", "/_sim/reset")
    return applied_repo(tmp_path_factory.mktemp("applied") / "repo", shared_sim)


def _fresh(tmp_path: Path, repo: LiveRepo, district: str, with_district: bool) -> LiveRepo:
    root = tmp_path / "fresh"
    root.mkdir()
    shutil.copy(repo.root / "intcfg.yaml", root / "intcfg.yaml")
    if with_district:
        (root / "districts" / district).mkdir(parents=True)
        shutil.copy(EXAMPLE / "districts" / district / "district.yaml", root / "districts" / district)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "empty")
    return LiveRepo(root, {}, repo.seed)


@pytest.mark.parametrize(
    ("district", "with_district"),
    [("riverside-usd", False), ("lakeside-sd", True), ("hillcrest-isd", True)],
)
def test_import_round_trip(
    repo: LiveRepo, tmp_path: Path, district: str, with_district: bool
) -> None:
    fresh = _fresh(tmp_path, repo, district, with_district)
    proc = intcfg(fresh, "import", "--district", district)
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stdout
    assert "Adopted 6 objects" in proc.stdout or district != "riverside-usd"
    assert ("The District document comes from the enrollment system" in proc.stdout) is not with_district
    assert git(fresh.root, "log", "-1", "--format=%s", "intcfg/audit").startswith("intcfg import: adopted ")
    assert_no_canary(repo, proc.stdout, *(p.read_text() for p in fresh.root.rglob("*.yaml")))

    # the same secrets under the generated names
    old, new = _secret_refs(repo.root), _secret_refs(fresh.root)
    assert set(new) == {k for k in old if f"/{district}/" in k[0]}
    listed = proc.stdout.split("before plan or apply:\n")[1].split()
    assert sorted(listed) == sorted(set(new.values()))
    env = {new[k]: repo.secrets[old[k]] for k in new}

    assert intcfg(fresh, "validate").returncode == 0
    for args in (("--no-secrets",), ()):
        plan = intcfg(fresh, "plan", "--detailed-exitcode", *args, **env)
        assert (plan.returncode, plan.stderr) == (0, ""), plan.stdout
        assert "No changes. The live systems match the configuration." in plan.stdout
    applied = intcfg(fresh, "apply", "--auto-approve", **env)
    assert applied.returncode == 0, applied.stdout + applied.stderr


def test_a_site_override_holds_only_what_differs(repo: LiveRepo, tmp_path: Path) -> None:
    fresh = _fresh(tmp_path, repo, "riverside-usd", True)
    assert intcfg(fresh, "import", "--district", "riverside-usd", "--system", "portal").returncode == 0
    written = sorted(p.name for p in (fresh.root / "districts" / "riverside-usd").iterdir())
    assert written == ["district.yaml", "state-assessment.yaml"]
    text = (fresh.root / "districts" / "riverside-usd" / "state-assessment.yaml").read_text()
    assert text.split("---\n")[1] == (
        "apiVersion: intcfg/v1\n"
        "kind: SiteOverride\n"
        "metadata:\n"
        "  name: ets-river-charter\n"
        "  district: riverside-usd\n"
        "spec:\n"
        "  target:\n"
        "    kind: StateAssessmentIntegration\n"
        "    name: ets\n"
        "  site: river-charter\n"
        "  patch:\n"
        "    credentialsRotated: '2026-09-15'\n"
        "    secretKey: {env: RIVERSIDE_USD_ETS_RIVER_CHARTER_SECRET_KEY}\n"
        "    username: river-charter-toms\n"
    )
