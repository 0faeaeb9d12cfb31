"""Content keys of the layers an indicator reads (geoplan.indicators.inputs)."""

from __future__ import annotations

import shapely.affinity

import geoplan
from geoplan.indicators.inputs import frame_key


def test_a_layer_key_follows_every_attribute_and_geometry(chengdu: geoplan.City) -> None:
    parks = chengdu.parks
    base = frame_key(parks)
    assert frame_key(parks.copy()) == base  # content, not identity
    edits = []
    e = parks.copy()
    e.loc[e.index[0], "area_m2"] = float(e["area_m2"].iloc[0]) + 1e-6  # a number, barely
    edits.append(e)
    e = parks.copy()
    e.loc[e.index[1], "name"] = "新公园"  # a string
    edits.append(e)
    e = parks.copy()
    e["name"] = e["name"].astype(object)
    e.loc[e.index[2], "name"] = None  # a missing value
    edits.append(e)
    e = parks.copy()
    e.loc[e.index[0], "geometry"] = shapely.affinity.translate(e.geometry.iloc[0], 0.001, 0)
    edits.append(e)
    edits.append(parks.rename(columns={"name": "label"}))
    e = parks.copy()
    e["extra"] = [[i] for i in range(len(e))]  # unhashable objects: by their text
    edits.append(e)
    keys = [frame_key(x) for x in edits]
    assert base not in keys
    assert len(set(keys)) == len(keys)
    assert frame_key(edits[-1].copy()) == keys[-1]
