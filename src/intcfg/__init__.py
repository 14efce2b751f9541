"""intcfg: configuration-as-code for school-district integrations.

The public API is imported lazily, so that ``intcfg validate`` (the pre-commit hook)
does not pay for pydantic, httpx or GitPython.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Finding": "intcfg.findings",
    "IntcfgError": "intcfg.errors",
    "Location": "intcfg.location",
    "Report": "intcfg.findings",
    "validate": "intcfg.validate",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'intcfg' has no attribute {name!r}")
