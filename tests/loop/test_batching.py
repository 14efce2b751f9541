"""Request counts at scale, read from `intcfg sim serve`'s counters: apply writes each
dependency tier to each live system in batches of at most 100; a plan lists pages, not
objects. (The timings are bench/loop.py's job; here only counts, which are exact.)"""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from conftest import INTCFG, TODAY

from intcfg.loader import load_file
from intcfg.sim.fromconfig import seed_from_config

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
import gen  # noqa: E402 - bench/ is a folder of scripts, not a package

OBJECTS = 300
TOKEN = "canary-admin-token-4be1c9"
ENV_REF = re.compile(r"\{env: ([A-Z0-9_]+)\}")
SYSTEMS = ("sis", "portal", "enroll")
DEPENDENT_KINDS = ("FieldMapping", "Schedule")


class Sim(NamedTuple):
    proc: subprocess.Popen[str]
    url: str
    client: httpx.Client

    def requests(self) -> Counter[str]:
        """Requests to the live systems by route (the control routes under /_sim aside)."""
        response = self.client.get("/_sim/stats")
        response.raise_for_status()
        routes: dict[str, dict[str, int]] = response.json()["byRoute"]
        return Counter({route: sum(statuses.values()) for route, statuses in routes.items() if " /_sim/" not in route})


def _first_line(proc: subprocess.Popen[str]) -> str:
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.append(proc.stdout.readline() if proc.stdout else ""), daemon=True)
    reader.start()
    reader.join(60)
    return lines[0] if lines else ""


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[Sim]:
    env = {**os.environ, "INTCFG_ADMIN_TOKEN": TOKEN}
    proc = subprocess.Popen([INTCFG, "sim", "serve", "--port", "0", "--db", str(tmp_path / "sim.sqlite3")],
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", _first_line(proc))
    if match is None:
        proc.kill()
        proc.communicate(timeout=30)
        pytest.fail("the simulator did not start")
    with httpx.Client(base_url=match.group(1), headers={"Authorization": f"Bearer {TOKEN}"}, timeout=60) as client:
        yield Sim(proc, match.group(1), client)
    proc.terminate()
    proc.communicate(timeout=30)


class Repo(NamedTuple):
    root: Path
    secrets: dict[str, str]
    districts: int

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "INTCFG_"))}
        env = {**base, **self.secrets, "INTCFG_ADMIN_TOKEN": TOKEN, "INTCFG_FINGERPRINT_KEY": "k" * 32,
               "INTCFG_TODAY": TODAY, "NO_COLOR": "1"}
        return subprocess.run([INTCFG, *args], cwd=self.root, env=env, capture_output=True, text=True, timeout=300)


def git(root: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=root, check=True,
                   capture_output=True, timeout=60)


@pytest.fixture
def repo(tmp_path: Path, sim: Sim) -> Repo:
    """A generated repository of 300 live objects pointed at the simulator, which knows its districts."""
    root = tmp_path / "repo"
    files = gen.generate_resources(root, OBJECTS, seed=3)
    settings = root / "intcfg.yaml"
    settings.write_text(settings.read_text(encoding="utf-8").replace("url: sim://", f"url: {sim.url}"), encoding="utf-8")
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "config")
    datas = [d.data for p in files for d in load_file(str(p)).documents]
    sim.client.post("/_sim/seed", json=seed_from_config(datas)).raise_for_status()
    names = {m for f in files for m in ENV_REF.findall(f.read_text(encoding="utf-8"))}
    secrets = {name: f"canary-{name.lower()}-77c1" for name in sorted(names)}
    return Repo(root, secrets, len(list((root / "districts").iterdir())))


def expected_batches(plan: dict[str, Any]) -> dict[str, int]:
    """Per system: the sum over dependency tiers of ceil(creates / 100)."""
    tiers: Counter[tuple[str, bool]] = Counter()
    for change in plan["changes"]:
        assert change["action"] == "create"
        tiers[(change["system"], change["kind"] in DEPENDENT_KINDS)] += 1
    return {system: sum(math.ceil(n / 100) for (s, _), n in tiers.items() if s == system) for system in SYSTEMS}


def lists(requests: Counter[str]) -> int:
    return sum(n for route, n in requests.items() if route.startswith("GET ") and "/districts/{district}/" in route)


def test_apply_writes_in_batches_and_a_plan_reads_one_page_per_district_and_kind(repo: Repo, sim: Sim) -> None:
    pages = repo.districts * 5  # sis: vendors; portal: ETS; enroll: connections, mappings, schedules

    planned = repo.run("plan", "--format", "json")
    assert planned.returncode == 0, planned.stderr
    plan = json.loads(planned.stdout)
    assert plan["summary"]["create"] == OBJECTS
    after_plan = sim.requests()
    assert (sum(after_plan.values()), lists(after_plan)) == (pages, pages)

    applied = repo.run("apply", "--auto-approve")
    assert applied.returncode == 0, applied.stderr
    assert sum(1 for line in applied.stdout.splitlines() if line.startswith("ok ")) == OBJECTS
    requests = sim.requests() - after_plan
    batches = {system: requests[f"POST /{system}/admin/v1/batch"] for system in SYSTEMS}
    assert batches == expected_batches(plan) == {"sis": 1, "portal": 1, "enroll": 3}
    # Apply plans first (one page per district and kind), then writes only in batches.
    assert sum(requests.values()) == pages + sum(batches.values())
    for value in repo.secrets.values():
        assert value not in applied.stdout + applied.stderr

    before = sim.requests()
    again = repo.run("plan", "--detailed-exitcode")
    assert again.returncode == 0, again.stdout + again.stderr
    assert again.stdout.startswith(f"Plan: 0 to create, 0 to update, 0 to delete, {OBJECTS} unchanged\n")
    requests = sim.requests() - before
    assert (sum(requests.values()), lists(requests)) == (pages, pages)
