"""intcfg fmt: golden before/after pairs, the CLI on real repositories, the safety guards."""

from __future__ import annotations

import errno
import json
import os
import random
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import EXAMPLE, INTCFG, cli_env
from intcfg import fmt, fmt_comments, fmt_tree
from intcfg.cli import cli
from intcfg.defaults import INCLUDE
from intcfg.errors import ConfigError
from intcfg.loader import load_text
from intcfg.repo import RepoSettings, discover

CASES = Path(__file__).parent / "fmt"
CASE_NAMES = sorted(p.name for p in CASES.iterdir() if (p / "before.yaml").is_file())
SCHEDULES = "districts/lakeside-sd/schedules.yaml"
UNFORMATTED_SCHEDULE = """\
spec:
    time: "02:00"   # nightly
    job: import-student
    connection: powerschool
metadata: {district: lakeside-sd, name: ps-nightly-students}
kind: Schedule
apiVersion: intcfg/v1
"""
FORMATTED_SCHEDULE = """\
apiVersion: intcfg/v1
kind: Schedule
metadata: {name: ps-nightly-students, district: lakeside-sd}
spec:
  connection: powerschool
  job: import-student
  time: "02:00"  # nightly
"""


def run(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [INTCFG, "fmt", *args],
        cwd=cwd,
        env=cli_env(**env),
        capture_output=True,
        text=True,
        timeout=120,
    )


def data_of(text: str) -> str:
    loaded = load_text("f.yaml", text)
    assert not [f for f in loaded.findings if f.is_error]
    return json.dumps([d.data for d in loaded.documents], sort_keys=True)


def config_files(root: Path) -> int:
    """How many files `intcfg fmt` formats in ``root``: its config files and intcfg.yaml."""
    settings = RepoSettings.from_data(
        yaml.safe_load((root / "intcfg.yaml").read_text(encoding="utf-8"))
    )
    return len(discover(root, settings)) + 1


# -- golden pairs ----------------------------------------------------------------------


@pytest.mark.parametrize("case", CASE_NAMES)
def test_golden_pair(case: str) -> None:
    before = (CASES / case / "before.yaml").read_text(encoding="utf-8")
    after = (CASES / case / "after.yaml").read_text(encoding="utf-8")
    result = fmt.format_text(f"{case}/before.yaml", before)
    assert result.ok, (result.findings, result.refused)
    assert result.after == after


@pytest.mark.parametrize("case", CASE_NAMES)
def test_golden_after_is_canonical_and_means_the_same(case: str) -> None:
    before = (CASES / case / "before.yaml").read_text(encoding="utf-8")
    after = (CASES / case / "after.yaml").read_text(encoding="utf-8")
    again = fmt.format_text("after.yaml", after)
    assert again.ok and not again.changed
    assert data_of(after) == data_of(before)
    assert fmt_comments.comments(after) == fmt_comments.comments(before)


@pytest.mark.parametrize("case", CASE_NAMES)
def test_the_fast_emitter_writes_what_ruamels_round_trip_writes(case: str) -> None:
    text = (CASES / case / "before.yaml").read_text(encoding="utf-8")
    documents = load_text("f.yaml", text).documents
    scanned = fmt_comments.scan(text)
    fast = fmt._layout(text, documents, scanned)
    assert fast == fmt._layout(text, documents, scanned, fast=False)


def test_the_golden_cases_cover_the_layout_rules() -> None:
    assert {
        "key-order",
        "comments",
        "multi-document",
        "quoting",
        "flow-style",
        "indentation",
        "user-keyed-maps",
        "anchors-tags-folded",
        "settings",
    } <= set(CASE_NAMES)


def test_line_endings_byte_order_mark_and_final_newline() -> None:
    text = "\ufeffkind: Schedule\r\napiVersion: intcfg/v1\r\nspec: {job: x}"
    result = fmt.format_text("f.yaml", text)
    assert result.changed
    assert result.after == "apiVersion: intcfg/v1\nkind: Schedule\nspec: {job: x}\n"


def test_nothing_one_file_says_carries_over_to_the_next() -> None:
    assert fmt.format_text("a.yaml", "%YAML 1.1\n---\na: &x 1\nb: *x\n").after == "a: &x 1\nb: *x\n"
    assert fmt.format_text("b.yaml", "c: &y 2\nd: *y\n").after == "c: &y 2\nd: *y\n"


def test_empty_and_comment_only_files_are_left_alone() -> None:
    for text in ("", "# only a comment\n", "---\n"):
        result = fmt.format_text("f.yaml", text)
        assert result.ok and not result.changed


# -- the example repository ------------------------------------------------------------


def test_every_file_of_the_example_repository_is_canonical() -> None:
    done = run("--check", cwd=EXAMPLE)
    assert (done.returncode, done.stdout) == (0, "")
    assert (
        done.stderr == f"0 files would be reformatted, {config_files(EXAMPLE)} already formatted.\n"
    )


def test_fmt_imports_neither_pydantic_nor_the_live_side() -> None:
    probe = (
        "import sys\nfrom intcfg.main import main\nmain(['fmt', '--check'])\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'pydantic', 'httpx', 'git', "
        "'rich', 'starlette', 'jsonschema_rs'}))"
    )
    done = subprocess.run(
        [str(Path(INTCFG).with_name("python")), "-c", probe],
        cwd=EXAMPLE,
        env=cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.stdout == "[]\n", done.stderr


# -- the command line --------------------------------------------------------------------


def test_check_lists_the_files_that_would_change_and_writes_nothing(example_repo: Path) -> None:
    (example_repo / SCHEDULES).write_text(UNFORMATTED_SCHEDULE, encoding="utf-8")
    done = run("--check", cwd=example_repo)
    assert (done.returncode, done.stdout) == (1, "")
    assert done.stderr == (
        f"would reformat {SCHEDULES}\n"
        f"1 file would be reformatted, {config_files(example_repo) - 1} already formatted.\n"
    )
    assert (example_repo / SCHEDULES).read_text(encoding="utf-8") == UNFORMATTED_SCHEDULE


def test_fmt_rewrites_the_file_and_then_check_passes(example_repo: Path) -> None:
    (example_repo / SCHEDULES).write_text(UNFORMATTED_SCHEDULE, encoding="utf-8")
    done = run(cwd=example_repo)
    assert (done.returncode, done.stdout) == (0, "")
    assert done.stderr == (
        f"reformatted {SCHEDULES}\n"
        f"1 file reformatted, {config_files(example_repo) - 1} left unchanged.\n"
    )
    assert (example_repo / SCHEDULES).read_bytes() == FORMATTED_SCHEDULE.encode()
    assert run("--check", cwd=example_repo).returncode == 0


def test_diff_prints_a_unified_diff_and_writes_nothing(example_repo: Path) -> None:
    (example_repo / SCHEDULES).write_text(UNFORMATTED_SCHEDULE, encoding="utf-8")
    done = run("--diff", SCHEDULES, cwd=example_repo)
    assert done.returncode == 0
    assert done.stdout == (
        f"--- {SCHEDULES}\t(original)\n"
        f"+++ {SCHEDULES}\t(formatted)\n"
        "@@ -1,7 +1,7 @@\n"
        "+apiVersion: intcfg/v1\n"
        "+kind: Schedule\n"
        "+metadata: {name: ps-nightly-students, district: lakeside-sd}\n"
        " spec:\n"
        '-    time: "02:00"   # nightly\n'
        "-    job: import-student\n"
        "-    connection: powerschool\n"
        "-metadata: {district: lakeside-sd, name: ps-nightly-students}\n"
        "-kind: Schedule\n"
        "-apiVersion: intcfg/v1\n"
        "+  connection: powerschool\n"
        "+  job: import-student\n"
        '+  time: "02:00"  # nightly\n'
    )
    assert (
        done.stderr
        == f"would reformat {SCHEDULES}\n1 file would be reformatted, 0 already formatted.\n"
    )
    assert (example_repo / SCHEDULES).read_text(encoding="utf-8") == UNFORMATTED_SCHEDULE
    assert run("--diff", "--check", SCHEDULES, cwd=example_repo).returncode == 1


def test_invalid_yaml_is_reported_with_its_line_and_never_rewritten(example_repo: Path) -> None:
    broken = example_repo / "districts/lakeside-sd/broken.yaml"
    broken.write_bytes(b'kind: Schedule\nspec:\n  time: "02:00\n  job: x\n')
    duplicate = example_repo / "districts/lakeside-sd/duplicate.yaml"
    duplicate.write_bytes(b"kind: Schedule\nkind: District\n")
    (example_repo / SCHEDULES).write_text(UNFORMATTED_SCHEDULE, encoding="utf-8")
    stamps = {p: p.stat().st_mtime_ns for p in (broken, duplicate)}
    done = run(cwd=example_repo)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "districts/lakeside-sd/broken.yaml:5:1: error INTCFG-E001 invalid YAML: found unexpected "
        "end of stream (while scanning a quoted scalar started at line 3, column 9)",
        "districts/lakeside-sd/duplicate.yaml:2:1: error INTCFG-E002 duplicate key 'kind' "
        "(first defined on line 1); a key may appear once in a mapping",
        f"reformatted {SCHEDULES}",
        f"1 file reformatted, {config_files(example_repo) - 3} left unchanged, "
        "2 files could not be formatted.",
    ]
    assert broken.read_bytes() == b'kind: Schedule\nspec:\n  time: "02:00\n  job: x\n'
    assert duplicate.read_bytes() == b"kind: Schedule\nkind: District\n"
    assert {p: p.stat().st_mtime_ns for p in stamps} == stamps
    assert (example_repo / SCHEDULES).read_text(encoding="utf-8") == FORMATTED_SCHEDULE


def test_a_path_that_does_not_exist_is_a_usage_error(example_repo: Path) -> None:
    done = run("districts/nope.yaml", cwd=example_repo)
    assert done.returncode == 2
    assert done.stderr.endswith(
        "Error: Invalid value for '[PATH]...': Path 'districts/nope.yaml' does not exist.\n"
    )


def test_outside_a_repository_without_paths_is_a_usage_error(tmp_path: Path) -> None:
    done = run(cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.endswith(
        f"Error: no intcfg.yaml in {tmp_path.resolve()} or above: run intcfg fmt in a config "
        "repository, or name the files to format\n"
    )


def test_folders_are_searched_like_the_repository(example_repo: Path) -> None:
    (example_repo / SCHEDULES).write_text(UNFORMATTED_SCHEDULE, encoding="utf-8")
    (example_repo / "intcfg.yaml").write_text(
        "kind: Settings\napiVersion: intcfg/v1\ninclude: [districts/**/*.yaml]\n", encoding="utf-8"
    )
    sub = run("--check", "districts/lakeside-sd", cwd=example_repo)
    others = len(list((example_repo / "districts/lakeside-sd").glob("*.yaml"))) - 1
    assert sub.stderr == (
        f"would reformat {SCHEDULES}\n1 file would be reformatted, {others} already formatted.\n"
    )
    whole = run("--check", ".", cwd=example_repo)
    assert whole.stderr == (
        f"would reformat {SCHEDULES}\nwould reformat intcfg.yaml\n"
        f"2 files would be reformatted, {config_files(example_repo) - 2} already formatted.\n"
    )


def test_config_only_leaves_other_yaml_alone(example_repo: Path) -> None:
    other = example_repo / "ci/workflow.yml"
    other.parent.mkdir()
    other.write_text("jobs:\n- run: make\n", encoding="utf-8")
    (example_repo / SCHEDULES).write_text(UNFORMATTED_SCHEDULE, encoding="utf-8")
    done = run("--config-only", "ci/workflow.yml", SCHEDULES, "intcfg.yaml", cwd=example_repo)
    assert done.stderr == f"reformatted {SCHEDULES}\n1 file reformatted, 1 left unchanged.\n"
    assert other.read_text(encoding="utf-8") == "jobs:\n- run: make\n"
    named = run("ci/workflow.yml", cwd=example_repo)
    assert named.stderr == "reformatted ci/workflow.yml\n1 file reformatted, 0 left unchanged.\n"
    assert other.read_text(encoding="utf-8") == "jobs:\n  - run: make\n"


def test_no_secret_is_read_or_printed(example_repo: Path) -> None:
    canary = "canary-7f3e1d0c9a64-secret"
    file = example_repo / "districts/lakeside-sd/powerschool.yaml"
    text = file.read_text(encoding="utf-8")
    client_id = "    clientId: 3f1c9a52-7d2e-4b8a-9e41-0c5d6a7b8e90\n"
    secret_line = "    clientSecret: {env: LAKESIDE_PS_CLIENT_SECRET}\n"
    assert client_id + secret_line in text
    file.write_text(
        text.replace(client_id + secret_line, secret_line + client_id), encoding="utf-8"
    )
    secrets = {"LAKESIDE_PS_CLIENT_SECRET": canary, "LAKESIDE_PS_SANDBOX_CLIENT_SECRET": canary}
    done = run("--diff", cwd=example_repo, **secrets)
    assert done.returncode == 0 and secret_line.strip() in done.stdout
    assert canary not in done.stdout + done.stderr
    assert run(cwd=example_repo, **secrets).returncode == 0
    assert file.read_text(encoding="utf-8") == text
    assert canary not in "".join(
        p.read_text(encoding="utf-8") for p in example_repo.rglob("*.y*ml")
    )


def test_several_processes_give_the_same_results(example_repo: Path) -> None:
    (example_repo / SCHEDULES).write_text(UNFORMATTED_SCHEDULE, encoding="utf-8")
    (example_repo / "districts/lakeside-sd/broken.yaml").write_bytes(b"kind: [\n")
    one = run("--diff", cwd=example_repo, INTCFG_FMT_PROCESSES="1")
    three = run("--diff", cwd=example_repo, INTCFG_FMT_PROCESSES="3")
    assert (three.returncode, three.stdout, three.stderr) == (
        one.returncode,
        one.stdout,
        one.stderr,
    )
    assert one.returncode == 1 and f"would reformat {SCHEDULES}" in one.stderr
    bad = run("--check", cwd=example_repo, INTCFG_FMT_PROCESSES="two")
    assert bad.returncode == 2
    assert bad.stderr.endswith(
        "Error: INTCFG_FMT_PROCESSES='two': expected a whole number from 1\n"
    )


# -- the safety guards, in process --------------------------------------------------------


def invoke(repo: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Any:
    monkeypatch.chdir(repo)
    return CliRunner().invoke(cli, ["fmt", *args])


def test_a_formatting_that_would_change_the_data_is_refused(
    example_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = fmt_tree.emit
    monkeypatch.setattr(fmt_tree, "emit", lambda *a: real(*a).replace('"02:00"', '"03:00"'))
    (example_repo / SCHEDULES).write_text(UNFORMATTED_SCHEDULE, encoding="utf-8")
    result = invoke(example_repo, monkeypatch, SCHEDULES)
    assert result.exit_code == 1
    assert result.stderr == (
        f"{SCHEDULES}: error: formatting would change the data; the file was left unchanged\n"
        "0 files reformatted, 0 left unchanged, 1 file could not be formatted.\n"
    )
    assert (example_repo / SCHEDULES).read_text(encoding="utf-8") == UNFORMATTED_SCHEDULE


def test_a_formatting_that_would_lose_a_comment_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    real = fmt_comments.place
    monkeypatch.setattr(
        fmt_comments, "place", lambda text, notes: real(text, notes._replace(slots={}))
    )
    result = fmt.format_text("f.yaml", UNFORMATTED_SCHEDULE)
    assert result.refused == "formatting would lose or change a comment"
    assert result.after == UNFORMATTED_SCHEDULE


def test_a_formatting_that_would_not_load_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fmt_tree, "emit", lambda *a: "a: 1\na: 2\n")
    result = fmt.format_text("f.yaml", UNFORMATTED_SCHEDULE)
    assert (result.refused, result.after) == (
        "the formatted text would not load",
        UNFORMATTED_SCHEDULE,
    )


def test_a_failure_inside_the_formatter_refuses_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object) -> str:
        raise RuntimeError("boom")

    monkeypatch.setattr(fmt_tree, "emit", boom)
    result = fmt.format_text("f.yaml", UNFORMATTED_SCHEDULE)
    assert (result.refused, result.after) == (
        "cannot be formatted (RuntimeError: boom)",
        UNFORMATTED_SCHEDULE,
    )


# -- atomic writes -------------------------------------------------------------------------


def test_a_write_replaces_the_file_and_keeps_its_mode(tmp_path: Path) -> None:
    file = tmp_path / "f.yaml"
    file.write_text("old: 1\n", encoding="utf-8")
    file.chmod(0o640)
    reader = tmp_path / "still-open-by-a-reader"
    os.link(file, reader)
    fmt.write(file, "new: 1\n")
    assert file.read_bytes() == b"new: 1\n"
    assert reader.read_bytes() == b"old: 1\n"  # a new file took its place: never half written
    assert stat.S_IMODE(file.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.yaml", "still-open-by-a-reader"]


def test_a_failed_write_leaves_the_file_and_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "f.yaml"
    file.write_text("old: 1\n", encoding="utf-8")

    def full(*args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "replace", full)
    with pytest.raises(ConfigError) as raised:
        fmt.write(file, "new: 1\n")
    assert str(raised.value) == f"cannot write {file}: No space left on device"
    assert file.read_bytes() == b"old: 1\n"
    assert [p.name for p in tmp_path.iterdir()] == ["f.yaml"]


def test_a_write_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    target = tmp_path / "real.yaml"
    target.write_text("old: 1\n", encoding="utf-8")
    link = tmp_path / "link.yaml"
    link.symlink_to(target)
    fmt.write(link, "new: 1\n")
    assert link.is_symlink() and target.read_text(encoding="utf-8") == "new: 1\n"


# -- properties ------------------------------------------------------------------------------

# Maps whose keys the user chooses keep the user's order, so the shuffles leave them be.
USER_KEYED = {"fields", "table", "labels", "annotations", "patch", "districts"}


def _example_documents() -> list[Any]:
    files = [EXAMPLE / "intcfg.yaml", *discover(EXAMPLE, RepoSettings(include=INCLUDE))]
    texts = [
        f.read_text(encoding="utf-8")
        for f in files
        if "districts" in f.parts or f.name == "intcfg.yaml"
    ]
    return [doc.data for text in texts for doc in load_text("f.yaml", text).documents]


EXAMPLE_DOCUMENTS = _example_documents()


def _shuffled(data: Any, rng: random.Random, keep: bool = False) -> Any:
    if isinstance(data, list):
        return [_shuffled(item, rng) for item in data]
    if not isinstance(data, dict):
        return data
    keys = list(data)
    if not keep:
        rng.shuffle(keys)
    return {k: _shuffled(data[k], rng, keep=k in USER_KEYED) for k in keys}


def _dumped(data: Any, seed: int, indent: int, width: int, flow: bool | None) -> str:
    text = yaml.safe_dump(
        _shuffled(data, random.Random(seed)),
        sort_keys=False,
        indent=indent,
        width=width,
        default_flow_style=flow,
        allow_unicode=True,
    )
    return str(text)


@settings(max_examples=60, deadline=None)
@given(
    document=st.sampled_from(EXAMPLE_DOCUMENTS),
    seeds=st.tuples(st.integers(0, 2**32), st.integers(0, 2**32)),
    indents=st.tuples(st.sampled_from([2, 3, 4, 6]), st.sampled_from([2, 3, 4, 6])),
    widths=st.tuples(st.integers(30, 200), st.integers(30, 200)),
    flow=st.sampled_from([None, False]),
)
def test_formatting_any_key_order_and_layout_of_a_document_gives_one_text(
    document: Any,
    seeds: tuple[int, int],
    indents: tuple[int, int],
    widths: tuple[int, int],
    flow: bool | None,
) -> None:
    first = fmt.format_text("a.yaml", _dumped(document, seeds[0], indents[0], widths[0], flow))
    second = fmt.format_text("b.yaml", _dumped(document, seeds[1], indents[1], widths[1], flow))
    assert first.ok and second.ok
    assert first.after == second.after
    assert json.loads(data_of(first.after)) == [document]
    assert fmt.format_text("c.yaml", first.after).after == first.after


YAMLISH = st.text(alphabet=st.sampled_from(list("ab:#-[]{},'\"|>&*!? \n\t01yn~")), max_size=60)


@settings(max_examples=200, deadline=None)
@given(text=YAMLISH)
def test_any_text_is_formatted_or_reported_and_formatting_is_idempotent(text: str) -> None:
    result = fmt.format_text("f.yaml", text)
    if not result.ok:
        assert result.after == text
        return
    assert data_of(result.after) == data_of(text)
    assert fmt.format_text("f.yaml", result.after).after == result.after
