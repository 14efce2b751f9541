"""`intcfg validate` as a user runs it: real subprocesses on the example repository and on
broken copies of it; exact output in every format, exit codes 0/1/2, colour, files.

The json format (``--format json``), version 1::

    {
      "version": 1,                 the shape's version; a breaking change bumps it
      "ok": true,                   no errors (warnings allowed)
      "files": 13,                  files validated (reported on)
      "documents": 23,              YAML documents in those files
      "errors": 0,
      "warnings": 1,
      "findings": [                 sorted by file, line, column
        {
          "file": "districts/x.yaml",       relative to the working directory
          "line": 29, "column": 15,         1-based start
          "endLine": 29, "endColumn": 34,   1-based end (exclusive), or null
          "rule": "INTCFG-W220",            see src/intcfg/ruleset.py
          "severity": "warning",            "error" or "warning"
          "message": "...",
          "jsonPath": "$.spec.connection",  the value's path in its document
          "related": [{"file": ..., "line": ..., "column": ...}]   other places involved
        }
      ]
    }
"""

from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import jsonschema
import pytest

from intcfg.findings import Finding, Report
from intcfg.location import Location
from intcfg.render.findings import github
from intcfg.ruleset import RULES

INTCFG = str(Path(sys.executable).with_name("intcfg"))
SARIF_SCHEMA = Path(__file__).parent / "data" / "sarif-schema-2.1.0.json"
CANARY = "CANARY-cli-ets-4e8d21"
SANDBOX = (
    "districts/lakeside-sd/schedules.yaml:29:15: warning INTCFG-W220 'powerschool-sandbox' is "
    "a sandbox connection: its scheduled import runs once and then turns itself off"
)
BROKEN = [
    "districts/hillcrest-isd/ets.yaml:10:14: error INTCFG-E110 secretKey is a secret: write a "
    "reference, {env: NAME} or {file: PATH}, not the value itself (the value is not shown)",
    "districts/lakeside-sd/schedules.yaml:10:9: error INTCFG-E010 time: the unquoted value "
    "'2:00' was read as the integer 120 (YAML 1.1), but a string is expected here: quote it, "
    'e.g. "2:00"',
    SANDBOX,
    "districts/riverside-usd/etranscript.yaml:12:15: error INTCFG-E107 uploadPort is 70000; "
    "it must be at most 65535",
]
USAGE = "Usage: intcfg validate [OPTIONS] [PATH]...\nTry 'intcfg validate --help' for help.\n\n"


def env(**extra: str) -> dict[str, str]:
    out = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST") and k != "NO_COLOR"}
    out.update(INTCFG_TODAY="2026-11-22", **extra)
    return out


def run(cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [INTCFG, "validate", *args],
        cwd=cwd,
        env=env(**extra),
        capture_output=True,
        text=True,
        timeout=60,
    )


def run_on_a_terminal(cwd: Path, *args: str, **extra: str) -> str:
    """stdout of a run whose stdout is a pseudo-terminal (as a person sees it)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        [INTCFG, "validate", *args],
        cwd=cwd,
        env=env(**extra),
        stdin=subprocess.DEVNULL,
        stdout=slave,
        stderr=subprocess.DEVNULL,
    )
    os.close(slave)
    out = b""
    for _ in range(1000):
        ready, _, _ = select.select([master], [], [], 30)
        if not ready:
            break
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    proc.wait(timeout=60)
    return out.decode().replace("\r\n", "\n")


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, (path, old)
    path.write_text(text.replace(old, new), encoding="utf-8")


@pytest.fixture
def broken(example_repo: Path) -> Path:
    """The example repository with three errors (one a plaintext secret) and its warning."""
    d = example_repo / "districts"
    edit(d / "riverside-usd/etranscript.yaml", "uploadPort: 443", "uploadPort: 70000")
    edit(d / "hillcrest-isd/ets.yaml", "secretKey: {env: HILLCREST_ETS_SECRET_KEY}", f"secretKey: {CANARY}")
    edit(d / "lakeside-sd/schedules.yaml", 'time: "02:00"', "time: 2:00")
    return example_repo


# -- text and exit codes ---------------------------------------------------------------


def test_the_example_repository_is_valid_with_one_warning(example_repo: Path) -> None:
    result = run(example_repo)
    assert result.stdout == f"{SANDBOX}\n0 errors, 1 warning in 13 files (23 documents)\n"
    assert result.stderr == ""
    assert result.returncode == 0


def test_errors_exit_1_with_every_finding_in_order(broken: Path) -> None:
    result = run(broken)
    assert result.stdout.splitlines() == [*BROKEN, "3 errors, 1 warning in 13 files (23 documents)"]
    assert result.stderr == ""
    assert result.returncode == 1


def test_strict_fails_on_warnings(example_repo: Path) -> None:
    result = run(example_repo, "--strict")
    assert result.stdout == f"{SANDBOX}\n0 errors, 1 warning in 13 files (23 documents)\n"
    assert result.returncode == 1


def test_quiet_prints_only_the_findings(broken: Path, example_repo: Path) -> None:
    assert run(broken, "-q").stdout.splitlines() == BROKEN


def test_quiet_on_a_clean_repository_prints_nothing(tmp_path: Path) -> None:
    (tmp_path / "intcfg.yaml").write_text("apiVersion: intcfg/v1\nkind: Settings\n", encoding="utf-8")
    result = run(tmp_path, "--quiet")
    assert (result.stdout, result.returncode) == ("", 0)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (["--bogus"], "option --bogus not recognized"),
        (["-x"], "option -x not recognized"),
        (["--format", "xml"], "invalid value for --format: 'xml' is not one of text, json, github, sarif, junit"),
        (["--color", "sometimes"], "invalid value for --color: 'sometimes' is not one of auto, always, never"),
        (["-o"], "option -o requires argument"),
    ],
)
def test_usage_errors_exit_2(example_repo: Path, args: list[str], error: str) -> None:
    result = run(example_repo, *args)
    assert result.stdout == ""
    assert result.stderr == f"{USAGE}Error: {error}\n"
    assert result.returncode == 2


def test_a_path_that_does_not_exist_exits_2(example_repo: Path) -> None:
    result = run(example_repo, "districts/riverside-usd/ets.yaml", "districts/nowhere.yaml")
    assert result.stdout == ""
    assert result.stderr == "Error: districts/nowhere.yaml: no such file or directory\n"
    assert result.returncode == 2


def test_outside_a_repository_without_paths_exits_2(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result.stderr == (
        f"Error: no intcfg.yaml in {tmp_path.resolve()} or above: run intcfg in a config "
        "repository, or name the files to validate\n"
    )
    assert result.returncode == 2


def test_help_exits_0(example_repo: Path) -> None:
    result = run(example_repo, "--help")
    assert result.stdout.startswith("Usage: intcfg validate [OPTIONS] [PATH]...\n")
    assert "--format [text|json|github|sarif|junit]" in result.stdout
    assert result.returncode == 0
    listed = subprocess.run([INTCFG, "--help"], env=env(), capture_output=True, text=True, timeout=60)
    assert re.search(r"^  validate +Validate config files offline", listed.stdout, re.MULTILINE)
    assert listed.returncode == 0


# -- paths -----------------------------------------------------------------------------


def test_a_single_file_is_checked_in_its_repositorys_context(example_repo: Path) -> None:
    mappings = example_repo / "districts/lakeside-sd/mappings.yaml"
    edit(mappings, 'sampleStudents: ["20451"]', 'sampleStudents: ["20451", "20451"]')
    # schedules.yaml names connections defined in powerschool.yaml: they resolve, and the
    # broken mappings.yaml next to it is not reported.
    result = run(example_repo, "districts/lakeside-sd/schedules.yaml")
    assert result.stdout == f"{SANDBOX}\n0 errors, 1 warning in 1 file (3 documents)\n"  # its own: the rest is context
    assert result.returncode == 0
    result = run(example_repo, "-q", "districts/lakeside-sd/mappings.yaml")
    assert result.stdout == (
        "districts/lakeside-sd/mappings.yaml:82:19: error INTCFG-E109 sampleStudents lists "
        "'20451' more than once\n"
    )
    assert result.returncode == 1


def test_a_single_file_from_another_directory(example_repo: Path, tmp_path: Path) -> None:
    target = example_repo / "districts/lakeside-sd/schedules.yaml"
    result = run(tmp_path, "-q", str(target.relative_to(tmp_path)))
    assert result.stdout == f"repo/{SANDBOX}\n"


def test_a_folder_is_searched_like_the_repository(broken: Path) -> None:
    result = run(broken, "-q", "districts/riverside-usd")
    assert result.stdout.splitlines() == [BROKEN[3]]
    assert result.returncode == 1
    result = run(broken, "-q", "districts/")
    assert result.stdout.splitlines() == BROKEN


# -- output file and colour ------------------------------------------------------------


def test_output_goes_to_the_file(broken: Path, tmp_path: Path) -> None:
    report = tmp_path / "report.txt"
    result = run(broken, "-o", str(report))
    assert result.stdout == ""
    assert report.read_text(encoding="utf-8") == run(broken).stdout
    assert result.returncode == 1


def test_an_unwritable_output_file_is_an_error(example_repo: Path, tmp_path: Path) -> None:
    result = run(example_repo, "-o", str(tmp_path))
    assert result.stderr == f"Error: cannot write {tmp_path}: Is a directory\n"
    assert result.returncode == 1


BOLD, YELLOW, DIM, RESET = "\x1b[1m", "\x1b[33m", "\x1b[2m", "\x1b[0m"
COLOURED = (
    f"{BOLD}districts/lakeside-sd/schedules.yaml:29:15{RESET}: {YELLOW}warning{RESET} "
    f"{DIM}INTCFG-W220{RESET} 'powerschool-sandbox' is a sandbox connection: its scheduled "
    "import runs once and then turns itself off\n0 errors, 1 warning in 13 files (23 documents)\n"
)


def test_color_always_colours_even_with_no_color(example_repo: Path) -> None:
    assert run(example_repo, "--color", "always").stdout == COLOURED
    assert run(example_repo, "--color", "always", NO_COLOR="1").stdout == COLOURED


def test_color_auto_follows_the_terminal_and_no_color(example_repo: Path) -> None:
    plain = f"{SANDBOX}\n0 errors, 1 warning in 13 files (23 documents)\n"
    assert run(example_repo).stdout == plain
    assert run_on_a_terminal(example_repo) == COLOURED
    assert run_on_a_terminal(example_repo, NO_COLOR="1") == plain
    assert run_on_a_terminal(example_repo, "--color", "never") == plain


def test_the_error_colour_is_red(broken: Path) -> None:
    out = run(broken, "--color", "always").stdout
    assert f"{RESET}: \x1b[31merror{RESET} {DIM}INTCFG-E107{RESET} uploadPort is 70000" in out


# -- github ----------------------------------------------------------------------------


def test_github_annotations_carry_the_real_positions(broken: Path) -> None:
    result = run(broken, "--format", "github")
    assert result.stdout.splitlines() == [
        "::error file=districts/hillcrest-isd/ets.yaml,line=10,col=14,endLine=10,endColumn=35,"
        "title=INTCFG-E110::secretKey is a secret: write a reference, {env: NAME} or "
        "{file: PATH}, not the value itself (the value is not shown)",
        "::error file=districts/lakeside-sd/schedules.yaml,line=10,col=9,endLine=10,endColumn=13,"
        "title=INTCFG-E010::time: the unquoted value '2:00' was read as the integer 120 "
        '(YAML 1.1), but a string is expected here: quote it, e.g. "2:00"',
        "::warning file=districts/lakeside-sd/schedules.yaml,line=29,col=15,endLine=29,"
        "endColumn=34,title=INTCFG-W220::'powerschool-sandbox' is a sandbox connection: its "
        "scheduled import runs once and then turns itself off",
        "::error file=districts/riverside-usd/etranscript.yaml,line=12,col=15,endLine=12,"
        "endColumn=20,title=INTCFG-E107::uploadPort is 70000; it must be at most 65535",
        "3 errors, 1 warning in 13 files (23 documents)",
    ]
    assert result.returncode == 1


def test_github_escapes_file_names_and_messages(example_repo: Path) -> None:
    odd = example_repo / "districts/riverside-usd/odd,name:100%.yaml"
    odd.write_text(
        "apiVersion: intcfg/v1\nkind: Schedule\nmetadata: {name: odd, district: riverside-usd}\n"
        'spec:\n  connection: aeries\n  job: import-student\n  time: "03:00"\n  timezone: "100%"\n',
        encoding="utf-8",
    )
    result = run(example_repo, "--format", "github", str(odd.relative_to(example_repo)))
    assert result.stdout.splitlines()[0] == (
        "::error file=districts/riverside-usd/odd%2Cname%3A100%25.yaml,line=8,col=13,endLine=8,"
        "endColumn=19,title=INTCFG-E108::timezone is '100%25'; expected an IANA time zone name, "
        "e.g. America/Los_Angeles"
    )


def test_github_escapes_newlines_in_messages() -> None:
    finding = Finding(Location("a.yaml", 3, 4), "INTCFG-E001", "first\nsecond\r\n50%")
    out = github(Report((finding,), 1, 1, ("a.yaml",)))
    assert out.splitlines()[0] == "::error file=a.yaml,line=3,col=4,title=INTCFG-E001::first%0Asecond%0D%0A50%25"


# -- sarif -----------------------------------------------------------------------------


def sarif_of(repo: Path, *args: str) -> dict:  # type: ignore[type-arg]
    result = run(repo, "--format", "sarif", *args)
    log = json.loads(result.stdout)
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(log)
    return log  # type: ignore[no-any-return]


def test_sarif_is_valid_sarif_2_1_0_and_names_every_finding(broken: Path) -> None:
    log = sarif_of(broken)
    run_ = log["runs"][0]
    rules = run_["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == list(RULES)
    located = [
        (
            rules[r["ruleIndex"]]["id"],
            r["ruleId"],
            r["level"],
            r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"],
            r["locations"][0]["physicalLocation"]["region"]["startLine"],
            r["locations"][0]["physicalLocation"]["region"]["startColumn"],
        )
        for r in run_["results"]
    ]
    assert located == [
        ("INTCFG-E110", "INTCFG-E110", "error", "districts/hillcrest-isd/ets.yaml", 10, 14),
        ("INTCFG-E010", "INTCFG-E010", "error", "districts/lakeside-sd/schedules.yaml", 10, 9),
        ("INTCFG-W220", "INTCFG-W220", "warning", "districts/lakeside-sd/schedules.yaml", 29, 15),
        ("INTCFG-E107", "INTCFG-E107", "error", "districts/riverside-usd/etranscript.yaml", 12, 15),
    ]


def test_sarif_of_a_valid_repository_is_valid_too(example_repo: Path) -> None:
    assert len(sarif_of(example_repo)["runs"][0]["results"]) == 1


def test_sarif_uris_are_uri_references(example_repo: Path, tmp_path: Path) -> None:
    odd = example_repo / "districts/riverside-usd/odd name%.yaml"
    odd.write_text("apiVersion: intcfg/v1\nkind: Nope\n", encoding="utf-8")
    log = sarif_of(example_repo, "districts/riverside-usd/odd name%.yaml")
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {
        "uri": "districts/riverside-usd/odd%20name%25.yaml",
        "uriBaseId": "%SRCROOT%",
    }
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    log = sarif_of(elsewhere, str(odd))
    location = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"] == {"uri": "file://" + str(odd).replace(" ", "%20").replace("%.", "%25.")}


# -- junit -----------------------------------------------------------------------------


def test_junit_has_a_testcase_per_file_and_failures_for_files_with_errors(broken: Path) -> None:
    result = run(broken, "--format", "junit")
    assert result.returncode == 1
    suites = ElementTree.fromstring(result.stdout)
    suite = suites.find("testsuite")
    assert suite is not None
    cases = {c.get("name"): c for c in suite.findall("testcase")}
    assert len(cases) == 13
    assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("13", "3", "0")
    failed = {name for name, c in cases.items() if c.find("failure") is not None}
    assert failed == {
        "districts/hillcrest-isd/ets.yaml",
        "districts/lakeside-sd/schedules.yaml",
        "districts/riverside-usd/etranscript.yaml",
    }
    failure = cases["districts/riverside-usd/etranscript.yaml"].find("failure")
    assert failure is not None
    assert (failure.get("message"), failure.get("type")) == ("1 error", "INTCFG-E107")
    assert failure.text == (
        "districts/riverside-usd/etranscript.yaml:12:15: INTCFG-E107 uploadPort is 70000; "
        "it must be at most 65535"
    )
    # A warning is not a failure; it is kept as output of the file's testcase.
    schedules = cases["districts/lakeside-sd/schedules.yaml"]
    assert "INTCFG-W220" in (schedules.findtext("system-out") or "")
    assert "INTCFG-W220" not in (schedules.findtext("failure") or "")


def test_junit_of_a_valid_repository_has_no_failures(example_repo: Path) -> None:
    suite = ElementTree.fromstring(run(example_repo, "--format", "junit").stdout).find("testsuite")
    assert suite is not None
    assert (suite.get("tests"), suite.get("failures")) == ("13", "0")


# -- json ------------------------------------------------------------------------------


def test_json_has_the_documented_shape(broken: Path) -> None:
    result = run(broken, "--format", "json")
    body = json.loads(result.stdout)
    assert result.returncode == 1
    assert {k: v for k, v in body.items() if k != "findings"} == {
        "version": 1,
        "ok": False,
        "files": 13,
        "documents": 23,
        "errors": 3,
        "warnings": 1,
    }
    assert body["findings"][3] == {
        "file": "districts/riverside-usd/etranscript.yaml",
        "line": 12,
        "column": 15,
        "endLine": 12,
        "endColumn": 20,
        "rule": "INTCFG-E107",
        "severity": "error",
        "message": "uploadPort is 70000; it must be at most 65535",
        "jsonPath": "$.spec.uploadPort",
        "related": [],
    }
    assert [f["rule"] for f in body["findings"]] == ["INTCFG-E110", "INTCFG-E010", "INTCFG-W220", "INTCFG-E107"]


def test_json_names_related_locations(example_repo: Path) -> None:
    twin = example_repo / "districts/riverside-usd/twin.yaml"
    twin.write_text((example_repo / "districts/riverside-usd/schedule.yaml").read_text(), encoding="utf-8")
    body = json.loads(run(example_repo, "--format", "json").stdout)
    duplicate = next(f for f in body["findings"] if f["rule"] == "INTCFG-E200")
    assert duplicate["file"] == "districts/riverside-usd/twin.yaml"
    assert duplicate["related"] == [{"file": "districts/riverside-usd/schedule.yaml", "line": 5, "column": 9}]


# -- secrets ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["text", "json", "github", "sarif", "junit"])
def test_no_format_shows_the_secret(broken: Path, fmt: str) -> None:
    result = run(broken, "--format", fmt)
    assert "INTCFG-E110" in result.stdout
    assert CANARY not in result.stdout + result.stderr
