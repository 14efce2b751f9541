"""End-to-end helpers: `intcfg sim serve` as a subprocess, a copy of the example repository
pointed at it, canary credentials seeded into it. Test modules import what they use.

Not a conftest.py: conftest modules outside a package are all named ``conftest``, and
another folder's would shadow the suite's root conftest for ``from conftest import``.
"""

from __future__ import annotations

import os
import re
import secrets
import selectors
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest

from intcfg.loader import load_file
from intcfg.overlay import merge_patch
from intcfg.sim.fromconfig import seed_from_config

REPO_ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = REPO_ROOT / "config-repo-example"
INTCFG = str(Path(sys.executable).with_name("intcfg"))
TODAY = "2026-11-22"
ADMIN_TOKEN = "canary-admin-token-" + secrets.token_hex(6)
STARTUP_SECONDS = 60.0  # bounded; a loaded CI machine starts Python slowly


def env(**extra: str) -> dict[str, str]:
    """A clean environment for a CLI subprocess (no pytest variables, the suite's clock)."""
    out = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "INTCFG_"))}
    out.update(INTCFG_TODAY=TODAY, NO_COLOR="1", **extra)
    return out


class Sim(NamedTuple):
    url: str
    proc: subprocess.Popen[str]
    db: Path

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=10.0
        )

    def call(self, method: str, path: str, **kw: Any) -> Any:
        with self.client() as c:
            response = c.request(method, path, **kw)
        assert response.is_success, response.text
        return response.json()


def start_sim(db: Path, *args: str) -> Sim:
    """`intcfg sim serve --port 0` on loopback; returns once it prints its URL."""
    proc = subprocess.Popen(
        [INTCFG, "sim", "serve", "--port", "0", "--db", str(db), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env(INTCFG_ADMIN_TOKEN=ADMIN_TOKEN),
    )
    line = _first_line(proc)
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    if match is None:
        proc.kill()
        _, err = proc.communicate(timeout=10)
        raise AssertionError(f"the simulator did not start: {line!r} {err!r}")
    return Sim(match.group(1), proc, db)


def _first_line(proc: subprocess.Popen[str]) -> str:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline and proc.poll() is None:
        if selector.select(timeout=0.2):
            return proc.stdout.readline()
    return ""


def stop_sim(sim: Sim) -> str:
    """Stop it (SIGTERM) and return what it wrote to stderr."""
    sim.proc.terminate()
    try:
        _, err = sim.proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        sim.proc.kill()
        _, err = sim.proc.communicate(timeout=15)
    return err


@pytest.fixture(scope="module", name="shared_sim")
def shared_sim_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sim]:
    server = start_sim(tmp_path_factory.mktemp("sim") / "sim.sqlite3")
    yield server
    stop_sim(server)


@pytest.fixture(name="sim")
def sim_fixture(shared_sim: Sim) -> Sim:
    """The module's simulator, emptied (state, counters and faults) for each test."""
    shared_sim.call("POST", "/_sim/reset")
    shared_sim.call(
        "POST",
        "/_sim/faults",
        json={"errorRate": 0, "rateLimitRate": 0, "timeoutRate": 0, "latencyMs": 0},
    )
    return shared_sim


# -- the example repository, pointed at a live URL -------------------------------------------------


class LiveRepo(NamedTuple):
    root: Path
    secrets: dict[str, str]  # environment variable -> canary value
    seed: dict[str, Any]  # POST /_sim/seed body: districts and canary credentials

    def env(self, **extra: str) -> dict[str, str]:
        return env(**{"INTCFG_ADMIN_TOKEN": ADMIN_TOKEN, **self.secrets, **extra})


def live_repo(dest: Path, live_url: str, expired: frozenset[str] = frozenset()) -> LiveRepo:
    """A copy of the example repository whose vendor URLs point at the simulator at
    ``live_url`` (/vendors/VENDOR/INSTANCE) and whose live.url is ``live_url``; every
    secret gets a canary value, and the seed gives the simulator the same credentials
    (those whose variable is in ``expired`` as expired)."""
    shutil.copytree(EXAMPLE, dest)
    _replace_line(dest / "intcfg.yaml", r"^(\s*url:\s*)sim://\s*$", live_url)
    canaries: dict[str, str] = {}
    datas: list[dict[str, Any]] = []
    credentials: list[dict[str, Any]] = []
    for path in sorted((dest / "districts").rglob("*.yaml")):
        loaded = load_file(str(path))
        edits: dict[int, tuple[str, str]] = {}
        for doc in loaded.documents:
            datas.append(doc.data)
            for key_path, value in _urls(doc.data, live_url).items():
                edits[doc.locate(key_path).line] = (key_path[-1], value)
        _edit(path, edits)
    for data in _effective(_reload(dest)):
        credentials.extend(_credentials(data, canaries, expired))
    seed = seed_from_config(datas)
    seed["credentials"] = credentials
    return LiveRepo(dest, canaries, seed)


def _instance(data: dict[str, Any]) -> str:
    return f"{data['metadata']['district']}-{data['metadata']['name']}"


def _urls(data: dict[str, Any], live: str) -> dict[tuple[str, ...], Any]:
    kind, spec = data.get("kind"), data.get("spec", {})
    bare = re.sub(r":\d+$", "", live)
    if kind == "ETranscriptVendor":
        inst = _instance(data)
        return {
            ("spec", "authServer"): f"{live}/vendors/etranscript/{inst}",
            ("spec", "uploadServer"): f"{bare}/vendors/etranscript/{inst}",
            ("spec", "uploadPort"): live.rsplit(":", 1)[1],
        }
    if kind == "StateAssessmentIntegration":
        return {("spec", "apiUrl"): f"{live}/vendors/ets/caaspp/api/v1/token"}
    if kind != "SyncConnection":
        return {}
    vendor, inst = spec["vendor"], _instance(data)
    if vendor == "powerschool":
        return {("spec", "powerschool", "serverUrl"): f"{live}/vendors/powerschool/{inst}"}
    if vendor == "aeries":
        return {
            ("spec", "aeries", "apiUrl"): f"{live}/vendors/aeries/{inst}",
            ("spec", "aeries", "oneRoster", "url"): f"{live}/vendors/oneroster/{inst}",
        }
    return {("spec", "skyward", "apiUrl"): f"{live}/vendors/skyward/{inst}"}


def _edit(path: Path, edits: dict[int, tuple[str, str]]) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    for line, (key, value) in edits.items():
        lines[line - 1] = re.sub(rf"^(\s*{key}:\s*)\S+", rf"\g<1>{value}", lines[line - 1])
    path.write_text("\n".join(lines), encoding="utf-8")


def _replace_line(path: Path, pattern: str, value: str) -> None:
    text = re.sub(
        pattern, lambda m: m.group(1) + value, path.read_text(encoding="utf-8"), count=1, flags=re.M
    )
    path.write_text(text, encoding="utf-8")


def _reload(root: Path) -> list[dict[str, Any]]:
    return [
        d.data
        for p in sorted((root / "districts").rglob("*.yaml"))
        for d in load_file(str(p)).documents
    ]


def _effective(datas: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The documents, plus each ETS site override as its merged configuration."""
    bases = {
        (d["kind"], d["metadata"].get("district"), d["metadata"]["name"]): d
        for d in datas
        if d.get("kind") != "SiteOverride"
    }
    out = [d for d in datas if d.get("kind") != "SiteOverride"]
    for d in datas:
        if d.get("kind") == "SiteOverride":
            target = d["spec"]["target"]
            base = bases[(target["kind"], d["metadata"]["district"], target["name"])]
            out.append({**base, "spec": merge_patch(base["spec"], d["spec"]["patch"])})
    return out


def _canary(ref: dict[str, str], canaries: dict[str, str]) -> str:
    name = ref["env"]
    return canaries.setdefault(
        name, f"canary-{name.lower().replace('_', '-')}-{secrets.token_hex(4)}"
    )


def _credentials(
    data: dict[str, Any], canaries: dict[str, str], expired: frozenset[str]
) -> list[dict[str, Any]]:
    kind, spec = data.get("kind"), data.get("spec", {})
    district = data.get("metadata", {}).get("district")

    def cred(
        vendor: str, instance: str, ref: dict[str, str], client_id: str | None = None, **extra: Any
    ) -> dict[str, Any]:
        out = {
            "vendor": vendor,
            "instance": instance,
            "secret": _canary(ref, canaries),
            "district": district,
            "expired": ref["env"] in expired,
            **extra,
        }
        return {**out, "clientId": client_id} if client_id else out

    if kind == "ETranscriptVendor":
        return [
            cred(
                "etranscript",
                _instance(data),
                spec["consumerSecret"],
                spec["consumerKey"],
                username=spec["userName"],
                password=_canary(spec["password"], canaries),
                authPath=spec["authPath"],
            )
        ]
    if kind == "StateAssessmentIntegration":
        return [cred("ets", "caaspp", spec["secretKey"], spec["username"])]
    if kind != "SyncConnection":
        return []
    vendor, inst = spec["vendor"], _instance(data)
    block = spec[vendor]
    if vendor == "powerschool":
        return [cred("powerschool", inst, block["clientSecret"], block["clientId"])]
    if vendor == "aeries":
        ros = block["oneRoster"]
        return [
            cred("aeries", inst, block["certificate"]),
            cred("oneroster", inst, ros["consumerSecret"], ros["consumerId"]),
        ]
    return [
        cred(
            "skyward",
            inst,
            block["consumerSecret"],
            block["consumerKey"],
            entityIds=[block.get("entityId", 1)],
        )
    ]


def intcfg(repo: LiveRepo, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [INTCFG, *args],
        cwd=repo.root,
        env=repo.env(**extra_env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_no_canary(repo: LiveRepo, *texts: str) -> None:
    for value in [*repo.secrets.values(), ADMIN_TOKEN]:
        for text in texts:
            assert value not in text
