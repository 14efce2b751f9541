"""Coverage-guided fuzzing of the offline path with atheris (libFuzzer): ``make fuzz``.

Each input is a config file's bytes. It goes through the loader (``load_file``, and
``load_text`` when it is UTF-8), ``fmt.format_text``, ``validate`` of a small repository
holding it (as a district file, or as intcfg.yaml when the input's first byte is odd)
and the five findings renderers. Any exception is a crash; so is a finding that is not
one line with a position. libFuzzer's own -rss_limit_mb and -timeout bound memory and
time per input.

    .venv/bin/python fuzz/fuzz_loader.py -max_total_time=60 .venv/fuzz-corpus

The hypothesis target in tests/security/test_fuzz.py runs a bounded sample of the same
in the default test suite.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from xml.etree import ElementTree

import atheris

with atheris.instrument_imports(include=["intcfg"]):
    from intcfg.findings import Finding
    from intcfg.fmt import format_text
    from intcfg.loader import load_file, load_text
    from intcfg.render.findings import RENDERERS
    from intcfg.validate import validate

EXAMPLE = Path(__file__).resolve().parents[1] / "config-repo-example"
FUZZED = Path("districts/riverside-usd/fuzzed.yaml")


def _repository() -> Path:
    root = Path(tempfile.mkdtemp(prefix="intcfg-fuzz-")) / "repo"
    root.mkdir()
    shutil.copy(EXAMPLE / "intcfg.yaml", root / "intcfg.yaml")
    shutil.copytree(EXAMPLE / "districts" / "riverside-usd", root / "districts" / "riverside-usd")
    return root


REPO = _repository()
SETTINGS = (REPO / "intcfg.yaml").read_bytes()


def _check(findings: tuple[Finding, ...] | list[Finding]) -> None:
    for f in findings:
        if not f.rule.startswith("INTCFG-") or f.location.line < 1 or f.location.column < 1:
            raise AssertionError(f"a finding without a rule or a position: {f}")
        if "\n" in f.message or "\r" in f.message:
            raise AssertionError(f"a finding of more than one line: {f}")


def _render(report: object) -> None:
    for name, render in RENDERERS.items():
        out = render(report, colour=name == "text", version="0")
        if name in ("json", "sarif"):
            json.loads(out)
        elif name == "junit":
            ElementTree.fromstring(out.encode("utf-8"))


def test_one_input(data: bytes) -> None:
    as_settings = bool(data[:1]) and data[0] % 2 == 1
    target = REPO / ("intcfg.yaml" if as_settings else FUZZED)
    target.write_bytes(data)
    try:
        _check(load_file(str(target)).findings)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None:
            _check(load_text("fuzzed.yaml", text).findings)
            _check(format_text("fuzzed.yaml", text).findings)
        report = validate(cwd=REPO)
        _check(report.findings)
        _render(report)
    finally:
        if as_settings:
            target.write_bytes(SETTINGS)
        else:
            target.unlink()


def main() -> None:
    os.environ.setdefault("INTCFG_TODAY", "2026-11-22")
    try:
        atheris.Setup(sys.argv, test_one_input)
        atheris.Fuzz()
    finally:
        shutil.rmtree(REPO.parent, ignore_errors=True)


if __name__ == "__main__":
    main()
