"""Fuzzing the offline path: loader, validator, every findings renderer and fmt.

Inputs are intcfg documents with mutations, YAML-ish text and bytes (fuzzkit.py). In
process, 200 of them go through ``load_file``/``load_text``, ``validate`` on a repository,
the five renderers and ``fmt.format_text``: no exception, and every finding is one
line with a position. A sample of 20 goes through the real CLI (`intcfg validate` in
each format, or `intcfg fmt --check`) in a subprocess limited to 1 GiB of address space
and a timeout: exit 0 or 1, never a traceback. Deeper runs: `make fuzz` (atheris).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
from conftest import INTCFG, cli_env
from fuzzkit import EXAMPLE, file_bytes, yaml_text
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from intcfg.findings import Finding
from intcfg.fmt import format_text
from intcfg.loader import load_file, load_text
from intcfg.render.findings import RENDERERS
from intcfg.validate import validate

FUZZED = "districts/riverside-usd/fuzzed.yaml"
MEMORY_LIMIT = 1 << 30
CLI_TIMEOUT = 60
SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


def _repository(root: Path) -> Path:
    root.mkdir(parents=True)
    shutil.copy(EXAMPLE / "intcfg.yaml", root / "intcfg.yaml")
    shutil.copytree(EXAMPLE / "districts" / "riverside-usd", root / "districts" / "riverside-usd")
    return root


@pytest.fixture(scope="module")
def fuzz_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _repository(tmp_path_factory.mktemp("fuzz") / "repo")


def assert_sane(findings: tuple[Finding, ...] | list[Finding]) -> None:
    for f in findings:
        assert f.rule.startswith("INTCFG-"), f
        assert f.location.line >= 1 and f.location.column >= 1, f
        # A finding is one line: a newline from the input could forge another finding, or a
        # workflow command in the github format.
        assert "\n" not in f.message and "\r" not in f.message, f


def assert_renders(report: object) -> None:
    for name, render in RENDERERS.items():
        out = render(report, colour=name == "text", version="0")
        assert isinstance(out, str)
        if name in ("json", "sarif"):
            json.loads(out)
        elif name == "junit":
            ElementTree.fromstring(out.encode("utf-8"))
        elif name == "github":
            assert all(line.startswith("::") for line in out.splitlines()[:-1]), out


def check_in_process(repo: Path, target: str, raw: bytes) -> None:
    path = repo / target
    before = path.read_bytes() if path.exists() else None
    path.write_bytes(raw)
    try:
        loaded = load_file(str(path))
        assert_sane(loaded.findings)
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            assert_sane(load_text("fuzzed.yaml", text).findings)
            result = format_text("fuzzed.yaml", text)
            assert_sane(result.findings)
            assert "\n" not in result.refused
        report = validate(cwd=repo)
        assert_sane(report.findings)
        assert_renders(report)
    finally:
        if before is None:
            path.unlink()
        else:
            path.write_bytes(before)


@settings(max_examples=200, deadline=None, database=None, suppress_health_check=SLOW_OK)
@given(raw=file_bytes(), settings_file=st.integers(0, 4))
def test_loader_validator_renderers_and_fmt_never_raise(fuzz_repo: Path, raw: bytes, settings_file: int) -> None:
    check_in_process(fuzz_repo, "intcfg.yaml" if settings_file == 0 else FUZZED, raw)


@settings(max_examples=50, deadline=None, database=None, suppress_health_check=SLOW_OK)
@given(text=yaml_text())
def test_text_loads_to_documents_or_findings(text: str) -> None:
    loaded = load_text("f.yaml", text)
    assert_sane(loaded.findings)
    for doc in loaded.documents:
        json.dumps(doc.data, allow_nan=True)  # plain data: dicts, lists, scalars


# -- the real CLI, bounded -----------------------------------------------------------------------

# The limit is set in the child before it becomes the CLI (no preexec_fn: it is unsafe
# in a process with threads).
_LIMITED = (
    "import os, resource, sys\n"
    "resource.setrlimit(resource.RLIMIT_AS, (int(sys.argv[1]), int(sys.argv[1])))\n"
    "os.execv(sys.argv[2], sys.argv[2:])\n"
)


def run_limited(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", _LIMITED, str(MEMORY_LIMIT), INTCFG, *args],
        cwd=repo, env=cli_env(NO_COLOR="1"), capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )


def assert_clean_exit(done: subprocess.CompletedProcess[str]) -> None:
    output = done.stdout + done.stderr
    assert "Traceback" not in output and "unexpected error" not in output, output[-2000:]
    assert done.returncode in (0, 1), (done.returncode, output[-2000:])


@settings(max_examples=20, deadline=None, database=None, suppress_health_check=SLOW_OK)
@given(
    raw=file_bytes(),
    fmt=st.sampled_from(["text", "json", "github", "sarif", "junit", "fmt"]),
    settings_file=st.integers(0, 4),
)
def test_the_cli_survives_within_a_gibibyte_and_a_timeout(
    tmp_path_factory: pytest.TempPathFactory, raw: bytes, fmt: str, settings_file: int
) -> None:
    repo = _repository(tmp_path_factory.mktemp("cli") / "repo")
    (repo / ("intcfg.yaml" if settings_file == 0 else FUZZED)).write_bytes(raw)
    args = ("fmt", "--check") if fmt == "fmt" else ("validate", "--format", fmt)
    assert_clean_exit(run_limited(repo, *args))


def test_the_memory_limit_is_real(tmp_path: Path) -> None:
    # The harness would prove nothing if the child could allocate past the limit.
    repo = _repository(tmp_path / "repo")
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED, str(MEMORY_LIMIT), sys.executable, "-c", "b = bytearray(2 << 30)"],
        cwd=repo, capture_output=True, text=True, timeout=CLI_TIMEOUT,
    )
    assert done.returncode == 1 and "MemoryError" in done.stderr


# -- regressions the fuzzer found ---------------------------------------------------------------------


@pytest.mark.parametrize("settings_text", ["include: 5\n", "include: [5]\n", "exclude: {a: b}\n", "include: [[a]]\n"])
def test_fmt_survives_settings_of_the_wrong_type(
    tmp_path: Path, settings_text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from intcfg.main import main

    repo = _repository(tmp_path / "repo")
    (repo / "intcfg.yaml").write_text("apiVersion: intcfg/v1\nkind: Settings\n" + settings_text, encoding="utf-8")
    code = main(["fmt", "--check", str(repo)])
    output = capsys.readouterr()
    assert code in (0, 1) and "unexpected error" not in output.err, output


def _findings(repo: Path) -> list[str]:
    import os

    here = os.getcwd()
    os.chdir(repo)
    try:
        report = validate()
    finally:
        os.chdir(here)
    return [f"{f.location} {f.rule} {f.message}" for f in report.findings if f.is_error]


def test_a_kind_or_mapping_names_of_the_wrong_type_are_findings(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "repo")
    (repo / FUZZED).write_text(
        "apiVersion: intcfg/v1\nkind: [ETranscriptVendor]\nmetadata: {name: x, district: riverside-usd}\nspec: {}\n---\n"
        "apiVersion: intcfg/v1\nkind: FieldMapping\nmetadata: {name: broken, district: riverside-usd}\n"
        "spec:\n  connection: {a: b}\n  type: [import-student]\n  fields: {}\n",
        encoding="utf-8",
    )
    found = _findings(repo)
    assert f"{FUZZED}:2:7 INTCFG-E101 kind is ['ETranscriptVendor']; expected one of: District, ETranscriptVendor, " \
        "StateAssessmentIntegration, SiteOverride, SyncConnection, FieldMapping, Schedule" in found
    assert f"{FUZZED}:10:15 INTCFG-E104 connection must be a string, not a mapping" in found


def test_a_district_or_connection_spec_that_is_a_list_is_a_finding(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "repo")
    for name in ("district.yaml", "sync.yaml"):
        path = repo / "districts/riverside-usd" / name
        text = path.read_text(encoding="utf-8")
        path.write_text(text.split("\nspec:", 1)[0] + "\nspec: [a]\n" + ("---" + text.split("---", 1)[1] if "---" in text else ""), encoding="utf-8")
    found = _findings(repo)
    assert "districts/riverside-usd/district.yaml" in " ".join(found)
    assert any(" INTCFG-E104 spec must be a mapping, not a list" in f for f in found), found


def test_a_match_code_key_that_looks_like_a_number_is_located(tmp_path: Path) -> None:
    repo = _repository(tmp_path / "repo")
    sync = repo / "districts/riverside-usd/sync.yaml"
    sync.write_text(sync.read_text(encoding="utf-8").replace("X: Non-binary}", "1: [Non-binary]}"), encoding="utf-8")
    line = next(n for n, row in enumerate(sync.read_text(encoding="utf-8").splitlines(), 1) if "1: [Non-binary]" in row)
    assert _findings(repo) == [f"districts/riverside-usd/sync.yaml:{line}:40 INTCFG-E104 1 must be a string, not a list"]
