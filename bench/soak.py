"""Soak: the reconcile loop, cycle after cycle, against a simulator that misbehaves.

`intcfg sim serve` on loopback injects 10% 5xx, 5% 429, 2% timeouts (held 2 s) and 1%
dropped connections. Each cycle commits a random config edit, makes a random change
in the live systems outside git (an edit with secrets typed in the screen, a deletion,
an object intcfg does not manage), then runs `intcfg apply --auto-approve` until it
succeeds (at most MAX_ATTEMPTS runs). At the end, with the faults off: the live systems
match the repository (plan and drift find nothing), the unmanaged objects are untouched,
every audit commit an apply reported is on the audit branch, and memory stayed flat
(max RSS of each intcfg run, RSS of the simulator). Figures go to stdout and to
bench/RESULTS-soak.md.

    make soak                                   # SOAK_CYCLES=100 within SOAK_MINUTES=5
    SOAK_CYCLES=100 SOAK_MINUTES=30 make soak   # the full run
    SOAK_SEED=7 .venv/bin/python bench/soak.py  # another fault sequence and edit order

Exit status: 0 every check passed, 1 otherwise.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, NamedTuple

import httpx

from intcfg.secrets import secret_paths
from intcfg.sim.pointing import point_repository

ROOT = Path(__file__).resolve().parents[1]
INTCFG = str(Path(sys.executable).with_name("intcfg"))
CYCLES = int(os.environ.get("SOAK_CYCLES", "100"))
MINUTES = min(float(os.environ.get("SOAK_MINUTES", "5")), 30.0)
SEED = int(os.environ.get("SOAK_SEED", "1"))
MAX_ATTEMPTS = 6
FAULTS = {"errorRate": 0.10, "rateLimitRate": 0.05, "timeoutRate": 0.02, "timeoutSeconds": 2,
          "dropRate": 0.01, "retryAfter": 1, "seed": SEED}
TOKEN = "soak-admin-token-" + os.urandom(6).hex()
COLLECTIONS = {"ETranscriptVendor": ("sis", "etranscript-vendors"), "StateAssessmentIntegration": ("portal", "ets-integrations"),
               "SyncConnection": ("enroll", "sync-connections"), "Schedule": ("enroll", "schedules")}


class Run(NamedTuple):
    code: int
    stdout: str
    stderr: str
    max_rss_kb: int
    seconds: float


def run(args: list[str], cwd: Path, env: dict[str, str]) -> Run:
    """Run the CLI; its own max RSS from wait4 (not the children's high-water mark)."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen([INTCFG, *args], cwd=cwd, env=env, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return Run(proc.returncode, out.read().decode(), err.read().decode(), usage.ru_maxrss, time.monotonic() - started)


def rss_kb(pid: int) -> int:
    text = Path(f"/proc/{pid}/status").read_text()
    return int(re.search(r"VmRSS:\s+(\d+)", text).group(1))  # type: ignore[union-attr]


class Sim:
    def __init__(self, folder: Path) -> None:
        env = {**os.environ, "INTCFG_ADMIN_TOKEN": TOKEN}
        self.proc = subprocess.Popen([INTCFG, "sim", "serve", "--port", "0", "--db", str(folder / "sim.sqlite3")],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline() if self.proc.stdout else ""
        found = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if not found:
            self.proc.kill()
            raise SystemExit(f"the simulator did not start: {line!r}")
        self.url = found.group(1)
        self.client = httpx.Client(base_url=self.url, headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)

    def call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        """One admin or control call, retried through the injected faults (bounded)."""
        for attempt in range(12):
            try:
                response = self.client.request(method, path, **kw)
            except httpx.HTTPError:
                continue
            if response.status_code not in (429, 500, 502, 503, 504):
                return response
            time.sleep(0.05 * attempt)
        raise SystemExit(f"{method} {path}: no answer through the faults after 12 attempts")

    def stop(self) -> str:
        self.client.close()
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate(timeout=30)[1]


# -- what changes each cycle ---------------------------------------------------------------------------


def config_edit(repo: Path, rng: random.Random, cycle: int) -> str:
    files = sorted(repo.glob("districts/*/*.yaml"))
    edits = [(f, m) for f in files for m in re.finditer(r'^(\s*)(time|displayName|username): (.+)$', f.read_text(), re.M)]
    path, match = rng.choice(edits)
    key = match.group(2)
    value = f'"{rng.randrange(24):02d}:{rng.choice(["00", "15", "30", "45"])}"' if key == "time" else f"{key}-soak-{cycle}"
    text = path.read_text()
    path.write_text(text[: match.start()] + f"{match.group(1)}{key}: {value}" + text[match.end():])
    subprocess.run(["git", "-c", "user.name=soak", "-c", "user.email=soak@localhost", "commit", "-qam", f"soak {cycle}"],
                   cwd=repo, check=True)
    return f"{path.relative_to(repo)} {key}"


def live_edit(sim: Sim, rng: random.Random, cycle: int, districts: list[str]) -> str:
    kind = rng.choice(sorted(COLLECTIONS))
    system, collection = COLLECTIONS[kind]
    district = rng.choice(districts)
    base = f"/{system}/admin/v1/districts/{district}/{collection}"
    items = [i for i in sim.call("GET", base, params={"limit": "500"}).json().get("items", []) if i.get("managedBy") == "intcfg"]
    action = rng.choice(["edit", "delete", "unmanaged"]) if items else "unmanaged"
    if action == "unmanaged" and kind == "ETranscriptVendor":
        spec = {"displayName": "Hand made", "authServer": "https://auth.example.org", "authPath": "/token",
                "uploadServer": "https://up.example.org", "uploadPort": 443, "uploadPath": "/up", "consumerKey": "k",
                "consumerSecret": "typed-in-the-screen", "userName": "someone", "password": "typed-in-the-screen"}
        sim.call("PUT", f"{base}/hand-made-{cycle}", json={"spec": spec, "managedBy": None})
        return f"unmanaged {district}/hand-made-{cycle}"
    if not items:
        return "nothing"
    item = rng.choice(items)
    path = f"{base}/{item['name']}" + (f"?site={item['site']}" if item.get("site") else "")
    if action == "delete":
        sim.call("DELETE", path)
        return f"deleted {kind} {district}/{item['name']}"
    spec = dict(item["spec"])
    for secret in secret_paths(kind):
        _set(spec, secret, f"typed-in-the-screen-{cycle}")
    for key in ("displayName", "time", "username"):
        if key in spec:
            spec[key] = "03:03" if key == "time" else f"changed-in-the-screen-{cycle}"
            break
    status = sim.call("PUT", path, json={"spec": spec, "managedBy": "intcfg"}).status_code
    return f"edited {kind} {district}/{item['name']}" + ("" if status < 300 else f" (refused: {status})")


def _set(spec: dict[str, Any], path: tuple[str, ...], value: str) -> None:
    node = spec
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            return
        node = node[part]
    node[path[-1]] = value


# -- the run -----------------------------------------------------------------------------------------------


def main() -> int:
    rng = random.Random(SEED)
    folder = Path(tempfile.mkdtemp(prefix="intcfg-soak-"))
    sim = Sim(folder)
    repo = folder / "repo"
    shutil.copytree(ROOT / "config-repo-example", repo)
    canaries: dict[str, str] = {}
    seed = point_repository(repo, sim.url, lambda name: canaries.setdefault(name, f"soak-{name.lower()}-{os.urandom(4).hex()}"))
    author = ["-c", "user.name=soak", "-c", "user.email=soak@localhost"]
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], [*author, "commit", "-qm", "config"]):
        subprocess.run(["git", *args], cwd=repo, check=True)
    env = {**os.environ, **canaries, "INTCFG_ADMIN_TOKEN": TOKEN, "INTCFG_FINGERPRINT_KEY": "soak-" + "k" * 32, "NO_COLOR": "1"}
    env.pop("INTCFG_TRACEBACK", None)
    sim.call("POST", "/_sim/seed", json=seed)
    sim.call("POST", "/_sim/faults", json=FAULTS)
    districts = [d["id"] for d in seed["districts"]]
    started, cycles, runs, reported, unmanaged, sim_rss, problems = time.monotonic(), 0, [], [], [], [], []
    try:
        for cycle in range(1, CYCLES + 1):
            if time.monotonic() - started > MINUTES * 60:
                break
            edits = f"{config_edit(repo, rng, cycle)}; {live_edit(sim, rng, cycle, districts)}"
            unmanaged += re.findall(r"unmanaged (\S+)", edits)
            for attempt in range(1, MAX_ATTEMPTS + 1):
                done = run(["apply", "--auto-approve"], repo, env)
                runs.append((cycle, attempt, done))
                reported += re.findall(r"Audit commit ([0-9a-f]{12}) on", done.stdout)
                if "Traceback" in done.stderr or done.code not in (0, 1):
                    problems.append(f"cycle {cycle}: exit {done.code}: {done.stderr.strip()[-300:]}")
                if done.code == 0:
                    break
            else:
                problems.append(f"cycle {cycle}: no successful apply in {MAX_ATTEMPTS} runs ({edits})")
            sim_rss.append(rss_kb(sim.proc.pid))
            cycles = cycle
            rss = done.max_rss_kb // 1024
            print(f"cycle {cycle:3d}: {attempt} run(s), {done.seconds:5.1f} s, rss {rss} MiB; {edits}", flush=True)
        problems += final_checks(sim, repo, env, reported, unmanaged)
        stats = sim.call("GET", "/_sim/stats").json()
    finally:
        log = sim.stop()
    if log.strip():
        problems.append(f"the simulator logged: {log.strip()[-300:]}")
    report = results(cycles, time.monotonic() - started, runs, sim_rss, stats, reported, problems)
    print(report)
    (ROOT / "bench" / "RESULTS-soak.md").write_text(report)
    shutil.rmtree(folder, ignore_errors=True)
    return 1 if problems else 0


def final_checks(sim: Sim, repo: Path, env: dict[str, str], reported: list[str], unmanaged: list[str]) -> list[str]:
    problems = []
    sim.call("POST", "/_sim/faults", json={"errorRate": 0, "rateLimitRate": 0, "timeoutRate": 0, "dropRate": 0})
    plan = run(["plan", "--detailed-exitcode"], repo, env)
    if plan.code != 0:
        problems.append(f"live != desired after the soak: plan exit {plan.code}: {plan.stdout[:500]}")
    drift = run(["drift"], repo, env)
    if drift.code != 0:
        problems.append(f"drift after the soak: exit {drift.code}: {drift.stdout[:500]}")
    on_branch = subprocess.run(["git", "rev-list", "intcfg/audit"], cwd=repo, capture_output=True, text=True).stdout.split()
    missing = [sha for sha in reported if not any(full.startswith(sha) for full in on_branch)]
    if missing or len(on_branch) != len(reported):
        problems.append(f"audit: {len(reported)} commits reported, {len(on_branch)} on the branch, missing {missing}")
    for name in unmanaged:
        district, obj = name.split("/")
        if sim.call("GET", f"/sis/admin/v1/districts/{district}/etranscript-vendors/{obj}").status_code != 200:
            problems.append(f"the unmanaged object {name} was touched")
    return problems


def _figures(values: list[int]) -> str:
    return f"first {values[0] / 1024:.0f}, last {values[-1] / 1024:.0f}, max {max(values) / 1024:.0f} MiB" if values else "-"


def results(cycles: int, seconds: float, runs: list[tuple[int, int, Run]], sim_rss: list[int], stats: dict[str, Any],
            reported: list[str], problems: list[str]) -> str:
    first_runs = [r.max_rss_kb for c, a, r in runs if a == 1]
    audit_missing = any(p.startswith("audit:") for p in problems)
    retried = sum(1 for c, a, r in runs if a > 1)
    return "\n".join([
        "# Soak results",
        "",
        f"Run {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC with SOAK_CYCLES={CYCLES} SOAK_MINUTES={MINUTES:g} "
        f"SOAK_SEED={SEED} (`make soak`; the full run: `SOAK_CYCLES=100 SOAK_MINUTES=30 make soak`).",
        f"Faults: {', '.join(f'{k} {v}' for k, v in FAULTS.items() if k != 'seed')}.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| cycles completed | {cycles} in {seconds / 60:.1f} min |",
        f"| apply runs | {len(runs)} ({retried} reruns after a failed apply) |",
        f"| requests to the simulator | {stats.get('requests', 0)} |",
        f"| faults injected | {', '.join(f'{k} {v}' for k, v in sorted(stats.get('injected', {}).items()))} |",
        f"| audit commits | {len(reported)} reported, all on the branch: {'no' if audit_missing else 'yes'} |",
        f"| intcfg apply max RSS per run | {_figures(first_runs)} |",
        f"| simulator RSS per cycle | {_figures(sim_rss)} |",
        f"| apply wall time per run | median {sorted(r.seconds for *_, r in runs)[len(runs) // 2]:.1f} s |" if runs else "",
        "",
        "Checks: " + ("all passed (live == desired, no drift, audit complete, unmanaged objects untouched)."
                      if not problems else "FAILED\n\n" + "\n".join(f"- {p}" for p in problems)),
        "",
    ])


if __name__ == "__main__":
    sys.exit(main())
