"""Hostile and odd YAML: what the loader refuses, where it says so, and what it accepts.

Inputs that could crash or exhaust the process (alias bombs, deep nesting) run in a
subprocess of the real CLI, with an address-space limit, so a failure shows as a
signal or a MemoryError instead of taking the test run down.
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from examples.corpus import BASE
from hypothesis import given, settings
from hypothesis import strategies as st

from intcfg.loader import MAX_DEPTH, load_file, load_text
from intcfg.validate import validate

INTCFG = str(Path(sys.executable).with_name("intcfg"))
MEMORY_LIMIT = 512 * 2**20


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def run(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    return subprocess.run(
        [INTCFG, "validate", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )


def lines(loaded_findings: object) -> list[str]:
    return [f"{f.location}: {f.severity} {f.rule} {f.message}" for f in loaded_findings]  # type: ignore[attr-defined]


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the corpus's valid base repository, as the working directory."""
    dest = tmp_path / "repo"
    shutil.copytree(BASE, dest)
    monkeypatch.chdir(dest)
    return dest


# -- keys ------------------------------------------------------------------------------


def test_a_duplicate_key_names_both_lines() -> None:
    loaded = load_text("f.yaml", "a: 1\nb:\n  c: 2\n  d: 3\n  c: 4\n")
    assert lines(loaded.findings) == [
        "f.yaml:5:3: error INTCFG-E002 duplicate key 'c' (first defined on line 3); "
        "a key may appear once in a mapping"
    ]


def test_a_duplicate_key_in_a_list_item_is_found_too() -> None:
    loaded = load_text("f.yaml", "items:\n  - {id: 1, id: 2}\n")
    assert [(f.rule, f.location.line, f.location.column) for f in loaded.findings] == [
        ("INTCFG-E002", 2, 13)
    ]


def test_merge_keys_are_refused() -> None:
    loaded = load_text("f.yaml", "base: &b {x: 1}\nother:\n  <<: *b\n  y: 2\n")
    assert lines(loaded.findings) == [
        "f.yaml:3:3: error INTCFG-E007 merge keys (<<) are not supported: write the fields "
        "out, so every value is visible where it applies"
    ]
    assert loaded.documents == []


def test_small_aliases_are_allowed_and_expanded() -> None:
    loaded = load_text("f.yaml", "a: &x [1, 2]\nb: *x\n")
    assert loaded.findings == []
    assert loaded.documents[0].data == {"a": [1, 2], "b": [1, 2]}


# -- tags ------------------------------------------------------------------------------


def test_a_python_tag_is_refused_and_nothing_runs(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    (tmp_path / "evil.yaml").write_text(
        f'kind: !!python/object/apply:os.system ["touch {marker}"]\n', encoding="utf-8"
    )
    result = run(tmp_path, "evil.yaml")
    assert result.stdout.splitlines()[0] == (
        "evil.yaml:1:7: error INTCFG-E006 the YAML tag "
        "'tag:yaml.org,2002:python/object/apply:os.system' is not allowed; intcfg reads only "
        "plain strings, numbers, booleans, lists and mappings"
    )
    assert result.returncode == 1
    assert not marker.exists()


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("a: !custom value\n", "!custom"),
        ("a: !!binary aGVsbG8=\n", "tag:yaml.org,2002:binary"),
        ("a: !!set {x: null}\n", "tag:yaml.org,2002:set"),
        ("a: !!python/object:os.Popen {args: [id]}\n", "tag:yaml.org,2002:python/object:os.Popen"),
        ("!!omap [a: 1]\n", "tag:yaml.org,2002:omap"),
    ],
)
def test_every_non_standard_tag_is_refused(text: str, tag: str) -> None:
    loaded = load_text("f.yaml", text)
    assert [f.rule for f in loaded.findings] == ["INTCFG-E006"]
    assert f"the YAML tag {tag!r} is not allowed" in loaded.findings[0].message
    assert loaded.documents == []


# -- bombs and depth -------------------------------------------------------------------


def _alias_bomb(levels: int) -> str:
    names = "abcdefghijklmnop"[:levels]
    out = [f"{names[0]}: &{names[0]} [" + ", ".join(["lol"] * 10) + "]"]
    for prev, name in zip(names, names[1:]):
        out.append(f"{name}: &{name} [" + ", ".join([f"*{prev}"] * 10) + "]")
    return "\n".join(out) + "\n"


def test_an_alias_bomb_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    # Ten levels of ten aliases: 10**10 values if anything expanded them.
    (tmp_path / "bomb.yaml").write_text(_alias_bomb(10), encoding="utf-8")
    result = run(tmp_path, "bomb.yaml")
    assert result.stdout.splitlines() == [
        "bomb.yaml:1:1: error INTCFG-E005 the document expands to more than 100,000 values "
        "(aliases included); this looks like an alias bomb: write the values out",
        "1 error, 0 warnings in 1 file (0 documents)",
    ]
    assert result.stderr == ""
    assert result.returncode == 1


DEEP = 100_000


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("flow-sequences", "a: " + "[" * DEEP + "\n"),
        ("closed-flow-sequences", "[" * DEEP + "]" * DEEP + "\n"),
        ("flow-mappings", "{a: " * DEEP + "\n"),
        ("block-sequences", "- " * DEEP + "x\n"),
    ],
)
def test_deep_nesting_is_a_finding_not_a_crash(tmp_path: Path, name: str, text: str) -> None:
    # libyaml's composer recurses in C and segfaults past ~50,000 levels.
    (tmp_path / "deep.yaml").write_text(text, encoding="utf-8")
    result = run(tmp_path, "deep.yaml")
    assert result.returncode == 1, f"{name}: exit {result.returncode} {result.stderr[-300:]}"
    first = result.stdout.splitlines()[0]
    assert first.startswith("deep.yaml:1:")
    assert first.endswith(
        f"error INTCFG-E005 nesting deeper than {MAX_DEPTH} levels is not supported; "
        "flatten the structure"
    )


def test_a_broken_file_full_of_nesting_indicators_is_a_syntax_error(tmp_path: Path) -> None:
    # Regression: the depth pre-check once let the parser's error escape (exit 3).
    (tmp_path / "dashes.yaml").write_text("# " + "-" * 6000 + "\na: [b\n", encoding="utf-8")
    result = run(tmp_path, "dashes.yaml")
    assert result.stdout.splitlines()[0] == (
        "dashes.yaml:3:1: error INTCFG-E001 invalid YAML: did not find expected ',' or ']' "
        "(while parsing a flow sequence started at line 2, column 4)"
    )
    assert result.returncode == 1


def test_nesting_past_the_limit_names_its_line() -> None:
    text = "spec:\n  deep: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n"
    loaded = load_text("f.yaml", text)
    assert [(f.rule, f.location.line) for f in loaded.findings] == [("INTCFG-E005", 2)]


# -- bytes and characters --------------------------------------------------------------


def test_a_latin_1_byte_is_named_by_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes("a: 1\nname: Caf\xe9 Nord\n".encode("latin-1"))
    loaded = load_file(str(path))
    assert [(f.rule, f.location.line, f.location.column) for f in loaded.findings] == [
        ("INTCFG-E003", 2, 10)
    ]
    assert loaded.findings[0].message == (
        "the file is not valid UTF-8 (byte 0xe9 at offset 14); save it as UTF-8"
    )


def test_a_utf8_bom_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.yaml"
    path.write_bytes(b"\xef\xbb\xbfname: Caf\xc3\xa9\n")
    loaded = load_file(str(path))
    assert loaded.findings == []
    assert loaded.documents[0].data == {"name": "Café"}


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f"])
def test_a_control_character_is_named_by_line_and_column(char: str) -> None:
    loaded = load_text("f.yaml", f"a: 1\nname: é{char}x\n")
    assert lines(loaded.findings) == [
        f"f.yaml:2:8: error INTCFG-E001 invalid YAML: the control character U+{ord(char):04X} "
        "is not allowed; remove it (only tab, line feed and carriage return may appear)"
    ]


def test_tab_indentation_says_to_use_spaces() -> None:
    loaded = load_text("f.yaml", "metadata:\n\tname: x\n")
    assert lines(loaded.findings) == [
        "f.yaml:2:1: error INTCFG-E001 invalid YAML: a tab where YAML expects spaces; "
        "YAML does not allow tabs for indentation: use spaces"
    ]


def test_a_tab_inside_a_value_is_fine() -> None:
    loaded = load_text("f.yaml", 'name: "a\tb"\n')
    assert loaded.findings == []
    assert loaded.documents[0].data == {"name": "a\tb"}


# -- documents -------------------------------------------------------------------------


def test_an_empty_file_is_a_warning_and_exit_0(repo: Path) -> None:
    (repo / "districts" / "maple-usd" / "empty.yaml").write_text("", encoding="utf-8")
    result = run(repo, "districts/maple-usd/empty.yaml")
    assert result.stdout == (
        "districts/maple-usd/empty.yaml:1:1: warning INTCFG-W001 the file has no YAML documents\n"
        "0 errors, 1 warning in 1 file (0 documents)\n"  # the file named has none
    )
    assert result.returncode == 0
    assert run(repo, "--strict", "districts/maple-usd/empty.yaml").returncode == 1


def test_multi_document_files_keep_each_documents_lines() -> None:
    text = "# one\na: 1\n---\nb: 2\n---\n---\nc:\n  d: [1, 2]\n...\n"
    loaded = load_text("f.yaml", text)
    assert [d.data for d in loaded.documents] == [{"a": 1}, {"b": 2}, {"c": {"d": [1, 2]}}]
    assert [d.index for d in loaded.documents] == [0, 1, 3]
    assert str(loaded.documents[2].locate(("c", "d", 1))) == "f.yaml:8:10"
    assert lines(loaded.findings) == ["f.yaml:6:1: warning INTCFG-W001 document 3 is empty"]


def test_a_multi_document_file_reports_each_document_at_its_line(repo: Path) -> None:
    two = (
        "apiVersion: intcfg/v1\nkind: Schedule\nmetadata: {name: a, district: maple-usd}\n"
        'spec: {connection: powerschool, job: export-student, time: "01:00"}\n'
        "---\n"
        "apiVersion: intcfg/v1\nkind: Schedule\nmetadata: {name: b, district: maple-usd}\n"
        'spec: {connection: powerschool, job: import-school, time: "25:00"}\n'
    )
    (repo / "districts" / "maple-usd" / "two.yaml").write_text(two, encoding="utf-8")
    report = validate([Path("districts/maple-usd/two.yaml")])
    assert lines(report.findings) == [
        "districts/maple-usd/two.yaml:4:38: error INTCFG-E215 connection 'powerschool' has no "
        "export-student FieldMapping; configure the mapping before scheduling its job",
        "districts/maple-usd/two.yaml:9:59: error INTCFG-E108 time is '25:00'; expected a time "
        'of day, HH:MM from 00:00 to 23:59, quoted, e.g. "02:00"',
    ]


def test_a_file_over_the_size_limit_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 5000 + "\n", encoding="utf-8")
    loaded = load_file(str(path), max_bytes=4096)
    assert lines(loaded.findings) == [
        f"{path}:1:1: error INTCFG-E004 the file is 4.9 KiB, over the limit of 4.0 KiB "
        "(limits.maxFileBytes in intcfg.yaml); split it into smaller files"
    ]


def test_the_size_limit_comes_from_intcfg_yaml(repo: Path) -> None:
    settings = repo / "intcfg.yaml"
    settings.write_text(settings.read_text() + "limits:\n  maxFileBytes: 2048\n", encoding="utf-8")
    big = repo / "districts" / "maple-usd" / "etranscript.yaml"
    big.write_text(big.read_text() + "# padding\n" * 250, encoding="utf-8")
    result = run(repo, "--quiet")
    assert result.stdout == (
        "districts/maple-usd/etranscript.yaml:1:1: error INTCFG-E004 the file is 2.9 KiB, over the "
        "limit of 2.0 KiB (limits.maxFileBytes in intcfg.yaml); split it into smaller files\n"
    )
    assert result.returncode == 1


# -- YAML 1.1 surprises ----------------------------------------------------------------

SURPRISES = [
    ("on", "boolean true"),
    ("no", "boolean false"),
    ("OFF", "boolean false"),
    ("012", "integer 10"),
    ("1:30", "integer 90"),
    ("0x1F", "integer 31"),
    ("1_000", "integer 1000"),
    ("3.10", "number 3.1"),
    ("~", "null"),
]


@pytest.mark.parametrize(("raw", "read_as"), SURPRISES)
def test_yaml_1_1_surprises_are_flagged_where_a_string_is_expected(
    repo: Path, raw: str, read_as: str
) -> None:
    district = repo / "districts" / "maple-usd" / "district.yaml"
    district.write_text(
        district.read_text().replace("name: Maple Unified School District", f"name: {raw}"),
        encoding="utf-8",
    )
    report = validate([Path("districts/maple-usd/district.yaml")])
    read_as = read_as if read_as == "null" else f"the {read_as}"
    assert lines(report.findings) == [
        f"districts/maple-usd/district.yaml:6:9: error INTCFG-E010 name: the unquoted value "
        f"{raw!r} was read as {read_as} (YAML 1.1), but a string is expected here: "
        f'quote it, e.g. "{raw}"'
    ]


@pytest.mark.parametrize("raw", [raw for raw, _ in SURPRISES])
@pytest.mark.parametrize("quote", ['"', "'"])
def test_quoted_they_are_strings(repo: Path, raw: str, quote: str) -> None:
    district = repo / "districts" / "maple-usd" / "district.yaml"
    district.write_text(
        district.read_text().replace(
            "name: Maple Unified School District", f"name: {quote}{raw}{quote}"
        ),
        encoding="utf-8",
    )
    report = validate([Path("districts/maple-usd/district.yaml")])
    assert report.findings == ()


def test_an_unquoted_date_stays_text() -> None:
    loaded = load_text("f.yaml", "credentialsRotated: 2026-09-01\n")
    assert loaded.documents[0].data == {"credentialsRotated": "2026-09-01"}


# -- anything at all -------------------------------------------------------------------


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("ab:-[]{}&*!|>'\"#%@`,?\n\t \\0123\x07\x85é<")),
        max_size=80,
    )
)
def test_any_text_loads_to_documents_or_findings_never_an_exception(text: str) -> None:
    loaded = load_text("f.yaml", text)
    for finding in loaded.findings:
        assert finding.rule.startswith("INTCFG-")
        assert finding.location.line >= 1 and finding.location.column >= 1
        assert "\n" not in finding.message
