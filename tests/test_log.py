"""Logs and the output options: the formats (text, one JSON object per line), levels for
-q/-v/-vv, the scrubber on every line, phases, and `intcfg validate`'s own -v and
--log-format (its fast path keeps logging out unless asked for).

The loop's events against `intcfg sim serve` (plan, apply, retries, quiet, the terminal)
are in tests/live/test_output_live.py.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import EXAMPLE, INTCFG, cli_env
from intcfg import log, output
from intcfg.secrets import Secret

CANARY = "canary-log-secret-5f1e9a"


class Stderr:
    """What the handler wrote to sys.stderr (it looks stderr up at each record)."""

    def __init__(self, capsys: pytest.CaptureFixture[str]) -> None:
        self.capsys = capsys

    def getvalue(self) -> str:
        return self.capsys.readouterr().err


@pytest.fixture
def stderr(capsys: pytest.CaptureFixture[str]) -> Iterator[Stderr]:
    yield Stderr(capsys)
    log.teardown()


def lines(buffer: Stderr) -> list[str]:
    return buffer.getvalue().splitlines()


# -- levels and formats ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("verbosity", "quiet", "level"),
    [(0, False, log.NOTE), (1, False, logging.INFO), (2, False, logging.DEBUG), (3, False, logging.DEBUG),
     (0, True, logging.ERROR)],
)
def test_the_level_of_each_option(verbosity: int, quiet: bool, level: int) -> None:
    assert log.level_for(verbosity, quiet) == level


def test_a_json_line_has_time_level_event_message_logger_and_fields(stderr: Stderr) -> None:
    log.setup(logging.INFO, "json")
    logging.getLogger("intcfg.test").info("read %d objects", 3, extra=log.ev("plan.read", objects=3, time=1))
    (line,) = lines(stderr)
    data = json.loads(line)
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", data.pop("time"))
    assert data == {"level": "info", "event": "plan.read", "message": "read 3 objects", "logger": "intcfg.test",
                    "objects": 3, "time_": 1}


def test_a_text_line_and_a_note(stderr: Stderr) -> None:
    log.setup(log.NOTE, "text")
    logger = logging.getLogger("intcfg.test")
    logger.info("not shown", extra=log.ev("hidden"))
    logger.log(log.NOTE, "Saved the plan to plan.json", extra=log.ev("plan.saved", path="plan.json"))
    logger.warning("a field with spaces", extra=log.ev("w", what="two words", n=2))
    note, warning = lines(stderr)
    assert note == "Saved the plan to plan.json"
    assert re.fullmatch(r'\d\d:\d\d:\d\d\.\d{3} WARNING w: a field with spaces  what="two words" n=2', warning)


def test_other_libraries_reach_the_handler_only_from_warning_up(stderr: Stderr) -> None:
    log.setup(logging.DEBUG, "json")
    logging.getLogger("httpx").info("HTTP Request: GET https://example.org/?token=x")
    logging.getLogger("somelib").warning("careful")
    (line,) = lines(stderr)
    assert json.loads(line)["message"] == "careful" and json.loads(line)["event"] == "somelib"


def test_setup_replaces_its_handler_and_teardown_removes_it(stderr: Stderr) -> None:
    before = len(logging.getLogger().handlers)
    log.setup(logging.INFO)
    log.setup(logging.DEBUG)
    assert len(logging.getLogger().handlers) == before + 1
    log.teardown()
    assert len(logging.getLogger().handlers) == before


# -- the scrubber on every line ----------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_no_secret_reaches_a_line_through_message_fields_or_exception(stderr: Stderr, fmt: str) -> None:
    secret = Secret(CANARY)
    log.setup(logging.DEBUG, fmt)  # type: ignore[arg-type]
    logger = logging.getLogger("intcfg.test")
    logger.info("sent %s", secret.reveal(), extra=log.ev("x", body={"password": secret.reveal()}, plain=CANARY))
    try:
        raise ValueError(f"the server said {CANARY}")
    except ValueError:
        logger.exception("failed", extra=log.ev("y"))
    text = stderr.getvalue()
    assert CANARY not in text and json.dumps(CANARY)[1:-1] not in text
    assert text.count("***") >= 3
    if fmt == "json":
        assert [json.loads(line)["event"] for line in text.splitlines()] == ["x", "y"]


# -- phases --------------------------------------------------------------------------------------


class Recorder:
    def __init__(self) -> None:
        self.calls: list[tuple[str, str, int]] = []
        self.written: list[str] = []

    def start(self, phase: log.Phase) -> None:
        self.calls.append(("start", phase.label, phase.total or 0))

    def advance(self, phase: log.Phase, n: int) -> None:
        self.calls.append(("advance", phase.label, n))

    def stop(self, phase: log.Phase) -> None:
        self.calls.append(("stop", phase.label, phase.done))

    def write(self, line: str) -> None:
        self.written.append(line)


def test_a_phase_logs_its_duration_fields_and_moved_counters(stderr: Stderr) -> None:
    log.setup(logging.DEBUG, "json")
    with log.phase("plan.read", "read the live systems", districts=3) as p:
        log.count("requests", 4)
        p["objects"] = 12
    start, end = (json.loads(line) for line in lines(stderr))
    assert (start["event"], start["level"], start["message"]) == ("plan.read.start", "debug", "read the live systems: started")
    assert end["event"] == "plan.read" and end["level"] == "info"
    assert (end["districts"], end["objects"], end["requests"]) == (3, 12, 4)
    assert end["duration_s"] >= 0 and end["message"].startswith("read the live systems in ")


def test_a_failed_phase_says_what_stopped_it(stderr: Stderr) -> None:
    log.setup(logging.INFO, "json")
    with pytest.raises(KeyError), log.phase("apply", "applied the changes"):
        raise KeyError("x")
    (end,) = (json.loads(line) for line in lines(stderr))
    assert end["error"] == "KeyError" and "stopped after" in end["message"]


def test_progress_reaches_the_sink_from_tasks_inside_the_phase(stderr: Stderr) -> None:
    log.setup(logging.ERROR)
    sink = Recorder()
    log.set_sink(sink)

    @log.phased("plan.read", "read the live systems", lambda n: {"objects": n})
    async def read() -> int:
        log.expect(3, "Reading the live systems")

        async def one() -> None:
            log.advance()

        await asyncio.gather(one(), one(), one())
        return 3

    assert asyncio.run(read()) == 3
    label = "Reading the live systems"
    assert sink.calls == [("start", label, 3), *[("advance", label, 1)] * 3, ("stop", label, 3)]
    logging.getLogger("intcfg.test").error("shown above the bars")
    assert sink.written[-1].endswith(" ERROR intcfg.test: shown above the bars")


def test_advance_outside_a_phase_does_nothing() -> None:
    log.expect(5)
    log.advance()


# -- the settings ----------------------------------------------------------------------------------


def test_settings_from_both_positions_add_up() -> None:
    settings = output.Settings().merged(verbosity=1).merged(verbosity=1, color="never")
    assert settings == output.Settings(2, False, None, "never")


def test_quiet_and_verbose_do_not_go_together() -> None:
    with pytest.raises(output.OutputError, match="--quiet and --verbose cannot be used together"):
        output.Settings(1, True).check()


def test_the_log_format_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INTCFG_LOG_FORMAT", "json")
    assert output.Settings().format() == "json"
    assert output.Settings(log_format="text").format() == "text"
    monkeypatch.setenv("INTCFG_LOG_FORMAT", "xml")
    with pytest.raises(output.OutputError, match="INTCFG_LOG_FORMAT='xml' is not one of text, json"):
        output.Settings().format()


# -- validate's fast path ------------------------------------------------------------------------

SUMMARY = "0 errors, 1 warning in 13 files (23 documents)\n"


def validate(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([INTCFG, *args], cwd=EXAMPLE, env=cli_env(**env), capture_output=True, text=True,
                          timeout=120)


def test_validate_logs_nothing_by_default() -> None:
    done = validate("validate")
    assert done.stdout.endswith(SUMMARY) and done.stderr == ""


@pytest.mark.parametrize("args", [["-v", "validate"], ["validate", "-v"], ["validate", "--verbose"]])
def test_validate_verbose_logs_what_it_checked(args: list[str]) -> None:
    done = validate(*args)
    assert done.stdout.endswith(SUMMARY)
    assert re.fullmatch(
        r"\d\d:\d\d:\d\d\.\d{3} INFO  validate: validated the configuration in \d+\.\d\ds  files=13 "
        r"documents=23 errors=0 warnings=1 duration_s=[0-9.]+\n",
        done.stderr,
    ), done.stderr


@pytest.mark.parametrize(
    "how", [("--log-format", "json", "-v", "validate"), ("validate", "-v", "--log-format=json"), ("validate", "-v")]
)
def test_validate_logs_json(how: tuple[str, ...]) -> None:
    done = validate(*how, **({"INTCFG_LOG_FORMAT": "json"} if how == ("validate", "-v") else {}))
    assert done.stdout.endswith(SUMMARY)
    (line,) = done.stderr.splitlines()
    data = json.loads(line)
    assert (data["event"], data["files"], data["errors"], data["warnings"]) == ("validate", 13, 0, 1)


def test_validate_rejects_quiet_with_verbose_and_a_bad_log_format() -> None:
    done = validate("-q", "validate", "-v")
    assert done.returncode == 2 and done.stderr.endswith(
        "Error: --quiet and --verbose cannot be used together: choose one\n")
    done = validate("validate", "--log-format", "xml")
    assert done.returncode == 2 and done.stderr.endswith(
        "Error: invalid value for --log-format: 'xml' is not one of text, json\n")


def test_the_color_given_before_validate_applies() -> None:
    assert "\x1b[" in validate("--color", "always", "validate").stdout
    assert "\x1b[" not in validate("--color=never", "validate", NO_COLOR="").stdout


def test_quiet_before_validate_prints_only_the_findings() -> None:
    assert validate("-q", "validate").stdout == validate("validate", "-q").stdout
    assert not validate("-q", "validate").stdout.endswith(SUMMARY)


def test_validate_with_logs_loads_no_rich_click_or_network_library() -> None:
    probe = (
        "import sys\nfrom intcfg.main import main\ncode = main(['-vv', 'validate', '--log-format', 'json'])\n"
        "print(code, sorted(m for m in ('click', 'rich', 'httpx', 'pydantic', 'git') if m in sys.modules))"
    )
    done = subprocess.run([str(Path(INTCFG).with_name("python")), "-c", probe], cwd=EXAMPLE, env=cli_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-1] == "0 []", done.stderr


def test_validate_without_logs_does_not_even_import_logging() -> None:
    probe = "import sys\nfrom intcfg.main import main\ncode = main(['validate', '-q'])\nprint(code, 'logging' in sys.modules)"
    done = subprocess.run([str(Path(INTCFG).with_name("python")), "-c", probe], cwd=EXAMPLE, env=cli_env(),
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.splitlines()[-1] == "0 False", done.stderr
