"""intcfg's public API: ``__all__`` is sorted, complete and every name resolves, lazily.

Each check runs in a fresh interpreter: what ``import intcfg`` does depends on what was
imported before it, and the test process has imported everything.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import intcfg


def fresh(code: str) -> str:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    result = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_all_is_sorted_without_repeats() -> None:
    assert intcfg.__all__ == sorted(set(intcfg.__all__))
    assert intcfg.__all__, "the package exports nothing"


def test_every_name_resolves_to_intcfg_code() -> None:
    out = fresh(
        "import json, intcfg\n"
        "objs = {n: getattr(intcfg, n) for n in intcfg.__all__}\n"
        "print(json.dumps({n: [type(o).__name__, getattr(o, '__module__', '')] "
        "for n, o in objs.items()}))"
    )
    resolved = json.loads(out)
    assert sorted(resolved) == intcfg.__all__
    for name, (kind, module) in resolved.items():
        assert kind != "module", f"intcfg.{name} is a module, not the API object"
        assert module.startswith("intcfg."), f"intcfg.{name} comes from {module!r}"


def test_star_import_gives_exactly_all() -> None:
    out = fresh(
        "ns = {}\nexec('from intcfg import *', ns)\n"
        "print(sorted(k for k in ns if not k.startswith('__')))"
    )
    assert out.strip() == str(intcfg.__all__)


def test_importing_intcfg_loads_no_heavy_dependency() -> None:
    out = fresh(
        "import sys, intcfg\n"
        "print(sorted(m for m in ('pydantic', 'httpx', 'git', 'click', 'jsonschema', 'ruamel') "
        "if m in sys.modules))"
    )
    assert out.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="module 'intcfg' has no attribute 'nope'"):
        intcfg.nope  # noqa: B018


def test_validate_repository_stays_the_function_after_its_subpackage_is_imported() -> None:
    out = fresh(
        "import intcfg\nfirst = intcfg.validate_repository\n"
        "import intcfg.validate.rules\nfrom intcfg import validate_repository\n"
        "print(type(first).__name__, type(validate_repository).__name__)"
    )
    assert out.strip() == "function function"
