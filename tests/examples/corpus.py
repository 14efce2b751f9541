"""Reading the example corpus: a valid base repository, and cases that change it.

    tests/examples/base/            a small, complete, valid config repository
    tests/examples/valid/<case>/    files that replace or join the base's; still valid
    tests/examples/invalid/<case>/  the same, plus expected.txt:

        args: --strict              optional: extra options for `intcfg validate`
        exit: 1                     the exit code
        path:line:col: severity RULE message
        ...                         every line `intcfg validate --quiet` prints
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import NamedTuple

EXAMPLES = Path(__file__).resolve().parent
BASE = EXAMPLES / "base"
VALID = EXAMPLES / "valid"
INVALID = EXAMPLES / "invalid"
EXPECTED = "expected.txt"
FINDING = re.compile(r"^(?P<file>[^:]+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning) (?P<rule>INTCFG-[EW]\d{3}) ")
CANARY = re.compile(r"CANARY-[A-Za-z0-9-]+")


class Expected(NamedTuple):
    args: tuple[str, ...]
    exit: int
    lines: tuple[str, ...]

    def rules(self) -> set[str]:
        return {m["rule"] for m in map(FINDING.match, self.lines) if m}


def cases(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.is_dir())


def case_files(case: Path) -> list[Path]:
    """The case's files, relative to the case folder (expected.txt is not one)."""
    return sorted(
        p.relative_to(case) for p in case.rglob("*") if p.is_file() and p.name != EXPECTED
    )


def build(case: Path, dest: Path) -> Path:
    """A copy of the base repository at ``dest`` with the case's files laid over it."""
    shutil.copytree(BASE, dest)
    for rel in case_files(case):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(case / rel, target)
    return dest


def expected(case: Path) -> Expected:
    lines = (case / EXPECTED).read_text(encoding="utf-8").splitlines()
    args: tuple[str, ...] = ()
    if lines[0].startswith("args: "):
        args = tuple(lines.pop(0).removeprefix("args: ").split())
    head = lines.pop(0)
    if not head.startswith("exit: "):
        raise ValueError(f"{case / EXPECTED}: the first line must be 'exit: N', not {head!r}")
    return Expected(args, int(head.removeprefix("exit: ")), tuple(lines))


def canaries(case: Path) -> set[str]:
    """Secret values planted in the case's files; no output may ever contain them."""
    found: set[str] = set()
    for rel in case_files(case):
        found.update(CANARY.findall((case / rel).read_text(encoding="utf-8", errors="replace")))
    return found
