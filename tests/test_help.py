"""Every command's help is complete, and its examples are real invocations.

The command tree is walked, so a new command without a summary, a description, help for
each option and argument, or examples fails here. Each example line is parsed against
its command (click's make_context, types and path checks included) in a copy of the
example repository, so renaming an option breaks its examples here first. The command
lines of the README's shell blocks are parsed the same way.
"""

from __future__ import annotations

import getopt
import inspect
import re
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from conftest import INTCFG, REPO_ROOT, cli_env
from intcfg import validate_cmd
from intcfg.cli import cli

# Files the examples name that the example repository does not have.
EXAMPLE_FILES = ("plan.json", "students.csv")
WIDTH = 80  # a terminal's; the command listing must not cut a summary short there
SUMMARY_MAX = 56


def _walk(
    command: click.Command, path: tuple[str, ...]
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, command
    if isinstance(command, click.Group):
        for name in sorted(command.commands):
            yield from _walk(command.commands[name], (*path, name))


TREE = list(_walk(cli, ("intcfg",)))
CLICK_COMMANDS = [(p, c) for p, c in TREE if p != ("intcfg", "validate")]
GROUPS = [(p, c) for p, c in TREE if isinstance(c, click.Group)]


def _ids(items: list[tuple[tuple[str, ...], click.Command]]) -> list[str]:
    return [" ".join(p) for p, _ in items]


def _help(command: click.Command) -> str:
    return inspect.cleandoc(command.help or "")


def _paragraphs(text: str) -> list[str]:
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def _examples(text: str) -> list[str]:
    """The lines under 'Examples:', up to the next blank line."""
    assert "Examples:" in text, "no Examples: section"
    lines = text.split("Examples:", 1)[1].splitlines()[1:]
    out = []
    for line in lines:
        if not line.strip():
            break
        out.append(line.strip())
    assert out, "an empty Examples: section"
    return out


def _invocations(line: str) -> list[list[str]]:
    """The intcfg argument lists of a shell line (`a && b`, `NAME=value intcfg ...`)."""
    out = []
    for part in line.split("&&"):
        words = shlex.split(part, comments=True)
        while words and re.fullmatch(r"[A-Z_][A-Z0-9_]*=\S*", words[0]):
            words = words[1:]
        if words and words[0] == "intcfg":
            out.append(words[1:])
    return out


def _rest(ctx: click.Context) -> list[str]:
    protected = getattr(ctx, "_protected_args", None)
    if protected is None:  # click < 8.2
        protected = ctx.protected_args
    return [*protected, *ctx.args]


def parse_invocation(args: list[str]) -> None:
    """Parse ``intcfg ARGS`` the way the CLI does, without running it; raises on a bad one."""
    command: click.Command = cli
    name, parent = "intcfg", None
    while True:
        try:
            ctx = command.make_context(name, list(args), parent=parent, resilient_parsing=False)
        except click.exceptions.Exit as e:  # --help, --version
            assert e.exit_code == 0
            return
        if not isinstance(command, click.Group):
            return
        rest = _rest(ctx)
        assert rest, f"no command after {name!r}"
        if command is cli and rest[0] == "validate":
            options = validate_cmd.parse(rest[1:])
            assert options is not None
            for path in options.paths:
                assert Path(path).exists(), f"validate: {path} does not exist"
            return
        sub = command.get_command(ctx, rest[0])
        assert sub is not None, f"{name}: no command {rest[0]!r}"
        command, name, args, parent = sub, rest[0], rest[1:], ctx


@pytest.fixture
def in_example_repo(example_repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in EXAMPLE_FILES:
        (example_repo / name).write_text("", encoding="utf-8")
    monkeypatch.chdir(example_repo)
    return example_repo


# -- intcfg --help, as a user runs it


def test_intcfg_help_lists_every_command_with_its_whole_summary_and_the_exit_codes() -> None:
    proc = subprocess.run(
        [INTCFG, "--help"],
        capture_output=True,
        text=True,
        env=cli_env(COLUMNS=str(WIDTH)),
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    listing = proc.stdout.split("\nCommands:\n", 1)[1]
    for name, command in sorted(cli.commands.items()):
        summary = command.get_short_help_str(limit=1000)
        assert re.search(rf"^  {re.escape(name)}  +{re.escape(summary)}$", listing, re.M), (
            name,
            summary,
        )
    codes = proc.stdout.split("Exit codes:", 1)[1]
    for code in ("0", "1", "2", "3", "130"):
        assert re.search(rf"^\s+{code}\s+\w", codes, re.M), code
    assert "Examples:" in proc.stdout


@pytest.mark.parametrize(("path", "group"), GROUPS[1:], ids=_ids(GROUPS[1:]))
def test_subgroup_help_lists_whole_summaries(path: tuple[str, ...], group: click.Group) -> None:
    result = CliRunner().invoke(
        cli, [*path[1:], "--help"], prog_name="intcfg", terminal_width=WIDTH
    )
    assert result.exit_code == 0, result.output
    for name, command in group.commands.items():
        assert f"  {name}  " in result.output
        assert command.get_short_help_str(limit=1000) in result.output


# -- each command


@pytest.mark.parametrize(("path", "command"), CLICK_COMMANDS, ids=_ids(CLICK_COMMANDS))
def test_command_help_is_complete(path: tuple[str, ...], command: click.Command) -> None:
    result = CliRunner().invoke(cli, [*path[1:], "--help"], prog_name="intcfg")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"Usage: {' '.join(path)} ")
    text = _help(command)
    paragraphs = _paragraphs(text)
    summary = paragraphs[0]
    assert "\n" not in summary and summary.endswith("."), f"summary: {summary!r}"
    assert len(summary) <= SUMMARY_MAX, f"summary longer than {SUMMARY_MAX}: {summary!r}"
    assert len(paragraphs) >= 3, "a summary, a description and examples"
    _examples(text)
    ctx = click.Context(command, info_name=path[-1])
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"{path}: {param.opts} has no help"
        elif isinstance(param, click.Argument):
            metavar = re.sub(r"[\[\].]", "", param.make_metavar(ctx))
            assert metavar in " ".join(paragraphs[1:]), (
                f"{path}: argument {metavar} is not described"
            )


@pytest.mark.parametrize(("path", "command"), TREE, ids=_ids(TREE))
def test_examples_parse_against_their_command(
    path: tuple[str, ...], command: click.Command, in_example_repo: Path
) -> None:
    text = validate_cmd.HELP if path == ("intcfg", "validate") else _help(command)
    for line in _examples(text):
        invocations = _invocations(line)
        assert invocations, f"{line!r} runs no intcfg command"
        first = invocations[0][: len(path) - 1]
        assert first == list(path[1:]), f"{line!r} is not an example of {' '.join(path)}"
        for args in invocations:
            parse_invocation(args)


def test_validate_help_is_complete(monkeypatch: pytest.MonkeyPatch) -> None:
    result = CliRunner().invoke(cli, ["validate", "--help"], prog_name="intcfg")
    assert result.exit_code == 0, result.output
    assert result.output == validate_cmd.HELP
    body = validate_cmd.HELP.split("\n", 1)[1]
    summary = _paragraphs(body)[0]
    assert summary == cli.commands["validate"].get_short_help_str(limit=1000)
    assert len(summary) <= SUMMARY_MAX
    options = validate_cmd.HELP.split("\nOptions:\n", 1)[1]
    seen: list[tuple[str, list[str]]] = []
    real = getopt.gnu_getopt

    def spy(args: list[str], short: str, long: list[str]) -> object:
        seen.append((short, long))
        return real(args, short, long)

    monkeypatch.setattr(validate_cmd.getopt, "gnu_getopt", spy)
    validate_cmd.parse([])
    ((short, long),) = seen
    for letter in short.replace(":", ""):
        assert re.search(rf"^\s+-{letter}\b", options, re.M), f"-{letter} is not in validate's help"
    for name in long:
        assert f"--{name.rstrip('=')}" in options, f"--{name} is not in validate's help"


# -- the README


def _readme_command_lines() -> list[str]:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    lines = []
    for lang, block in re.findall(r"```(sh|console)\n(.*?)```", readme, re.S):
        for line in block.splitlines():
            if lang == "console":
                if not line.startswith("$ "):
                    continue
                line = line[2:]
            if "intcfg " in line and _invocations(line):
                lines.append(line)
    return lines


@pytest.mark.parametrize("line", _readme_command_lines())
def test_readme_command_lines_parse(line: str, in_example_repo: Path) -> None:
    for args in _invocations(line):
        parse_invocation(args)
