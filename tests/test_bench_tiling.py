"""bench/tile.py: N×N tiling of a real extract, checked with an independent pyosmium count."""

from __future__ import annotations

import importlib.util
import sys
from collections import Counter
from pathlib import Path
from types import ModuleType
from typing import Any

import osmium
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHENGDU = ROOT.parent / "shared" / "data" / "chengdu_2018_center.osm.pbf"

pytestmark = pytest.mark.skipif(not CHENGDU.exists(), reason="../shared/data not present")


def _tile_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_tile", ROOT / "bench" / "tile.py")
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up
    spec.loader.exec_module(mod)
    return mod


def _scan(path: Path) -> tuple[Counter[str], dict[str, list[int]], dict[int, tuple[int, int]]]:
    """Objects per type, ids per type and node locations (1e-7 degree ints), by plain pyosmium."""
    counts: Counter[str] = Counter()
    ids: dict[str, list[int]] = {"n": [], "w": [], "r": []}
    locs: dict[int, tuple[int, int]] = {}
    for o in osmium.FileProcessor(str(path)):
        t = o.type_str()
        counts[t] += 1
        ids[t].append(o.id)
        if t == "n" and o.location.valid():
            locs[o.id] = (o.location.x, o.location.y)
    return counts, ids, locs


@pytest.fixture(scope="module")
def tiled(tmp_path_factory: pytest.TempPathFactory) -> tuple[Any, Path]:
    tile = _tile_module()
    out = tmp_path_factory.mktemp("tile") / "chengdu_2x2.osm.pbf"
    info = tile.tile_pbf(CHENGDU, out, 2)
    return info, out


def test_counts_are_four_times_the_original(tiled: tuple[Any, Path]) -> None:
    _, out = tiled
    orig, _, _ = _scan(CHENGDU)
    got, ids, _ = _scan(out)
    assert orig["n"] > 0 and orig["w"] > 0 and orig["r"] > 0
    for t in ("n", "w", "r"):
        assert got[t] == 4 * orig[t]
        assert len(set(ids[t])) == len(ids[t])  # ids unique per type


def test_copy_1_1_is_shifted_by_dx_dy(tiled: tuple[Any, Path]) -> None:
    info, out = tiled
    _, _, orig_locs = _scan(CHENGDU)
    _, _, locs = _scan(out)
    # the independent bbox of all node locations gives the shift
    xs = [x for x, _ in orig_locs.values()]
    ys = [y for _, y in orig_locs.values()]
    dx, dy = max(xs) - min(xs), max(ys) - min(ys)
    assert info.dx_deg == pytest.approx(dx / 1e7, abs=1e-9)
    assert info.dy_deg == pytest.approx(dy / 1e7, abs=1e-9)
    known = 244077729  # the first node of the extract (Chengdu's place node)
    assert known in orig_locs
    k = 1 * 2 + 1  # copy (i=1, j=1) of a 2×2 tiling
    copy_id = known + k * info.stride["n"]
    x0, y0 = orig_locs[known]
    assert locs[copy_id] == (x0 + dx, y0 + dy)
    # copy (0, 0) keeps the original ids and coordinates
    assert locs[known] == (x0, y0)


def test_way_refs_and_relation_members_point_into_their_copy(tiled: tuple[Any, Path]) -> None:
    info, out = tiled
    node_ids: set[int] = set()
    way_ids: set[int] = set()
    missing = 0
    checked = 0
    for o in osmium.FileProcessor(str(out)):
        if o.is_node():
            node_ids.add(o.id)
        elif o.is_way():
            way_ids.add(o.id)
            k = o.id // info.stride["w"]
            for nd in o.nodes:
                assert nd.ref // info.stride["n"] == k
                checked += 1
                missing += nd.ref not in node_ids
        elif o.is_relation():
            k = o.id // info.stride["r"]
            for m in o.members:
                assert m.ref // info.stride[m.type] == k
    assert checked > 0
    # the tiled file refers to missing nodes exactly as often as 4 copies of the original do
    orig_nodes: set[int] = set()
    orig_missing = 0
    for o in osmium.FileProcessor(str(CHENGDU), osmium.osm.NODE | osmium.osm.WAY):
        if o.is_node():
            orig_nodes.add(o.id)
        else:
            orig_missing += sum(nd.ref not in orig_nodes for nd in o.nodes)
    assert missing == 4 * orig_missing
    assert info.nodes == len(node_ids)
