"""The editors' JSON Schema: complete Chinese help, committed copy current, agrees with real files."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

from casebook.cli import main
from casebook.models import FILE_MODELS
from casebook.schema import schema_files
from casebook.validate import discover, file_kind

ROOT = Path(__file__).resolve().parents[1]
CJK = re.compile(r"[\u4e00-\u9fff]")


def _properties(node, path=""):
    if isinstance(node, dict):
        for name, prop in (node.get("properties") or {}).items():
            yield f"{path}.{name}", prop
        for key, value in node.items():
            yield from _properties(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _properties(item, f"{path}[{i}]")


@pytest.mark.parametrize("kind", list(FILE_MODELS))
def test_every_field_has_chinese_title_and_description(kind):
    schema = json.loads(schema_files()[f"{kind}.schema.json"])
    props = list(_properties(schema))
    assert len(props) > 3
    for where, prop in props:
        assert CJK.search(prop.get("title", "")), f"{where} lacks a Chinese title"
        assert CJK.search(prop.get("description", "")), f"{where} lacks a Chinese description"
    for name, definition in schema.get("$defs", {}).items():
        if definition.get("type") == "object":
            assert CJK.search(definition.get("title", "")) and CJK.search(definition.get("description", "")), name


def test_committed_schema_is_current():
    committed = {p.name: p.read_text(encoding="utf-8") for p in (ROOT / "schema").glob("*.json")}
    assert committed == schema_files(), "schema/ is stale: run `casebook schema --out schema` and commit it"


def test_schema_command_prints_valid_json(capsys):
    assert main(["schema"]) == 0
    combined = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(combined)
    assert main(["schema", "--kind", "cluster"]) == 0
    cluster = json.loads(capsys.readouterr().out)
    assert cluster["title"] == "组团"
    assert "observations" in cluster["properties"]


def test_every_case_file_points_at_its_schema_and_passes_it():
    """What the editor's yaml-language-server sees agrees with what `check` accepts."""
    paths = discover(ROOT / "cases")
    assert paths, "no case files found"
    for path in paths:
        kind = file_kind(path.relative_to(ROOT / "cases"))
        first = path.read_text(encoding="utf-8").splitlines()[0]
        m = re.fullmatch(r"# yaml-language-server: \$schema=(\S+)", first)
        assert m, f"{path} lacks the $schema line"
        target = (path.parent / m.group(1)).resolve()
        assert target == (ROOT / "schema" / f"{kind}.schema.json"), path
        schema = json.loads(target.read_text(encoding="utf-8"))
        jsonschema.validate(yaml.safe_load(path.read_text(encoding="utf-8")), schema)
