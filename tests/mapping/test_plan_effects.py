"""`intcfg plan` shows what a changed FieldMapping does to its sample students."""

from __future__ import annotations

import json
from pathlib import Path

from mapkit import Sim, applied_repo, assert_no_canary, intcfg, shared_sim_fixture, sim_fixture  # noqa: F401 - fixtures

ERROR = "date (step 1): '04/17/2019': month 17 is out of range (expected 1-12)"
EFFECTS = """\
      effect on sample students:
        100234 students.DOB: "2019-04-17" -> "(error: {error})"
        101552 students.DOB: "2016-11-04" -> "2016-04-11"
"""


def test_a_changed_date_format_shows_before_and_after_values(sim: Sim, tmp_path: Path) -> None:
    repo = applied_repo(tmp_path / "repo", sim)
    sync = repo.root / "districts" / "riverside-usd" / "sync.yaml"
    sync.write_text(sync.read_text().replace("{from: MM/DD/YYYY, to: YYYY-MM-DD}", "{from: DD/MM/YYYY, to: YYYY-MM-DD}"))
    proc = intcfg(repo, "plan", "--district", "riverside-usd")
    assert (proc.returncode, proc.stderr) == (0, ""), proc.stdout
    assert EFFECTS.format(error=ERROR) in proc.stdout
    assert_no_canary(repo, proc.stdout, proc.stderr)

    saved = intcfg(repo, "plan", "--district", "riverside-usd", "--format", "json")
    change = next(c for c in json.loads(saved.stdout)["changes"] if c["kind"] == "FieldMapping")
    assert change["effects"][0] == {
        "student": "100234",
        "field": "students.DOB",
        "before": "2019-04-17",
        "after": "(error: " + ERROR + ")",
        "note": None,
    }
    out = repo.root / "plan.json"
    assert intcfg(repo, "plan", "--district", "riverside-usd", "--out", str(out)).returncode == 0
    applied = intcfg(repo, "apply", str(out), "--auto-approve")
    assert applied.returncode == 0, applied.stdout + applied.stderr


def test_no_secrets_shows_no_effects_and_unreadable_students_are_a_note(sim: Sim, tmp_path: Path) -> None:
    repo = applied_repo(tmp_path / "repo", sim)
    sync = repo.root / "districts" / "riverside-usd" / "sync.yaml"
    sync.write_text(sync.read_text().replace("{from: MM/DD/YYYY, to: YYYY-MM-DD}", "{from: DD/MM/YYYY, to: YYYY-MM-DD}"))
    proc = intcfg(repo, "plan", "--district", "riverside-usd", "--no-secrets")
    assert proc.returncode == 0, proc.stderr
    assert "effect on sample students" not in proc.stdout
    wrong = intcfg(repo, "plan", "--district", "riverside-usd", RIVERSIDE_ONEROSTER_SECRET="canary-wrong-secret-0")
    assert wrong.returncode == 0, wrong.stderr
    assert (
        "      effect on sample students:\n"
        "        100234: OneRoster refused the Consumer ID/Secret (HTTP 401 invalid_client)\n"
    ) in wrong.stdout
    assert "canary-wrong-secret-0" not in wrong.stdout + wrong.stderr
