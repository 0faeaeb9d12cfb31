"""Tags as codes: every answer equals the one read from plain dicts (the pyosmium read)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from geoplan.io import osm_columns
from geoplan.io.osm import read_osm
from geoplan.rules import tag_table
from geoplan.rules import taxonomy as tx
from geoplan.rules.streets import walk_rules
from geoplan.rules.tag_table import TagTable, tag_column, take_tags
from geoplan.rules.tags import TagSets

pytestmark = pytest.mark.skipif(not osm_columns.available(), reason="duckdb not installed")


@pytest.fixture(scope="module", params=["chengdu", "sao_paulo"])
def both(
    request: pytest.FixtureRequest, chengdu_pbf: Path, sao_paulo_pbf: Path
) -> tuple[TagTable, list[dict[str, str]]]:
    """The highway ways' tags from the columnar read (a table) and from pyosmium (dicts)."""
    path = chengdu_pbf if request.param == "chengdu" else sao_paulo_pbf
    table = read_osm(path, reader="duckdb", parallel=False).ways.tags
    dicts = list(read_osm(path, reader="pyosmium", parallel=False).ways.tags)
    assert isinstance(table, TagTable) and not isinstance(dicts, TagTable)
    return table, dicts


def test_rows_read_as_the_same_dicts(both: tuple[TagTable, list[dict[str, str]]]) -> None:
    table, dicts = both
    assert len(table) == len(dicts) > 2000
    assert list(table) == dicts
    assert table[0] == dicts[0] and table[-1] == dicts[-1]
    assert table.dicts() == dicts
    with pytest.raises(IndexError):
        table[len(dicts)]


@pytest.mark.parametrize("key", ["highway", "name", "oneway", "no such key"])
def test_column_is_each_rows_value(both: tuple[TagTable, list[dict[str, str]]], key: str) -> None:
    table, dicts = both
    assert table.column(key).tolist() == [t.get(key) for t in dicts]
    assert tag_column(table, key, "-").tolist() == [t.get(key, "-") for t in dicts]
    assert tag_column(dicts, key, "-").tolist() == [t.get(key, "-") for t in dicts]


def test_take_slice_and_concat(both: tuple[TagTable, list[dict[str, str]]]) -> None:
    table, dicts = both
    rows = np.random.default_rng(0).choice(len(dicts), 500, replace=False)
    assert list(take_tags(table, rows)) == [dicts[i] for i in rows]
    assert take_tags(dicts, rows) == [dicts[i] for i in rows]
    assert list(table[10:40:3]) == dicts[10:40:3]
    # parts with their own key and value lists (one per read batch) joined on one
    cut = len(dicts) // 3
    parts = [TagTable.of_dicts(dicts[:cut]), TagTable.of_dicts([]), TagTable.of_dicts(dicts[cut:])]
    joined = TagTable.concat(parts)
    assert joined == dicts and len(joined.keys) == len({k for t in dicts for k in t})
    assert len(TagTable.of_dicts([])) == 0 and list(TagTable.of_dicts([])) == []


@pytest.mark.parametrize(
    "keys", [tx.way_rule_keys(), walk_rules().keys, frozenset({"highway"}), frozenset()]
)
def test_distinct_sets_group_rows_as_the_dicts_do(
    both: tuple[TagTable, list[dict[str, str]]], keys: frozenset[str]
) -> None:
    table, dicts = both
    on_codes, on_dicts = TagSets(table, keys), TagSets(dicts, keys)
    # each row's combination is its own tags restricted to the keys
    want = [{k: v for k, v in t.items() if k in keys} for t in dicts]
    assert [on_codes.distinct[i] for i in on_codes.inverse.tolist()] == want
    # one combination per distinct restriction, numbered by the first row that has it
    assert len(on_codes.distinct) == len(on_dicts.distinct)
    assert on_codes.inverse.tolist() == on_dicts.inverse.tolist()


def test_rules_answer_the_same_on_codes(both: tuple[TagTable, list[dict[str, str]]]) -> None:
    table, dicts = both
    walk = walk_rules()
    assert np.array_equal(walk.walkable_mask(table), [walk.walkable(t) for t in dicts])
    for rule in (tx.is_bus_stop, tx.is_stop_area_platform):
        got = TagSets(table, tx.way_rule_keys()).mask(rule)
        assert got.tolist() == [bool(rule(t)) for t in dicts]


def test_hash_collisions_are_grouped_apart(
    both: tuple[TagTable, list[dict[str, str]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Every pair numbered 0: all rows with as many pairs collide; the exact check splits them."""
    table, dicts = both
    monkeypatch.setattr(tag_table, "_pair_numbers", lambda n: np.zeros(n, dtype=np.uint64))
    keys = tx.way_rule_keys()
    got = TagSets(table, keys)
    want = [{k: v for k, v in t.items() if k in keys} for t in dicts]
    assert [got.distinct[i] for i in got.inverse.tolist()] == want
    assert len(got.distinct) == len({tuple(sorted(t.items())) for t in want})
