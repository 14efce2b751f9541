"""intcfg: configuration-as-code for school-district integrations.

The public API is imported lazily, so that ``intcfg validate`` (the pre-commit hook)
does not pay for pydantic, httpx or GitPython.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

# name -> (module, attribute). The validate function is exported as validate_repository:
# ``intcfg.validate`` is the subpackage, and the import system binds it there as soon as
# anything imports it.
_LAZY = {
    "Finding": ("intcfg.findings", "Finding"),
    "IntcfgError": ("intcfg.errors", "IntcfgError"),
    "Location": ("intcfg.location", "Location"),
    "Plan": ("intcfg.plan", "Plan"),
    "Report": ("intcfg.findings", "Report"),
    "load_repository": ("intcfg.engine", "load_repository"),
    "validate_repository": ("intcfg.validate", "validate"),
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module), attribute)
    raise AttributeError(f"module 'intcfg' has no attribute {name!r}")
