"""The exceptions intcfg raises; the CLI turns each into one line and exit code 1.

    IntcfgError
     ├── ConfigError          bad input that stops a command (no such path, no repository)
     ├── SecretError          a secret reference that cannot be resolved
     ├── ProviderError        a live system failed (.system .method .url .status)
     ├── UnsafePlanError      a plan above the safety thresholds without --force
     ├── StalePlanError       a saved plan computed from other inputs than today's
     ├── ApplyError           an apply that could not finish
     └── AuditError           the audit branch could not be written

Foreign exceptions (httpx, yaml, git) are translated where those libraries are imported,
and re-raised ``from`` the original. No message ever holds a secret value.
"""

from __future__ import annotations


class IntcfgError(Exception):
    """Base of intcfg's own errors."""


class ConfigError(IntcfgError):
    pass


class SecretError(IntcfgError):
    pass


class ProviderError(IntcfgError):
    def __init__(
        self,
        message: str,
        *,
        system: str = "",
        method: str = "",
        url: str = "",
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.system = system
        self.method = method
        self.url = url
        self.status = status


class UnsafePlanError(IntcfgError):
    pass


class StalePlanError(IntcfgError):
    pass


class ApplyError(IntcfgError):
    pass


class AuditError(IntcfgError):
    pass
