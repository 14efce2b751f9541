"""The published JSON Schemas (schemas/): generated from the models and up to date, valid
draft 2020-12, usable by another validator (check-jsonschema, as editors and CI use them),
and in agreement with the pydantic models and intcfg's own validator on the example
repository and on every document of the validation corpus."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import jsonschema
import pydantic
import pytest
from examples.corpus import BASE, INVALID, VALID, case_files, cases

from intcfg import schemagen
from intcfg.loader import Document, load_file
from intcfg.models import KIND_MODELS, Settings
from intcfg.repo import RepoSettings, discover
from intcfg.schemas import KIND_FILES
from intcfg.validate import schema as intcfg_schema

REPO_ROOT = Path(__file__).resolve().parents[1]
SCHEMAS = REPO_ROOT / "schemas"
EXAMPLE = REPO_ROOT / "config-repo-example"
BIN = Path(sys.executable).parent
MODELINE = re.compile(r"^# yaml-language-server: \$schema=(?P<path>\S+)$")
DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}


class Doc(NamedTuple):
    """One YAML document: where it is, its text alone, and what intcfg's loader read."""

    name: str
    text: str
    document: Document
    settings: bool

    @property
    def data(self) -> Any:
        return self.document.data


def documents(file: Path, name: str, settings: bool = False) -> list[Doc]:
    """The documents intcfg's loader reads from ``file`` (none if it cannot read it)."""
    loaded = load_file(str(file))
    if not loaded.documents:
        return []
    text = file.read_text(encoding="utf-8-sig")
    out = []
    for doc in loaded.documents:
        start, end = doc.node.start_mark.index, doc.node.end_mark.index  # type: ignore[union-attr]
        out.append(Doc(f"{name}#{doc.index}", text[start:end] + "\n", doc, settings))
    return out


def config_files(root: Path) -> list[Path]:
    """intcfg.yaml and the files its include/exclude make config files."""
    settings = RepoSettings.from_data(load_file(str(root / "intcfg.yaml")).documents[0].data)
    return [root / "intcfg.yaml", *discover(root, settings)]


def repository_documents(root: Path, name: str) -> list[Doc]:
    return [
        doc
        for file in config_files(root)
        for doc in documents(file, f"{name}/{file.relative_to(root)}", file.name == "intcfg.yaml")
    ]


def schema_findings(doc: Doc) -> list[str]:
    """What intcfg's own schema check (jsonschema-rs) says about the document."""
    check = intcfg_schema.check_settings if doc.settings else intcfg_schema.check_document
    return [f.rule for f in check(doc.document)]


def model_error(doc: Doc) -> str | None:
    """Why the pydantic model rejects the document, or None when it accepts it."""
    data = doc.data
    model = Settings if doc.settings else KIND_MODELS.get(data.get("kind")) if isinstance(data, dict) else None
    if model is None:
        return "no model for this kind"
    try:
        model.model_validate(data)
    except pydantic.ValidationError as e:
        return str(e)
    return None


def check_jsonschema(schema: Path, docs: list[Doc], tmp: Path) -> set[str]:
    """Names of the documents the check-jsonschema CLI rejects (each checked on its own)."""
    tmp.mkdir(parents=True, exist_ok=True)
    files = {}
    for i, doc in enumerate(docs):
        path = tmp / f"doc-{i:03d}.yaml"
        path.write_text(doc.text, encoding="utf-8")
        files[str(path)] = doc.name
    result = subprocess.run(
        [str(BIN / "check-jsonschema"), "-o", "json", "--schemafile", str(schema), *files],
        env=env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    report = json.loads(result.stdout)
    assert report.get("parse_errors", []) == []
    rejected = {files[e["filename"]] for e in report["errors"]}
    assert result.returncode == (1 if rejected else 0), result.stderr
    return rejected


@pytest.fixture(scope="module")
def corpus() -> list[Doc]:
    """The base's documents and those of every file a corpus case adds or replaces."""
    out = repository_documents(BASE, "base")
    for folder in (INVALID, VALID):
        for case in cases(folder):
            for rel in case_files(folder / case):
                settings = rel == Path("intcfg.yaml")
                out.extend(documents(folder / case / rel, f"{folder.name}/{case}/{rel}", settings))
    return out


def schema_invalid(corpus: list[Doc]) -> list[Doc]:
    return [d for d in corpus if schema_findings(d)]


# -- up to date ------------------------------------------------------------------------


def test_schema_check_passes() -> None:
    result = subprocess.run(
        [str(BIN / "intcfg"), "schema", "--check"],
        cwd=REPO_ROOT,
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.stdout, result.stderr, result.returncode) == ("schemas: up to date\n", "", 0)


def test_the_checked_in_schemas_are_what_the_models_generate(tmp_path: Path) -> None:
    # A model changed without `intcfg schema` fails here.
    schemagen.write(tmp_path)
    generated = sorted(p.name for p in tmp_path.iterdir())
    assert generated == sorted(p.name for p in SCHEMAS.glob("*.json"))
    for name in generated:
        assert (tmp_path / name).read_bytes() == (SCHEMAS / name).read_bytes(), (
            f"schemas/{name} is stale: run `intcfg schema` and commit it"
        )


def test_the_check_names_stale_and_missing_schemas(tmp_path: Path) -> None:
    out = tmp_path / "schemas"
    shutil.copytree(SCHEMAS, out)
    district = json.loads((out / "district.json").read_text())
    district["properties"]["spec"] = {"type": "object"}
    (out / "district.json").write_text(json.dumps(district), encoding="utf-8")
    (out / "schedule.json").unlink()
    result = subprocess.run(
        [str(BIN / "intcfg"), "schema", "--check", "--out", str(out)],
        env=env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.stdout == f"stale: {out / 'district.json'}\nstale: {out / 'schedule.json'}\n"
    assert result.stderr == "Run `intcfg schema` to regenerate.\n"
    assert result.returncode == 1


# -- valid schemas ---------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(p.name for p in SCHEMAS.glob("*.json")))
def test_every_schema_is_valid_draft_2020_12(name: str) -> None:
    schema = json.loads((SCHEMAS / name).read_text(encoding="utf-8"))
    assert schema["$schema"] == DRAFT_2020_12
    assert schema["$id"] == f"https://intcfg.dev/schemas/v1/{name}"
    jsonschema.Draft202012Validator.check_schema(schema)


def test_there_is_a_schema_per_kind_plus_settings_and_any() -> None:
    expected = {*KIND_FILES.values(), "settings.json", "any.json"}
    assert {p.name for p in SCHEMAS.glob("*.json")} == expected
    assert set(KIND_FILES) == set(KIND_MODELS)


# -- the example repository --------------------------------------------------------------


def example_files() -> list[Path]:
    return config_files(EXAMPLE)


def modeline(file: Path) -> Path:
    first = file.read_text(encoding="utf-8").splitlines()[0]
    match = MODELINE.match(first)
    assert match, f"{file.relative_to(REPO_ROOT)}: the first line is not a schema modeline"
    return (file.parent / match["path"]).resolve()


@pytest.mark.parametrize("file", example_files(), ids=lambda p: str(p.relative_to(EXAMPLE)))
def test_modelines_point_at_the_right_existing_schema(file: Path) -> None:
    schema = modeline(file)
    assert schema.parent == SCHEMAS
    assert schema.is_file()
    if file.name == "intcfg.yaml":
        assert schema.name == "settings.json"
        return
    kinds = {doc.data["kind"] for doc in load_file(str(file)).documents}
    assert schema.name == "any.json" or {KIND_FILES[k] for k in kinds} == {schema.name}


def test_check_jsonschema_accepts_every_example_document_against_any(tmp_path: Path) -> None:
    docs = [d for d in repository_documents(EXAMPLE, "example") if not d.settings]
    assert len(docs) == 23
    assert check_jsonschema(SCHEMAS / "any.json", docs, tmp_path) == set()


def modeline_schemas() -> list[str]:
    return sorted({modeline(f).name for f in example_files()})


@pytest.mark.parametrize("schema", modeline_schemas())
def test_check_jsonschema_accepts_the_example_files_against_their_modeline(
    schema: str, tmp_path: Path
) -> None:
    docs = [
        doc
        for file in example_files()
        if modeline(file).name == schema
        for doc in documents(file, str(file.relative_to(EXAMPLE)), file.name == "intcfg.yaml")
    ]
    assert docs
    assert check_jsonschema(SCHEMAS / schema, docs, tmp_path) == set()


def test_the_example_uses_kind_settings_and_any_modelines() -> None:
    assert {"any.json", "settings.json", "district.json", "schedule.json"} <= set(modeline_schemas())


def test_the_models_accept_every_example_document() -> None:
    for doc in repository_documents(EXAMPLE, "example"):
        assert model_error(doc) is None, doc.name


# -- the corpus ------------------------------------------------------------------------


def test_the_corpus_has_schema_invalid_documents_of_every_kind(corpus: list[Doc]) -> None:
    bad = schema_invalid(corpus)
    kinds = {d.data.get("kind") for d in bad if isinstance(d.data, dict) and not d.settings}
    assert set(KIND_MODELS) <= kinds
    assert any(d.settings for d in bad)


def test_check_jsonschema_rejects_every_schema_invalid_corpus_document(
    corpus: list[Doc], tmp_path: Path
) -> None:
    bad = schema_invalid(corpus)
    # YAML 1.1 surprises (INTCFG-E010) are about the reader, not the schema:
    # check-jsonschema reads YAML 1.2, in which `no` is the string 'no'.
    bad = [d for d in bad if set(schema_findings(d)) != {"INTCFG-E010"}]
    resources = [d for d in bad if not d.settings]
    settings = [d for d in bad if d.settings]
    assert check_jsonschema(SCHEMAS / "any.json", resources, tmp_path / "any") == {
        d.name for d in resources
    }
    assert check_jsonschema(SCHEMAS / "settings.json", settings, tmp_path / "settings") == {
        d.name for d in settings
    }


def test_the_models_reject_every_schema_invalid_corpus_document(corpus: list[Doc]) -> None:
    bad = schema_invalid(corpus)
    assert len(bad) >= 40
    accepted = [d.name for d in bad if model_error(d) is None]
    assert accepted == []


def test_the_models_accept_every_schema_valid_corpus_document(corpus: list[Doc]) -> None:
    # Semantic findings (dates that do not exist, unknown districts, ...) are the rules'
    # business; the schema and the model must agree on everything else.
    good = [d for d in corpus if not schema_findings(d)]
    assert len(good) >= 60
    rejected = {d.name: model_error(d) for d in good if model_error(d) is not None}
    assert rejected == {}


def test_a_model_error_never_shows_the_input(corpus: list[Doc]) -> None:
    for doc in schema_invalid(corpus):
        error = model_error(doc) or ""
        assert "CANARY-" not in error, doc.name
        assert "input_value" not in error, doc.name
