"""Sample students read from a SIS with a sync connection's own credentials (previews).

Each vendor's record is flattened to the source field names its mappings use, the names
of the enrollment system's source-field pickers:

- PowerSchool: GET {serverUrl}/ws/v1/student/{student_number} (bearer token from the
  plugin's client credentials); the fields under ``student`` are PowerSchool's column
  names already (student_number, first_name, last_name, dob, entrydate, ...).
- Aeries: OneRoster 1.1 beside the Standard API: GET .../students/{sourcedId} and
  .../demographics/{sourcedId}. sourcedId -> PermanentID, givenName -> FirstName,
  middleName -> MiddleName ('' for null), familyName -> LastName, identifier ->
  StateStudentID, email -> StudentEmailAddress, phone -> HomePhone, the first grade ->
  Grade (KG -> 0), the first org -> SchoolCode, demographics birthDate (ISO) ->
  Birthdate in Aeries' own MM/DD/YYYY, sex (male/female/other) -> Sex (M/F/X).
- Skyward Qmlativ: GET {apiUrl}/Generic/{entityId}/Student/Student/{StudentNumber}; the
  object's keys are Qmlativ's field names already (StudentNumber, FirstName, BirthDate...).

A student that cannot be read is that student's error, never the whole preview's.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, NamedTuple

import httpx

from ..errors import ProviderError
from ..providers import http
from ..secrets import Secret
from . import oneroster, powerschool, skyward
from .base import ClientFactory, default_factory, json_of, status_text, unreachable

Record = dict[str, str | None]
SEX = {"male": "M", "female": "F", "other": "X"}


class Fetched(NamedTuple):
    """One student: the flattened record, or why it could not be read."""

    student_id: str
    record: Record | None
    error: str | None = None


async def fetch_students(
    spec: Mapping[str, Any],
    secrets: Mapping[str, Secret],
    ids: list[str],
    factory: ClientFactory = default_factory,
) -> list[Fetched]:
    """The students ``ids`` from the SIS of the SyncConnection ``spec`` (secrets by dotted path)."""
    vendor = spec["vendor"]
    block = spec[vendor]
    if vendor == "powerschool":
        return await _powerschool(block, secrets["powerschool.clientSecret"], ids, factory)
    if vendor == "aeries":
        return await _aeries(block["oneRoster"], secrets["aeries.oneRoster.consumerSecret"], ids, factory)
    return await _skyward(block, secrets["skyward.consumerSecret"], ids, factory)


def _failed(ids: list[str], message: str) -> list[Fetched]:
    return [Fetched(sid, None, message) for sid in ids]


async def _get(client: httpx.AsyncClient, url: str, system: str, token: Secret) -> httpx.Response:
    return await http.send(
        client, "GET", url, system=system, headers={"Authorization": f"Bearer {token.reveal()}"}
    )


def _answer_problem(sid: str, response: httpx.Response) -> str:
    if response.status_code == 404:
        return f"no student {sid!r} in the SIS"
    return f"cannot read student {sid!r} ({status_text(response)})"


# -- PowerSchool ----------------------------------------------------------------------------------


async def _powerschool(
    block: Mapping[str, Any], secret: Secret, ids: list[str], factory: ClientFactory
) -> list[Fetched]:
    creds = powerschool.Credentials(block["serverUrl"], block["clientId"], secret)

    async def one(client: httpx.AsyncClient, token: Secret, sid: str) -> Fetched:
        return await _ps_one(client, creds.server_url, token, sid)

    return await _each(factory, creds.server_url, lambda c: powerschool._token(c, creds), one, ids)


async def _ps_one(client: httpx.AsyncClient, base: str, token: Secret, sid: str) -> Fetched:
    url = http.join_url(base, f"/ws/v1/student/{_quote(sid)}")
    response = await _get(client, url, powerschool.SYSTEM, token)
    student = (json_of(response) or {}).get("student")
    if not response.is_success or not isinstance(student, dict):
        return Fetched(sid, None, _answer_problem(sid, response))
    return Fetched(sid, _text_values(student))


# -- Aeries (OneRoster) ---------------------------------------------------------------------------


async def _aeries(
    block: Mapping[str, Any], secret: Secret, ids: list[str], factory: ClientFactory
) -> list[Fetched]:
    creds = oneroster.Credentials(block["url"], block["consumerId"], secret)

    async def one(client: httpx.AsyncClient, token: Secret, sid: str) -> Fetched:
        return await _or_one(client, creds.url, token, sid)

    return await _each(factory, creds.url, lambda c: oneroster._token(c, creds), one, ids)


async def _or_one(client: httpx.AsyncClient, base: str, token: Secret, sid: str) -> Fetched:
    root = f"{oneroster.ROOT}/%s/{_quote(sid)}"
    response = await _get(client, http.join_url(base, root % "students"), oneroster.SYSTEM, token)
    user = (json_of(response) or {}).get("user")
    if not response.is_success or not isinstance(user, dict):
        return Fetched(sid, None, _answer_problem(sid, response))
    response = await _get(client, http.join_url(base, root % "demographics"), oneroster.SYSTEM, token)
    demographics = (json_of(response) or {}).get("demographics")
    if not response.is_success or not isinstance(demographics, dict):
        return Fetched(sid, None, f"cannot read the demographics of {sid!r} ({status_text(response)})")
    return Fetched(sid, aeries_record(user, demographics))


def aeries_record(user: Mapping[str, Any], demographics: Mapping[str, Any]) -> Record:
    """A OneRoster user and its demographics under Aeries' field names."""
    grades = user.get("grades") or []
    orgs = user.get("orgs") or []
    grade = str(grades[0]) if grades else None
    return {
        "PermanentID": _str(user.get("sourcedId")),
        "FirstName": _str(user.get("givenName")),
        "MiddleName": _str(user.get("middleName")) or "",
        "LastName": _str(user.get("familyName")),
        "Birthdate": _mdy(demographics.get("birthDate")),
        "Sex": SEX.get(str(demographics.get("sex")), None),
        "Grade": "0" if grade == "KG" else (str(int(grade)) if grade and grade.isdigit() else grade),
        "SchoolCode": _str(orgs[0].get("sourcedId")) if orgs and isinstance(orgs[0], dict) else None,
        "StudentEmailAddress": _str(user.get("email")),
        "HomePhone": _str(user.get("phone")),
        "StateStudentID": _str(user.get("identifier")),
    }


def _mdy(iso: Any) -> str | None:
    try:
        day = dt.date.fromisoformat(str(iso))
    except ValueError:
        return _str(iso)
    return f"{day.month:02d}/{day.day:02d}/{day.year}"


# -- Skyward Qmlativ ------------------------------------------------------------------------------


async def _skyward(
    block: Mapping[str, Any], secret: Secret, ids: list[str], factory: ClientFactory
) -> list[Fetched]:
    creds = skyward.Credentials(block["apiUrl"], block["consumerKey"], secret, block.get("entityId", 1))

    async def one(client: httpx.AsyncClient, token: Secret, sid: str) -> Fetched:
        return await _sky_one(client, creds, token, sid)

    return await _each(factory, creds.api_url, lambda c: skyward._token(c, creds), one, ids)


async def _sky_one(
    client: httpx.AsyncClient, creds: skyward.Credentials, token: Secret, sid: str
) -> Fetched:
    path = f"/Generic/{creds.entity_id}/Student/Student/{_quote(sid)}"
    response = await _get(client, http.join_url(creds.api_url, path), skyward.SYSTEM, token)
    body = json_of(response)
    if not response.is_success or body is None:
        return Fetched(sid, None, _answer_problem(sid, response))
    return Fetched(sid, _text_values(body))


# -- shared ---------------------------------------------------------------------------------------


async def _each(
    factory: ClientFactory,
    url: str,
    token_of: Callable[[httpx.AsyncClient], Awaitable[tuple[Secret | None, Any]]],
    one: Callable[[httpx.AsyncClient, Secret, str], Awaitable[Fetched]],
    ids: list[str],
) -> list[Fetched]:
    """Each student read with one token from the vendor at ``url``; every student fails with
    the token's problem when there is none, or with the vendor's when it is unreachable."""
    async with factory(url) as client:
        try:
            token, part = await token_of(client)
            if token is None:
                return _failed(ids, part.message)
            return [await one(client, token, sid) for sid in ids]
        except ProviderError as e:
            return _failed(ids, unreachable(e))


def _quote(sid: str) -> str:
    from ..providers.admin import quote_part

    return quote_part(sid)


def _str(value: Any) -> str | None:
    return None if value is None else str(value)


def _text_values(record: Mapping[str, Any]) -> Record:
    return {str(k): _str(v) for k, v in record.items() if not isinstance(v, (dict, list))}
