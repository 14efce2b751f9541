"""`intcfg fmt`: one canonical layout for intcfg YAML files, comments kept.

The layout:

* ruamel.yaml round trip; mappings indented by 2, sequences indented under their key
  (``-`` two columns in, content four), no line wrapping, ``---`` between documents
  and none before the first, no ``...``, no empty documents (intcfg's loader skips
  them), no ``%YAML`` directive (intcfg reads YAML 1.1 whatever it says), LF line
  endings, UTF-8 without a byte-order mark, one trailing newline.
* Key order: the order of the fields in the resource models, read from the published
  JSON Schemas (``schemas/``, whose ``properties`` follow the models): the envelope
  apiVersion, kind, metadata, spec, lifecycle; metadata name, district, labels,
  annotations; spec and everything below it field by field. Keys a schema does not know
  follow the known ones in their original order. Maps keyed by the user (spec.fields,
  match-code tables, labels, annotations, site-override patches) keep the user's order.
* Flow style: a flow collection (``{env: NAME}``, ``[a, b]``, a field map) stays a
  one-line flow collection when it holds only scalars and empty collections, no comment
  and no empty value; any other flow collection is written in block style, where its
  nested collections follow the same rule. Block stays block.
* Quoting: a scalar keeps the style it was written in (plain, 'single', "double", ``|``,
  ``>``). A plain scalar that intcfg reads as a string but other YAML readers would not
  (``y``, ``n``, ``08``, ``1e3``, ``0o17``, and keys such as ``on``, ``1`` or ``010``) gets
  double quotes. A plain value intcfg itself reads as a boolean or a number (``no``,
  ``on``, ``010``, ``1:30``) is left as it is: quoting it would change the data, and
  ``intcfg validate`` reports it where a string is expected (INTCFG-E010). Dates stay plain.
* Comments: a full-line comment belongs to the entry below it, moves with it and takes
  its indentation; an end-of-line comment stays at the end of its entry's line, two
  spaces after it; comments after a document's last entry stay at its end. A run of
  blank lines becomes one; blank lines opening a block or a document, or ending one, go.

Safety: a file intcfg's loader rejects is reported and never rewritten, and a formatted
text that does not load to the same data with the same comments is never written.
"""

from __future__ import annotations

import difflib
import gc
import json
import multiprocessing
import os
import stat
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from . import defaults, fmt_comments, fmt_tree
from .errors import ConfigError
from .findings import Finding
from .loader import Document, load_file, load_text
from .location import Location
from .repo import RepoSettings, discover, expand, find_root

# From this many files on, fmt works in several processes: below it, starting them costs
# more than it saves.
PARALLEL_FROM = 200
MAX_PROCESSES = 4
PROCESSES_ENV = "INTCFG_FMT_PROCESSES"


class Result(NamedTuple):
    """One file: its text before and after. ``after == before`` when it cannot be formatted."""

    file: str
    before: str
    after: str
    findings: tuple[Finding, ...] = ()
    refused: str = ""

    @property
    def ok(self) -> bool:
        return not self.findings and not self.refused

    @property
    def changed(self) -> bool:
        return self.after != self.before


def _layout(
    text: str, documents: list[Document], scanned: fmt_comments.Scan, fast: bool = True
) -> str:
    """The canonical text of a file that loaded into ``documents``."""
    nodes = [doc.node for doc in documents if doc.node is not None]
    slow = fmt_tree.load_all(text) if scanned.exotic or not fast else None
    if len(slow if slow is not None else nodes) != len(documents):
        raise yaml.YAMLError("ruamel.yaml and intcfg's loader see different documents")
    entries = [fmt_comments.entries(node) for node in nodes]
    placed = fmt_comments.attach(scanned.notes, entries, scanned.bounds)
    parts = []
    for i, node in enumerate(nodes):
        to_block = fmt_tree.to_block(entries[i], scanned.notes)
        if slow is None:
            body = fmt_tree.emit(node, to_block)
        else:
            body = fmt_tree.dump(fmt_tree.canonical(slow[i], to_block))
        parts.append(fmt_comments.place(body, placed[i]))
    return "---\n".join(parts)


def _fingerprint(documents: list[Any]) -> str:
    return json.dumps([d.data for d in documents], sort_keys=True)


def _refusal(file: str, before: list[Any], comments: list[str], after: str) -> str:
    loaded = load_text(file, after)
    if any(f.is_error for f in loaded.findings):
        return "the formatted text would not load"
    if _fingerprint(loaded.documents) != _fingerprint(before):
        return "formatting would change the data"
    if fmt_comments.comments(after) != comments:
        return "formatting would lose or change a comment"
    return ""


def format_text(file: str, text: str) -> Result:
    """Format one file's text. Never raises for bad input: it becomes findings."""
    body = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    loaded = load_text(file, body)
    errors = tuple(f for f in loaded.findings if f.is_error)
    if errors or not loaded.documents:
        return Result(file, text, text, errors)
    scanned = fmt_comments.scan(body)
    try:
        after = _layout(body, loaded.documents, scanned)
    except Exception as e:  # noqa: BLE001 - ruamel's errors, and any surprise, refuse the file
        why = " ".join(str(e).split())
        return Result(file, text, text, refused=f"cannot be formatted ({type(e).__name__}: {why})")
    comments = sorted(note.text for note in scanned.notes if note.text)
    refused = _refusal(file, loaded.documents, comments, after)
    return Result(file, text, text if refused else after, refused=refused)


def format_path(path: Path, name: str, max_bytes: int = defaults.MAX_FILE_BYTES) -> Result:
    """Read and format one file, as ``name`` calls it in findings."""
    try:
        size = path.stat().st_size
        raw = b"" if size > max_bytes else path.read_bytes()
    except OSError as e:
        return Result(
            name,
            "",
            "",
            (Finding(Location(name), "INTCFG-E001", f"cannot read the file: {e.strerror}"),),
        )
    if size > max_bytes:
        return Result(name, "", "", tuple(load_file(name, max_bytes).findings))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return Result(name, "", "", tuple(load_file(name, max_bytes).findings))
    return format_text(name, text)


def _format_job(job: tuple[Path, str, int]) -> Result:
    return format_path(*job)


def _processes(files: int) -> int:
    chosen = os.environ.get(PROCESSES_ENV, "")
    if chosen:
        if not chosen.isdigit() or int(chosen) < 1:
            raise ConfigError(f"{PROCESSES_ENV}={chosen!r}: expected a whole number from 1")
        return int(chosen)
    if files < PARALLEL_FROM or not sys.platform.startswith("linux"):
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_PROCESSES))


def format_paths(
    jobs: list[tuple[Path, str]], max_bytes: int, processes: int | None = None
) -> Iterator[Result]:
    """Format files (path, name) in order; from PARALLEL_FROM files on, in forked processes.

    ``processes`` (else INTCFG_FMT_PROCESSES) sets the count; the results are the same
    for any count.
    """
    count = _processes(len(jobs)) if processes is None else max(1, processes)
    enabled = gc.isenabled()
    # Formatting makes many objects and no cycles: the collector's passes are pure cost.
    gc.disable()
    try:
        if count == 1:
            yield from (format_path(path, name, max_bytes) for path, name in jobs)
            return
        with multiprocessing.get_context("fork").Pool(count) as pool:
            yield from pool.imap(_format_job, [(p, n, max_bytes) for p, n in jobs], chunksize=8)
    finally:
        if enabled:
            gc.enable()


def write(path: Path, text: str) -> None:
    """Replace ``path``'s content atomically (a temporary file, then os.replace)."""
    target = path.resolve()
    fd, temp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".intcfg-fmt", dir=target.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(temp, stat.S_IMODE(target.stat().st_mode))
        os.replace(temp, target)
    except OSError as e:
        Path(temp).unlink(missing_ok=True)
        raise ConfigError(f"cannot write {path}: {e.strerror}") from e


def unified_diff(result: Result) -> str:
    lines = difflib.unified_diff(
        result.before.splitlines(keepends=True),
        result.after.splitlines(keepends=True),
        f"{result.file}\t(original)",
        f"{result.file}\t(formatted)",
    )
    return "".join(
        line if line.endswith("\n") else line + "\n\\ No newline at end of file\n" for line in lines
    )


# -- which files -------------------------------------------------------------------------


def _settings(root: Path) -> RepoSettings:
    loaded = load_file(str(root / defaults.SETTINGS_FILE))
    return RepoSettings.from_data(loaded.documents[0].data) if loaded.documents else RepoSettings()


def targets(paths: list[Path], cwd: Path, config_only: bool = False) -> tuple[list[Path], int]:
    """The files to format and the size limit.

    With no paths: the config files of the repository around ``cwd``, intcfg.yaml
    included. Directories are searched like the repository; files are taken as named,
    unless ``config_only`` drops those that are not config files of their repository.
    """
    first = paths[0] if paths else cwd
    root = find_root(first if first.is_dir() else first.parent)
    settings = _settings(root) if root else RepoSettings()
    if not paths:
        if root is None:
            raise ConfigError(
                f"no {defaults.SETTINGS_FILE} in {cwd.resolve()} or above: run intcfg fmt in a "
                "config repository, or name the files to format"
            )
        paths = [root]
    files = set(expand(paths, settings, root))
    files.update(
        p / defaults.SETTINGS_FILE for p in paths if p.is_dir() and find_root(p) == p.resolve()
    )
    if config_only and root is not None:
        known = {p.resolve() for p in discover(root, settings)} | {root / defaults.SETTINGS_FILE}
        files = {f for f in files if f.resolve() in known}
    return sorted(files, key=str), settings.max_file_bytes
