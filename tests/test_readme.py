from __future__ import annotations

import re

from conftest import REPO_ROOT

from intcfg.ruleset import RULES, markdown_table

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_setup_commands() -> None:
    first_block = README.split("```sh\n", 1)[1].split("```", 1)[0]
    commands = [line.split("#")[0].strip() for line in first_block.splitlines()]
    assert commands == ["make demo", "make test"]


def test_rule_table_is_the_generated_one() -> None:
    table = README.split("<!-- rules:start -->\n", 1)[1].split("<!-- rules:end -->", 1)[0]
    assert table == markdown_table(), "regenerate with: python -m intcfg.ruleset"


def test_every_rule_id_is_well_formed_and_documented_once() -> None:
    for rule_id, rule in RULES.items():
        assert re.fullmatch(r"INTCFG-[EW]\d{3}", rule_id)
        assert rule.severity == ("warning" if rule_id[7] == "W" else "error")
        assert README.count(f"`{rule_id}`") >= 1
