"""The `intcfg` console script."""

from __future__ import annotations

import gc
import sys


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] == ["validate"]:
        from .validate_cmd import main as validate_main

        return _guard(lambda: validate_main(args[1:]))
    from .cli import main as cli_main

    # The other commands hold a whole repository until they exit (a state's: hundreds of MB
    # of small objects); the collector's passes over it cost more than the work itself
    # (3x for the diff of 1,000 objects). Collect young objects far less often.
    gc.set_threshold(50_000, 20, 100)
    return cli_main(args)


def _guard(run: "object") -> int:
    try:
        return run()  # type: ignore[operator,no-any-return]
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 1
    except Exception as e:  # noqa: BLE001 - the one place that turns any failure into a line
        if "--traceback" in sys.argv or "INTCFG_TRACEBACK" in __import__("os").environ:
            raise
        sys.stderr.write(f"An unexpected error has occurred: {type(e).__name__}. Rerun with INTCFG_TRACEBACK=1 to see the traceback.\n")
        return 3
