"""`intcfg expiries`: the credential rotation calendar, run as the real CLI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path

import icalendar
import pytest

from conftest import EXAMPLE, INTCFG, cli_env
from intcfg.expiries import status
from intcfg.render.expiries import uid

ETS = "districts/riverside-usd/ets.yaml"
CANARY = "canary-7f3a9c-secret-value-must-never-appear"


def run(
    repo: Path, *args: str, today: str = "2026-11-22", **env: str
) -> subprocess.CompletedProcess[str]:
    environment = {**cli_env(**env), "INTCFG_TODAY": today}
    return subprocess.run(
        [INTCFG, *args], cwd=repo, env=environment, capture_output=True, text=True, timeout=60
    )


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def rows(proc: subprocess.CompletedProcess[str]) -> list[dict[str, object]]:
    return json.loads(proc.stdout)["expiries"]  # type: ignore[no-any-return]


def test_lists_every_credential_sorted_by_due_date(example_repo: Path) -> None:
    proc = run(example_repo, "expiries")
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    assert proc.stdout == (
        "DISTRICT       SITE           ROTATED     POLICY   WARN ON     DUE         DAYS LEFT  STATUS  SET AT\n"
        "riverside-usd  river-charter  2026-09-15  80/90    2026-12-04  2026-12-14         22  ok      districts/riverside-usd/ets.yaml:29\n"
        "riverside-usd  All Sites      2026-10-01  80/90    2026-12-20  2026-12-30         38  ok      districts/riverside-usd/ets.yaml:14\n"
        "hillcrest-isd  All Sites      2026-06-01  330/365  2027-04-27  2027-06-01        191  ok      districts/hillcrest-isd/ets.yaml:11\n"
        "3 ETS credentials (today is 2026-11-22): 0 expired, 0 to rotate now, 3 ok.\n"
    )


def test_json_names_the_line_that_holds_credentials_rotated(example_repo: Path) -> None:
    proc = run(example_repo, "expiries", "--format", "json")
    assert proc.returncode == 0, proc.stderr
    body = json.loads(proc.stdout)
    assert body["today"] == "2026-11-22" and body["within"] is None
    assert body["expiries"][0] == {
        "district": "riverside-usd",
        "site": "river-charter",
        "name": "ets",
        "address": "portal/riverside-usd/StateAssessmentIntegration/ets/river-charter",
        "credentialsRotated": "2026-09-15",
        "warnDays": 80,
        "maxDays": 90,
        "warnOn": "2026-12-04",
        "due": "2026-12-14",
        "daysLeft": 22,
        "status": "ok",
        "source": {"file": ETS, "line": 29, "column": 25},
    }
    assert [(r["district"], r["site"]) for r in body["expiries"]] == [
        ("riverside-usd", "river-charter"),
        ("riverside-usd", None),
        ("hillcrest-isd", None),
    ]


def test_within_lists_nothing_far_away_and_exits_0(example_repo: Path) -> None:
    proc = run(example_repo, "expiries", "--within", "14")
    assert (proc.returncode, proc.stdout) == (
        0,
        "No ETS credentials due within 14 days (today is 2026-11-22).\n",
    )


def test_warning_window_exits_1_and_says_rotate_now(example_repo: Path) -> None:
    proc = run(example_repo, "expiries", "--within", "14", today="2026-12-04")
    assert proc.returncode == 1
    assert proc.stdout.splitlines()[1].split()[:8] == [
        "riverside-usd",
        "river-charter",
        "2026-09-15",
        "80/90",
        "2026-12-04",
        "2026-12-14",
        "10",
        "rotate",
    ]
    assert (
        "1 ETS credential due within 14 days (today is 2026-12-04): 0 expired, 1 to rotate now, 0 ok."
        in proc.stdout
    )
    assert "Generate new credentials in TOMS (https://mytoms.ets.org, Credentialing)" in proc.stdout


def test_a_due_credential_outside_the_window_is_not_listed_and_does_not_fail(
    example_repo: Path,
) -> None:
    # river-charter is in its warning window but due in 10 days, beyond --within 5.
    proc = run(example_repo, "expiries", "--within", "5", today="2026-12-04")
    assert (proc.returncode, proc.stdout) == (
        0,
        "No ETS credentials due within 5 days (today is 2026-12-04).\n",
    )


def test_expired_credentials_are_listed_although_validate_rejects_them(example_repo: Path) -> None:
    assert run(example_repo, "validate", today="2026-12-31").returncode == 1
    proc = run(example_repo, "expiries", "--format", "json", today="2026-12-31")
    assert proc.returncode == 1, proc.stderr
    assert [(r["site"], r["daysLeft"], r["status"]) for r in rows(proc)] == [
        ("river-charter", -17, "expired"),
        (None, -1, "expired"),
        (None, 152, "ok"),
    ]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-12-03", "ok"),
        ("2026-12-04", "warning"),
        ("2026-12-13", "warning"),
        ("2026-12-14", "expired"),
    ],
)
def test_status_agrees_with_validate_at_the_boundaries(
    example_repo: Path, today: str, expected: str
) -> None:
    found = run(example_repo, "validate", "--format", "json", today=today).stdout
    rules = {
        f["rule"] for f in json.loads(found)["findings"] if (f["file"], f["line"]) == (ETS, 29)
    }
    validate_says = (
        "expired" if "INTCFG-E211" in rules else "warning" if "INTCFG-W211" in rules else "ok"
    )
    proc = run(
        example_repo, "expiries", "--format", "json", "--district", "riverside-usd", today=today
    )
    charter = next(r for r in rows(proc) if r["site"] == "river-charter")
    assert charter["status"] == validate_says == expected
    assert proc.returncode == (0 if expected == "ok" else 1)


def test_status_unit_boundaries() -> None:
    warn, due = dt.date(2026, 12, 4), dt.date(2026, 12, 14)
    assert [status(dt.date(2026, 12, d), warn, due) for d in (3, 4, 13, 14, 15)] == [
        "ok",
        "warning",
        "warning",
        "expired",
        "expired",
    ]


def test_policy_precedence(example_repo: Path) -> None:
    settings = example_repo / "intcfg.yaml"
    edit(settings, "default: {warnDays: 80, maxDays: 90}", "default: {warnDays: 50, maxDays: 60}")
    edit(
        settings,
        "hillcrest-isd: {warnDays: 330, maxDays: 365}",
        "riverside-usd: {warnDays: 100, maxDays: 120}",
    )
    # hillcrest keeps its resource's own policy; a site patch's policy wins over the district's.
    edit(
        example_repo / ETS,
        "    credentialsRotated: 2026-09-15",
        "    credentialsRotated: 2026-09-15\n    rotationPolicy: {warnDays: 20, maxDays: 30}",
    )
    (example_repo / "districts/lakeside-sd/ets.yaml").write_text(
        "apiVersion: intcfg/v1\nkind: StateAssessmentIntegration\nmetadata: {name: ets, district: lakeside-sd}\n"
        "spec:\n  apiUrl: https://caaspp-aws.ets.org/api/v1/token\n  username: lakeside-toms\n"
        "  secretKey: {env: LAKESIDE_ETS_SECRET_KEY}\n  credentialsRotated: 2026-11-01\n",
        encoding="utf-8",
    )
    proc = run(example_repo, "expiries", "--format", "json")
    assert proc.returncode == 1, proc.stderr  # the charter is past its 20-day warning
    got = {(r["district"], r["site"]): (r["warnDays"], r["maxDays"], r["due"]) for r in rows(proc)}
    assert got == {
        ("riverside-usd", "river-charter"): (20, 30, "2026-10-15"),
        ("riverside-usd", None): (100, 120, "2027-01-29"),
        ("hillcrest-isd", None): (330, 365, "2027-06-01"),
        ("lakeside-sd", None): (50, 60, "2026-12-31"),
    }


def test_a_site_sharing_the_district_credentials_is_not_listed_twice(example_repo: Path) -> None:
    path = example_repo / ETS
    text = path.read_text(encoding="utf-8")
    start = text.index("    username: river-charter-toms")
    path.write_text(
        text[:start] + "    apiUrl: https://caaspp-aws.ets.org/api/v1/token?lea=charter\n",
        encoding="utf-8",
    )
    proc = run(example_repo, "expiries", "--format", "json", "--district", "riverside-usd")
    assert proc.returncode == 0, proc.stderr
    assert [r["address"] for r in rows(proc)] == [
        "portal/riverside-usd/StateAssessmentIntegration/ets"
    ]


def test_district_filter_and_unknown_district(example_repo: Path) -> None:
    proc = run(example_repo, "expiries", "--district", "hillcrest-isd", "--format", "json")
    assert [r["district"] for r in rows(proc)] == ["hillcrest-isd"]
    proc = run(example_repo, "expiries", "--district", "nowhere")
    assert proc.returncode == 2
    assert proc.stderr.endswith(
        "Error: Invalid value for --district: 'nowhere' (districts: hillcrest-isd, lakeside-sd, riverside-usd)\n"
    )


def test_negative_within_is_a_usage_error(example_repo: Path) -> None:
    proc = run(example_repo, "expiries", "--within", "-1")
    assert proc.returncode == 2
    assert "Error: Invalid value for '--within': -1 is not in the range x>=0." in proc.stderr


def test_invalid_configuration_names_file_and_line_without_traceback(example_repo: Path) -> None:
    edit(example_repo / ETS, "  username: riverside-usd-toms\n", "  usrname: riverside-usd-toms\n")
    proc = run(example_repo, "expiries")
    assert proc.returncode == 1
    assert proc.stdout == ""
    assert f"{ETS}:11:3: error INTCFG-E102 unknown field 'usrname'" in proc.stderr
    assert "Error: the configuration is invalid" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_outside_a_repository(tmp_path: Path) -> None:
    proc = run(tmp_path, "expiries")
    assert proc.returncode == 1
    assert proc.stderr.startswith("Error: no intcfg.yaml in ")
    assert "Traceback" not in proc.stderr


# -- iCalendar -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def ics(tmp_path_factory: pytest.TempPathFactory) -> tuple[subprocess.CompletedProcess[str], bytes]:
    """One run's calendar for the tests that only read it (those that run again use their
    own copy of the example)."""
    repo = tmp_path_factory.mktemp("ics") / "repo"
    shutil.copytree(EXAMPLE, repo)
    proc = run(repo, "expiries", "--ics", "ets.ics")
    return proc, (repo / "ets.ics").read_bytes()


def test_ics_has_a_rotate_and_an_expire_event_per_credential(
    ics: tuple[subprocess.CompletedProcess[str], bytes],
) -> None:
    proc, data = ics
    assert proc.returncode == 0
    assert proc.stderr == "Wrote 6 events to ets.ics\n"
    cal = icalendar.Calendar.from_ical(data)
    assert str(cal["VERSION"]) == "2.0"
    assert str(cal["PRODID"]).startswith("-//intcfg//intcfg ")
    events = [
        (str(e["SUMMARY"]), e.decoded("DTSTART"), e.decoded("DTEND")) for e in cal.walk("VEVENT")
    ]
    assert events == [
        (
            "Rotate ETS credentials: riverside-usd (river-charter)",
            dt.date(2026, 12, 4),
            dt.date(2026, 12, 5),
        ),
        (
            "ETS credentials expire today: riverside-usd (river-charter)",
            dt.date(2026, 12, 14),
            dt.date(2026, 12, 15),
        ),
        (
            "Rotate ETS credentials: riverside-usd (All Sites)",
            dt.date(2026, 12, 20),
            dt.date(2026, 12, 21),
        ),
        (
            "ETS credentials expire today: riverside-usd (All Sites)",
            dt.date(2026, 12, 30),
            dt.date(2026, 12, 31),
        ),
        (
            "Rotate ETS credentials: hillcrest-isd (All Sites)",
            dt.date(2027, 4, 27),
            dt.date(2027, 4, 28),
        ),
        (
            "ETS credentials expire today: hillcrest-isd (All Sites)",
            dt.date(2027, 6, 1),
            dt.date(2027, 6, 2),
        ),
    ]
    for event in cal.walk("VEVENT"):
        # All-day: DATE values, not DATE-TIME.
        assert type(event.decoded("DTSTART")) is dt.date
        assert event.decoded("DTSTAMP") == dt.datetime(2026, 11, 22, tzinfo=dt.UTC)
        (alarm,) = event.walk("VALARM")
        assert str(alarm["ACTION"]) == "DISPLAY"
        assert alarm.decoded("TRIGGER") == dt.timedelta(hours=9)


def test_ics_round_trips_and_is_reproducible(
    example_repo: Path, ics: tuple[subprocess.CompletedProcess[str], bytes]
) -> None:
    _, data = ics
    assert icalendar.Calendar.from_ical(data).to_ical() == data
    assert data.startswith(b"BEGIN:VCALENDAR\r\n") and data.endswith(b"END:VCALENDAR\r\n")
    run(example_repo, "expiries", "--ics", "again.ics")
    assert (example_repo / "again.ics").read_bytes() == data


def test_ics_description_says_where_to_rotate_and_which_line_to_update(
    ics: tuple[subprocess.CompletedProcess[str], bytes],
) -> None:
    _, data = ics
    first = next(iter(icalendar.Calendar.from_ical(data).walk("VEVENT")))
    assert str(first["DESCRIPTION"]) == (
        "The ETS credentials of riverside-usd (river-charter) expire in 10 days.\n"
        "They were rotated on 2026-09-15 and expire on 2026-12-14 (policy: warn after 80 days, expire after 90).\n"
        "\n"
        "To rotate them:\n"
        "1. In TOMS (https://mytoms.ets.org), Credentialing, generate a new username and secret key for the "
        "LEA of site 'river-charter' of riverside-usd. A new key invalidates the copy other vendors hold.\n"
        "2. Store the new secret key in the secret your CI passes as the environment variable "
        "RIVER_CHARTER_ETS_SECRET_KEY.\n"
        "3. In the config repository, set credentialsRotated (and username, if it changed) at "
        "districts/riverside-usd/ets.yaml:29, and open a pull request."
    )


def test_ics_uids_are_unique_and_survive_a_rotation(
    example_repo: Path, ics: tuple[subprocess.CompletedProcess[str], bytes]
) -> None:
    _, before = ics
    uids = [str(e["UID"]) for e in icalendar.Calendar.from_ical(before).walk("VEVENT")]
    assert len(set(uids)) == 6
    assert uids[:2] == [
        "portal/riverside-usd/StateAssessmentIntegration/ets/river-charter/rotate@intcfg",
        "portal/riverside-usd/StateAssessmentIntegration/ets/river-charter/expires@intcfg",
    ]
    # After a rotation, re-importing must move the reminders, not add new ones.
    edit(example_repo / ETS, "credentialsRotated: 2026-09-15", "credentialsRotated: 2026-11-20")
    run(example_repo, "expiries", "--ics", "ets.ics")
    after = {
        str(e["UID"]): e.decoded("DTSTART")
        for e in icalendar.Calendar.from_ical((example_repo / "ets.ics").read_bytes()).walk(
            "VEVENT"
        )
    }
    assert set(after) == set(uids)
    assert after[uids[0]] == dt.date(2027, 2, 8)


def test_uid_of_a_district_and_of_its_site_never_collide() -> None:
    from intcfg.expiries import Expiry
    from intcfg.location import Location

    def make(address: str, site: str | None) -> Expiry:
        day = dt.date(2026, 1, 1)
        return Expiry(
            "d", site, "ets", address, day, 1, 2, day, day, 0, "ok", Location("f"), {"env": "X"}
        )

    district = make("portal/d/StateAssessmentIntegration/ets", None)
    site = make("portal/d/StateAssessmentIntegration/ets/rotate", "rotate")
    assert {uid(district, r) for r in ("rotate", "expires")}.isdisjoint(
        {uid(site, r) for r in ("rotate", "expires")}
    )


def test_no_secret_value_in_any_output(example_repo: Path) -> None:
    secret_file = example_repo / "hillcrest.key"
    secret_file.write_text(CANARY, encoding="utf-8")
    edit(
        example_repo / "districts/hillcrest-isd/ets.yaml",
        "secretKey: {env: HILLCREST_ETS_SECRET_KEY}",
        "secretKey: {file: hillcrest.key}",
    )
    env = {
        name: CANARY
        for name in (
            "RIVERSIDE_ETS_SECRET_KEY",
            "RIVER_CHARTER_ETS_SECRET_KEY",
            "INTCFG_ADMIN_TOKEN",
        )
    }
    outputs = []
    for fmt in ("text", "json"):
        proc = run(
            example_repo,
            "expiries",
            "--format",
            fmt,
            "--ics",
            f"out-{fmt}.ics",
            today="2026-12-31",
            **env,
        )
        assert proc.returncode == 1, proc.stderr
        outputs += [
            proc.stdout,
            proc.stderr,
            (example_repo / f"out-{fmt}.ics").read_text(encoding="utf-8"),
        ]
    assert all(CANARY not in text for text in outputs)
    assert "the file hillcrest.key" in outputs[2].replace("\r\n ", "")


def test_ics_that_cannot_be_written_is_one_clean_error(example_repo: Path) -> None:
    proc = run(example_repo, "expiries", "--ics", "no/such/dir/ets.ics")
    assert proc.returncode == 1
    assert (
        proc.stderr
        == "Error: Could not open file 'no/such/dir/ets.ics': No such file or directory\n"
    )
    assert not list(example_repo.glob("no*"))
