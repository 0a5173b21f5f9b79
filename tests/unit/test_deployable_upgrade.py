"""A deployed stack upgrades in one `cdk deploy`: the tables' keys and indexes against the last released ones.

CloudFormation applies at most one global secondary index creation or deletion per table per update ("Cannot
perform more than one GSI creation or deletion in a single update"), and an index's keys or projection cannot
change in place (that is a deletion plus a creation). A table's own keys cannot change without replacing the
table, i.e. losing its data. `infra/deployed_indexes.json` records what the last release deployed; a release
that changes an index updates it (README "Upgrading a deployment").
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TypedDict

from chalicelib.resources import TABLES, Table

RELEASED = Path(__file__).resolve().parents[2] / "infra" / "deployed_indexes.json"
Shape = dict[str, tuple[str, str | None, str]]


class Released(TypedDict):
    partition_key: str
    sort_key: str | None
    indexes: dict[str, list[str | None]]  # name -> [partition key, sort key, projection]


def released() -> dict[str, Released]:
    tables: dict[str, Released] = json.loads(RELEASED.read_text())
    return tables


def index_shapes(table: Table) -> Shape:
    return {i.name: (i.partition_key, i.sort_key, i.projection) for i in table.indexes}


def index_operations(before: Shape, after: Shape) -> list[str]:
    """The index creations and deletions CloudFormation must make to go from `before` to `after`."""
    deleted = [f"delete {name}" for name, shape in before.items() if after.get(name) != shape]
    created = [f"create {name}" for name, shape in after.items() if before.get(name) != shape]
    return deleted + created


def test_counting_index_operations_sees_a_changed_projection_as_two() -> None:
    # Given an index whose projection changes and a new index
    before: Shape = {"by_x": ("x", None, "ALL")}
    after: Shape = {"by_x": ("x", None, "KEYS_ONLY"), "by_y": ("y", "z", "ALL")}
    # Then three operations are counted (one deploy allows one)
    assert index_operations(before, after) == ["delete by_x", "create by_x", "create by_y"]


def test_no_table_needs_more_than_one_index_change_to_upgrade() -> None:
    # Given the tables the last release deployed
    old = released()
    for table in TABLES:
        if table.short not in old:
            continue  # a new table is created whole, with all its indexes
        before: Shape = {name: (str(pk), sk, str(kind)) for name, (pk, sk, kind) in old[table.short]["indexes"].items()}
        # When this code is deployed over it
        operations = index_operations(before, index_shapes(table))
        # Then CloudFormation can do it in one update
        assert len(operations) <= 1, f"table {table.short}: {operations} (one per deploy; see README Upgrading)"


def test_no_table_changes_its_own_keys() -> None:
    old = released()
    for table in TABLES:
        if table.short in old:
            keys = (old[table.short]["partition_key"], old[table.short]["sort_key"])
            assert keys == (table.partition_key, table.sort_key), f"table {table.short} would be replaced"
