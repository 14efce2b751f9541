"""The README's 5-minute walkthrough, run as written, so it cannot rot.

Blocks marked `<!-- walkthrough -->` run in order in one empty directory: a ```yaml block
is written to the file its first line names (`# path`), a ```sh block runs in bash, each
command checked for exit status 0, or N when its comment says `exit status N`. The block
marked `<!-- walkthrough:server -->` is the second terminal: its `intcfg sim serve` is
started first, on a free port (`--port 0`) that replaces 8787 in the other blocks. Each
line of a `<!-- walkthrough:output -->` block must appear in what the commands printed.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from pathlib import Path
from typing import NamedTuple

from conftest import INTCFG, REPO_ROOT

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
PORT = "8787"
MARK = re.compile(r"<!-- walkthrough(?::(\w+))? -->\n```(\w+)\n(.*?)```", re.S)
STARTUP_SECONDS = 60.0


class Block(NamedTuple):
    role: str  # "" (run or write), "server" or "output"
    lang: str
    text: str


def blocks() -> list[Block]:
    return [Block(role or "", lang, text) for role, lang, text in MARK.findall(README)]


def commands(text: str) -> list[str]:
    """The logical command lines of a shell block: continuations and multi-line quotes joined."""
    out: list[str] = []
    pending = ""
    for line in text.splitlines():
        if not pending and (not line.strip() or line.lstrip().startswith("#")):
            continue
        pending += line + "\n"
        if line.endswith("\\"):
            continue
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on
            continue
        out.append(pending.rstrip("\n"))
        pending = ""
    assert not pending, f"unterminated command: {pending!r}"
    return out


def expected_status(command: str) -> int:
    found = re.search(r"#.*\bexit status (\d+)", command.splitlines()[-1])
    return int(found.group(1)) if found else 0


def script(steps: list[Block], port: str) -> str:
    """One bash script for the walkthrough's files and commands."""
    lines = ['cd "$1"']
    for block in steps:
        text = block.text.replace(f"127.0.0.1:{PORT}", f"127.0.0.1:{port}")
        if block.lang == "yaml":
            path = text.splitlines()[0].removeprefix("# ").strip()
            assert re.fullmatch(r"[\w./-]+\.ya?ml", path), (
                f"a yaml block names its file first: {path!r}"
            )
            lines += [
                f"mkdir -p {shlex.quote(str(Path(path).parent))}",
                f"cat > {shlex.quote(path)} <<'WALKTHROUGH_EOF'",
                text.rstrip("\n"),
                "WALKTHROUGH_EOF",
            ]
            continue
        assert block.lang == "sh", block
        for command in commands(text):
            status = expected_status(command)
            shown = shlex.quote(command.splitlines()[0])
            lines += [
                f'echo "\\$ "{shown}',
                command,
                f'rc=$?; if [ $rc -ne {status} ]; then echo "walkthrough: "{shown}" exited $rc, '
                f'expected {status}" >&2; exit 1; fi',
            ]
    return "\n".join(lines) + "\n"


def environment(tmp: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "INTCFG_", "GIT_"))}
    env.update(
        PATH=f"{Path(INTCFG).parent}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(tmp / "home"),
        NO_COLOR="1",
        GIT_CONFIG_NOSYSTEM="1",
        GIT_AUTHOR_NAME="Registrar",
        GIT_AUTHOR_EMAIL="registrar@district.example.org",
        GIT_COMMITTER_NAME="Registrar",
        GIT_COMMITTER_EMAIL="registrar@district.example.org",
    )
    (tmp / "home").mkdir()
    return env


def start_server(block: Block, cwd: Path, env: dict[str, str]) -> tuple[subprocess.Popen[str], str]:
    """The second terminal: its exports, then its `intcfg sim serve` on a free port."""
    server_env = dict(env)
    serve: list[str] = []
    for command in commands(block.text):
        words = shlex.split(command, comments=True)
        if words[0] == "export":
            name, _, value = words[1].partition("=")
            server_env[name] = value
        else:
            assert words[:3] == ["intcfg", "sim", "serve"], command
            serve = words
    assert serve, "the server block starts intcfg sim serve"
    proc = subprocess.Popen(
        [*serve, "--port", "0"],
        cwd=cwd,
        env=server_env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()
    found = re.search(r"listening on http://127\.0\.0\.1:(\d+)", line)
    if found is None:
        proc.kill()
        raise AssertionError(f"the simulator did not start: {line!r} {proc.communicate()[1]!r}")
    return proc, found.group(1)


def test_the_walkthrough_runs_as_written(tmp_path: Path) -> None:
    steps = blocks()
    roles = [b.role for b in steps]
    assert roles.count("server") == 1 and "output" in roles, roles
    work = tmp_path / "district-config"
    work.mkdir()
    env = environment(tmp_path)
    server_block = next(b for b in steps if b.role == "server")
    proc, port = start_server(server_block, work, env)
    try:
        run = subprocess.run(
            [
                "bash",
                "-c",
                script([b for b in steps if not b.role], port),
                "walkthrough",
                str(work),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=240,
        )
    finally:
        proc.terminate()
        proc.communicate(timeout=30)
    printed = run.stdout + run.stderr
    assert run.returncode == 0, printed
    for block in steps:
        if block.role == "output":
            for line in block.text.splitlines():
                assert line in printed.splitlines(), (
                    f"the README shows {line!r}; the run printed:\n{printed}"
                )
    log = subprocess.run(
        ["git", "log", "--format=%s", "intcfg/audit"],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
    )
    assert log.stdout.splitlines() == [
        "intcfg apply: 0 created, 1 updated, 0 deleted (riverside-usd)",
        "intcfg apply: 1 created, 0 updated, 0 deleted (riverside-usd)",
    ]


def test_the_walkthrough_covers_the_loop() -> None:
    text = "\n".join(b.text for b in blocks())
    for step in (
        "git init",
        "intcfg validate",
        "intcfg sim serve",
        "intcfg test",
        "intcfg plan",
        "intcfg apply",
        "intcfg drift",
        "intcfg reconcile",
        "git log",
    ):
        assert step in text, step
    assert "# intcfg.yaml" in text
