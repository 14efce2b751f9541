from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import (
    DATE_EXPECTED,
    DATE_PATTERN,
    Lifecycle,
    Metadata,
    Model,
    Name,
    SecretRef,
    expects,
    url_field,
)

ETS_TOKEN_URL = "https://caaspp-aws.ets.org/api/v1/token"


class RotationPolicy(Model):
    """How old the credentials may get (ETS: 90 days; some LEAs have 365)."""

    warn_days: int = Field(ge=1, le=3650, description="Warn when the credentials are this old.")
    max_days: int = Field(ge=1, le=3650, description="Error when the credentials are this old.")


class StateAssessmentIntegrationSpec(Model):
    """The ETS CAASPP/ELPAC score-letter integration, district-wide (All Sites)."""

    provider: Literal["ets"] = "ets"
    api_url: str = url_field(f"API URL; normally {ETS_TOKEN_URL}.")
    username: str = Field(min_length=1, max_length=255, description="TOMS username.")
    secret_key: SecretRef = Field(description="Secret Key (a secret reference).")
    credentials_rotated: str = Field(
        pattern=DATE_PATTERN,
        json_schema_extra=expects(DATE_EXPECTED, format="date"),
        description="YYYY-MM-DD on which the credentials were last rotated (ETS: every 90 days).",
    )
    rotation_policy: RotationPolicy | None = Field(
        default=None, description="Overrides the repository's credential-age policy."
    )


class StateAssessmentIntegration(Model):
    api_version: Literal["intcfg/v1"]
    kind: Literal["StateAssessmentIntegration"]
    metadata: Metadata
    spec: StateAssessmentIntegrationSpec
    lifecycle: Lifecycle | None = None


class OverrideTarget(Model):
    kind: Literal["StateAssessmentIntegration"] = Field(
        description="Kinds whose live system keeps per-site configuration."
    )
    name: Name


class SiteOverrideSpec(Model):
    target: OverrideTarget
    site: Name = Field(description="The site (LEA) of the target's district this applies to.")
    patch: dict[str, object] = Field(
        description="RFC 7386 merge patch of the target's spec for this site."
    )


class SiteOverride(Model):
    api_version: Literal["intcfg/v1"]
    kind: Literal["SiteOverride"]
    metadata: Metadata
    spec: SiteOverrideSpec
    lifecycle: Lifecycle | None = None
