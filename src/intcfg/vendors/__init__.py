"""Credential tests against the vendors, each with its real protocol (one module per vendor).

Every ``check`` answers a ``VendorResult``: never raises for a vendor's refusal or an
unreachable host (that is the test's outcome), never shows a secret.
"""

from .. import providers  # noqa: F401 - first: it leaves httpx's command-line client out
