"""Credential expiries as a text table, JSON and an iCalendar (RFC 5545) file."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ..expiries import Expiry

if TYPE_CHECKING:
    from icalendar import Event

TOMS = "https://mytoms.ets.org"
STATUS_TEXT = {"ok": "ok", "warning": "rotate now", "expired": "EXPIRED"}
COLOURS = {"ok": "", "warning": "\033[33m", "expired": "\033[31m"}
RESET = "\033[0m"
HEADER = (
    "DISTRICT",
    "SITE",
    "ROTATED",
    "POLICY",
    "WARN ON",
    "DUE",
    "DAYS LEFT",
    "STATUS",
    "SET AT",
)
RIGHT_ALIGNED = {"DAYS LEFT"}
# Alarms of all-day events fire relative to their start (midnight): 09:00 on the day.
ALARM_AFTER_START = dt.timedelta(hours=9)


def row(e: Expiry) -> tuple[str, ...]:
    return (
        e.district,
        e.site or "All Sites",
        e.rotated.isoformat(),
        f"{e.warn_days}/{e.max_days}",
        e.warn_on.isoformat(),
        e.due.isoformat(),
        str(e.days_left),
        STATUS_TEXT[e.status],
        f"{e.source.file}:{e.source.line}",
    )


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    lines = []
    for row in rows:
        cells = [
            cell.rjust(w) if HEADER[i] in RIGHT_ALIGNED else cell.ljust(w)
            for i, (cell, w) in enumerate(zip(row, widths, strict=True))
        ]
        lines.append("  ".join(cells).rstrip())
    return lines


def _paint(line: str, e: Expiry, colour: bool) -> str:
    return f"{COLOURS[e.status]}{line}{RESET}" if colour and COLOURS[e.status] else line


def summary(expiries: Sequence[Expiry], today: dt.date, within: int | None) -> str:
    window = f" due within {within} days" if within is not None else ""
    if not expiries:
        return f"No ETS credentials{window} (today is {today})."
    counts = {s: sum(1 for e in expiries if e.status == s) for s in ("expired", "warning", "ok")}
    n = len(expiries)
    return (
        f"{n} ETS credential{'' if n == 1 else 's'}{window} (today is {today}): "
        f"{counts['expired']} expired, {counts['warning']} to rotate now, {counts['ok']} ok."
    )


def hint(expiries: Sequence[Expiry]) -> str:
    """What to do when a credential is due, or ""."""
    if not any(e.status != "ok" for e in expiries):
        return ""
    return (
        f"Generate new credentials in TOMS ({TOMS}, Credentialing), update the secret, "
        "then credentialsRotated at the place shown under SET AT."
    )


def text(
    expiries: Sequence[Expiry],
    today: dt.date,
    within: int | None = None,
    colour: bool = False,
    quiet: bool = False,
) -> str:
    """A table and a summary; ``quiet``: only the credentials due (expired or to rotate
    now), without the summary (nothing when none is due)."""
    shown = [e for e in expiries if e.status != "ok"] if quiet else list(expiries)
    lines = []
    if shown:
        header, *rows = _table([HEADER, *map(row, shown)])
        lines = [header, *(_paint(line, e, colour) for line, e in zip(rows, shown, strict=True))]
    if not quiet:
        lines += [summary(expiries, today, within), *filter(None, [hint(expiries)])]
    return "".join(line + "\n" for line in lines)


def _as_dict(e: Expiry) -> dict[str, object]:
    return {
        "district": e.district,
        "site": e.site,
        "name": e.name,
        "address": e.address,
        "credentialsRotated": e.rotated.isoformat(),
        "warnDays": e.warn_days,
        "maxDays": e.max_days,
        "warnOn": e.warn_on.isoformat(),
        "due": e.due.isoformat(),
        "daysLeft": e.days_left,
        "status": e.status,
        "source": {"file": e.source.file, "line": e.source.line, "column": e.source.column},
    }


def as_json(
    expiries: Sequence[Expiry],
    today: dt.date,
    within: int | None = None,
    colour: bool = False,
    quiet: bool = False,
) -> str:
    document = {
        "today": today.isoformat(),
        "within": within,
        "expiries": [_as_dict(e) for e in expiries],
    }
    return json.dumps(document, indent=2) + "\n"


RENDERERS: dict[str, Callable[..., str]] = {"text": text, "json": as_json}


# -- iCalendar ---------------------------------------------------------------------------


def uid(e: Expiry, role: str) -> str:
    """One UID per credential and reminder, without the date: re-importing the calendar
    after a rotation moves the reminder instead of leaving a stale one behind."""
    return f"{e.address}/{role}@intcfg"


def _secret_hint(ref: dict[str, str]) -> str:
    if "env" in ref:
        return f"the secret your CI passes as the environment variable {ref['env']}"
    return f"the file {ref.get('file', '?')}"


def _description(e: Expiry, headline: str) -> str:
    site = "the district (All Sites)" if e.site is None else f"site {e.site!r}"
    return "\n".join(
        (
            headline,
            f"They were rotated on {e.rotated} and expire on {e.due} "
            f"(policy: warn after {e.warn_days} days, expire after {e.max_days}).",
            "",
            "To rotate them:",
            f"1. In TOMS ({TOMS}), Credentialing, generate a new username and secret key "
            f"for the LEA of {site} of {e.district}. A new key invalidates the copy "
            "other vendors hold.",
            f"2. Store the new secret key in {_secret_hint(e.secret)}.",
            f"3. In the config repository, set credentialsRotated (and username, if it changed) "
            f"at {e.source.file}:{e.source.line}, and open a pull request.",
        )
    )


def _event(
    e: Expiry, role: str, day: dt.date, summary: str, headline: str, stamp: dt.datetime
) -> Event:
    from icalendar import Alarm, Event

    event = Event()
    event.add("uid", uid(e, role))
    event.add("dtstamp", stamp)
    event.add("dtstart", day)
    event.add("dtend", day + dt.timedelta(days=1))
    event.add("summary", summary)
    event.add("description", _description(e, headline))
    event.add("url", TOMS)
    event.add("transp", "TRANSPARENT")
    event.add("categories", ["intcfg", "ETS credentials"])
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", summary)
    alarm.add("trigger", ALARM_AFTER_START)
    event.add_component(alarm)
    return event


def calendar(expiries: Sequence[Expiry], stamp: dt.datetime, version: str) -> bytes:
    """An RFC 5545 calendar: for each credential an all-day event on its warn date and
    one on its due date, each with a display alarm. Holds no secret."""
    from icalendar import Calendar

    cal = Calendar()
    cal.add("prodid", f"-//intcfg//intcfg {version}//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", "intcfg: ETS credential rotation")
    for e in expiries:
        cal.add_component(
            _event(
                e,
                "rotate",
                e.warn_on,
                f"Rotate ETS credentials: {e.scope}",
                f"The ETS credentials of {e.scope} expire in {e.max_days - e.warn_days} days.",
                stamp,
            )
        )
        cal.add_component(
            _event(
                e,
                "expires",
                e.due,
                f"ETS credentials expire today: {e.scope}",
                f"The ETS credentials of {e.scope} expire today; rotate them now.",
                stamp,
            )
        )
    return cal.to_ical()  # type: ignore[no-any-return]
