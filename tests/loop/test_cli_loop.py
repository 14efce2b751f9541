"""The loop through the real CLI against the embedded simulator (sim://, an SQLite file in
the repository's .intcfg/): plan, apply, saved plans, drift, prune, audit, secrets."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import INTCFG, cli_env
from loopkit import VENDOR_SPEC

from intcfg.engine import load_repository
from intcfg.providers.connect import open_providers

ENV_REF = re.compile(r"\{env: ([A-Z0-9_]+)\}")


def canaries(repo: Path) -> dict[str, str]:
    names = {m for f in repo.rglob("*.yaml") for m in ENV_REF.findall(f.read_text())}
    return {name: f"canary-{name.lower()}-7f3a" for name in sorted(names)}


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=repo, check=True, capture_output=True, text=True).stdout


@pytest.fixture
def repo(example_repo: Path) -> Path:
    git(example_repo, "init", "-q", "-b", "main")
    git(example_repo, "add", "-A")
    git(example_repo, "commit", "-qm", "config")
    return example_repo


def run(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    env = cli_env(**canaries(repo), INTCFG_FINGERPRINT_KEY="k" * 32)
    return subprocess.run([INTCFG, *args], cwd=repo, env=env, capture_output=True, text=True, input=stdin)


def hand_edit(repo: Path, system: str, district: str, kind: str, name: str, managed_by: str | None = "intcfg", **changes: Any) -> None:
    """Someone changes an object in the admin screen (not through intcfg)."""

    async def edit() -> None:
        async with open_providers(load_repository(repo)) as providers:
            provider = providers[system]
            live = await provider.read(district, kind, name)
            # The screen sends the whole form, secrets included.
            secrets = {"consumerSecret": "typed-in-the-screen", "password": "typed-in-the-screen"}
            spec = {**(live.spec if live else VENDOR_SPEC), **secrets, **changes}
            response = await provider.client.put(provider.path(district, kind, name), json={"spec": spec, "managedBy": managed_by})
            assert response.status_code in (200, 201), response.text

    # The providers read the admin token's variable from the environment; the canaries
    # must not stay in it for the tests this worker runs next.
    saved = dict(os.environ)
    os.environ.update(canaries(repo))
    try:
        asyncio.run(edit())
    finally:
        os.environ.clear()
        os.environ.update(saved)


def test_plan_apply_converge_and_audit(repo: Path) -> None:
    plan = run(repo, "plan", "--detailed-exitcode")
    assert plan.returncode == 2, plan.stderr
    assert plan.stdout.startswith("Plan: 20 to create, 0 to update, 0 to delete, 0 unchanged\n")
    refused = run(repo, "apply")
    assert refused.returncode == 2
    assert "refusing to apply without a terminal to ask on; pass --auto-approve" in refused.stderr
    applied = run(repo, "apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert applied.stdout.count("\nok       create  ") == 20
    again = run(repo, "plan", "--detailed-exitcode")
    assert again.returncode == 0
    assert "No changes. The live systems match the configuration." in again.stdout
    log = git(repo, "log", "--format=%s%n%(trailers:only)", "intcfg/audit")
    assert "intcfg apply: 20 created, 0 updated, 0 deleted (hillcrest-isd, lakeside-sd, riverside-usd)" in log
    assert "Intcfg-Result: success" in log
    assert f"Intcfg-Source-Commit: {git(repo, 'rev-parse', 'HEAD').strip()}" in log
    assert git(repo, "status", "--porcelain") == ""  # the work tree is untouched (.intcfg is ignored)


def test_drift_is_detected_then_reconciled(repo: Path) -> None:
    assert run(repo, "apply", "--auto-approve").returncode == 0
    hand_edit(repo, "sis", "riverside-usd", "ETranscriptVendor", "parchment", userName="changed-in-the-screen")
    drift = run(repo, "drift", "--format", "markdown")
    assert drift.returncode == 2
    assert "~ update sis/riverside-usd/ETranscriptVendor/parchment  # drift: changed in the live system outside git" in drift.stdout
    assert '~     userName: "changed-in-the-screen" -> "registrar@riverside-usd.example.org"' in drift.stdout
    fixed = run(repo, "apply", "--auto-approve")
    assert fixed.returncode == 0 and "ok       update  sis/riverside-usd/ETranscriptVendor/parchment" in fixed.stdout
    assert run(repo, "drift").returncode == 0


def test_a_saved_plan_applies_only_while_current(repo: Path) -> None:
    assert run(repo, "plan", "--out", "plan.json").returncode == 0
    shown = run(repo, "show", "plan.json")
    assert shown.stdout.startswith("Plan: 20 to create")
    hand_edit(repo, "sis", "hillcrest-isd", "ETranscriptVendor", "someone-elses", managed_by=None, displayName="x")
    stale = run(repo, "apply", "plan.json", "--auto-approve")
    assert stale.returncode == 1
    assert "Error: the saved plan is stale: the live systems changed since it was computed; plan again" in stale.stderr
    assert run(repo, "plan", "--out", "plan.json").returncode == 0
    assert run(repo, "apply", "plan.json", "--auto-approve").returncode == 0


def test_unmanaged_objects_are_never_touched_and_prune_needs_the_flag(repo: Path) -> None:
    hand_edit(repo, "sis", "hillcrest-isd", "ETranscriptVendor", "hand-made", managed_by=None, displayName="Hand made")
    assert run(repo, "apply", "--auto-approve").returncode == 0
    (repo / "districts/lakeside-sd/schedules.yaml").unlink()
    plan = run(repo, "plan")
    assert "hand-made" not in plan.stdout
    assert "- delete   enroll/lakeside-sd/Schedule/ps-nightly-export  (no longer in the repository; deleted only with --prune)" in plan.stdout
    kept = run(repo, "apply", "--auto-approve")
    assert kept.returncode == 0
    assert "skipped  delete  enroll/lakeside-sd/Schedule/ps-nightly-export: not deleted: rerun with --prune" in kept.stdout
    unsafe = run(repo, "apply", "--auto-approve", "--prune")
    assert unsafe.returncode == 1
    assert (
        "Error: unsafe plan: district 'lakeside-sd': 3 of 9 managed objects deleted (33%) exceeds 30%; "
        "review it, then rerun with --force"
    ) in unsafe.stderr
    pruned = run(repo, "apply", "--auto-approve", "--prune", "--force")
    assert pruned.returncode == 0
    assert pruned.stdout.count("ok       delete  enroll/lakeside-sd/Schedule/") == 3
    assert "hand-made" not in pruned.stdout


def test_json_plans_are_deterministic_and_never_hold_secrets(repo: Path) -> None:
    first = run(repo, "plan", "--format", "json")
    second = run(repo, "plan", "--format", "json")
    assert first.stdout == second.stdout
    body = json.loads(first.stdout)
    assert body["format"] == "intcfg-plan" and body["summary"]["create"] == 20
    assert run(repo, "apply", "--auto-approve").returncode == 0
    everything = first.stdout + run(repo, "plan", "--verbose").stdout
    objects = subprocess.run(["git", "cat-file", "--batch-all-objects", "--batch"], cwd=repo, capture_output=True).stdout.decode("utf-8", "replace")
    for value in canaries(repo).values():
        assert value not in everything and value not in objects
