"""The hooks of .pre-commit-hooks.yaml, run by the real pre-commit framework.

pre-commit installs intcfg into its own environment from a clone of this repository at
HEAD, so these tests check the committed state. They run the configuration that
``pre-commit try-repo`` writes (this repository, its HEAD, one hook) with ``pre-commit
run -c``: try-repo builds the environment in a new temporary store on every call, while
``run`` keeps it in PRE_COMMIT_HOME, shared by every test of a session (pre-commit's
store lock keeps parallel workers from building it twice).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import REPO_ROOT, cli_env

pytestmark = pytest.mark.slow

PRE_COMMIT = str(Path(sys.executable).with_name("pre-commit"))
SCHEDULES = "districts/lakeside-sd/schedules.yaml"
UNFORMATTED_SCHEDULE = """\
spec: {time: "02:00", job: import-student, connection: powerschool}
metadata:
    district: lakeside-sd
    name: ps-nightly-students
kind: Schedule
apiVersion: intcfg/v1
"""
FORMATTED_SCHEDULE = """\
apiVersion: intcfg/v1
kind: Schedule
metadata:
  name: ps-nightly-students
  district: lakeside-sd
spec: {connection: powerschool, job: import-student, time: "02:00"}
"""


def _git(*args: str, cwd: Path) -> str:
    done = subprocess.run(
        ["git", *args], cwd=cwd, capture_output=True, text=True, check=True, timeout=120
    )
    return done.stdout.strip()


@pytest.fixture(scope="session")
def pre_commit_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    base = tmp_path_factory.getbasetemp()
    # Under xdist each worker has its own base; their parent is this session's.
    return (base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base) / "pre-commit-home"


@pytest.fixture(scope="session")
def hooks_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `pre-commit try-repo REPO_ROOT` writes: this repository at HEAD, its hooks."""
    head = _git("rev-parse", "HEAD", cwd=REPO_ROOT)
    config = tmp_path_factory.mktemp("hooks") / "pre-commit-config.yaml"
    config.write_text(
        f"repos:\n- repo: {REPO_ROOT}\n  rev: {head}\n"
        "  hooks:\n  - id: intcfg-validate\n  - id: intcfg-fmt\n",
        encoding="utf-8",
    )
    return config


@pytest.fixture
def config_repo(example_repo: Path) -> Path:
    """A git repository holding a copy of the example, everything staged."""
    _git("init", "-q", cwd=example_repo)
    _git("add", "-A", cwd=example_repo)
    return example_repo


def pre_commit(
    repo: Path, config: Path, home: Path, *hook: str
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [PRE_COMMIT, "run", "-c", str(config), *hook, "--all-files", "--color", "never"],
        cwd=repo,
        env=cli_env(PRE_COMMIT_HOME=str(home)),
        capture_output=True,
        text=True,
        timeout=600,
    )


def status(output: str, hook: str) -> str:
    found = re.search(rf"^{re.escape(hook)}\.+(\w+)$", output, re.MULTILINE)
    assert found, output
    return found.group(1)


def test_both_hooks_pass_on_the_example_repository(
    config_repo: Path, hooks_config: Path, pre_commit_home: Path
) -> None:
    before = {p: p.read_bytes() for p in config_repo.rglob("*.y*ml")}
    done = pre_commit(config_repo, hooks_config, pre_commit_home)
    assert done.returncode == 0, done.stdout + done.stderr
    assert status(done.stdout, "intcfg validate") == "Passed"
    assert status(done.stdout, "intcfg fmt") == "Passed"
    # The CI workflows and the Kubernetes manifest in the example are not config files.
    assert {p: p.read_bytes() for p in config_repo.rglob("*.y*ml")} == before


def test_validate_hook_fails_naming_the_file_line_and_rule(
    config_repo: Path, hooks_config: Path, pre_commit_home: Path
) -> None:
    schedules = config_repo / SCHEDULES
    text = schedules.read_text(encoding="utf-8")
    assert '  time: "04:15"\n' in text
    schedules.write_text(text.replace('  time: "04:15"\n', '  time: "24:15"\n'), encoding="utf-8")
    line = text[: text.index('  time: "04:15"')].count("\n") + 1
    done = pre_commit(config_repo, hooks_config, pre_commit_home, "intcfg-validate")
    assert done.returncode == 1
    assert status(done.stdout, "intcfg validate") == "Failed"
    assert re.search(
        rf"^{re.escape(SCHEDULES)}:{line}:\d+: error INTCFG-E\d{{3}} ", done.stdout, re.M
    )


def test_fmt_hook_fixes_a_file_and_then_passes(
    config_repo: Path, hooks_config: Path, pre_commit_home: Path
) -> None:
    (config_repo / SCHEDULES).write_text(UNFORMATTED_SCHEDULE, encoding="utf-8")
    first = pre_commit(config_repo, hooks_config, pre_commit_home, "intcfg-fmt")
    assert first.returncode == 1
    assert status(first.stdout, "intcfg fmt") == "Failed"
    assert "- files were modified by this hook" in first.stdout
    assert f"reformatted {SCHEDULES}" in first.stdout
    assert (config_repo / SCHEDULES).read_text(encoding="utf-8") == FORMATTED_SCHEDULE
    second = pre_commit(config_repo, hooks_config, pre_commit_home, "intcfg-fmt")
    assert second.returncode == 0
    assert status(second.stdout, "intcfg fmt") == "Passed"


def test_fmt_hook_fails_on_a_file_it_cannot_read(
    config_repo: Path, hooks_config: Path, pre_commit_home: Path
) -> None:
    broken = config_repo / "districts/lakeside-sd/broken.yaml"
    broken.write_bytes(b"kind: Schedule\nspec: [\n")
    _git("add", "-A", cwd=config_repo)
    done = pre_commit(config_repo, hooks_config, pre_commit_home, "intcfg-fmt")
    assert done.returncode == 1
    assert "districts/lakeside-sd/broken.yaml:3:1: error INTCFG-E001 invalid YAML" in done.stdout
    assert "files were modified" not in done.stdout
    assert broken.read_bytes() == b"kind: Schedule\nspec: [\n"
