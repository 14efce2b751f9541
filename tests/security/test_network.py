"""Network hardening: TLS always verified off loopback, credentials never follow a redirect
to another origin, and whatever a live system or vendor answers (too big, not JSON,
truncated, off the contract, looping) ends in one clear error line and exit 1.

The live systems here are loopback servers of the test's own (seckit.Hostile), run
against the real CLI."""

from __future__ import annotations

import json
import re
import ssl
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import httpx
import pytest
from seckit import (
    INTCFG,
    REPO_ROOT,
    Hostile,
    Reply,
    Request,
    commit_all,
    example_copy,
    hostile_fixture,  # noqa: F401 - the fixture
    reply_json,
)

from intcfg.providers import http
from intcfg.providers.connect import CONNECTIONS, _network

ADMIN_TOKEN = "canary-network-admin-token-5c1e"
Start = Callable[[Callable[[Request], Reply]], Hostile]


class Ran(NamedTuple):
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Callable[..., Ran]:
    """The console script's function in this process (no interpreter start-up per run)."""
    from intcfg.main import main

    monkeypatch.delenv("INTCFG_TRACEBACK", raising=False)
    monkeypatch.setenv("NO_COLOR", "1")

    def run(repo: Path, *args: str, **env: str) -> Ran:
        for name, value in {"INTCFG_ADMIN_TOKEN": ADMIN_TOKEN, **env}.items():
            monkeypatch.setenv(name, value)
        capsys.readouterr()
        code = main([*args, "-C", str(repo)])
        out = capsys.readouterr()
        return Ran(code, out.out, out.err)

    return run


def subprocess_plan(repo: Path) -> subprocess.CompletedProcess[str]:
    from conftest import cli_env

    env = cli_env(INTCFG_ADMIN_TOKEN=ADMIN_TOKEN, NO_COLOR="1")
    env.pop("INTCFG_TRACEBACK", None)
    return subprocess.run([INTCFG, "plan", "--no-secrets"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)


def assert_one_error_line(done: Ran | subprocess.CompletedProcess[str], expected: str) -> None:
    assert "Traceback" not in done.stderr and "unexpected error" not in done.stderr, done.stderr
    assert (done.returncode, done.stdout) == (1, ""), done
    assert done.stderr.count("\n") == 1 and re.fullmatch(expected, done.stderr.rstrip("\n")), done.stderr
    assert ADMIN_TOKEN not in done.stderr


# -- TLS -------------------------------------------------------------------------------------------


def _verifies(context: ssl.SSLContext) -> bool:
    return context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.parametrize("url", ["https://sis.example.org", "https://10.0.0.7:8443", "https://localhost.example.org",
                                 "https://127.0.0.1.example.org", "https://[2001:db8::1]"])
def test_tls_is_verified_for_every_host_that_is_not_loopback(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # Nothing in the environment may turn it off either.
    for name, value in {"PYTHONHTTPSVERIFY": "0", "INTCFG_INSECURE": "1", "SSL_CERT_FILE": "/dev/null",
                        "REQUESTS_CA_BUNDLE": "", "CURL_CA_BUNDLE": ""}.items():
        monkeypatch.setenv(name, value)
    vendor = http.build_client(url)  # the vendor clients' factory
    assert _verifies(vendor._transport.inner._pool._ssl_context)  # type: ignore[attr-defined]
    admin = _network(url, CONNECTIONS)  # the admin providers' transport (aiohttp)
    assert _verifies(admin.ssl_context)  # type: ignore[attr-defined]
    assert not http.is_loopback(httpx.URL(url).host)


def test_no_code_path_can_switch_verification_off() -> None:
    offenders = [
        f"{path.relative_to(REPO_ROOT)}:{n}"
        for path in sorted((REPO_ROOT / "src/intcfg").rglob("*.py"))
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if re.search(r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context", line)
    ]
    assert offenders == []


# -- redirects -------------------------------------------------------------------------------------------


def _redirect_to(target: str, status: int = 307) -> Callable[[Request], Reply]:
    return lambda request: Reply(status, b"", (("Location", target + request.path),))


@pytest.mark.parametrize("status", [301, 302, 307, 308])
def test_the_admin_api_redirecting_to_another_origin_gets_no_token(
    hostile: Start, tmp_path: Path, status: int, cli: Callable[..., Ran]
) -> None:
    thief = hostile(lambda request: reply_json(200, {"items": [], "next": None}))
    live = hostile(_redirect_to(thief.url, status))
    repo = example_copy(tmp_path / "repo", live.url)
    commit_all(repo)
    # One through the console script in its own process, the others in this one.
    done = subprocess_plan(repo) if status == 307 else cli(repo, "plan", "--no-secrets")
    assert_one_error_line(done, rf"Error: (sis|portal|enroll): GET {re.escape(live.url)}/\S+ redirected to another host "
                                r"\(127\.0\.0\.1\); intcfg does not send credentials there: fix the URL in the config")
    assert live.seen() and thief.seen() == []


def test_a_vendor_redirecting_to_another_origin_gets_no_credentials(hostile: Start, tmp_path: Path) -> None:
    from conftest import cli_env

    thief = hostile(lambda request: reply_json(200, {"access_token": "stolen", "token_type": "Bearer"}))
    vendor = hostile(_redirect_to(thief.url))
    repo = example_copy(tmp_path / "repo", vendor.url)
    sync = repo / "districts/lakeside-sd/powerschool.yaml"
    sync.write_text(re.sub(r"serverUrl: \S+", f"serverUrl: {vendor.url}", sync.read_text(encoding="utf-8")), encoding="utf-8")
    secret = "canary-ps-client-secret-0a9f3e"
    env = cli_env(INTCFG_ADMIN_TOKEN=ADMIN_TOKEN, LAKESIDE_PS_CLIENT_SECRET=secret,
                  LAKESIDE_PS_SANDBOX_CLIENT_SECRET=secret + "x", NO_COLOR="1")
    done = subprocess.run([INTCFG, "test", "--district", "lakeside-sd"], cwd=repo, env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert "lakeside-sd: sync connection 'powerschool': Connection failed (token)" in done.stdout
    assert "redirected to another host (127.0.0.1); intcfg does not send credentials there" in done.stdout
    assert thief.seen() == []
    sent = [r for r in vendor.seen() if r.path.startswith("/oauth/access_token")]
    assert sent and all(r.basic() is not None for r in sent)  # the credentials went where the config said
    assert secret not in done.stdout + done.stderr


# -- answers that are too big, not JSON, truncated or off the contract ------------------------------------------

PAGE = json.dumps({"items": [], "next": None}).encode()
URL = r"http://127\.0\.0\.1:\d+/(sis|portal|enroll)/admin/v1/districts/[a-z-]+/[a-z-]+"


@pytest.mark.parametrize(
    "reply, expected",
    [
        (Reply(200, b"[" + b" " * (9 << 20) + b"]"), rf"Error: \w+: GET {URL}: response larger than 8388608 bytes"),
        (Reply(200, b"[" + b" " * (9 << 20) + b"]", mode="chunked"), rf"Error: \w+: GET {URL}: response larger than 8388608 bytes"),
        (Reply(200, b"<html>Maintenance</html>", (("Content-Type", "text/html"),)), rf"Error: \w+: GET {URL}: the response is not JSON"),
        (Reply(200, b'{"items": [', ), rf"Error: \w+: GET {URL}: the response is not JSON"),
        (Reply(200, PAGE, mode="truncate"), rf"Error: \w+: GET {URL}: ReadError \(.*Not enough data.*\)"),
        (reply_json(200, []), rf"Error: \w+: GET {URL}: the list does not follow the admin contract \(an array where a page object belongs\)"),
        (reply_json(200, {"items": 5}), rf"Error: \w+: GET {URL}: the list does not follow the admin contract \(items is not an array of objects\)"),
        (reply_json(200, {"items": [], "next": 7}), rf"Error: \w+: GET {URL}: the list does not follow the admin contract \(next is a number, not a cursor string\)"),
        (reply_json(200, {"items": [], "next": "again"}), rf"Error: \w+: GET {URL}: the list does not follow the admin contract \(a cursor came back a second time\)"),
        (reply_json(200, {"items": [{"district": "x"}], "next": None}),
         r"Error: \w+: the live system's answer does not follow the admin contract \(an object without 'kind'\); check that the live URL names an intcfg admin API"),
        (reply_json(200, {"items": [{"district": "x", "kind": "k", "name": "n", "id": "1", "revision": "first"}], "next": None}),
         r"Error: \w+: the live system's answer does not follow the admin contract \(a malformed object\); check that the live URL names an intcfg admin API"),
        (Reply(401, b"<html>login</html>", (("Content-Type", "text/html"),)), rf"Error: \w+: GET {URL}: 401 Unauthorized"),
    ],
    ids=["too-big", "too-big-chunked", "html", "broken-json", "truncated", "array", "items-number", "cursor-number",
         "cursor-loop", "object-without-field", "object-mistyped", "html-401"],
)
def test_a_live_system_answering_nonsense_is_one_clear_error(
    hostile: Start, tmp_path: Path, reply: Reply, expected: str, cli: Callable[..., Ran]
) -> None:
    live = hostile(lambda request: reply)
    repo = example_copy(tmp_path / "repo", live.url)
    commit_all(repo)
    assert_one_error_line(cli(repo, "plan", "--no-secrets"), expected)


def test_a_live_system_that_hangs_up_is_retried_then_one_clear_error(hostile: Start, tmp_path: Path) -> None:
    live = hostile(lambda request: Reply(mode="drop"))
    repo = example_copy(tmp_path / "repo", live.url)
    commit_all(repo)
    assert_one_error_line(subprocess_plan(repo), rf"Error: \w+: GET {URL}: RemoteProtocolError \(Server disconnected\)")
    assert len(live.seen()) > 24  # one list per district and kind, and retries, bounded


@pytest.mark.parametrize(
    "reply, part",
    [
        (Reply(200, b"<html>Welcome</html>", (("Content-Type", "text/html"),)), "no token from .* \\(HTTP 200 OK\\)"),
        (Reply(200, b'{"access_token": "abc"', mode="truncate"), "ReadError"),
        (reply_json(200, ["access_token"]), "no token from .* \\(HTTP 200 OK\\)"),
        (Reply(200, b"x" * (9 << 20)), "response larger than 8388608 bytes"),
    ],
    ids=["html", "truncated", "array", "too-big"],
)
def test_a_vendor_answering_nonsense_fails_its_test_clearly(
    hostile: Start, tmp_path: Path, reply: Reply, part: str, cli: Callable[..., Ran]
) -> None:
    vendor = hostile(lambda request: reply)
    repo = example_copy(tmp_path / "repo", vendor.url)
    sync = repo / "districts/lakeside-sd/powerschool.yaml"
    sync.write_text(re.sub(r"serverUrl: \S+", f"serverUrl: {vendor.url}", sync.read_text(encoding="utf-8")), encoding="utf-8")
    done = cli(repo, "test", "--district", "lakeside-sd", LAKESIDE_PS_CLIENT_SECRET="canary-ps-1-abcdef",
               LAKESIDE_PS_SANDBOX_CLIENT_SECRET="canary-ps-2-abcdef")
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr, done.stderr
    line = next(row for row in done.stdout.splitlines() if "sync connection 'powerschool':" in row)
    assert line.startswith("FAILED  lakeside-sd: sync connection 'powerschool': Connection failed (token)"), done.stdout
    assert re.search(part, done.stdout), done.stdout


def test_connections_the_simulator_drops_are_retried(tmp_path: Path, cli: Callable[..., Ran]) -> None:
    from livekit import ADMIN_TOKEN as SIM_TOKEN
    from livekit import start_sim, stop_sim

    from intcfg.sim.pointing import point_repository

    sim = start_sim(tmp_path / "sim.sqlite3")
    try:
        sim.call("POST", "/_sim/faults", json={"dropRate": 1.0})
        with sim.client() as client, pytest.raises(httpx.RemoteProtocolError):
            client.get("/sis/admin/v1/status")
        sim.call("POST", "/_sim/faults", json={"dropRate": 0.3, "seed": 11})
        repo = example_copy(tmp_path / "repo")
        sim.call("POST", "/_sim/seed", json=point_repository(repo, sim.url, lambda name: f"canary-{name.lower()}-4d2b"))
        commit_all(repo)
        done = cli(repo, "plan", "--no-secrets", INTCFG_ADMIN_TOKEN=SIM_TOKEN)
        assert (done.returncode, done.stderr) == (0, ""), done
        assert done.stdout.startswith("Plan: 20 to create")
        assert sim.call("GET", "/_sim/stats")["injected"]["drop"] >= 2
    finally:
        log = stop_sim(sim)
    assert log == ""  # uvicorn's note on each unfinished response is filtered out
