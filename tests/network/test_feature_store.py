"""Facility sources kept per feature (geoplan.network.feature_store)."""

from __future__ import annotations

import numpy as np

import geoplan
from geoplan.network.access import facility_sources
from geoplan.network.feature_store import FeatureStore


def _rows_of_one(net: object, geom: object) -> np.ndarray:
    """Independent: the sources of one feature computed alone, as (edge, t0, t1, offset) rows."""
    att = facility_sources(net, np.asarray([geom], dtype=object))  # type: ignore[arg-type]
    return np.column_stack([att.edge.astype(float), att.t0, att.t1, att.offset_m])


def test_a_layer_gathered_from_batches_is_each_feature_computed_alone(
    chengdu: geoplan.City,
) -> None:
    net = chengdu.network
    parks = np.asarray(chengdu.parks.geometry.values, dtype=object)[:60]
    store = FeatureStore()
    # three batches, each computed at once (rows of a batch are not in feature order)
    for part in np.array_split(np.arange(parks.shape[0]), 3):
        att = facility_sources(net, parks[part])
        rows = (att.edge, att.t0, att.t1, att.offset_m)
        store.add([("k", int(i)) for i in part], rows, att.owner)
    assert len(store) == parks.shape[0] and ("k", 5) in store and ("k", 99) not in store
    rng = np.random.default_rng(7)
    pick = rng.choice(parks.shape[0], size=80)  # shuffled, with repeats
    (edge, t0, t1, off), owner = store.gather([("k", int(i)) for i in pick])
    got = np.column_stack([edge.astype(float), t0, t1, off])
    for j, i in enumerate(pick):
        want = _rows_of_one(net, parks[i])
        mine = got[owner == j]
        # each feature's rows in the order its batch listed them: compare as sorted rows
        np.testing.assert_array_equal(
            mine[np.lexsort(mine.T[::-1])], want[np.lexsort(want.T[::-1])]
        )
        one = np.column_stack([a.astype(float) for a in store.get(("k", int(i)))])
        np.testing.assert_array_equal(one, mine)
    assert np.all(np.diff(owner) >= 0)
    store.clear()
    assert len(store) == 0 and ("k", 5) not in store
    (edge, *_), owner = store.gather([])
    assert edge.shape == (0,) and owner.shape == (0,)
