"""The output options on the loop, with the real CLI against `intcfg sim serve`: what -q
and -v print (exactly), the JSON log lines of a plan and an apply, HTTP retries under
injected faults, and a terminal (a pty) getting colour, tables and a progress bar while
pipes and NO_COLOR get plain bytes.
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
from pathlib import Path
from typing import Any

import pytest
from livekit import (  # noqa: F401 - fixtures
    INTCFG,
    LiveRepo,
    Sim,
    assert_no_canary,
    intcfg,
    intcfg_in_process,
    live_repo,
    shared_sim_fixture,
    sim_fixture,
)

TEXT_LINE = re.compile(r"\d\d:\d\d:\d\d\.\d{3} (DEBUG|INFO |WARNING|ERROR) ([a-z.]+): ")
AUDIT = re.compile(r"Audit commit [0-9a-f]{12} on intcfg/audit\n")
# Three districts: sis and portal list one kind each, enroll three (one page each).
LIST_REQUESTS = 15


@pytest.fixture
def repo(tmp_path: Path, sim: Sim) -> LiveRepo:
    pointed = live_repo(tmp_path / "repo", sim.url)
    sim.call("POST", "/_sim/seed", json=pointed.seed)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "config"]):
        subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@localhost", *args], cwd=pointed.root,
                       check=True, capture_output=True)
    return pointed


def run(repo: LiveRepo, *args: str, code: int = 0, **env: str) -> subprocess.CompletedProcess[str]:
    done = intcfg(repo, *args, **env)
    assert done.returncode == code, (args, done.stdout[-2000:], done.stderr[-2000:])
    assert_no_canary(repo, done.stdout, done.stderr)
    return done


def plain(text: str) -> str:
    return re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", text)


def events(stderr: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stderr.splitlines()]


# -- quiet and verbose -----------------------------------------------------------------------------


def test_quiet_prints_only_the_changes_and_the_result(repo: LiveRepo) -> None:
    full = run(repo, "plan")
    quiet = run(repo, "plan", "-q")
    assert full.stdout.startswith("Plan: 20 to create, 0 to update, 0 to delete, 0 unchanged\n\nhillcrest-isd\n")
    assert quiet.stdout == full.stdout.split("\n", 2)[2]
    assert (full.stderr, quiet.stderr) == ("", "")
    applied = run(repo, "-q", "apply", "--auto-approve")
    assert AUDIT.fullmatch(applied.stdout) and applied.stderr == ""
    nothing = run(repo, "plan", "--quiet")
    assert (nothing.stdout, nothing.stderr) == ("", "")
    assert run(repo, "plan").stdout.endswith("\nNo changes. The live systems match the configuration.\n")


def test_quiet_and_verbose_together_are_a_usage_error(repo: LiveRepo) -> None:
    done = run(repo, "-q", "plan", "-v", code=2)
    assert done.stderr.endswith("Error: --quiet and --verbose cannot be used together: choose one\n")
    done = run(repo, "plan", code=2, INTCFG_LOG_FORMAT="xml")
    assert done.stderr.endswith("Error: INTCFG_LOG_FORMAT='xml' is not one of text, json\n")


def test_verbose_before_or_after_plan_lists_unchanged_objects_and_logs_the_phases(repo: LiveRepo) -> None:
    assert intcfg_in_process(repo, "apply", "--auto-approve").returncode == 0
    before, after, long = run(repo, "-v", "plan"), run(repo, "plan", "-v"), run(repo, "plan", "--verbose")
    assert before.stdout == after.stdout == long.stdout
    assert before.stdout.count("\n    noop     ") == 20
    logged = [TEXT_LINE.match(line) for line in before.stderr.splitlines()]
    assert all(logged), before.stderr
    assert [(m.group(1), m.group(2)) for m in logged if m] == [
        ("INFO ", "load"), ("INFO ", "audit.read"), ("INFO ", "plan.read"), ("INFO ", "plan.diff"), ("INFO ", "command"),
    ]
    assert "plan.read: read the live systems in " in before.stderr
    assert f" objects=20 requests={LIST_REQUESTS} " in before.stderr
    debug = run(repo, "-vv", "plan").stderr
    assert debug.count(" DEBUG http.request: GET ") == LIST_REQUESTS
    assert "?" not in debug and "limit=" not in debug  # never a query string


def test_json_logs_of_a_plan_and_an_apply(repo: LiveRepo, sim: Sim) -> None:
    before = sim.call("GET", "/_sim/stats")["requests"]
    plan = run(repo, "plan", "-v", "--log-format", "json")
    sent = sim.call("GET", "/_sim/stats")["requests"] - before - 1  # less the stats request itself
    lines = events(plan.stderr)
    assert [e["event"] for e in lines] == ["load", "audit.read", "plan.read", "plan.diff", "command"]
    read = lines[2]
    assert (read["level"], read["logger"], read["objects"], read["requests"]) == ("info", "intcfg.loop", 0, sent)
    assert sent == LIST_REQUESTS
    assert lines[3]["changes"] == 20 and lines[4] == {**lines[4], "command": "plan", "exit": 0}
    for e in lines:
        assert set(e) >= {"time", "level", "event", "message", "logger"}
    applied = events(run(repo, "--log-format", "json", "-vv", "apply", "--auto-approve").stderr)
    changes = [e for e in applied if e["event"] == "apply.change"]
    assert len(changes) == 20 and {(e["outcome"], e["level"]) for e in changes} == {("ok", "debug")}
    tiers = [e for e in applied if e["event"] == "apply.tier"]
    assert [(t["tier"], t["changes"]) for t in tiers] == [(1, 9), (2, 11)]  # what others depend on first
    assert sum(t["batches"] for t in tiers) == sum(1 for e in applied if e["event"] == "apply.batch")
    done = next(e for e in applied if e["event"] == "apply")
    assert (done["ok"], done["failed"], done["requests"]) == (20, 0, sum(t["batches"] for t in tiers))
    assert [e["event"] for e in applied if e["event"].startswith(("audit.", "lock.")) and e["level"] == "info"] == [
        "audit.read", "audit.commit"]
    assert next(e for e in applied if e["event"] == "lock.acquired")["level"] == "debug"  # no wait


def test_json_logs_from_the_environment_and_errors_as_json(repo: LiveRepo) -> None:
    (repo.root / "intcfg.yaml").write_text("apiVersion: intcfg/v1\nkind: Settings\nlive: {url: 7}\n")
    done = run(repo, "plan", code=1, INTCFG_LOG_FORMAT="json")
    (error,) = (e for e in events(done.stderr) if e["level"] == "error")
    assert error["event"] == "error" and error["type"] == "InvalidConfig" and error["findings"]


def test_each_retry_is_logged_with_status_attempt_and_delay(repo: LiveRepo, sim: Sim) -> None:
    sim.call("POST", "/_sim/faults", json={"errorRate": 0.3, "seed": 11})
    done = run(repo, "plan", "--log-format", "json", "-v")
    injected = sim.call("GET", "/_sim/stats")["injected"].get("error", 0)
    retries = [e for e in events(done.stderr) if e["event"] == "http.retry"]
    assert injected > 0 and len(retries) == injected
    for e in retries:
        assert e["level"] == "info" and e["status"] in (500, 502, 503) and e["attempt"] >= 1
        assert e["delay_s"] >= 0 and e["method"] == "GET" and e["path"].startswith("/")
    read = next(e for e in events(done.stderr) if e["event"] == "plan.read")
    assert (read["requests"], read["retries"]) == (LIST_REQUESTS + injected, injected)
    assert "?" not in done.stderr and "limit=" not in done.stderr


# -- terminals, pipes and NO_COLOR --------------------------------------------------------------------


def on_a_terminal(repo: LiveRepo, *args: str, **env: str) -> tuple[str, str]:
    """stdout and stderr of a run whose stdout and stderr are two pseudo-terminals."""
    out_master, out_slave = pty.openpty()
    err_master, err_slave = pty.openpty()
    proc = subprocess.Popen([INTCFG, *args], cwd=repo.root, env=repo.env(**{"NO_COLOR": "", "COLUMNS": "120", **env}),
                            stdin=subprocess.DEVNULL, stdout=out_slave, stderr=err_slave)
    os.close(out_slave)
    os.close(err_slave)
    got = {out_master: b"", err_master: b""}
    open_fds = set(got)
    while open_fds:
        ready, _, _ = select.select(list(open_fds), [], [], 60)
        if not ready:
            break
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:  # EIO: the child closed the terminal
                chunk = b""
            if chunk:
                got[fd] += chunk
            else:
                open_fds.discard(fd)
    for fd in got:
        os.close(fd)
    assert proc.wait(timeout=60) == 0
    return got[out_master].decode().replace("\r\n", "\n"), got[err_master].decode().replace("\r\n", "\n")


def test_a_terminal_gets_colour_a_table_of_counts_and_a_progress_bar(repo: LiveRepo, sim: Sim) -> None:
    sim.call("POST", "/_sim/faults", json={"latencyMs": 150})
    out, err = on_a_terminal(repo, "plan")
    assert "\x1b[" in out and re.search(r"DISTRICT +CREATE +UPDATE +DELETE +UNCHANGED +CONFLICT\n", plain(out))
    assert re.search(r"\nriverside-usd +\d+ +- +- +- +-\n", plain(out))
    assert "\x1b[32m+ create" in out
    assert "Reading the live systems" in err and f"/{LIST_REQUESTS}" in err
    assert "\x1b[?25l" in err  # the bar hides the cursor while it draws


def test_quiet_or_json_logs_on_a_terminal_draw_no_progress(repo: LiveRepo) -> None:
    _, err = on_a_terminal(repo, "plan", "-q")
    assert err == ""
    _, err = on_a_terminal(repo, "plan", "-v", "--log-format", "json")
    assert "Reading the live systems" not in err and all(json.loads(line) for line in err.splitlines())


def test_no_color_on_a_terminal_and_pipes_get_the_plain_bytes(repo: LiveRepo) -> None:
    piped = run(repo, "plan", NO_COLOR="").stdout
    assert "\x1b" not in piped
    out, _ = on_a_terminal(repo, "plan", NO_COLOR="1")
    assert out == piped
    out, _ = on_a_terminal(repo, "--color", "never", "plan")
    assert out == piped
    forced = run(repo, "plan", "--color", "always", NO_COLOR="1").stdout
    assert "\x1b[" in forced and "UNCHANGED" in forced


def test_intcfg_test_and_expiries_as_tables_on_a_terminal(repo: LiveRepo) -> None:
    out, _ = on_a_terminal(repo, "test")
    assert re.search(r"STATUS +CREDENTIAL +RESULT", plain(out)) and "9 credentials tested: 9 valid, 0 failed" in out
    assert "\x1b[32mok" in out
    piped = run(repo, "test", NO_COLOR="").stdout
    assert "\x1b" not in piped and piped.startswith("ok      ")
    out, _ = on_a_terminal(repo, "expiries")
    assert re.search(r"DISTRICT +SITE +ROTATED +POLICY", plain(out)) and "\x1b[" in out
    assert "\x1b" not in run(repo, "expiries", NO_COLOR="").stdout
