"""The validation corpus (tests/examples, see its README): every case run through the
real CLI, compared line for line with its expected.txt, and checked for leaked secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from examples.corpus import BASE, INVALID, VALID, build, canaries, case_files, cases, expected

from intcfg.ruleset import RULES

INTCFG = str(Path(sys.executable).with_name("intcfg"))
TODAY = "2026-11-22"
# Rule ids no input can produce today, and why. Each must stay unreachable: a test
# below fails if the corpus ever reaches one, so it moves off this list.
UNREACHABLE = {
    "INTCFG-E199": (
        "the catch-all for schema keywords the translator has no message for; every "
        "keyword the published schemas use (format is annotation-only) has its own rule"
    ),
}


def run(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k != "NO_COLOR"}
    env["INTCFG_TODAY"] = TODAY
    return subprocess.run(
        [INTCFG, "validate", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize("case", cases(INVALID))
def test_invalid_case(case: str, tmp_path: Path) -> None:
    want = expected(INVALID / case)
    repo = build(INVALID / case, tmp_path / "repo")
    result = run(repo, "--quiet", *want.args)
    assert result.stdout.splitlines() == list(want.lines)
    assert result.stderr == ""
    assert result.returncode == want.exit


@pytest.mark.parametrize("case", cases(VALID))
def test_valid_case(case: str, tmp_path: Path) -> None:
    repo = build(VALID / case, tmp_path / "repo")
    result = run(repo, "--strict")
    assert result.stdout.startswith("0 errors, 0 warnings in ")
    assert result.returncode == 0


def test_the_base_is_valid_and_complete(tmp_path: Path) -> None:
    result = run(BASE, "--strict")
    assert result.stdout == "0 errors, 0 warnings in 7 files (7 documents)\n"
    assert result.returncode == 0


def test_every_case_has_findings_or_is_a_warning_case() -> None:
    for case in cases(INVALID):
        want = expected(INVALID / case)
        assert want.lines, f"{case}: expected.txt names no finding"
        assert case_files(INVALID / case), f"{case}: changes no file of the base"
        if want.exit == 0:
            assert all(" warning " in line for line in want.lines), case


def test_the_corpus_exercises_every_rule() -> None:
    seen = set().union(*(expected(INVALID / c).rules() for c in cases(INVALID)))
    assert set(RULES) - seen == set(UNREACHABLE)
    assert not seen & set(UNREACHABLE), "a rule listed as unreachable was reached"


def test_each_seed_url_field_has_a_case() -> None:
    # The portal's only documented validation text applies to every URL field.
    fields = set()
    for case in cases(INVALID):
        for line in expected(INVALID / case).lines:
            if "The API URL needs to be a valid URL string." in line:
                fields.add(line.split(" INTCFG-E111 ")[1].split(":")[0])
    assert {"authServer", "uploadServer", "apiUrl", "serverUrl", "url"} <= fields


SECRET_CASES = [c for c in cases(INVALID) if canaries(INVALID / c)]


def test_secret_cases_exist() -> None:
    # One per secret field of every kind, plus the override patch and the shapes.
    assert len(SECRET_CASES) >= 8


@pytest.mark.parametrize("case", SECRET_CASES)
@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "junit"])
def test_no_output_format_shows_a_planted_secret(case: str, fmt: str, tmp_path: Path) -> None:
    repo = build(INVALID / case, tmp_path / "repo")
    report = tmp_path / "report.out"
    result = run(repo, "--format", fmt, "--output", str(report))
    assert result.returncode == 1
    written = report.read_text(encoding="utf-8")
    assert "INTCFG-E110" in written
    for canary in canaries(INVALID / case):
        assert canary not in written
        assert canary not in result.stdout + result.stderr
