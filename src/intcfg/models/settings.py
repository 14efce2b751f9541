from __future__ import annotations

from typing import Literal

from pydantic import Field

from .. import defaults
from .assessment import RotationPolicy
from .base import NAME_EXPECTED, NAME_PATTERN, Model, Name, SecretRef, expects


class Live(Model):
    url: str = Field(
        default=defaults.LIVE_URL,
        pattern=r"^(sim://.*|https?://[^\s/?#@]+(/[^\s]*)?)$",
        description="sim:// (in-process simulator, optional sim://PATH) or the admin API's URL.",
        json_schema_extra=expects("sim:// or the admin API's http(s) URL, e.g. https://admin.example.org"),
    )
    token: SecretRef | None = Field(default=None, description="Admin API bearer token.")


class CredentialAge(Model):
    default: RotationPolicy = RotationPolicy(warn_days=defaults.WARN_DAYS, max_days=defaults.MAX_DAYS)
    districts: dict[Name, RotationPolicy] = Field(
        default_factory=dict,
        description="District id -> its own policy.",
        # pydantic writes the key pattern as patternProperties, which lets any other key
        # through; propertyNames rejects it, as the model does.
        json_schema_extra={
            "propertyNames": {
                "pattern": NAME_PATTERN,
                "maxLength": 63,
                "x-intcfg-expected": "a district id: " + NAME_EXPECTED,
            }
        },
    )


class Policies(Model):
    credential_age: CredentialAge = CredentialAge()


class Limits(Model):
    max_file_bytes: int = Field(default=defaults.MAX_FILE_BYTES, ge=1024, le=64 * 1_048_576)


class Audit(Model):
    branch: str = Field(
        default=defaults.AUDIT_BRANCH,
        pattern=r"^[A-Za-z0-9._/-]+$",
        json_schema_extra=expects("a git branch name of letters, digits and . _ / -, e.g. intcfg/audit"),
    )


class Safety(Model):
    """Plans above these thresholds need --force (octoDNS-style safety)."""

    max_deletes: int = Field(default=10, ge=0, description="Deletes in one apply, all districts.")
    max_delete_ratio: float = Field(
        default=0.3, ge=0, le=1, description="Share of a district's managed objects one apply may delete."
    )
    max_changes: int = Field(default=1000, ge=1, description="Creates, updates and deletes in one apply.")


class Settings(Model):
    """The repository's settings, ``intcfg.yaml`` at its root."""

    api_version: Literal["intcfg/v1"]
    kind: Literal["Settings"]
    include: list[str] = Field(
        default_factory=lambda: list(defaults.INCLUDE),
        description="Glob patterns (relative to the repository root) of config files.",
    )
    exclude: list[str] = Field(default_factory=list)
    live: Live = Live()
    audit: Audit = Audit()
    policies: Policies = Policies()
    limits: Limits = Limits()
    safety: Safety = Safety()
