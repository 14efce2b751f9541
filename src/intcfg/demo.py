"""`intcfg demo`: the whole loop on the example repository, as a user would type it.

A temporary git repository is copied from config-repo-example and pointed at the
simulator of the live systems, started as a real loopback HTTP server
(`intcfg sim serve`) and seeded with the example's districts and demo credentials.
Each step runs the real CLI in a subprocess and shows the command and its output:
validate, test, render, plan, apply, a change made by hand in an admin screen, drift,
reconcile, and the audit log. Nothing outside the temporary directory is touched.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from .errors import ConfigError

# The example's credential rotation dates are fixed; the demo's clock is too, so the
# demo tells the same story on any day. Your own repository uses the real date.
DEMO_TODAY = "2026-11-22"
STARTUP_SECONDS = 60
Emit = Callable[[str], None]


class Step(NamedTuple):
    title: str
    args: list[str]
    expect: int
    prepare: Callable[[Path, str], None] | None = None
    program: str = "intcfg"


def example_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "example"
    return packaged if packaged.is_dir() else here.parents[1] / "config-repo-example"


def _git(repo: Path, *args: str) -> str:
    proc = subprocess.run(
        ["git", "-c", "user.name=intcfg demo", "-c", "user.email=demo@intcfg.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return proc.stdout


def _admin(url: str, token: str, method: str, path: str, body: object | None = None) -> object:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url + path, data=data, method=method)
    request.add_header("Authorization", f"Bearer {token}")
    request.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310 - loopback only
        return json.loads(response.read() or b"null")


def _hand_edit(repo: Path, url: str) -> None:
    """Someone fixes a 'typo' in the SIS's Electronic Release Setup screen."""
    token = os.environ["INTCFG_ADMIN_TOKEN"]
    path = "/sis/admin/v1/districts/riverside-usd/etranscript-vendors/parchment"
    live = _admin(url, token, "GET", path)
    assert isinstance(live, dict)
    spec = {**live["spec"], "userName": "registrar.office@riverside-usd.example.org"}
    spec.update(consumerSecret=os.environ["RIVERSIDE_PARCHMENT_CONSUMER_SECRET"], password=os.environ["RIVERSIDE_PARCHMENT_PASSWORD"])
    _admin(url, token, "PUT", path, {"spec": spec, "managedBy": live.get("managedBy")})


def _break_user_name(repo: Path, url: str) -> None:
    path = repo / "districts/hillcrest-isd/etranscript.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("transcripts@hillcrest-isd.example.org", "x" * 101), encoding="utf-8")


def _restore(repo: Path, url: str) -> None:
    _git(repo, "checkout", "--", ".")


STEPS = (
    Step("Validate the whole repository offline (what the pre-commit hook runs)", ["validate"], 0),
    Step(
        "A bad edit is caught with file, line, rule and the seed's limit (User Name <= 100 characters)",
        ["validate", "--format", "github", "districts/hillcrest-isd/etranscript.yaml"],
        1,
        _break_user_name,
    ),
    Step("Back to the committed state", ["validate", "--quiet"], 0, _restore),
    Step("Test every credential with its vendor's protocol", ["test"], 0),
    Step(
        "The charter school's effective ETS configuration (district base + site override)",
        ["render", "--district", "riverside-usd", "--site", "river-charter"],
        0,
    ),
    Step("Plan: everything is to be created", ["plan", "--detailed-exitcode"], 2),
    Step("Apply, and record it on the audit branch", ["apply", "--auto-approve"], 0),
    Step("Nothing left to do", ["plan", "--detailed-exitcode"], 0),
    Step(
        "Someone changes the eTranscript user name by hand in the SIS; drift finds it",
        ["drift"],
        2,
        _hand_edit,
    ),
    Step("Reconcile: validate, test, plan, apply, audit (the CI job on merge)", ["reconcile", "--auto-approve"], 0),
    Step("No drift left", ["drift"], 0),
    Step(
        "The audit log",
        ["log", "--format=%h %s%n%(trailers:key=Intcfg-Result,key=Intcfg-Plan-Digest)", "intcfg/audit"],
        0,
        program="git",
    ),
)


def _secret_value(name: str) -> str:
    return f"demo-{name.lower().replace('_', '-')}-{secrets.token_hex(4)}"


@contextmanager
def _simulator(workdir: Path, env: dict[str, str]) -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "intcfg", "sim", "serve", "--port", "0", "--db", str(workdir / "sim.sqlite3")],
        cwd=workdir,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
        if match is None:
            proc.kill()
            _, err = proc.communicate(timeout=STARTUP_SECONDS)
            raise ConfigError(f"the simulator did not start: {(line + err).strip()[:300]}")
        yield match.group(1)
    finally:
        proc.terminate()
        try:
            proc.communicate(timeout=STARTUP_SECONDS)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()


def _prepare(repo: Path, url: str, env: dict[str, str]) -> None:
    from .sim.pointing import point_repository

    values: dict[str, str] = {}
    seed = point_repository(repo, url, lambda name: values.setdefault(name, _secret_value(name)))
    env.update(values)
    os.environ.update(values)
    _admin(url, env["INTCFG_ADMIN_TOKEN"], "POST", "/_sim/seed", seed)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "Point the integrations at the local simulator")


def run(emit: Emit) -> int:
    """Run every step, emitting the narrative; returns the exit code."""
    with tempfile.TemporaryDirectory(prefix="intcfg-demo-") as tmp:
        work = Path(tmp)
        repo = work / "district-config"
        shutil.copytree(example_dir(), repo)
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "District integrations as code")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("INTCFG_")},
            "INTCFG_TODAY": DEMO_TODAY,
            "NO_COLOR": "1",
            "INTCFG_ADMIN_TOKEN": "demo-admin-" + secrets.token_hex(8),
            "INTCFG_FINGERPRINT_KEY": secrets.token_hex(32),
            "INTCFG_ACTOR": "intcfg-demo",
        }
        saved = dict(os.environ)
        os.environ.update(env)
        try:
            with _simulator(work, env) as url:
                _prepare(repo, url, env)
                emit(
                    "intcfg demo: the example repository in a temporary git repository, its live "
                    f"systems simulated at {url} (demo clock: {DEMO_TODAY})\n"
                )
                return _steps(repo, url, env, emit)
        finally:
            os.environ.clear()
            os.environ.update(saved)


def _steps(repo: Path, url: str, env: dict[str, str], emit: Emit) -> int:
    for number, step in enumerate(STEPS, 1):
        if step.prepare:
            step.prepare(repo, url)
        emit(f"\n== {number}. {step.title}\n$ {step.program} {' '.join(step.args)}\n")
        command = [sys.executable, "-m", "intcfg", *step.args] if step.program == "intcfg" else ["git", *step.args]
        proc = subprocess.run(command, cwd=repo, env=env, capture_output=True, text=True)
        emit(proc.stdout + proc.stderr)
        if proc.returncode != step.expect:
            emit(f"\ndemo failed: `{step.program} {' '.join(step.args)}` exited {proc.returncode}, expected {step.expect}\n")
            return 1
        emit(f"(exit {proc.returncode})\n")
    emit("\nDemo complete.\n")
    return 0
