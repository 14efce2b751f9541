from __future__ import annotations

from typing import Literal

from pydantic import Field

from .base import Lifecycle, Metadata, Model, SecretRef, path_field, url_field


class ETranscriptVendorSpec(Model):
    """The SIS's Electronic Release Setup; every field is required to save."""

    display_name: str = Field(
        min_length=1, max_length=100, description="Name: the vendor (Parchment, NCS, ...)."
    )
    auth_server: str = url_field("Auth Server: root server address for OAuth authentication.")
    auth_path: str = path_field("Auth Path: authentication endpoint relative to the auth server.")
    upload_server: str = url_field("Upload Server: root server address for transcript submission.")
    upload_port: int = Field(ge=1, le=65535, description="Upload Port: port for submission.")
    upload_path: str = path_field("Upload Path: endpoint used to submit transcript information.")
    consumer_key: str = Field(
        min_length=1, max_length=255, description="Consumer Key: the client key."
    )
    consumer_secret: SecretRef = Field(description="Consumer Secret (a secret reference).")
    user_name: str = Field(
        min_length=1,
        max_length=100,
        description="User Name: vendor login; up to 100 characters.",
    )
    password: SecretRef = Field(description="Password (a secret reference).")


class ETranscriptVendor(Model):
    api_version: Literal["intcfg/v1"]
    kind: Literal["ETranscriptVendor"]
    metadata: Metadata
    spec: ETranscriptVendorSpec
    lifecycle: Lifecycle | None = None
