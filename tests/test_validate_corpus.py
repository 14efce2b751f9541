"""The validation corpus (tests/examples, see its README): every case run through the
command line's entry point, compared line for line with its expected.txt, and checked
for leaked secrets.

The cases run in-process (``validate_cmd.main``, the function behind the console script:
the same option parsing, rendering and exit code); tests/test_validate_cli.py runs the
real executable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import pytest
from examples.corpus import BASE, INVALID, VALID, build, canaries, case_files, cases, expected

from intcfg import validate_cmd
from intcfg.ruleset import RULES

# Rule ids no input can produce today, and why. Each must stay unreachable: a test
# below fails if the corpus ever reaches one, so it moves off this list.
UNREACHABLE = {
    "INTCFG-E199": (
        "the catch-all for schema keywords the translator has no message for; every "
        "keyword the published schemas use (format is annotation-only) has its own rule"
    ),
}


class Run(NamedTuple):
    stdout: str
    stderr: str
    returncode: int


Runner = Callable[..., Run]


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Runner:
    """`intcfg validate ARGS` in a directory, as (stdout, stderr, exit code)."""

    def run_in(repo: Path, *args: str) -> Run:
        monkeypatch.chdir(repo)
        capsys.readouterr()
        code = validate_cmd.main(list(args))
        out = capsys.readouterr()
        return Run(out.out, out.err, code)

    return run_in


@pytest.mark.parametrize("case", cases(INVALID))
def test_invalid_case(case: str, tmp_path: Path, run: Runner) -> None:
    want = expected(INVALID / case)
    repo = build(INVALID / case, tmp_path / "repo")
    result = run(repo, "--quiet", *want.args)
    assert result.stdout.splitlines() == list(want.lines)
    assert result.stderr == ""
    assert result.returncode == want.exit


@pytest.mark.parametrize("case", cases(VALID))
def test_valid_case(case: str, tmp_path: Path, run: Runner) -> None:
    repo = build(VALID / case, tmp_path / "repo")
    result = run(repo, "--strict")
    assert result.stdout.startswith("0 errors, 0 warnings in ")
    assert result.returncode == 0


def test_the_base_is_valid_and_complete(run: Runner) -> None:
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
def test_no_output_format_shows_a_planted_secret(
    case: str, fmt: str, tmp_path: Path, run: Runner
) -> None:
    repo = build(INVALID / case, tmp_path / "repo")
    report = tmp_path / "report.out"
    result = run(repo, "--format", fmt, "--output", str(report))
    assert result.returncode == 1
    written = report.read_text(encoding="utf-8")
    assert "INTCFG-E110" in written
    for canary in canaries(INVALID / case):
        assert canary not in written
        assert canary not in result.stdout + result.stderr
