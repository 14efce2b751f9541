"""Shared building blocks of the resource models.

The models are the single source of truth for the resource schema: `intcfg schema`
generates `schemas/*.json` from them, and the fast validator runs those schemas. Keep
every constraint expressible in JSON Schema here (Field limits, patterns, Literal,
``json_schema_extra``); rules that need more than one document live in
``intcfg.validate.rules``.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.alias_generators import to_camel

API_VERSION = "intcfg/v1"

NAME_PATTERN = r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$"
# A URL the validator can reason about: scheme, a host without user info, then a path.
# The semantic rules add HTTPS-unless-loopback.
URL_PATTERN = r"^https?://[^\s/?#@]+([/?#][^\s]*)?$"
PATH_PATTERN = r"^/[^\s]*$"
DATE_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
TIMEZONE_PATTERN = r"^[A-Za-z_]+(/[A-Za-z0-9_+-]+)*$"
NAME_EXPECTED = (
    "a lowercase name of at most 63 letters, digits and '-', starting and ending "
    "with a letter or digit, e.g. riverside-usd"
)
TIMEZONE_EXPECTED = "an IANA time zone name, e.g. America/Los_Angeles"
DATE_EXPECTED = "a date, YYYY-MM-DD"


def expects(text: str, **extra: Any) -> dict[str, Any]:
    """json_schema_extra naming, in words, the form a pattern asks for.

    The validator says "expected <this>" when a value does not match; a regular
    expression or a field's description would not tell a person what to write.
    """
    return {"x-intcfg-expected": text, **extra}


class Model(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        alias_generator=to_camel,
        populate_by_name=True,
        # No coercion: the published schemas reject "443" where an integer is expected,
        # and so does the model.
        strict=True,
        # A validation error must not echo its input: it may be a secret pasted into
        # the wrong field.
        hide_input_in_errors=True,
    )


Name = Annotated[
    str,
    Field(
        pattern=NAME_PATTERN,
        max_length=63,
        description="A lowercase DNS label: a-z, 0-9, '-'.",
        json_schema_extra=expects(NAME_EXPECTED),
    ),
]


def url_field(description: str, **kw: Any) -> Any:
    """A URL field; schema errors on it use the seed's text 'needs to be a valid URL string'."""
    return Field(
        pattern=URL_PATTERN,
        max_length=2048,
        description=description,
        json_schema_extra={"format": "uri", "x-intcfg-url": True},
        **kw,
    )


def path_field(description: str) -> Any:
    return Field(
        pattern=PATH_PATTERN,
        max_length=2048,
        description=description,
        json_schema_extra=expects("a path that starts with '/' and has no spaces, e.g. /oauth/token"),
    )


def unique(cls: type, items: list[Any]) -> list[Any]:
    """A field validator for lists the schema marks uniqueItems."""
    repeated = sorted({repr(i) for i in items if items.count(i) > 1})
    if repeated:
        raise ValueError(f"lists {', '.join(repeated)} more than once")
    return items


class SecretRef(Model):
    """Where a secret value comes from; the value itself never appears in the YAML.

    Exactly one of ``env`` (an environment variable) or ``file`` (a file outside the
    config repository).
    """

    model_config = ConfigDict(
        json_schema_extra={"minProperties": 1, "maxProperties": 1, "x-intcfg-secret": True},
    )

    env: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z_][A-Za-z0-9_]*$",
        max_length=255,
        description="Name of the environment variable holding the secret.",
        json_schema_extra=expects(
            "an environment variable name: letters, digits and '_', not starting with a digit"
        ),
    )
    file: str | None = Field(
        default=None,
        min_length=1,
        max_length=4096,
        description="Path of a file holding the secret (outside the config repository).",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_other_keys(cls, data: Any) -> Any:
        # `password: {hunter2}` is YAML for {hunter2: None}: the unknown key is the secret,
        # and pydantic's own error would name it.
        if isinstance(data, dict) and set(data) - {"env", "file"}:
            raise ValueError("a secret reference takes only env or file (other keys are not shown)")
        return data

    @model_validator(mode="after")
    def _one_source(self) -> SecretRef:
        # The schema says this with minProperties/maxProperties.
        if (self.env is None) == (self.file is None):
            raise ValueError("a secret reference needs exactly one of env or file")
        return self


class Labels(Model):
    model_config = ConfigDict(extra="allow")


class Metadata(Model):
    name: Name = Field(description="Unique per (district, kind).")
    district: Name = Field(description="The District resource this belongs to.")
    labels: dict[str, str] | None = None
    annotations: dict[str, str] | None = None


class Lifecycle(Model):
    """How the reconciler may treat the live object."""

    prune: bool = Field(
        default=True,
        description="false protects the live object from deletion even with --prune.",
    )
    observed_fields: list[str] | None = Field(
        default=None,
        description=(
            "Spec fields (dotted paths) people may still change in the admin screen: "
            "read, never reverted, never reported as drift."
        ),
    )
