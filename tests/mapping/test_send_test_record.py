"""`intcfg send-test-record` end to end against `intcfg sim serve`."""

from __future__ import annotations

from pathlib import Path

from mapkit import Sim, applied_repo, assert_no_canary, intcfg, live_repo, shared_sim_fixture, sim_fixture  # noqa: F401 - fixtures

REFUSED = """\
Test record refused: Organization does not accept Imports at this time
  Confirm in Enroll (Settings > General) that you have enabled importing of data for this school year.
"""


def test_an_accepted_record_shows_the_live_systems_record(sim: Sim, tmp_path: Path) -> None:
    repo = applied_repo(tmp_path / "repo", sim)
    proc = intcfg(repo, "send-test-record", "qmlativ-import-student", "--student", "S-000456", "--yes")
    assert (proc.returncode, proc.stderr) == (0, "")
    assert proc.stdout.startswith(
        "Preview of enroll/hillcrest-isd/FieldMapping/qmlativ-import-student "
        "(students from skyward connection 'qmlativ')\n"
    )
    assert "Test record accepted: the test record was accepted\n" in proc.stdout
    assert "  students.DOB: '2013-01-11'\n" in proc.stdout
    assert "  students.language: 'Spanish'\n" in proc.stdout
    assert_no_canary(repo, proc.stdout, proc.stderr)


def test_imports_disabled_gives_the_seeds_remedy_and_exit_1(sim: Sim, tmp_path: Path) -> None:
    repo = applied_repo(tmp_path / "repo", sim, importsEnabled=False)
    proc = intcfg(repo, "send-test-record", "aeries-import-student", "--student", "100234", "--yes")
    assert (proc.returncode, proc.stderr) == (1, "")
    assert proc.stdout.endswith(REFUSED)
    assert_no_canary(repo, proc.stdout, proc.stderr)


def test_without_a_terminal_it_refuses_unless_yes(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    proc = intcfg(repo, "send-test-record", "aeries-import-student", "--student", "100234")
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert "Error: no terminal to confirm on; rerun with --yes to send the test record" in proc.stderr


def test_a_mapping_not_applied_yet_says_apply_first(sim: Sim, tmp_path: Path) -> None:
    repo = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=repo.seed)
    proc = intcfg(repo, "send-test-record", "ps-import-student", "--student", "20451", "--yes")
    assert proc.returncode == 1
    assert proc.stderr == (
        "Error: mapping 'ps-import-student' does not exist in the enrollment system yet; "
        "run `intcfg plan` and `intcfg apply` first\n"
    )
