from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .base import Lifecycle, Metadata, Model, Name, SecretRef, unique, url_field

Vendor = Literal["powerschool", "aeries", "skyward"]
VENDORS: tuple[str, ...] = ("powerschool", "aeries", "skyward")


class PowerSchoolCredentials(Model):
    """The SchoolMint plugin's Data Provider Configuration (OAuth 2 client credentials)."""

    server_url: str = url_field("The PowerSchool server, e.g. https://ps.example.org.")
    client_id: str = Field(min_length=1, max_length=255)
    client_secret: SecretRef


class OneRosterCredentials(Model):
    url: str = url_field("OneRoster URL (Aeries API Security, Type OneRoster).")
    consumer_id: str = Field(min_length=1, max_length=255)
    consumer_secret: SecretRef


class AeriesCredentials(Model):
    """Standard API (certificate) to push data, OneRoster to check a student exists."""

    api_url: str = url_field("Aeries base URL, e.g. https://district.aeries.net/admin.")
    certificate: SecretRef = Field(description="Standard API certificate (AERIES-CERT).")
    one_roster: OneRosterCredentials


class SkywardCredentials(Model):
    """Qmlativ API > User Access (API Type Generic) consumer key and secret."""

    api_url: str = url_field("Qmlativ base URI, e.g. https://skyward.iscorp.com/district.")
    consumer_key: str = Field(min_length=1, max_length=255)
    consumer_secret: SecretRef
    entity_id: int = Field(default=1, ge=1, description="Qmlativ entity id for Generic calls.")


def _vendor_block_rule(vendor: str) -> dict[str, object]:
    others = [v for v in VENDORS if v != vendor]
    return {
        "if": {"properties": {"vendor": {"const": vendor}}, "required": ["vendor"]},
        "then": {"required": [vendor], "properties": {o: False for o in others}},
    }


class SyncConnectionSpec(Model):
    """An API connection of the enrollment system's sync service."""

    model_config = {"json_schema_extra": {"allOf": [_vendor_block_rule(v) for v in VENDORS]}}

    display_name: str = Field(min_length=1, max_length=200, description="The connection's name.")
    vendor: Vendor = Field(description="The SIS: powerschool, aeries or skyward (Qmlativ).")
    instance: Literal["sandbox", "production"] = Field(
        description="The instance of Enroll the connection writes to."
    )
    powerschool: PowerSchoolCredentials | None = None
    aeries: AeriesCredentials | None = None
    skyward: SkywardCredentials | None = None
    schools: list[Name] = Field(
        default_factory=list,
        description="Sites of the district assigned to this connection (Bulk Action allowed).",
        json_schema_extra={"uniqueItems": True},
    )

    _unique_schools = field_validator("schools")(unique)

    @model_validator(mode="after")
    def _vendor_block(self) -> SyncConnectionSpec:
        # The schema says this with the allOf/if/then of _vendor_block_rule.
        if getattr(self, self.vendor) is None:
            raise ValueError(f"a {self.vendor} connection needs its {self.vendor} block")
        others = [v for v in VENDORS if v != self.vendor and getattr(self, v) is not None]
        if others:
            raise ValueError(f"{', '.join(others)} credentials do not belong to a {self.vendor} connection")
        return self


class SyncConnection(Model):
    api_version: Literal["intcfg/v1"]
    kind: Literal["SyncConnection"]
    metadata: Metadata
    spec: SyncConnectionSpec
    lifecycle: Lifecycle | None = None
