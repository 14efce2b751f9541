"""Every rule intcfg validates, by stable id. The README's rule table is generated from
this one list (a test keeps them equal); SARIF output carries it as rule metadata."""

from __future__ import annotations

from typing import NamedTuple


class Rule(NamedTuple):
    id: str
    severity: str
    title: str


_RULES = [
    # Reading the file (E0xx)
    Rule("INTCFG-E001", "error", "The file is not valid YAML (syntax error, tab indentation, control character)."),
    Rule("INTCFG-E002", "error", "A mapping has the same key twice; both lines are named."),
    Rule("INTCFG-E003", "error", "The file is not valid UTF-8."),
    Rule("INTCFG-E004", "error", "The file is larger than the repository's limits.maxFileBytes."),
    Rule("INTCFG-E005", "error", "Too deep or too large after aliases are expanded (alias bomb guard)."),
    Rule("INTCFG-E006", "error", "A YAML tag other than the standard scalar and collection tags (e.g. !!python/object)."),
    Rule("INTCFG-E007", "error", "A YAML merge key (<<); write the fields out."),
    Rule("INTCFG-E008", "error", "A document or mapping key has the wrong shape (a document must be a mapping; keys must be strings)."),
    Rule("INTCFG-E010", "error", "YAML 1.1 read an unquoted value as a non-string (no, on, 012, 1:30) where a string is expected; quote it."),
    Rule("INTCFG-W001", "warning", "The file or document is empty."),
    # The schema (E1xx)
    Rule("INTCFG-E100", "error", "apiVersion is missing or not intcfg/v1."),
    Rule("INTCFG-E101", "error", "kind is missing or not a known kind."),
    Rule("INTCFG-E102", "error", "A field the kind does not have."),
    Rule("INTCFG-E103", "error", "A required field is missing."),
    Rule("INTCFG-E104", "error", "A value has the wrong type."),
    Rule("INTCFG-E105", "error", "A value is not one of the allowed values."),
    Rule("INTCFG-E106", "error", "A text is too long or too short (e.g. User Name up to 100 characters)."),
    Rule("INTCFG-E107", "error", "A number is out of range (e.g. Upload Port 1..65535)."),
    Rule("INTCFG-E108", "error", "A value does not have the expected form (names, paths, HH:MM, dates, formats)."),
    Rule("INTCFG-E109", "error", "A list or table has too many or too few entries, or repeats one (e.g. at most 5 sample students)."),
    Rule("INTCFG-E110", "error", "A secret field holds a plaintext value instead of {env: NAME} or {file: PATH}."),
    Rule("INTCFG-E111", "error", "The API URL needs to be a valid URL string."),
    Rule("INTCFG-E112", "error", "Credentials for another SIS vendor than the connection's."),
    Rule("INTCFG-E199", "error", "Any other schema violation."),
    # Across documents (E2xx)
    Rule("INTCFG-E200", "error", "Two resources of the same kind share a name in one district."),
    Rule("INTCFG-E201", "error", "metadata.district names no District resource."),
    Rule("INTCFG-E202", "error", "A SiteOverride's target resource does not exist."),
    Rule("INTCFG-E203", "error", "A site (override site or assigned school) is not a site of the district."),
    Rule("INTCFG-E204", "error", "A FieldMapping or Schedule names a connection that does not exist."),
    Rule("INTCFG-E205", "error", "A school is assigned to two connections of the same instance."),
    Rule("INTCFG-E206", "error", "An import-student mapping does not map a required target field."),
    Rule("INTCFG-E207", "error", "students.DOB must be YYYY-MM-DD: map it through a Date transformation to YYYY-MM-DD."),
    Rule("INTCFG-E208", "error", "A Match Codes field or step has no table."),
    Rule("INTCFG-E209", "error", "A Do Not Map field cannot overwrite."),
    Rule("INTCFG-E210", "error", "A credential URL is not HTTPS (allowed only for loopback hosts)."),
    Rule("INTCFG-E211", "error", "Credentials are older than the rotation policy allows (ETS: 90 days)."),
    Rule("INTCFG-W211", "warning", "Credentials are due for rotation soon (ETS: warn at 80 days)."),
    Rule("INTCFG-E212", "error", "An unknown IANA time zone."),
    Rule("INTCFG-E213", "error", "A site's effective configuration (base merged with its override) is invalid."),
    Rule("INTCFG-E214", "error", "Two sites of a district share an id."),
    Rule("INTCFG-E215", "error", "A Schedule's job has no FieldMapping of that type on its connection."),
    Rule("INTCFG-E216", "error", "A mapping field lacks what its type needs (a source, transformations) or has what it must not."),
    Rule("INTCFG-E217", "error", "Two FieldMappings of the same type, or two Schedules of the same job, on one connection."),
    Rule("INTCFG-E218", "error", "A date that does not exist or lies in the future."),
    Rule("INTCFG-E219", "error", "Two SiteOverrides patch the same resource for the same site."),
    Rule("INTCFG-W220", "warning", "A schedule on a sandbox connection runs once and then turns itself off."),
    Rule("INTCFG-E221", "error", "A rotation policy warns after it expires (warnDays must be less than maxDays)."),
    Rule("INTCFG-E222", "error", "The settings file intcfg.yaml is invalid."),
    Rule("INTCFG-E223", "error", "A Match Codes target is not a code of the enrollment system's Field Codes cached in field-codes/DISTRICT/."),
]

RULES: dict[str, Rule] = {r.id: r for r in _RULES}


def markdown_table() -> str:
    """The README's rule table."""
    rows = ["| rule | severity | what it checks |", "|---|---|---|"]
    pipe = "\\|"
    rows += [f"| `{r.id}` | {r.severity} | {r.title.replace('|', pipe)} |" for r in RULES.values()]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":  # python -m intcfg.ruleset > table.md
    import sys

    sys.stdout.write(markdown_table())
