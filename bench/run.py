"""The validation benchmark: intcfg validate against check-jsonschema, same documents.

    .venv/bin/python bench/run.py            (or: make bench)

Generates (a) a 5-file repository, validated as a pre-commit hook would (file names as
arguments), and (b) a 2,000-file repository, validated whole; times the real console
scripts as subprocesses and prints medians, ratios and the goals. See bench/README.md.
The exit status is 0 whenever the measurement ran, whether or not a goal was met.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path
from typing import NamedTuple

import gen

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
INTCFG = str(BIN / "intcfg")
CHECK_JSONSCHEMA = str(BIN / "check-jsonschema")
SCHEMA = str(ROOT / "schemas" / "any.json")
FLOOR_RUNS = 7


class Case(NamedTuple):
    key: str
    what: str
    files: int
    seed: int
    runs: int
    goal: float
    hook: bool  # pass the file names, as pre-commit does; else validate the whole repository

    @property
    def title(self) -> str:
        return f"{self.files:,} files, {self.what}"


CASES = (
    Case("a", "as a pre-commit hook", 5, 1, 5, 0.33, True),
    Case("b", "the whole repository", 2000, 2, 3, 0.25, False),
)


class Repo(NamedTuple):
    root: Path
    files: list[str]  # relative to root
    documents: int
    size: int


def environment() -> dict[str, str]:
    """The subprocesses' environment: bytecode caches on (as installed), a fixed clock."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PYTHONDONTWRITEBYTECODE", "INTCFG_VALIDATE_PROCESSES")
    }
    env["INTCFG_TODAY"] = gen.TODAY
    env["NO_COLOR"] = "1"
    return env


def split(repo: Path, dest: Path) -> Repo:
    """The same documents, one per file: check-jsonschema reads one document per file."""
    shutil.copy(repo / "intcfg.yaml", dest / "intcfg.yaml")
    files = []
    for path in sorted(repo.rglob("*.yaml")):
        if path.name == "intcfg.yaml":
            continue
        docs = re.split(r"^---\n", path.read_text(encoding="utf-8"), flags=re.MULTILINE)
        for i, doc in enumerate(docs, start=1):
            rel = path.relative_to(repo)
            name = rel if len(docs) == 1 else rel.with_name(f"{rel.stem}-{i}.yaml")
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_text(doc, encoding="utf-8")
            files.append(str(name))
    return Repo(dest, files, len(files), sum((dest / f).stat().st_size for f in files))


def build(case: Case, tmp: Path) -> tuple[Repo, Repo]:
    root = tmp / f"{case.key}-repo"
    paths = gen.generate(root, case.files, case.seed)
    texts = [p.read_text(encoding="utf-8") for p in paths]
    repo = Repo(
        root,
        [str(p.relative_to(root)) for p in paths],
        sum(len(re.findall(r"^---\n", t, flags=re.MULTILINE)) + 1 for t in texts),
        sum(len(t.encode()) for t in texts),
    )
    single = tmp / f"{case.key}-one-document-per-file"
    single.mkdir()
    return repo, split(root, single)


def intcfg_command(case: Case, repo: Repo) -> list[str]:
    return [INTCFG, "validate", *repo.files] if case.hook else [INTCFG, "validate"]


def cj_command(repo: Repo) -> list[str]:
    return [CHECK_JSONSCHEMA, "--schemafile", SCHEMA, *repo.files]


def verify(command: list[str], cwd: Path, env: dict[str, str], what: str) -> None:
    """Run once (this also writes the bytecode caches) and insist on a clean success."""
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)
    clean = done.returncode == 0 and (
        command[0] != INTCFG or done.stdout.startswith("0 errors, 0 warnings")
    )
    if not clean:
        raise SystemExit(
            f"bench: {what} did not succeed cleanly (exit {done.returncode}), so a timing would "
            f"mean nothing:\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
        )


class Timing(NamedTuple):
    wall: float  # ms
    cpu: float  # ms of user and system time, the command's own processes included


def timed(command: list[str], cwd: Path, env: dict[str, str]) -> Timing:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(
        command,
        cwd=cwd,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=600,
        check=False,
    )
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return Timing(wall * 1000, cpu * 1000)


def medians(
    commands: dict[str, tuple[list[str], Path, dict[str, str]]], runs: int
) -> dict[str, Timing]:
    """Median times of each command; the commands take turns, so drift hits all alike."""
    times: dict[str, list[Timing]] = {name: [] for name in commands}
    for _ in range(runs):
        for name, (command, cwd, env) in commands.items():
            times[name].append(timed(command, cwd, env))
    return {
        name: Timing(statistics.median(x.wall for x in t), statistics.median(x.cpu for x in t))
        for name, t in times.items()
    }


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def header() -> list[str]:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return [
        f"date {time.strftime('%Y-%m-%d')}; {platform.system()} {platform.machine()}, "
        f"{cores} cores; Python {platform.python_version()}",
        f"intcfg {version('intcfg')}, check-jsonschema {version('check-jsonschema')}, "
        f"PyYAML {version('PyYAML')}, jsonschema-rs {version('jsonschema-rs')}",
        "subprocesses run without PYTHONDONTWRITEBYTECODE, after a warm-up run that wrote the "
        "bytecode caches; wall time of the console scripts (the goals) and their CPU time "
        "(user + system, child processes included), medians of the runs",
    ]


Row = tuple[str, Timing, Timing, float | None]  # case, intcfg, check-jsonschema, goal


def run_case(case: Case, tmp: Path, env: dict[str, str]) -> list[Row]:
    repo, single = build(case, tmp)
    commands = {
        "intcfg": (intcfg_command(case, repo), repo.root, env),
        "intcfg-single": (intcfg_command(case, single), single.root, env),
        "cj": (cj_command(single), single.root, env),
    }
    if not case.hook:
        commands["intcfg-1p"] = (
            intcfg_command(case, repo),
            repo.root,
            {**env, "INTCFG_VALIDATE_PROCESSES": "1"},
        )
    for name, (command, cwd, cmd_env) in commands.items():
        verify(command, cwd, cmd_env, f"{name} on case ({case.key})")
    print(
        f"({case.key}) {case.title}: {len(repo.files)} files, {repo.documents} documents, "
        f"{repo.size / 1e6:.2f} MB; check-jsonschema reads the same documents as "
        f"{len(single.files)} one-document files (it cannot read multi-document YAML)"
    )
    t = medians(commands, case.runs)
    rows: list[Row] = [
        (f"({case.key}) {case.title}", t["intcfg"], t["cj"], case.goal),
        (f"({case.key}) same, one document per file", t["intcfg-single"], t["cj"], case.goal),
    ]
    if "intcfg-1p" in t:
        rows.append((f"({case.key}) intcfg in one process", t["intcfg-1p"], t["cj"], None))
    return rows


def missed(row: Row) -> bool:
    return row[3] is not None and row[1].wall / row[2].wall > row[3]


def table(rows: list[Row]) -> list[str]:
    out = [
        f"{'case':<46} {'intcfg ms':>10} {'check-jsonschema ms':>20} "
        f"{'ratio':>6} {'goal':>6}  result   cpu ms: intcfg / check-jsonschema"
    ]
    for row in rows:
        title, ours, theirs, goal = row
        verdict = "context" if goal is None else "FAIL" if missed(row) else "PASS"
        shown_goal = "" if goal is None else f"{goal:.2f}"
        out.append(
            f"{title:<46} {ours.wall:>10.0f} {theirs.wall:>20.0f} "
            f"{ours.wall / theirs.wall:>6.2f} {shown_goal:>6}  {verdict:<7}  "
            f"{ours.cpu:.0f} / {theirs.cpu:.0f}"
        )
    return out


def floors(env: dict[str, str], cwd: Path) -> list[str]:
    verify(
        [sys.executable, "-c", "import yaml, jsonschema_rs"],
        cwd,
        env,
        "importing PyYAML and jsonschema-rs",
    )
    t = medians(
        {
            "pass": ([sys.executable, "-c", "pass"], cwd, env),
            "imports": ([sys.executable, "-c", "import yaml, jsonschema_rs"], cwd, env),
        },
        FLOOR_RUNS,
    )
    return [
        f"floor: python -c pass {t['pass'].wall:.0f} ms; "
        f"python -c 'import yaml, jsonschema_rs' {t['imports'].wall:.0f} ms "
        f"(median of {FLOOR_RUNS})"
    ]


CROSSOVER_FILES = (50, 100, 200, 400, 800)
CROSSOVER_RUNS = 5


def crossover(tmp: Path, env: dict[str, str]) -> list[str]:
    """intcfg in one process against two, by file count: where forking starts to pay."""
    out = [f"{'files':>6} {'1 process ms':>13} {'2 processes ms':>15} {'2 / 1':>6}"]
    for files in CROSSOVER_FILES:
        root = tmp / f"crossover-{files}"
        gen.generate(root, files, seed=3)
        one = {**env, "INTCFG_VALIDATE_PROCESSES": "1"}
        two = {**env, "INTCFG_VALIDATE_PROCESSES": "2"}
        verify([INTCFG, "validate"], root, one, f"intcfg on {files} files")
        t = medians(
            {"1": ([INTCFG, "validate"], root, one), "2": ([INTCFG, "validate"], root, two)},
            CROSSOVER_RUNS,
        )
        one_wall, two_wall = t["1"].wall, t["2"].wall
        out.append(f"{files:>6} {one_wall:>13.0f} {two_wall:>15.0f} {two_wall / one_wall:>6.2f}")
    return out


def load() -> str:
    one, five, _ = os.getloadavg()
    return (
        f"load average {one:.2f} (1 min), {five:.2f} (5 min): "
        "other work on the machine slows both tools"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=2000, help="files of case (b) (default: 2000)")
    parser.add_argument(
        "--crossover",
        action="store_true",
        help="instead: intcfg in one process against two at 50-800 files (PARALLEL_FROM)",
    )
    args = parser.parse_args(argv)
    if args.crossover:
        for line in [*header(), load()]:
            print(line)
        with tempfile.TemporaryDirectory(prefix="intcfg-bench-") as tmp:
            for line in [*crossover(Path(tmp), environment()), load()]:
                print(line)
        return 0
    cases = [c._replace(files=args.files) if c.key == "b" else c for c in CASES]
    env = environment()
    for line in [*header(), load()]:
        print(line)
    with tempfile.TemporaryDirectory(prefix="intcfg-bench-") as tmp:
        lines = floors(env, Path(tmp))
        rows: list[Row] = []
        for case in cases:
            rows.extend(run_case(case, Path(tmp), env))
    print()
    for line in [*table(rows), *lines, load()]:
        print(line)
    failed = [r[0] for r in rows if missed(r)]
    print("all goals met" if not failed else f"GOAL MISSED: {'; '.join(failed)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
