"""`intcfg preview` and `intcfg send-test-record`: field mappings on real students.

Registered on the `intcfg` group (see cli.COMMAND_MODULES); heavy imports happen inside
the commands.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from . import cli_options as options
from .defaults import MAX_SAMPLE_STUDENTS as MAX_STUDENTS

DISTRICT_OPTION = click.option(
    "--district", metavar="ID", help="The mapping's district, when several have one of that name."
)


@click.command("preview")
@click.argument("mapping")
@DISTRICT_OPTION
@click.option(
    "--student",
    "students",
    multiple=True,
    metavar="ID",
    help=f"A Student Unique ID (repeatable, at most {MAX_STUDENTS}; default: the mapping's sampleStudents).",
)
@click.option(
    "--from-csv",
    "csv_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Read the students from a CSV file (header row: source field names) instead of the SIS.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "markdown"]),
    default="text",
    show_default=True,
    help="Output format.",
)
@options.REPO
def preview_command(
    mapping: str,
    district: str | None,
    students: tuple[str, ...],
    csv_path: Path | None,
    fmt: str,
    repo: Path | None,
) -> None:
    """Preview a field mapping on up to five sample students.

    MAPPING is the name of a FieldMapping resource. For each student: each target
    field's source value, mapping type and mapped value, and why a field could not
    be mapped. Students are read from the connection's SIS with its own credentials,
    or from --from-csv (a 'Student Unique ID' or 'id' column picks the rows).

    Exit status: 0 every field mapped, 1 any field or student failed, 2 usage error.

    \b
    Examples:
      intcfg preview ps-import-student
      intcfg preview ps-import-student --district lakeside-sd --student 20451
      intcfg preview ps-import-student --from-csv students.csv --format markdown
    """
    from .preview import preview
    from .render.preview import RENDERERS

    if len(set(students)) > MAX_STUDENTS:
        raise click.UsageError(f"at most {MAX_STUDENTS} --student options ({len(set(students))} given)")
    result = preview(repo, mapping, district, students, csv_path)
    click.echo(RENDERERS[fmt](result), nl=False)
    sys.exit(0 if result.ok else 1)


@click.command("send-test-record")
@click.argument("mapping")
@click.option("--student", required=True, metavar="ID", help="The Student Unique ID to send.")
@click.option("--yes", is_flag=True, help="Send without asking (needed without a terminal).")
@DISTRICT_OPTION
@click.option(
    "--live", metavar="URL", help="The live systems' URL (default: live.url in intcfg.yaml)."
)
@options.REPO
def send_test_record_command(
    mapping: str, student: str, yes: bool, district: str | None, live: str | None, repo: Path | None
) -> None:
    """Send one student through a mapping (Send a Test Record).

    MAPPING is the name of a FieldMapping resource; the student goes through it to
    the enrollment system. Shows the student's preview first and asks before sending
    (--yes to skip; without a terminal --yes is required). The mapping must have been
    applied (exist live).

    Exit status: 0 accepted, 1 refused by the live system (with its remedy) or failed,
    2 usage error.

    \b
    Examples:
      intcfg send-test-record ps-import-student --student 20451
      intcfg send-test-record ps-import-student --student 20451 --yes
    """
    from .preview import from_sis, select_mapping, send_test_record
    from .render.preview import RENDERERS, test_record_text

    if not yes and not sys.stdin.isatty():
        raise click.UsageError("no terminal to confirm on; rerun with --yes to send the test record")
    selected = select_mapping(repo, mapping, district)
    click.echo(RENDERERS["text"](from_sis(selected, [student])), nl=False)
    if not yes and not click.confirm(f"Send student {student} to the enrollment system?"):
        click.echo("Not sent.")
        sys.exit(1)
    result = send_test_record(selected, student, live)
    click.echo(test_record_text(result), nl=False)
    sys.exit(0 if result.ok else 1)


@click.command("import")
@click.option("--district", required=True, metavar="ID", help="The district to import.")
@click.option(
    "--system",
    "systems",
    multiple=True,
    type=click.Choice(["sis", "portal", "enroll"]),
    help="Only this live system (repeatable; default: all three).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write under this directory (default: the repository's root).",
)
@click.option(
    "--live", metavar="URL", help="The live systems' URL (default: live.url in intcfg.yaml)."
)
@options.REPO
def import_command(
    district: str, systems: tuple[str, ...], out: Path | None, live: str | None, repo: Path | None
) -> None:
    """Write YAML for what a district's live systems hold.

    For adopting objects configured by hand before intcfg. One file per kind under
    OUT/districts/DISTRICT/, per-site objects as SiteOverride documents, secrets as
    {env: NAME} references (the variables to set are listed), and the District from
    the enrollment system when the repository lacks it. The objects are recorded as
    managed on the audit branch, so the next plan shows them in sync.

    \b
    Examples:
      intcfg import --district riverside-usd
      intcfg import --district riverside-usd --system enroll --out imported
    """
    from .importer import execute

    result = execute(repo, district, systems or ("sis", "portal", "enroll"), out, live)
    for path in result.files:
        click.echo(f"wrote {path}")
    if result.district_written:
        click.echo(
            "The District document comes from the enrollment system; add each site's "
            "state school code if it lacks one and the district's state."
        )
    click.echo(f"Adopted {result.adopted} objects (audit commit {(result.audit_commit or 'none')[:12]}).")
    if result.variables:
        click.echo("Set these environment variables to the secrets' values before plan or apply:")
        for name in result.variables:
            click.echo(f"  {name}")


@click.command("field-codes")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    type=click.Choice(["states", "countries", "languages", "races", "ethnicities", "genders", "custom-fields"]),
    help="Only this code set (repeatable; default: all).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["csv", "json"]),
    default="csv",
    show_default=True,
    help="File format of the cached code sets.",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Directory to write into (default: field-codes/ in the repository).",
)
@click.option(
    "--live", metavar="URL", help="The live systems' URL (default: live.url in intcfg.yaml)."
)
@options.REPO
def field_codes_command(
    kinds: tuple[str, ...], fmt: str, out: Path | None, live: str | None, repo: Path | None
) -> None:
    """Download the enrollment system's Field Codes.

    The code sets (states, languages, races, ...) that Match Codes targets must use,
    for each district, cached as field-codes/DISTRICT/KIND.csv (or .json); commit
    them, and `intcfg validate` checks match-code targets against them offline
    (INTCFG-E223).

    \b
    Examples:
      intcfg field-codes
      intcfg field-codes --kind languages --kind races --format json
    """
    from .importer import CODE_KINDS, download_codes

    for path in download_codes(repo, kinds or CODE_KINDS, fmt, out, live):
        click.echo(f"wrote {path}")


def register(group: click.Group) -> None:
    group.add_command(preview_command)
    group.add_command(send_test_record_command)
    group.add_command(import_command)
    group.add_command(field_codes_command)
