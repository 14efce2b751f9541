"""Renderings for a terminal: colour and tables through rich (imported here, by the
functions that draw). Used only when stdout is a terminal (or --color always); piped
output and NO_COLOR get the plain renderers, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

from ..credtest import Report
from ..expiries import Expiry
from ..plan import Plan
from . import credtest as plain_credtest
from . import expiries as plain_expiries
from . import plan as plain_plan

ACTION_STYLES = {"create": "green", "update": "yellow", "delete": "red", "noop": "dim", "conflict": "magenta"}
EXPIRY_STYLES = {"ok": "", "warning": "yellow", "expired": "bold red"}


def _console(width: int) -> Any:
    from rich.console import Console

    # The caller decided on colour (--color, NO_COLOR, a terminal): rich is not to decide again.
    return Console(file=io.StringIO(), force_terminal=True, no_color=False, color_system="standard", width=width,
                   highlight=False, emoji=False, markup=False)


def _text(console: Any) -> str:
    return str(console.file.getvalue())


def plan(plan: Plan, verbose: bool = False, quiet: bool = False, width: int = 100) -> str:
    """The headline, a table of the counts per district, then the changes in colour;
    ``quiet``: the changes alone."""
    from rich.table import Table
    from rich.text import Text

    lines = plain_plan.change_lines(plan, colour=True, verbose=verbose)
    if quiet:
        return "".join(line + "\n" for line in lines[1:])
    console = _console(width)
    console.print(Text("Plan: ", style="bold") + Text(plain_plan.headline(plan)))
    by_district = plain_plan.by_district(plan)
    if by_district:
        table = Table(box=None, pad_edge=False, header_style="bold")
        table.add_column("DISTRICT")
        for action, title in (("create", "CREATE"), ("update", "UPDATE"), ("delete", "DELETE"),
                              ("noop", "UNCHANGED"), ("conflict", "CONFLICT")):
            table.add_column(title, justify="right", style=ACTION_STYLES[action])
        for district, changes in by_district.items():
            counts = [sum(1 for c in changes if c.action == a) for a in ("create", "update", "delete", "noop", "conflict")]
            table.add_row(district, *(str(n) if n else "-" for n in counts))
        console.print(table)
    out = _text(console) + "".join(line + "\n" for line in lines)
    if not plan.has_changes():
        out += "\nNo changes. The live systems match the configuration.\n"
    return out


def credtest(report: Report, quiet: bool = False, width: int = 100) -> str:
    """One row per credential (and live system): status, what, detail; the summary below.
    ``quiet``: only the rows that failed or warn, no summary."""
    from rich.table import Table
    from rich.text import Text

    table = Table(box=None, pad_edge=False, header_style="bold")
    for title in ("STATUS", "CREDENTIAL", "RESULT"):
        table.add_column(title, overflow="fold")
    rows = 0
    for r in sorted(report.results, key=lambda r: r.address.sort_key()):
        code = f"{r.code} " if r.code else ""
        detail = [f"{code}{r.message}"]
        if not r.ok:
            detail += [f"{p.name}: {p.message}" for p in r.parts if not p.ok] + [f"at {r.location}"]
        if not (quiet and r.ok):
            table.add_row(_status(r.ok), plain_credtest.scope(r), "\n".join(detail))
            rows += 1
        for w in r.warnings:
            table.add_row(Text("warning", style="yellow"), plain_credtest.scope(r), w)
            rows += 1
    for c in report.live:
        if not (quiet and c.ok):
            table.add_row(_status(c.ok), f"live {c.system} admin API ({c.url})", c.message)
            rows += 1
    console = _console(width)
    if rows:
        console.print(table)
    if not quiet:
        console.print(Text(plain_credtest.summary(report), style="bold green" if report.ok else "bold red"))
    return _text(console)


def _status(ok: bool) -> Any:
    from rich.text import Text

    return Text("ok", style="green") if ok else Text("FAILED", style="bold red")


def expiries(listed: Sequence[Expiry], today: dt.date, within: int | None = None, quiet: bool = False,
             width: int = 100) -> str:
    """The expiries as a table, each row coloured by its status, the summary below.
    ``quiet``: only the credentials to rotate now or expired, no summary."""
    from rich.table import Table

    shown = [e for e in listed if e.status != "ok"] if quiet else list(listed)
    console = _console(width)
    if shown:
        table = Table(box=None, pad_edge=False, header_style="bold")
        for title in plain_expiries.HEADER:
            table.add_column(title, justify="right" if title in plain_expiries.RIGHT_ALIGNED else "left",
                             no_wrap=title != "SET AT", overflow="fold")
        for e in shown:
            table.add_row(*plain_expiries.row(e), style=EXPIRY_STYLES[e.status] or None)
        console.print(table)
    if not quiet:
        console.print(plain_expiries.summary(listed, today, within), style="bold")
        hint = plain_expiries.hint(listed)
        if hint:
            console.print(hint)
    return _text(console)
