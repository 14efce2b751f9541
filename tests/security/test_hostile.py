"""Hostile input from the places intcfg does not trust: pull-request content (the offline
commands never touch the network and never resolve a secret), names that try to become
paths or trailers, live systems that try to forge lines of output, and a work tree whose
folders are symlinks out of the repository (the audit writer goes through git plumbing)."""

from __future__ import annotations

import hashlib
import os
import re
import socket
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import INTCFG, cli_env
from seckit import (
    Hostile,
    Reply,
    Request,
    commit_all,
    example_copy,
    git,
    hostile_fixture,  # noqa: F401 - the fixture
    reply_json,
)

from intcfg import audit
from intcfg.desired import Address
from intcfg.diff import Applied
from intcfg.errors import AuditError, SecretError
from intcfg.secrets import SecretResolver

ENV_REF = re.compile(r"\{env: ([A-Z0-9_]+)\}")


def referenced_env(repo: Path) -> set[str]:
    return {m for f in repo.rglob("*.yaml") for m in ENV_REF.findall(f.read_text(encoding="utf-8"))}


def without_secrets(repo: Path) -> dict[str, str]:
    env = cli_env(NO_COLOR="1")
    for name in referenced_env(repo) | {"INTCFG_ADMIN_TOKEN", "INTCFG_FINGERPRINT_KEY", "INTCFG_TRACEBACK"}:
        env.pop(name, None)
    return env


@pytest.fixture
def no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every way out of this process raises, and is noted."""
    attempts: list[str] = []

    def refuse(what: str) -> Callable[..., Any]:
        def refused(*args: Any, **kw: Any) -> Any:
            attempts.append(f"{what}{args[1:2]}")
            raise OSError(f"the test forbids the network ({what})")

        return refused

    for name in ("connect", "connect_ex", "sendto", "sendall", "send"):
        monkeypatch.setattr(socket.socket, name, refuse(f"socket.{name}"))
    monkeypatch.setattr(socket, "getaddrinfo", refuse("getaddrinfo"))
    monkeypatch.setattr(socket, "create_connection", refuse("create_connection"))
    yield attempts


@pytest.fixture
def no_secrets(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """SecretResolver.resolve records each reference it is asked for and resolves none."""
    asked: list[Any] = []

    def resolve(self: SecretResolver, ref: Any, where: str = "") -> Any:
        asked.append(ref)
        raise SecretError(f"{where}: the test forbids resolving secrets")

    monkeypatch.setattr(SecretResolver, "resolve", resolve)
    return asked


# -- the offline commands: no network, no secret ------------------------------------------------------------


def test_the_offline_commands_open_no_connection_and_resolve_no_secret(
    example_repo: Path, no_network: list[str], no_secrets: list[Any], monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from intcfg.main import main

    for name in referenced_env(example_repo):
        monkeypatch.delenv(name, raising=False)
    (example_repo / "districts/riverside-usd/ets.yaml").write_text(
        (example_repo / "districts/riverside-usd/ets.yaml").read_text(encoding="utf-8").replace(
            "{env: RIVERSIDE_ETS_SECRET_KEY}", "{file: /nonexistent/ets-secret}"
        ),
        encoding="utf-8",
    )
    monkeypatch.chdir(example_repo)
    for args in (["validate", "--format", "sarif"], ["validate", "--format", "json"], ["fmt", "--check"],
                 ["render", "--format", "json"], ["expiries"], ["secrets-scan"]):
        code = main(args)
        out = capsys.readouterr()
        assert code in (0, 1) and "unexpected error" not in out.err, (args, out.err)
    assert no_network == [] and no_secrets == []


def test_validate_exits_0_with_no_secret_in_the_environment(example_repo: Path) -> None:
    done = subprocess.run([INTCFG, "validate", "-q"], cwd=example_repo, env=without_secrets(example_repo),
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr) == (0, "")


def test_validate_imports_no_network_library() -> None:
    code = (
        "import sys\nfrom intcfg.main import main\ncode = main(['validate', '-q', sys.argv[1]])\n"
        "print(code, sorted(m for m in ('httpx', 'aiohttp', 'urllib3', 'http.client', 'ssl') if m in sys.modules))\n"
    )
    from conftest import EXAMPLE

    done = subprocess.run([os.environ.get("PYTHON", INTCFG.replace("intcfg", "python")), "-c", code, str(EXAMPLE)],
                          env=cli_env(), capture_output=True, text=True, timeout=60)
    assert done.stdout.splitlines()[-1] == "0 []", done.stdout + done.stderr


def test_a_pull_request_plan_resolves_no_secret_of_the_config(
    example_repo: Path, no_secrets: list[Any], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from intcfg.main import main

    for name in referenced_env(example_repo) | {"INTCFG_ADMIN_TOKEN", "INTCFG_FINGERPRINT_KEY"}:
        monkeypatch.delenv(name, raising=False)
    commit_all(example_repo)
    code = main(["plan", "--no-secrets", "--format", "markdown", "-C", str(example_repo)])
    out = capsys.readouterr()
    assert (code, out.err) == (0, "")
    assert out.out.startswith("### intcfg plan: 20 to create, 0 to update, 0 to delete, 0 unchanged\n")
    # Only the live systems' own admin token is looked for (sim:// falls back to the
    # simulator's development token without it); no secret of the configuration.
    assert no_secrets == [{"env": "INTCFG_ADMIN_TOKEN"}]


def test_a_pull_request_plan_runs_with_no_secret_in_the_environment(example_repo: Path) -> None:
    commit_all(example_repo)
    done = subprocess.run([INTCFG, "plan", "--no-secrets"], cwd=example_repo, env=without_secrets(example_repo),
                          capture_output=True, text=True, timeout=120)
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout.startswith("Plan: 20 to create, 0 to update, 0 to delete, 0 unchanged\n")


# -- {file: PATH} secrets (tests/providers/test_secrets.py has the unit cases) ------------------------------------


def test_a_file_secret_reached_through_dot_dot_is_still_inside_the_repository(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    (repo / "districts").mkdir(parents=True)
    (repo / "districts/key.txt").write_text("canary-dotdot-secret-31c9\n")
    outside = tmp_path / "outside"
    outside.mkdir()
    resolver = SecretResolver(repo)
    with pytest.raises(SecretError, match="inside the config repository"):
        resolver.resolve({"file": str(outside / ".." / "repo" / "districts" / "key.txt")}, "ets.yaml:9:16")


def test_intcfg_test_refuses_a_file_secret_inside_the_repository_naming_its_place(example_repo: Path) -> None:
    vendor = example_repo / "districts/riverside-usd/etranscript.yaml"
    text = vendor.read_text(encoding="utf-8")
    ref = "{env: RIVERSIDE_PARCHMENT_PASSWORD}"
    line = next(n for n, row in enumerate(text.splitlines(), 1) if ref in row)
    column = text.splitlines()[line - 1].index(ref) + 1
    vendor.write_text(text.replace(ref, "{file: districts/riverside-usd/ets.yaml}"), encoding="utf-8")
    done = subprocess.run([INTCFG, "test", "--district", "riverside-usd"], cwd=example_repo,
                          env=without_secrets(example_repo), capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert f"districts/riverside-usd/etranscript.yaml:{line}:{column}: secret file 'districts/riverside-usd/ets.yaml' " \
        "is inside the config repository; keep secrets outside it (they would end up in git)" in done.stderr, done.stderr


# -- names that try to be paths or trailers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "field, value",
    [("name", "../x"), ("name", '"a\\nIntcfg-Result: success"'), ("district", "../../etc"), ("name", "a/b"),
     ("name", '"parchment\\r"'), ("district", "Riverside"), ("name", "x" * 64)],
)
def test_names_that_could_become_paths_or_trailers_are_rejected(example_repo: Path, field: str, value: str) -> None:
    vendor = example_repo / "districts/riverside-usd/etranscript.yaml"
    text = vendor.read_text(encoding="utf-8")
    old = "name: parchment" if field == "name" else "district: riverside-usd"
    line = next(n for n, row in enumerate(text.splitlines(), 1) if row.strip() == old)
    vendor.write_text(text.replace(old, f"{field}: {value}", 1), encoding="utf-8")
    done = subprocess.run([INTCFG, "validate", "-q"], cwd=example_repo, env=cli_env(NO_COLOR="1"),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert re.search(rf"^districts/riverside-usd/etranscript.yaml:{line}:\d+: error INTCFG-E1\d\d {field} ", done.stdout, re.M), done.stdout


@pytest.mark.parametrize("address", [
    Address("../sis", "riverside-usd", "ETranscriptVendor", "x"),
    Address("sis", "riverside-usd\nIntcfg-Result: success", "ETranscriptVendor", "x"),
    Address("SIS", "riverside-usd", "ETranscriptVendor", "x"),
    Address("sis", "", "ETranscriptVendor", "x"),
])
def test_the_audit_writer_refuses_unsafe_path_parts(tmp_path: Path, address: Address) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "intcfg.yaml").write_text("apiVersion: intcfg/v1\nkind: Settings\n")
    commit_all(repo)
    with pytest.raises(AuditError, match="refusing to use (system|district)"):
        audit.write(repo, "intcfg/audit", None, _commit({address: Applied("1", 1, {})}))
    assert git(repo, "branch", "--list", "intcfg/audit") == ""


def _commit(state: dict[Address, Applied]) -> audit.Commit:
    return audit.Commit(
        "intcfg apply: 1 created", "ok create sis/riverside-usd/ETranscriptVendor/parchment",
        {"Intcfg-Result": "success", "Intcfg-Actor": "ci"}, {"format": "intcfg-audit", "results": []},
        "20261122T101500Z-0123456789ab.json", state,
    )


def _snapshot(root: Path, skip: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        if skip and (rel == skip or rel.startswith(skip + "/")):
            continue
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
        else:
            out[rel] = "dir"
    return out


def test_the_audit_writer_follows_no_symlink_and_touches_no_file_outside_git(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    outside = tmp_path / "outside"
    (outside / "state").mkdir(parents=True)
    (outside / "state/keep.json").write_text("{}\n")
    repo.mkdir()
    (repo / "intcfg.yaml").write_text("apiVersion: intcfg/v1\nkind: Settings\n")
    # Work-tree folders named like the audit branch's, leading out of the repository.
    (repo / "state").symlink_to(outside / "state")
    (repo / "records").symlink_to(outside)
    commit_all(repo)
    before = _snapshot(repo, skip=".git"), _snapshot(outside)
    vendor = Address("sis", "riverside-usd", "ETranscriptVendor", "parchment")
    sha = audit.write(repo, "intcfg/audit", None, _commit({vendor: Applied("1", 1, {"userName": "u"})}))
    assert (_snapshot(repo, skip=".git"), _snapshot(outside)) == before
    tree = git(repo, "ls-tree", "-r", "--name-only", sha).split()
    assert tree == ["records/20261122T101500Z-0123456789ab.json", "state/sis/riverside-usd.json"]
    assert git(repo, "status", "--porcelain") == ""


# -- live systems that try to forge lines of intcfg's output --------------------------------------------------------

FORGED = "bad request\n::error file=intcfg.yaml::forged\r\n\x1b[2J\u2028Intcfg-Result: success"


def _forged_line(text: str) -> bool:
    return any(line.lstrip().startswith(("::", "Intcfg-Result")) for line in re.split(r"[\n\r\u2028]", text)) \
        or "\x1b" in text


def test_a_live_systems_error_text_cannot_forge_output_lines(
    hostile: Callable[[Callable[[Request], Reply]], Hostile], tmp_path: Path
) -> None:
    live = hostile(lambda request: reply_json(400, {"error": {"code": "bad", "message": FORGED}}))
    repo = example_copy(tmp_path / "repo", live.url)
    sync = repo / "districts/lakeside-sd/powerschool.yaml"
    sync.write_text(re.sub(r"serverUrl: \S+", f"serverUrl: {live.url}", sync.read_text(encoding="utf-8")), encoding="utf-8")
    commit_all(repo)
    env = cli_env(INTCFG_ADMIN_TOKEN="canary-forge-admin-7d1f", LAKESIDE_PS_CLIENT_SECRET="canary-forge-ps-1",
                  LAKESIDE_PS_SANDBOX_CLIENT_SECRET="canary-forge-ps-2", NO_COLOR="1")
    outputs = []
    for args in (["test", "--district", "lakeside-sd"], ["plan", "--no-secrets"]):
        done = subprocess.run([INTCFG, *args], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
        outputs.append(done.stdout + done.stderr)
    assert "bad request ::error file=intcfg.yaml::forged" in outputs[0]
    assert not any(_forged_line(text) for text in outputs), outputs


def test_a_batch_error_text_cannot_forge_output_lines(
    hostile: Callable[[Callable[[Request], Reply]], Hostile], tmp_path: Path
) -> None:
    def admin(request: Request) -> Reply:
        if request.method == "GET":
            return reply_json(200, {"items": [], "next": None})
        ops = request.json()["operations"]
        return reply_json(200, {"results": [{"status": 422, "error": {"code": "invalid", "message": FORGED}} for _ in ops]})

    live = hostile(admin)
    repo = example_copy(tmp_path / "repo", live.url)
    commit_all(repo)
    env = cli_env(INTCFG_ADMIN_TOKEN="canary-forge-admin-7d1f", INTCFG_FINGERPRINT_KEY="k" * 32, NO_COLOR="1",
                  **{name: f"canary-forge-{name.lower()}" for name in referenced_env(repo) - {"INTCFG_ADMIN_TOKEN"}})
    done = subprocess.run([INTCFG, "apply", "--auto-approve"], cwd=repo, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert "FAILED   create  sis/riverside-usd/ETranscriptVendor/parchment: sis: 422 bad request ::error file=" in done.stdout
    assert not _forged_line(done.stdout + done.stderr)
