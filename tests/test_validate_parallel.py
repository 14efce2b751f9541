"""validate checks files in several processes on large repositories; the report must be
the same, byte for byte, as checking them in one. Also: the benchmark's generator writes
valid, reproducible repositories."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import intcfg.validate as validate_module
from intcfg.errors import ConfigError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import gen  # noqa: E402 - bench/ is a folder of scripts, not a package

INTCFG = str(Path(sys.executable).with_name("intcfg"))
CANARY = "canary-s3cr3t-9f4b2e"


def run(repo: Path, *args: str, processes: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["INTCFG_TODAY"] = gen.TODAY
    env.pop(validate_module.PROCESSES_ENV, None)
    if processes is not None:
        env[validate_module.PROCESSES_ENV] = processes
    return subprocess.run(
        [INTCFG, "validate", *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120
    )


def line_of(path: Path, text: str) -> int:
    return path.read_text(encoding="utf-8").splitlines().index(text) + 1


def replace_first(path: Path, old_prefix: str, new_line: str) -> int:
    """Replace the first line starting with ``old_prefix``; return its 1-based number."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    number = next(i for i, line in enumerate(lines) if line.startswith(old_prefix))
    lines[number] = new_line + "\n"
    path.write_text("".join(lines), encoding="utf-8")
    return number + 1


@pytest.fixture(scope="module")
def broken_repo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    """A generated repository with problems of every stage, in several files and districts."""
    root = tmp_path_factory.mktemp("broken")
    files = gen.generate(root, 60, seed=11)
    districts = sorted({f.parent for f in files})
    first, second, third = districts[:3]
    lines = {
        "secret": replace_first(first / "ets.yaml", "  secretKey:", f"  secretKey: {CANARY}"),
        "connection": replace_first(
            second / "schedules.yaml", "  connection:", "  connection: no-such-connection"
        ),
    }
    (third / "etranscript.yaml").write_text(
        (third / "etranscript.yaml").read_text(encoding="utf-8") + "  broken: [unclosed\n",
        encoding="utf-8",
    )
    # The same district defined twice: the finding names the first definition's line.
    (third / "copy.yaml").write_text(
        (second / "district.yaml").read_text(encoding="utf-8"), encoding="utf-8"
    )
    # Which definition comes first depends on the file order, which workers must keep.
    copies = root / "districts" / "zz-copies"
    copies.mkdir()
    for district in districts[3:13]:
        (copies / f"{district.name}.yaml").write_text(
            (district / "ets.yaml").read_text(encoding="utf-8"), encoding="utf-8"
        )
    text = (first / "district.yaml").read_text(encoding="utf-8")
    (first / "district.yaml").write_text(
        text.replace("  timezone:", "  state: CA\n  timezone:", 1), encoding="utf-8"
    )
    lines["duplicate"] = line_of(first / "district.yaml", "  state: CA")
    return root, lines


@pytest.mark.parametrize("fmt", ["json", "text"])
def test_reports_are_byte_identical_for_any_number_of_processes(
    broken_repo: tuple[Path, dict[str, int]], fmt: str
) -> None:
    repo, _ = broken_repo
    single = run(repo, "--format", fmt, processes="1")
    assert single.returncode == 1, single.stderr
    assert single.stderr == ""
    for processes in ("2", "3"):
        parallel = run(repo, "--format", fmt, processes=processes)
        assert (parallel.returncode, parallel.stdout, parallel.stderr) == (1, single.stdout, "")


def test_findings_of_every_stage_keep_their_file_and_line(
    broken_repo: tuple[Path, dict[str, int]],
) -> None:
    repo, lines = broken_repo
    out = run(repo, processes="2").stdout
    districts = sorted(p.name for p in (repo / "districts").iterdir())
    first, second, third = districts[:3]
    assert (
        f"districts/{first}/ets.yaml:{lines['secret']}:14: error INTCFG-E110 secretKey is a secret"
        in out
    )
    assert (
        f"districts/{second}/schedules.yaml:{lines['connection']}:15: error INTCFG-E204 "
        "connection 'no-such-connection'"
    ) in out
    assert (
        f"districts/{first}/district.yaml:{lines['duplicate'] + 2}:3: error INTCFG-E002 "
        f"duplicate key 'state' (first defined on line {lines['duplicate']})"
    ) in out
    assert f"districts/{third}/etranscript.yaml:" in out and "INTCFG-E001 invalid YAML" in out
    assert (
        f"districts/{third}/copy.yaml:5:9: error INTCFG-E200 District '{second}' is defined twice "
        f"in the repository (first at districts/{second}/district.yaml:5:9)"
    ) in out
    assert CANARY not in out


# Forking is for single-threaded processes, and a pytest worker may hold threads left by
# other tests: these run validate in a fresh interpreter, with _check_file wrapped.
PROBE = """
import json, os, sys, threading
import intcfg.validate as v
from intcfg.findings import Finding
from intcfg.location import Location

mode, parent, check = sys.argv[1], os.getpid(), v._check_file

def tagged(name, max_bytes):
    if mode == "die" and os.getpid() != parent:
        open(f"child-died-{os.getpid()}", "w").close()
        os._exit(7)
    checked = check(name, max_bytes)
    pid = Finding(Location(name), "TEST-PID", str(os.getpid()), "warning")
    return checked._replace(findings=[*checked.findings, pid])

expected = v.validate(processes=1)
v._check_file = tagged
release = threading.Event()
if mode == "thread":
    threading.Thread(target=release.wait, args=(30,)).start()
report = v.validate(processes=2)
release.set()
print(json.dumps({
    "parent": str(parent),
    "pids": sorted({f.message for f in report.findings if f.rule == "TEST-PID"}),
    "tagged": sorted({f.location.file for f in report.findings if f.rule == "TEST-PID"}),
    "files": list(report.file_names),
    "same": report._replace(findings=tuple(f for f in report.findings if f.rule != "TEST-PID"))
    == expected,
}))
"""


def probe(repo: Path, mode: str) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env["INTCFG_TODAY"] = gen.TODAY
    done = subprocess.run(
        [sys.executable, "-c", PROBE, mode],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def test_each_worker_checks_its_share_of_the_files(
    broken_repo: tuple[Path, dict[str, int]],
) -> None:
    result = probe(broken_repo[0], "share")
    assert len(result["pids"]) == 2 and result["parent"] in result["pids"]
    files = sorted(str(f.relative_to(broken_repo[0])) for f in broken_repo[0].rglob("*/*/*.yaml"))
    assert result["tagged"] == sorted(result["files"]) == files
    assert result["same"]


def test_a_process_with_threads_does_not_fork(broken_repo: tuple[Path, dict[str, int]]) -> None:
    result = probe(broken_repo[0], "thread")
    assert result["pids"] == [result["parent"]]
    assert result["same"]


def test_a_worker_that_dies_has_its_share_checked_by_the_parent(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    gen.generate(repo, 30, seed=4)
    result = probe(repo, "die")
    assert len(list(repo.glob("child-died-*"))) == 1
    assert result["pids"] == [result["parent"]]
    assert result["same"]


def test_small_repositories_stay_in_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(validate_module.PROCESSES_ENV, raising=False)
    assert validate_module._processes(validate_module.PARALLEL_FROM - 1) == 1
    assert validate_module._processes(5) == 1
    monkeypatch.setenv(validate_module.PROCESSES_ENV, "3")
    assert validate_module._processes(2) == 2
    assert validate_module._processes(500) == 3


def test_a_bad_process_count_is_a_usage_error(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = run(example_repo, processes="two")
    assert result.returncode == 2
    assert result.stdout == ""
    assert (
        result.stderr
        == "Error: INTCFG_VALIDATE_PROCESSES must be a whole number of at least 1, not 'two'\n"
    )
    monkeypatch.setenv(validate_module.PROCESSES_ENV, "0")
    with pytest.raises(ConfigError, match="at least 1, not '0'"):
        validate_module._processes(10)


def test_a_large_repository_is_checked_in_parallel_with_the_same_report(tmp_path: Path) -> None:
    repo = tmp_path / "large"
    gen.generate(repo, validate_module.PARALLEL_FROM + 20, seed=5)
    replace_first(next((repo / "districts").rglob("schedules.yaml")), "  time:", '  time: "25:00"')
    default = run(repo, "--format", "json")
    single = run(repo, "--format", "json", processes="1")
    assert default.returncode == single.returncode == 1
    assert default.stdout == single.stdout
    assert '"rule": "INTCFG-E108"' in default.stdout


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_repositories_are_valid(tmp_path: Path, seed: int) -> None:
    files = gen.generate(tmp_path, 40, seed=seed)
    assert len(files) == 40
    result = run(tmp_path, processes="1")
    assert (result.returncode, result.stderr) == (0, "")
    documents = sum(f.read_text(encoding="utf-8").count("\n---\n") + 1 for f in files)
    assert result.stdout == f"0 errors, 0 warnings in 40 files ({documents} documents)\n"


def test_the_generator_is_deterministic(tmp_path: Path) -> None:
    a = gen.generate(tmp_path / "a", 30, seed=9)
    b = gen.generate(tmp_path / "b", 30, seed=9)
    c = gen.generate(tmp_path / "c", 30, seed=10)
    read = lambda files, root: {str(f.relative_to(root)): f.read_bytes() for f in files}  # noqa: E731
    assert read(a, tmp_path / "a") == read(b, tmp_path / "b")
    assert read(a, tmp_path / "a") != read(c, tmp_path / "c")
