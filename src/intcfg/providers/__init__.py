"""Adapters to the live systems (sis, portal, enroll) and the HTTP rules they share."""

import sys

# httpx imports its command-line client when rich is installed (rich's console, progress
# and pygments: about 50 ms of every command that talks to a live system, the read-ahead
# child's first request included); intcfg never runs it. A None in sys.modules makes that
# import fail, and httpx then goes without its `main`. Here, where the modules that import
# httpx are (vendors/ imports this package first), so that the commands that never talk to
# a live system do not even name httpx.
sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]
