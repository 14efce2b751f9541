"""Validate a config repository offline: load, schema, semantic rules -> Report.

Imports only PyYAML, jsonschema-rs and the standard library: this is what the
pre-commit hook runs on every commit.
"""

from __future__ import annotations

import gc
import os
import sys
from pathlib import Path
from typing import Any, NamedTuple

from .. import defaults
from ..errors import ConfigError
from ..findings import Finding, Report
from ..loader import Document, load_file
from ..repo import RepoSettings, discover, expand, find_root
from . import rules, schema

# From this many files on, validate checks files in several processes: below it, the
# fork and the transfer of the results cost more than they save (see bench/RESULTS.md).
PARALLEL_FROM = 200
MAX_PROCESSES = 4
PROCESSES_ENV = "INTCFG_VALIDATE_PROCESSES"


class _Checked(NamedTuple):
    """One file after loading and schema checks: plain data, so a worker can send it."""

    file: str
    text: str | None
    documents: list[tuple[int, Any, bool]]  # index in the file, data, passed its schema
    findings: list[Finding]


def _display(path: Path, cwd: str = "") -> str:
    """``path`` as findings name it: relative to the working directory when inside it.

    ``cwd`` (the working directory and a separator) lets absolute, normalised paths under
    it skip os.path.relpath (15 us a file, 60 ms on 4,000 files).
    """
    text = str(path)
    if cwd and text.startswith(cwd) and not text.startswith("..", len(cwd)):
        return text[len(cwd) :]
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)
    return str(path) if rel.startswith("..") else rel


def _settings(root: Path | None) -> tuple[RepoSettings, list[Finding], Path | None]:
    if root is None:
        return RepoSettings(), [], None
    file = root / defaults.SETTINGS_FILE
    loaded = load_file(_display(file))
    findings = list(loaded.findings)
    data = loaded.documents[0].data if loaded.documents else None
    for doc in loaded.documents[:1]:
        findings.extend(schema.check_settings(doc))
    if len(loaded.documents) > 1:
        findings.append(
            Finding(loaded.documents[1].locate(()), "INTCFG-E222", "intcfg.yaml holds one document")
        )
    ok = not any(f.is_error for f in findings)
    return (RepoSettings.from_data(data) if ok else RepoSettings()), findings, file


def validate(
    paths: list[Path] | None = None, cwd: Path | None = None, processes: int | None = None
) -> Report:
    """Validate the repository around ``cwd`` (or the paths given), reporting every problem.

    With ``paths``, the whole repository still provides the context for references, but
    only findings in those files are reported. ``processes`` overrides how many processes
    check files (default: INTCFG_VALIDATE_PROCESSES, else chosen by the file count); the
    report is the same for any number.
    """
    # Loading keeps hundreds of thousands of objects alive and creates no cycles, so the
    # collector's passes over them are pure cost: about 2x the parse on 2,000 files.
    return load(paths, cwd, processes)[0]


def load(
    paths: list[Path] | None = None, cwd: Path | None = None, processes: int | None = None
) -> tuple[Report, list[Document]]:
    """``validate``, and every document it loaded (named as findings name their files), so
    a command that goes on to use the configuration parses each file once."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _validate(paths, cwd, processes)
    finally:
        if enabled:
            gc.enable()


def _validate(
    paths: list[Path] | None, cwd: Path | None, processes: int | None
) -> tuple[Report, list[Document]]:
    start = paths[0] if paths else (cwd or Path.cwd())
    root = find_root(start if start.is_dir() else start.parent)
    settings, settings_findings, settings_file = _settings(root)
    findings: list[Finding] = []
    if paths:
        wanted = {p.resolve() for p in expand(paths, settings, root)}
        files = (
            sorted(wanted | set(p.resolve() for p in discover(root, settings)))
            if root
            else sorted(wanted)
        )
    else:
        if root is None:
            raise ConfigError(
                f"no {defaults.SETTINGS_FILE} in {start.resolve()} or above: run intcfg in a "
                "config repository, or name the files to validate"
            )
        files = discover(root, settings)
        wanted = None
    shown: set[str] = set()
    here = os.path.join(os.getcwd(), "")
    names = tuple(_display(f, here) for f in files)
    count = _processes(len(names)) if processes is None else max(1, min(processes, len(names)))
    docs: list[Document] = []
    valid: list[Document] = []
    for checked in _check_files(names, settings.max_file_bytes, count):
        findings.extend(checked.findings)
        for index, data, passed in checked.documents:
            doc = Document(checked.file, index, data, None, checked.text)
            docs.append(doc)
            if passed:
                valid.append(doc)
    findings.extend(rules.run(settings, valid, docs, str(root) if root else None))
    if wanted is not None:
        shown = {_display(p, here) for p in wanted}
        findings = [f for f in findings if f.location.file in shown]
    findings.extend(settings_findings)
    shown_names = names if wanted is None else tuple(n for n in names if n in shown)
    # The whole repository is loaded (rules look across files); the counts are of the files named.
    counted = len(docs) if wanted is None else sum(1 for d in docs if d.file in shown)
    report = Report(tuple(sorted(set(findings))), len(shown_names), counted, shown_names)
    return report, docs


def _check_file(name: str, max_bytes: int) -> _Checked:
    loaded = load_file(name, max_bytes)
    findings = list(loaded.findings)
    documents: list[tuple[int, Any, bool]] = []
    text: str | None = None
    for doc in loaded.documents:
        problems = schema.check_document(doc)
        findings.extend(problems)
        documents.append((doc.index, doc.data, not problems))
        text = doc.text
    # The node trees go with ``loaded``; the few documents a rule finds fault with are
    # composed again from ``text`` to locate the finding.
    return _Checked(name, text, documents, findings)


def _processes(files: int) -> int:
    setting = os.environ.get(PROCESSES_ENV, "").strip()
    if setting:
        if not setting.isdigit() or int(setting) < 1:
            raise ConfigError(
                f"{PROCESSES_ENV} must be a whole number of at least 1, not {setting!r}"
            )
        return min(int(setting), max(files, 1))
    if files < PARALLEL_FROM:
        return 1
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(cores or 1, MAX_PROCESSES, files // (PARALLEL_FROM // 2)))


def _may_fork() -> bool:
    # fork is the cheap start, but only Linux makes it safe for a process that has loaded
    # system frameworks. And a child forked while another thread holds a lock (an import,
    # a logging handler) can wait on it forever, and the parent on the child.
    threading = sys.modules.get("threading")
    single = threading is None or threading.active_count() == 1
    return sys.platform.startswith("linux") and single


def _check_files(names: tuple[str, ...], max_bytes: int, processes: int) -> list[_Checked]:
    if processes < 2 or not _may_fork():
        return [_check_file(name, max_bytes) for name in names]
    # Files are dealt out in turn, which balances sizes well enough; this process checks
    # the first share while the forked children check the others.
    shares = [names[k::processes] for k in range(processes)]
    children: list[tuple[int, int, tuple[str, ...]]] = []
    try:
        for share in shares[1:]:
            children.append(_fork(share, max_bytes))
        results = [[_check_file(name, max_bytes) for name in shares[0]]]
        while children:
            results.append(_collect(*children.pop(0), max_bytes))
    finally:
        for pid, fd, _ in children:  # only after an exception (e.g. Ctrl-C) here
            _abandon(pid, fd)
    return [results[i % processes][i // processes] for i in range(len(names))]


def _fork(share: tuple[str, ...], max_bytes: int) -> tuple[int, int, tuple[str, ...]]:
    import pickle

    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: send its share's results and leave without unwinding the caller
        code = 1
        try:
            os.close(read_fd)
            payload = pickle.dumps(
                [_check_file(n, max_bytes) for n in share], pickle.HIGHEST_PROTOCOL
            )
            with open(write_fd, "wb") as fh:
                fh.write(payload)
            code = 0
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd, share


def _collect(pid: int, fd: int, share: tuple[str, ...], max_bytes: int) -> list[_Checked]:
    import pickle

    with open(fd, "rb") as fh:
        payload = fh.read()
    _, status = os.waitpid(pid, 0)
    if status != 0:
        # The child failed (killed, out of memory): check its share here, so the report
        # is complete, or the failure shows itself where it can be reported.
        return [_check_file(name, max_bytes) for name in share]
    return pickle.loads(payload)  # type: ignore[no-any-return]


def _abandon(pid: int, fd: int) -> None:
    import signal

    os.close(fd)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    os.waitpid(pid, 0)
