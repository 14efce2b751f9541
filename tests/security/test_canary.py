"""Canary secrets across the whole loop: no secret value ever shows up where it does not
belong.

Every secret reference of a git copy of the example repository gets a unique canary value
(one of them read from a ``{file: PATH}`` outside the repository); so do the admin token
and the fingerprint key. The loop runs through the real CLI against `intcfg sim serve`
seeded with the same credentials: validate in every format (and ``-o``), test, plan in
every format (``--out``, ``--verbose``; markdown after the drift), show, apply of the saved plan, a hand edit found
by drift (markdown, JSON to ``--out``), render, expiries (``--ics``), reconcile and
secrets-scan; the commands that touch secrets also log at -v and -vv, as text and as JSON
(the logs are on stderr, which is swept like stdout). Then live systems that echo what they were sent: vendor token endpoints
answering 400 with the client secret, the password and the Authorization header in the
body, and an admin API answering 422 with the specs it was sent (secrets included).

No canary, in any encoding (as is, URL- or JSON-escaped, base64, base64 of a Basic
``id:secret`` pair), may appear in stdout or stderr, in any file written (plans, reports,
calendars, .intcfg/), in any git object (audit branch state and records included), in the
simulator's database or its log.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import subprocess
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
from seckit import (
    Hostile,
    Reply,
    Request,
    commit_all,
    files_under,
    git,
    git_objects,
    hostile_fixture,  # noqa: F401 - the fixture
    reply_json,
)

from livekit import ADMIN_TOKEN, EXAMPLE, INTCFG, Sim, env, start_sim, stop_sim  # isort: skip

from intcfg.sim.pointing import point_repository

FINGERPRINT_KEY = "canary-fingerprint-key-" + secrets.token_hex(8)
FILE_SECRET = "HILLCREST_NSC_PASSWORD"  # this one is read from a file outside the repository


class Loop:
    """A pointed copy of the example, its canaries, and everything the runs printed."""

    def __init__(self, root: Path, canaries: dict[str, str], seed: dict[str, Any], secret_file: Path) -> None:
        self.root = root
        self.canaries = canaries
        self.seed = seed
        self.secret_file = secret_file
        self.outputs: list[str] = []

    def env(self) -> dict[str, str]:
        values = {k: v for k, v in self.canaries.items() if k != FILE_SECRET}
        return env(INTCFG_ADMIN_TOKEN=ADMIN_TOKEN, INTCFG_FINGERPRINT_KEY=FINGERPRINT_KEY, **values)

    def run(self, *args: str, codes: Iterable[int] = (0,)) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([INTCFG, *args], cwd=self.root, env=self.env(), capture_output=True, text=True, timeout=180)
        self.outputs += [done.stdout, done.stderr]
        assert "Traceback" not in done.stderr, done.stderr
        assert done.returncode in codes, (args, done.returncode, done.stdout[-2000:], done.stderr[-2000:])
        return done

    def values(self) -> list[str]:
        return [*self.canaries.values(), ADMIN_TOKEN, FINGERPRINT_KEY]

    def basic_pairs(self) -> list[bytes]:
        """Basic credentials as sent: base64 of ``id:secret``."""
        pairs = [(c.get("clientId"), c.get("secret")) for c in self.seed.get("credentials", [])]
        pairs += [(c.get("username"), c.get("password")) for c in self.seed.get("credentials", [])]
        return [base64.b64encode(f"{user}:{password}".encode()) for user, password in pairs if user and password]


def pointed(tmp_path: Path, live_url: str, canary: Callable[[str], str]) -> Loop:
    root = tmp_path / "repo"
    import shutil

    shutil.copytree(EXAMPLE, root)
    canaries: dict[str, str] = {}
    seed = point_repository(root, live_url, lambda name: canaries.setdefault(name, canary(name)))
    secret_file = tmp_path / "secrets" / "nsc-password"
    secret_file.parent.mkdir()
    secret_file.write_text(canaries[FILE_SECRET] + "\n", encoding="utf-8")
    for path in root.rglob("*.yaml"):
        text = path.read_text(encoding="utf-8")
        if f"{{env: {FILE_SECRET}}}" in text:
            path.write_text(text.replace(f"{{env: {FILE_SECRET}}}", f"{{file: {secret_file}}}"), encoding="utf-8")
    commit_all(root)
    return Loop(root, canaries, seed, secret_file)


def encodings(value: str) -> set[bytes]:
    raw = value.encode()
    return {raw, quote(value, safe="").encode(), quote_plus(value).encode(), json.dumps(value)[1:-1].encode(),
            json.dumps(value, ensure_ascii=False)[1:-1].encode(), base64.b64encode(raw)}


def sweep(loop: Loop, *extra: bytes) -> list[str]:
    """Where a canary shows: outputs, every file under the test's folders (but the secret
    file itself), every git object."""
    blobs: dict[str, bytes] = {f"output {i}": text.encode() for i, text in enumerate(loop.outputs)}
    top = loop.root.parent
    for path in files_under(top, skip=[loop.secret_file]):
        if ".git" not in path.relative_to(top).parts:
            blobs[str(path.relative_to(top))] = path.read_bytes()
    blobs["git objects"] = git_objects(loop.root)
    blobs.update({f"extra {i}": blob for i, blob in enumerate(extra)})
    needles = {form: value for value in loop.values() for form in encodings(value)}
    needles.update({pair: "basic pair" for pair in loop.basic_pairs()})
    return sorted({f"{where}: {needles[form][:24]}" for where, blob in blobs.items() for form in needles if form in blob})


def assert_logged(done: subprocess.CompletedProcess[str], event: str) -> None:
    """The run did log (as text or JSON), so the sweep of its stderr proves something."""
    assert f" {event}: " in done.stderr or f'"event": "{event}"' in done.stderr, done.stderr[-2000:]


# -- the whole loop against `intcfg sim serve` ------------------------------------------------------------


@pytest.fixture
def sim(tmp_path: Path) -> Any:
    server = start_sim(tmp_path / "sim" / "sim.sqlite3")
    yield server
    stop_sim(server)


def _hand_edit(sim: Sim) -> None:
    """Someone changes the parchment vendor in the admin screen, secrets included."""
    path = "/sis/admin/v1/districts/riverside-usd/etranscript-vendors/parchment"
    live = sim.call("GET", path)
    spec = {**live["spec"], "userName": "changed-in-the-screen", "consumerSecret": "typed-in-the-screen-1",
            "password": "typed-in-the-screen-2"}
    sim.call("PUT", path, json={"spec": spec, "managedBy": "intcfg"})


def test_no_canary_anywhere_after_the_whole_loop(sim: Sim, tmp_path: Path) -> None:
    (tmp_path / "sim").mkdir(exist_ok=True)
    loop = pointed(tmp_path, sim.url, lambda name: f"canary-{name.lower().replace('_', '-')}-{secrets.token_hex(6)}")
    sim.call("POST", "/_sim/seed", json=loop.seed)
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("text", "json", "github", "sarif", "junit"):
        loop.run("validate", "--format", fmt)
    loop.run("validate", "--format", "sarif", "-o", str(out / "intcfg.sarif"), "-vv", "--log-format", "json")
    assert "9 credentials tested: 9 valid, 0 failed" in loop.run("test").stdout
    assert_logged(loop.run("-vv", "--log-format", "json", "test", "--format", "json"), "test")
    assert_logged(loop.run("plan", "--verbose"), "plan.read")
    loop.run("-vv", "plan", "--format", "json", "--out", str(out / "plan.json"))
    loop.run("show", str(out / "plan.json"), "--format", "markdown")
    applied = loop.run("apply", str(out / "plan.json"), "--auto-approve", "-vv", "--log-format", "json")
    assert applied.stdout.count("\nok       create  ") == 20, applied.stdout
    assert_logged(applied, "apply.change")
    _hand_edit(sim)
    loop.run("drift", "--format", "markdown", codes=(2,))
    loop.run("-vv", "drift", "--format", "json", "--out", str(out / "drift.json"), codes=(2,))
    loop.run("plan", "--format", "markdown", "--verbose")
    loop.run("render", "--format", "yaml")
    loop.run("expiries", "--format", "json", "--ics", str(out / "ets.ics"), codes=(0, 1))
    reconciled = loop.run("-vv", "reconcile", "--auto-approve")
    assert_logged(reconciled, "apply.change")
    assert "ok       update  sis/riverside-usd/ETranscriptVendor/parchment" in reconciled.stdout
    loop.run("secrets-scan")
    state = sim.call("GET", "/_sim/state")
    log = stop_sim(sim)
    sim_files = [p.read_bytes() for p in sim.db.parent.iterdir() if p.is_file()]
    assert git(loop.root, "log", "--format=%s", "intcfg/audit").count("intcfg apply:") == 2
    assert (out / "plan.json").exists() and (out / "ets.ics").exists() and (out / "drift.json").exists()
    assert sweep(loop, json.dumps(state).encode(), log.encode(), *sim_files) == []
    # The hand-typed values reached the simulator as secrets, and were not kept either.
    for typed in ("typed-in-the-screen-1", "typed-in-the-screen-2"):
        assert all(typed.encode() not in blob for blob in sim_files)


# -- live systems that echo what they were sent -------------------------------------------------------------------

# Characters that URL encoding, JSON escaping and base64 each write differently.
SPECIAL = "+/=&%é\"\\ :"


def _echo_vendor(request: Request) -> Reply:
    sent = request.body.decode("utf-8", "replace")
    basic = request.basic()
    echo = (f"client_secret {basic[1] if basic else '-'} rejected; Authorization: "
            f"{request.headers.get('authorization', '-')}; body: {sent}; form: {json.dumps(request.form() if sent else {})}")
    return reply_json(400, {"error": {"code": "invalid_client", "message": echo}, "error_description": echo,
                            "Message": echo, "message": echo})


def _echo_admin(request: Request) -> Reply:
    if request.method == "GET" and request.path.startswith(("/sis/admin/v1/status", "/portal/admin/v1/status",
                                                            "/enroll/admin/v1/status")):
        return reply_json(200, {"system": request.path.split("/")[1], "districts": []})
    if request.method == "GET":
        return reply_json(200, {"items": [], "next": None})
    ops = request.json().get("operations", []) if request.body else []
    if "sis" in request.path:  # the whole batch refused, every spec in the message
        return reply_json(422, {"error": {"code": "invalid_spec", "message": "rejected: " + json.dumps(ops)}})
    return reply_json(200, {"results": [{"status": 422, "error": {"code": "invalid_spec", "message": f"rejected: {json.dumps(op)}"}}
                                        for op in ops]})


def test_no_canary_when_live_systems_echo_what_they_were_sent(
    hostile: Callable[[Callable[[Request], Reply]], Hostile], tmp_path: Path
) -> None:
    def answer(request: Request) -> Reply:
        return _echo_vendor(request) if request.path.startswith("/vendors/") else _echo_admin(request)

    server = hostile(answer)
    loop = pointed(tmp_path, server.url, lambda name: f"canary{SPECIAL}{name.lower()}-{secrets.token_hex(6)}")
    tested = loop.run("test", "-vv", codes=(1,))
    assert "9 credentials tested: 0 valid, 9 failed" in tested.stdout, tested.stdout
    loop.run("test", "--format", "json", codes=(1,))
    applied = loop.run("apply", "--auto-approve", "-vv", "--log-format", "json", codes=(1,))
    failed = [e for e in map(json.loads, applied.stderr.splitlines()) if e["event"] == "apply.change"]
    assert failed and {e["outcome"] for e in failed} <= {"failed", "blocked"}
    assert any("rejected: " in e["message"] and "***" in e["message"] for e in failed)  # echoed, then scrubbed
    assert re.search(r"FAILED   create  sis/\S+: sis: POST \S+: 422 rejected: ", applied.stdout), applied.stdout
    assert "FAILED   create  portal/riverside-usd/StateAssessmentIntegration/ets: portal: 422 rejected: " in applied.stdout
    loop.run("-v", "reconcile", "--auto-approve", "--skip-test", codes=(1,))
    echoed = [r for r in server.seen() if r.method == "POST"]
    # The live systems did get the secrets (that is their job), and echoed them back.
    forms = [r.form() for r in echoed if r.headers.get("content-type", "").startswith("application/x-www-form-urlencoded")]
    assert any(f.get("password") == loop.canaries["RIVERSIDE_PARCHMENT_PASSWORD"] for f in forms)
    assert any(loop.canaries["RIVERSIDE_ETS_SECRET_KEY"] in r.json().values() for r in echoed if r.path.startswith("/vendors/ets"))
    assert sweep(loop) == []


def test_the_scrubber_knows_the_forms_live_systems_echo() -> None:
    from intcfg.providers.http import printable  # noqa: F401 - the module registers Basic pairs
    from intcfg.secrets import Secret, scrub

    value = f"canary{SPECIAL}scrub-{secrets.token_hex(4)}"
    Secret(value)
    for form in encodings(value):
        assert scrub(f"<{form.decode()}>") == "<***>", form


def test_no_canary_in_the_embedded_simulators_files(tmp_path: Path) -> None:
    """sim:// keeps its database and the fingerprint key in .intcfg/ of the repository."""
    import shutil

    root = tmp_path / "repo"
    shutil.copytree(EXAMPLE, root)
    commit_all(root)
    names = {m for f in root.rglob("*.yaml") for m in re.findall(r"\{env: ([A-Z0-9_]+)\}", f.read_text(encoding="utf-8"))}
    loop = Loop(root, {n: f"canary-{n.lower()}-{secrets.token_hex(6)}" for n in sorted(names - {"INTCFG_ADMIN_TOKEN"})},
                {}, tmp_path / "none")
    # No INTCFG_FINGERPRINT_KEY: the repository's own key file is made.
    environment = env(INTCFG_ADMIN_TOKEN=ADMIN_TOKEN, **loop.canaries)
    loop.env = lambda: environment  # type: ignore[method-assign]
    loop.run("apply", "--auto-approve")
    loop.run("drift")
    held = sorted(p.name for p in (root / ".intcfg").iterdir())
    assert "fingerprint.key" in held and any(name.startswith("sim.sqlite3") for name in held), held
    assert sweep(loop) == []
