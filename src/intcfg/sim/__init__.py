"""The simulator of the live systems (sis, portal, enroll) and of the vendors' endpoints.

It implements the admin contract in openapi/*.yaml faithfully, keeps its state in
SQLite, injects faults on demand, and imports no part of intcfg's engine (only the
resource models, to check specs the way the config does).

``DEV_TOKEN`` is the admin token of the in-process simulator (``sim://``) when no token
is configured; ``intcfg sim serve`` never uses it and requires INTCFG_ADMIN_TOKEN (or
the variable named by --admin-token-env).
"""

from __future__ import annotations

DEV_TOKEN = "intcfg-sim-dev-token"
