"""Every dbt model and every column it builds has a description (dbt docs and the Dagster UI show them), and no
description names a column the model does not build. The columns are read from a warehouse the whole project built
(the second of the shared two nights), so a column added to a model's SQL without its description fails here."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def models(dbt_manifest: Path) -> dict[str, dict]:
    """The project's models in the manifest the Dagster definitions load, by name."""
    nodes = json.loads(dbt_manifest.read_text())["nodes"].values()
    return {node["name"]: node for node in nodes if node["resource_type"] == "model"
            and node["package_name"] == "common_ground"}


@pytest.fixture(scope="module")
def built_columns(two_nights, tmp_path_factory) -> dict[tuple[str, str], list[str]]:
    """(schema, relation) -> its columns in order, as the second night built them."""
    warehouse = two_nights.copy("second", tmp_path_factory.mktemp("model_docs") / "warehouse.duckdb")
    with duckdb.connect(str(warehouse), read_only=True) as connection:
        rows = connection.execute("select table_schema, table_name, column_name from information_schema.columns "
                                  "order by table_schema, table_name, ordinal_position").fetchall()
    columns: dict[tuple[str, str], list[str]] = {}
    for schema, relation, column in rows:
        columns.setdefault((schema, relation), []).append(column)
    return columns


def test_every_model_has_a_description(models):
    assert len(models) > 60
    assert sorted(name for name, node in models.items() if not node["description"].strip()) == []


def test_every_built_column_has_a_description(models, built_columns):
    undocumented = {}
    for name, node in models.items():
        columns = built_columns.get((node["schema"], node["alias"]))
        assert columns, f"{name} was not built into {node['schema']}.{node['alias']}"
        missing = [column for column in columns
                   if not node["columns"].get(column, {}).get("description", "").strip()]
        if missing:
            undocumented[name] = missing
    assert undocumented == {}, "columns without a description in the models' YAML"


def test_no_description_names_a_column_the_model_does_not_build(models, built_columns):
    absent = {}
    for name, node in models.items():
        columns = set(built_columns[(node["schema"], node["alias"])])
        stale = [column for column in node["columns"] if column not in columns]
        if stale:
            absent[name] = stale
    assert absent == {}, "the YAML describes columns these models no longer build"


def test_shared_doc_blocks_are_rendered_into_the_descriptions(models):
    """A `{{ doc('...') }}` reference is replaced by its block's text when dbt parses, not left as Jinja."""
    loaded_at = models["stg_salesforce__accounts"]["columns"]["loaded_at"]["description"]
    assert loaded_at.startswith("When the loader last wrote the record into the raw layer")
    assert not [name for name, node in models.items()
                for column in node["columns"].values() if "{{" in column.get("description", "")]
