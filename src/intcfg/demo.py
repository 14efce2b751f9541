"""`intcfg demo`: the loop on the example repository, as a user would type it.

Each step runs the real CLI in a subprocess inside a temporary git repository
copied from config-repo-example, and shows the command and its output.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

# The example's credential rotation dates are fixed; the demo's clock is too, so the
# demo tells the same story on any day. `intcfg validate` in your own repository
# uses the real date.
DEMO_TODAY = "2026-11-22"


class Step(NamedTuple):
    title: str
    args: list[str]
    expect: int
    prepare: Callable[[Path], None] | None = None


def example_dir() -> Path:
    here = Path(__file__).resolve().parent
    packaged = here / "example"
    return packaged if packaged.is_dir() else here.parents[1] / "config-repo-example"


def _git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=intcfg demo", "-c", "user.email=demo@intcfg.invalid", *args],
        cwd=repo,
        check=True,
        capture_output=True,
    )


def _break_user_name(repo: Path) -> None:
    path = repo / "districts/hillcrest-isd/etranscript.yaml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace("transcripts@hillcrest-isd.example.org", "x" * 101), encoding="utf-8")


def _restore(repo: Path) -> None:
    _git(repo, "checkout", "--", ".")


STEPS = (
    Step("Validate the whole repository offline (what the pre-commit hook runs)", ["validate"], 0),
    Step(
        "The effective ETS configuration of the charter school (district base + site override)",
        ["render", "--district", "riverside-usd", "--site", "river-charter"],
        0,
    ),
    Step(
        "A bad edit is caught with file, line, rule and the seed's limit (User Name <= 100 characters)",
        ["validate", "districts/hillcrest-isd/etranscript.yaml"],
        1,
        _break_user_name,
    ),
    Step("The same finding as a pull-request annotation", ["validate", "--format", "github"], 1),
    Step("Back to the committed state", ["validate", "--quiet"], 0, _restore),
)


def run(emit: Callable[[str], None]) -> int:
    """Run every step, emitting the narrative; returns the exit code."""
    with tempfile.TemporaryDirectory(prefix="intcfg-demo-") as tmp:
        repo = Path(tmp) / "district-config"
        shutil.copytree(example_dir(), repo)
        _git(repo, "init", "-q", "-b", "main")
        _git(repo, "add", "-A")
        _git(repo, "commit", "-q", "-m", "District integrations as code")
        env = {**os.environ, "INTCFG_TODAY": DEMO_TODAY, "NO_COLOR": "1"}
        emit(f"intcfg demo: a copy of the example repository in a temporary git repository (demo clock: {DEMO_TODAY})\n")
        for number, step in enumerate(STEPS, 1):
            if step.prepare:
                step.prepare(repo)
            emit(f"\n== {number}. {step.title}\n$ intcfg {' '.join(step.args)}\n")
            code, output = _run_cli(step.args, repo, env)
            emit(output)
            if code != step.expect:
                emit(f"\ndemo failed: `intcfg {' '.join(step.args)}` exited {code}, expected {step.expect}\n")
                return 1
            emit(f"(exit {code})\n")
        emit("\nDemo complete.\n")
    return 0


def _run_cli(args: list[str], repo: Path, env: dict[str, str]) -> tuple[int, str]:
    proc = subprocess.run(
        [sys.executable, "-m", "intcfg", *args], cwd=repo, env=env, capture_output=True, text=True
    )
    return proc.returncode, proc.stdout + proc.stderr
